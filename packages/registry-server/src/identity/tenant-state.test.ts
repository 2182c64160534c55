import { describe, expect, it } from 'vitest';
import { apiKeyRecord, TENANT, teamRecord, userRecord } from '../test-support/identity-records.js';
import type { RoleBinding } from './records.js';
import { TenantDraft, TenantState, type RecordChange } from './tenant-state.js';

function binding(id: string, role: string, subject: RoleBinding['subject']): RoleBinding {
  return { id, role, subject, project: null, createdAt: TENANT.createdAt, createdBy: 'test' };
}

/** A state of `changes`, applied as revisions 1, 2, ... one change each. */
function stateOf(...changes: RecordChange[]): TenantState {
  const state = new TenantState(TENANT);
  changes.forEach((change, i) => {
    expect(state.apply(i + 1, [change])).toBe(true);
  });
  return state;
}

describe('TenantState', () => {
  it('keeps every lookup current as records are written, replaced and removed', () => {
    const state = stateOf(
      { c: 'users', k: 'ann', v: userRecord('ann') },
      { c: 'users', k: 'bob', v: userRecord('bob') },
      { c: 'apiKeys', k: 'k1', v: apiKeyRecord('k1', 'ann') },
      { c: 'teams', k: 'ops', v: teamRecord('ops', ['ann', 'bob']) },
      { c: 'bindings', k: 'b1', v: binding('b1', 'Tenant Admin', { kind: 'team', name: 'ops' }) },
    );
    expect(state.index.usersById.get('us_bob')?.username).toBe('bob');
    expect(state.index.keysOf.get('ann')?.has('k1')).toBe(true);
    expect(state.index.teamsOf.get('bob')).toEqual(new Set(['ops']));
    expect(state.index.bindingsOfRole.get('tenant admin')?.size).toBe(1);
    const version = state.version;

    // The team loses bob; the binding moves to another role; ann goes with her key.
    expect(state.apply(6, [{ c: 'teams', k: 'ops', v: teamRecord('ops', ['ann']) }])).toBe(true);
    expect(
      state.apply(7, [{ c: 'bindings', k: 'b1', v: binding('b1', 'Project Viewer', { kind: 'user', name: 'bob' }) }]),
    ).toBe(true);
    expect(
      state.apply(8, [
        { c: 'users', k: 'ann', v: null },
        { c: 'apiKeys', k: 'k1', v: null },
      ]),
    ).toBe(true);
    expect(state.version).not.toBe(version);
    expect(state.index.teamsOf.has('bob')).toBe(false);
    expect(state.index.bindingsOfRole.has('tenant admin')).toBe(false);
    expect(state.index.bindingsOf.get('user:bob')?.has('b1')).toBe(true);
    expect(state.index.bindingsOf.has('team:ops')).toBe(false);
    expect(state.index.usersById.has('us_ann')).toBe(false);
    expect(state.index.keysOf.has('ann')).toBe(false);
    expect(state.revision).toBe(8);
  });

  it('applies only the next revision', () => {
    const state = stateOf({ c: 'users', k: 'ann', v: userRecord('ann') });
    expect(state.apply(1, [{ c: 'users', k: 'bob', v: userRecord('bob') }])).toBe(false);
    expect(state.apply(3, [{ c: 'users', k: 'bob', v: userRecord('bob') }])).toBe(false);
    expect(state.users.has('bob')).toBe(false);
  });

  it('round-trips through a document', () => {
    const state = stateOf(
      { c: 'users', k: 'ann', v: userRecord('ann') },
      {
        c: 'roles',
        k: 'auditor',
        v: {
          name: 'Auditor',
          scope: 'tenant',
          description: '',
          permissions: ['audit.get'],
          createdAt: TENANT.createdAt,
          createdBy: 'test',
        },
      },
    );
    const copy = TenantState.fromDocument(JSON.parse(JSON.stringify(state.toDocument())));
    expect(copy.revision).toBe(2);
    expect(copy.roles.get('auditor')?.name).toBe('Auditor');
    expect(copy.index.usersById.get('us_ann')?.username).toBe('ann');
  });
});

describe('TenantDraft', () => {
  it('reads through to the state, keeps its writes aside and lists them as changes', () => {
    const state = stateOf(
      { c: 'users', k: 'ann', v: userRecord('ann') },
      { c: 'users', k: 'bob', v: userRecord('bob') },
    );
    const draft = new TenantDraft(state);
    expect(draft.index).toBe(state.index);
    expect(draft.version).toBe(state.version);
    draft.put('users', userRecord('cat'));
    expect(draft.remove('users', 'ann')).toBe(true);
    expect(draft.remove('users', 'nobody')).toBe(false);
    draft.put('users', { ...userRecord('bob'), disabled: true });
    expect(draft.users.size).toBe(2);
    expect([...draft.users.keys()]).toEqual(['bob', 'cat']);
    expect(draft.users.get('bob')?.disabled).toBe(true);
    expect(draft.users.has('ann')).toBe(false);
    expect(draft.version).toBeNull();
    // After a write the index is the draft's own.
    expect(draft.index.usersById.has('us_cat')).toBe(true);
    expect(draft.changes().map((c) => [c.c, c.k, c.v === null])).toEqual([
      ['users', 'cat', false],
      ['users', 'ann', true],
      ['users', 'bob', false],
    ]);
    // The state is untouched until the changes are applied.
    expect(state.users.has('ann')).toBe(true);
    expect(state.users.get('bob')?.disabled).toBe(false);
    expect(state.apply(3, draft.changes())).toBe(true);
    expect([...state.users.keys()].sort()).toEqual(['bob', 'cat']);
  });
});
