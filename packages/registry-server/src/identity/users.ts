/**
 * A tenant's users and the system operators (SuperAdmins). Usernames are unique across every
 * tenant and the operators: each is claimed by one login index entry (./records.ts).
 */
import { createJson, readJson } from '../storage/json-documents.js';
import { loginIndexKey } from '../storage/layout.js';
import { isPreconditionFailed } from '../storage/object-store.js';
import { exists, notFound, userNotFound } from './identity-errors.js';
import { newId, type LoginIndexEntry, type UserRecord } from './records.js';
import { sha256Hex } from './secrets.js';
import { subjectKey } from './tenant-state.js';
import {
  hashFor,
  liveTenantRef,
  mutateTenant,
  now,
  tenantDirectory,
  type Guard,
  type IdentityContext,
} from './tenant-mutation.js';

export interface NewUser {
  username: string;
  displayName?: string | null;
  password?: string | null;
}

export interface UserChanges {
  displayName?: string | null;
  password?: string | null;
  disabled?: boolean | null;
}

function loginKey(username: string): string {
  return loginIndexKey(sha256Hex(username));
}

/** Whether the entry's tenant (by id; a legacy entry's tenant name is that tenant's id) holds the name. */
function usernameTaken(context: IdentityContext, entry: LoginIndexEntry): boolean {
  if (entry.tenant === null) return context.directory.operatorNamed(entry.username) !== undefined;
  const directory = context.directory.tenantById(entry.tenant);
  return directory !== undefined && directory.users.has(entry.username);
}

/** Claims a username across every tenant (and the operators): one login index entry per name. */
async function claimUsername(context: IdentityContext, username: string, tenantId: string | null): Promise<void> {
  const { store } = context;
  const key = loginKey(username);
  const entry: LoginIndexEntry = { username, tenant: tenantId };
  if ((await createJson(store, key, entry)) !== null) return;
  const existing = await readJson<LoginIndexEntry>(store, key);
  if (existing && usernameTaken(context, existing.value))
    throw exists('user', username, 'usernames are unique across tenants');
  // A claim whose user was never created (a failed request) or was deleted: take it over.
  try {
    await store.put(key, JSON.stringify(entry), existing ? { ifMatch: existing.etag } : { ifNoneMatch: '*' });
  } catch (err) {
    if (isPreconditionFailed(err)) throw exists('user', username, 'usernames are unique across tenants');
    throw err;
  }
}

/** Deletes a username's login index entry while it still names `tenantId`. */
export async function releaseUsername(context: IdentityContext, username: string, tenantId: string): Promise<void> {
  const existing = await readJson<LoginIndexEntry>(context.store, loginKey(username));
  if (existing?.value.tenant === tenantId) await context.store.delete(loginKey(username));
}

