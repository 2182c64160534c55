import { describe, expect, it } from 'vitest';
import { apiKeyRecord, TENANT, teamRecord, userRecord } from '../test-support/identity-records.js';
import { PackError } from '@packyard/pack-core';
import {
  checkTenantBounds,
  makeRoomForApiKey,
  MAX_API_KEYS_PER_USER,
  MAX_TEAM_MEMBERSHIPS,
  TENANT_BOUNDS,
} from './bounds.js';
import type { ApiKeyRecord, TenantDocument } from './records.js';
import { TenantDraft, TenantState } from './tenant-state.js';

function stateWith(records: Partial<Omit<TenantDocument, 'tenant' | 'revision'>>): TenantState {
  return TenantState.fromDocument({
    tenant: TENANT,
    projects: [],
    users: [],
    teams: [],
    roles: [],
    bindings: [],
    apiKeys: [],
    revision: 1,
    ...records,
  });
}

/** The code of what `run` throws, or null. */
function refusal(run: () => void): string | null {
  try {
    run();
    return null;
  } catch (err) {
    if (err instanceof PackError) return err.code;
    throw err;
  }
}

/** `count` API keys of `username`, one a minute from 2026-01-01, the first `spent` of them spent. */
function keys(username: string, count: number, spent = 0, how: 'revoked' | 'expired' = 'revoked'): ApiKeyRecord[] {
  return Array.from({ length: count }, (_, i) =>
    apiKeyRecord(
      `${username}-${String(i)}`,
      username,
      new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
      i < spent ? how : undefined,
    ),
  );
}

describe('the bounds of a tenant', () => {
  it('refuses a change that makes a kind of record outgrow its bound, not one that keeps or shrinks it', () => {
    const users = Array.from({ length: TENANT_BOUNDS.users }, (_, i) => userRecord(`u${String(i)}`));
    const full = stateWith({ users });
    const adding = new TenantDraft(full);
    adding.put('users', userRecord('one-more'));
    expect(
      refusal(() => {
        checkTenantBounds(adding);
      }),
    ).toBe('IDENTITY_LIMIT_REACHED');
    // Changing a record, or replacing one by another, is not growing.
    const changing = new TenantDraft(full);
    changing.put('users', { ...userRecord('u1'), displayName: 'renamed' });
    expect(
      refusal(() => {
        checkTenantBounds(changing);
      }),
    ).toBeNull();
    const replacing = new TenantDraft(full);
    replacing.remove('users', 'u2');
    replacing.put('users', userRecord('instead'));
    expect(
      refusal(() => {
        checkTenantBounds(replacing);
      }),
    ).toBeNull();
    // Over its bound (a bound lowered since), a tenant can still shrink.
    const over = stateWith({ users: [...users, userRecord('over')] });
    const shrinking = new TenantDraft(over);
    shrinking.remove('users', 'u3');
    expect(
      refusal(() => {
        checkTenantBounds(shrinking);
      }),
    ).toBeNull();
  });

  it('bounds the team memberships of all teams together', () => {
    const members = Array.from({ length: 10_000 }, (_, i) => `u${String(i)}`);
    const teams = Array.from({ length: MAX_TEAM_MEMBERSHIPS / members.length }, (_, i) =>
      teamRecord(`t${String(i)}`, members),
    );
    const full = stateWith({ teams });
    const another = new TenantDraft(full);
    another.put('teams', teamRecord('another', ['u1']));
    expect(
      refusal(() => {
        checkTenantBounds(another);
      }),
    ).toBe('IDENTITY_LIMIT_REACHED');
    const emptyTeam = new TenantDraft(full);
    emptyTeam.put('teams', teamRecord('empty', []));
    expect(
      refusal(() => {
        checkTenantBounds(emptyTeam);
      }),
    ).toBeNull();
    const fewer = new TenantDraft(full);
    fewer.put('teams', teamRecord('t0', members.slice(1)));
    expect(
      refusal(() => {
        checkTenantBounds(fewer);
      }),
    ).toBeNull();
  });
});

describe('room for an API key', () => {
  it("drops the user's oldest revoked or expired key at the user's bound, never a working one", () => {
    for (const how of ['revoked', 'expired'] as const) {
      const held = keys('ada', MAX_API_KEYS_PER_USER, 3, how);
      const draft = new TenantDraft(stateWith({ users: [userRecord('ada')], apiKeys: held }));
      makeRoomForApiKey(draft, 'ada');
      expect(draft.apiKeys.has('ada-0')).toBe(false);
      expect(draft.apiKeys.size).toBe(MAX_API_KEYS_PER_USER - 1);
    }
    const working = new TenantDraft(
      stateWith({ users: [userRecord('ada')], apiKeys: keys('ada', MAX_API_KEYS_PER_USER) }),
    );
    expect(
      refusal(() => {
        makeRoomForApiKey(working, 'ada');
      }),
    ).toBe('IDENTITY_LIMIT_REACHED');
    // Below the bound nothing is dropped; another user's keys do not count.
    const below = new TenantDraft(
      stateWith({
        users: [userRecord('ada'), userRecord('bob')],
        apiKeys: [...keys('ada', 5, 5), ...keys('bob', 200)],
      }),
    );
    makeRoomForApiKey(below, 'ada');
    expect(below.apiKeys.written.size).toBe(0);
  });

  it("drops the tenant's oldest spent key at the tenant's bound, whoever's it is", () => {
    const users = Array.from({ length: TENANT_BOUNDS.apiKeys / 50 }, (_, i) => `u${String(i)}`);
    const held = users.flatMap((name, i) => keys(name, 50, i === 7 ? 1 : 0));
    const draft = new TenantDraft(stateWith({ users: users.map(userRecord), apiKeys: held }));
    makeRoomForApiKey(draft, 'u1');
    expect(draft.apiKeys.has('u7-0')).toBe(false);
    const allWorking = new TenantDraft(
      stateWith({ users: users.map(userRecord), apiKeys: users.flatMap((n) => keys(n, 50)) }),
    );
    expect(
      refusal(() => {
        makeRoomForApiKey(allWorking, 'u1');
      }),
    ).toBe('IDENTITY_LIMIT_REACHED');
  });
});
