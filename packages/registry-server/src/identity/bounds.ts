/**
 * How many identity records a tenant may hold. Every process keeps every tenant in memory (and a
 * tenant's snapshot document holds all of it), so without a bound any caller allowed to create a
 * record could grow every replica's memory without end: a user creating API keys for themselves
 * needs no permission at all. Checked by mutateTenant on the revision being changed, for the
 * collections a change made larger (a tenant over a bound can still shrink or change records).
 *
 * API keys are bounded per user too. A revoked or expired key authenticates nothing, so creating
 * one at a bound first drops the oldest such key (the user's own, or at the tenant's bound any
 * user's); only keys still usable are never dropped.
 */
import { registryError } from '../errors.js';
import type { ApiKeyRecord } from './records.js';
import type { Collection, TenantDraft } from './tenant-state.js';

/** Most records of each kind a tenant holds. */
export const TENANT_BOUNDS: Readonly<Record<Collection, number>> = {
  users: 50_000,
  teams: 5_000,
  projects: 5_000,
  roles: 1_000,
  bindings: 50_000,
  apiKeys: 50_000,
};

/** Most team memberships of a tenant, all teams together. */
export const MAX_TEAM_MEMBERSHIPS = 200_000;

/** Most API keys a user holds, revoked and expired ones included (those go first). */
export const MAX_API_KEYS_PER_USER = 100;

const NAMES: Readonly<Record<Collection, string>> = {
  users: 'users',
  teams: 'teams',
  projects: 'projects',
  roles: 'custom roles',
  bindings: 'role bindings',
  apiKeys: 'API keys',
};

const COLLECTIONS = Object.keys(TENANT_BOUNDS) as Collection[];

function limitReached(what: string, limit: number, hint: string) {
  return registryError('IDENTITY_LIMIT_REACHED', `the tenant holds ${limit.toLocaleString('en')} ${what} already`, {
    hint,
    details: { limit },
  });
}

/** Throws IDENTITY_LIMIT_REACHED when `draft` makes a collection larger than its bound. */
export function checkTenantBounds(draft: TenantDraft): void {
  for (const collection of COLLECTIONS) {
    const records = draft[collection];
    if (records.written.size === 0 || !records.grew) continue;
    const limit = TENANT_BOUNDS[collection];
    if (records.size > limit) {
      throw limitReached(NAMES[collection], limit, `delete ${NAMES[collection]} the tenant no longer needs first`);
    }
  }
  if (draft.teams.written.size > 0) {
    let memberships = 0;
    let before = 0;
    for (const team of draft.teams.values()) memberships += team.members.length;
    for (const team of draft.base.teams.values()) before += team.members.length;
    if (memberships > MAX_TEAM_MEMBERSHIPS && memberships > before) {
      throw limitReached('team memberships', MAX_TEAM_MEMBERSHIPS, 'remove members from teams, or teams, first');
    }
  }
}

/** Whether a key can no longer authenticate anyone. */
function spent(key: ApiKeyRecord, at: number): boolean {
  return key.revokedAt !== null || (key.expiresAt !== null && Date.parse(key.expiresAt) <= at);
}

/** The oldest spent key of `keys`, if any. */
function oldestSpent(keys: Iterable<ApiKeyRecord>, at: number): ApiKeyRecord | undefined {
  let oldest: ApiKeyRecord | undefined;
  for (const key of keys) {
    if (spent(key, at) && (oldest === undefined || key.createdAt < oldest.createdAt)) oldest = key;
  }
  return oldest;
}

/**
 * Makes room in `draft` for one more API key of `username`: drops their oldest revoked or expired
 * key at the user's bound, and the tenant's oldest at the tenant's; IDENTITY_LIMIT_REACHED when
 * every key in the way is still usable.
 */
export function makeRoomForApiKey(draft: TenantDraft, username: string): void {
  const at = Date.now();
  // The index, not a scan of the tenant's keys: the draft has written nothing yet.
  const own = [...(draft.index.keysOf.get(username)?.values() ?? [])];
  if (own.length >= MAX_API_KEYS_PER_USER) {
    const drop = oldestSpent(own, at);
    if (!drop) {
      throw registryError(
        'IDENTITY_LIMIT_REACHED',
        `${username} holds ${String(MAX_API_KEYS_PER_USER)} API keys that still work`,
        {
          hint: `revoke one no longer used (packctl apikey ls --user ${username}, then packctl apikey rm <id>)`,
          details: { limit: MAX_API_KEYS_PER_USER },
        },
      );
    }
    draft.remove('apiKeys', drop.id);
  }
  if (draft.apiKeys.size >= TENANT_BOUNDS.apiKeys) {
    const drop = oldestSpent(draft.apiKeys.values(), at);
    if (!drop) {
      throw limitReached(NAMES.apiKeys, TENANT_BOUNDS.apiKeys, 'revoke API keys no longer used first');
    }
    draft.remove('apiKeys', drop.id);
  }
}