export function userOperations(context: IdentityContext) {
  const { directory } = context;
  return {
    user(tenant: string, username: string): UserRecord {
      const found = tenantDirectory(context, tenant).users.get(username);
      if (!found) throw userNotFound(username);
      return found;
    },

    /** `setBy`: whose hands a password given comes through (passwordSetBy, records.ts Makers). */
    async createUser(tenant: string, input: NewUser, by: string, setBy?: string[]): Promise<UserRecord> {
      const ref = liveTenantRef(context, tenant);
      const username = input.username.toLowerCase();
      const passwordHash = input.password ? await hashFor(context, input.password) : null;
      await claimUsername(context, username, ref.id);
      try {
        return await mutateTenant(context, tenant, (draft) => {
          if (draft.users.has(username)) throw exists('user', username);
          const record: UserRecord = {
            id: newId('us'),
            username,
            displayName: input.displayName ?? username,
            passwordHash,
            passwordGeneration: 0,
            ...(passwordHash !== null && setBy !== undefined ? { passwordSetBy: setBy } : {}),
            disabled: false,
            createdAt: now(),
            createdBy: by,
          };
          draft.put('users', record);
          return record;
        });
      } catch (err) {
        await releaseUsername(context, username, ref.id).catch(() => undefined);
        throw err;
      }
    },

    /**
     * A new password or disabling the user ends the sessions signed in with the password. Disabling
     * also revokes the user's API keys, so that every token and session of theirs stays ended once
     * they are enabled again (a token made from an API key names the key, not a generation); they
     * sign in again, and make new keys.
     */
    async updateUser(
      tenant: string,
      username: string,
      changes: UserChanges,
      guard?: Guard,
      /** Whose hands a new password comes through (passwordSetBy, records.ts Makers); none: its owner or an operator, from a credential of their own. */
      setBy?: string[],
    ): Promise<UserRecord> {
      const passwordHash = changes.password ? await hashFor(context, changes.password) : null;
      return mutateTenant(
        context,
        tenant,
        (draft) => {
          const current = draft.users.get(username);
          if (!current) throw userNotFound(username);
          const record = { ...current };
          if (changes.displayName) record.displayName = changes.displayName;
          if (passwordHash) {
            record.passwordHash = passwordHash;
            record.passwordGeneration += 1;
            if (setBy === undefined) delete record.passwordSetBy;
            else record.passwordSetBy = setBy;
          }
          if (changes.disabled !== undefined && changes.disabled !== null) {
            if (changes.disabled && !record.disabled) {
              record.passwordGeneration += 1;
              const revokedAt = now();
              for (const id of [...(draft.index.keysOf.get(username)?.keys() ?? [])]) {
                const key = draft.apiKeys.get(id);
                if (key && key.revokedAt === null) draft.put('apiKeys', { ...key, revokedAt });
              }
            }
            record.disabled = changes.disabled;
          }
          draft.put('users', record);
          return record;
        },
        guard,
      );
    },

    async deleteUser(tenant: string, username: string, guard?: Guard): Promise<void> {
      const ref = liveTenantRef(context, tenant);
      await mutateTenant(
        context,
        tenant,
        (draft) => {
          if (!draft.users.has(username)) throw userNotFound(username);
          // What goes with the user, found through the lookups before anything is written.
          const { bindingsOf, keysOf, teamsOf } = draft.index;
          const bindings = [...(bindingsOf.get(subjectKey({ kind: 'user', name: username }))?.keys() ?? [])];
          const keys = [...(keysOf.get(username)?.keys() ?? [])];
          const teams = [...(teamsOf.get(username) ?? [])];
          draft.remove('users', username);
          for (const id of bindings) draft.remove('bindings', id);
          for (const id of keys) draft.remove('apiKeys', id);
          for (const name of teams) {
            const team = draft.teams.get(name);
            if (team) draft.put('teams', { ...team, members: team.members.filter((m) => m !== username) });
          }
        },
        guard,
      );
      await releaseUsername(context, username, ref.id);
    },

    /** Creates the SuperAdmin `username` unless an operator of that name exists; true when created. */
    async ensureOperator(username: string, password: string): Promise<boolean> {
      if (directory.operatorNamed(username)) return false;
      const passwordHash = await hashFor(context, password);
      await claimUsername(context, username, null);
      let created = false;
      await directory.updateSystem((system) => {
        if (system.operators.some((o) => o.username === username)) return undefined;
        created = true;
        return {
          ...system,
          operators: [
            ...system.operators,
            { id: newId('op'), username, passwordHash, passwordGeneration: 0, createdAt: now() },
          ],
          revision: system.revision + 1,
        };
      });
      return created;
    },

    /** Sets an operator's password (the operator changing their own); their other sessions end. */
    async setOperatorPassword(username: string, password: string): Promise<void> {
      const passwordHash = await hashFor(context, password);
      await directory.updateSystem((system) => {
        if (!system.operators.some((o) => o.username === username)) {
          throw notFound('user', username, 'the operator was removed: sign in as another one');
        }
        return {
          ...system,
          operators: system.operators.map((o) =>
            o.username === username ? { ...o, passwordHash, passwordGeneration: o.passwordGeneration + 1 } : o,
          ),
          revision: system.revision + 1,
        };
      });
    },
  };
}
