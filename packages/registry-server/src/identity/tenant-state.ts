/**
 * One tenant's identity records in memory, kept as keyed maps with the lookups every request uses
 * ({@link TenantIndex}), and changed only by applying record changes: the same changes a
 * journal entry carries (./directory.ts stores them). Applying a change costs what the change
 * touches, never what the tenant holds, so a tenant of 20,000 users changes as fast as one of ten.
 *
 * A change is worked out on a {@link TenantDraft}: a view of the state that reads through to it and
 * keeps its own writes aside, so a change refused half-way leaves nothing behind, and the writes it
 * made are exactly the record changes to store.
 */
import type {
  ApiKeyRecord,
  CustomRoleRecord,
  ProjectRecord,
  RoleBinding,
  Subject,
  TeamRecord,
  TenantDocument,
  TenantRef,
  UserRecord,
} from './records.js';

/** Each kind of record, by the collection that holds it. */
export interface RecordOf {
  projects: ProjectRecord;
  users: UserRecord;
  teams: TeamRecord;
  roles: CustomRoleRecord;
  bindings: RoleBinding;
  apiKeys: ApiKeyRecord;
}

export type Collection = keyof RecordOf;

export const COLLECTIONS: readonly Collection[] = ['projects', 'users', 'teams', 'roles', 'bindings', 'apiKeys'];

/** Each record's key in its collection: what never changes while the record exists. */
export function keyOf<C extends Collection>(collection: C, record: RecordOf[C]): string {
  switch (collection) {
    case 'users':
      return (record as UserRecord).username;
    case 'teams':
      return (record as TeamRecord).name;
    case 'roles':
      return (record as CustomRoleRecord).name.toLowerCase();
    default:
      return (record as ProjectRecord | RoleBinding | ApiKeyRecord).id;
  }
}

/** One record written (`v`) or removed (`v: null`); what a journal entry is made of. */
export interface RecordChange<C extends Collection = Collection> {
  c: C;
  k: string;
  v: RecordOf[C] | null;
}

export function subjectKey(subject: Subject): string {
  return `${subject.kind}:${subject.name}`;
}

/** Lookups every request uses; kept current with every change applied. */
export interface TenantIndex {
  usersByName: ReadonlyMap<string, UserRecord>;
  usersById: ReadonlyMap<string, UserRecord>;
  apiKeys: ReadonlyMap<string, ApiKeyRecord>;
  /** Live projects by name. */
  projects: ReadonlyMap<string, ProjectRecord>;
  /** The teams each username is a member of. */
  teamsOf: ReadonlyMap<string, ReadonlySet<string>>;
  /** The bindings of each subject, by subjectKey(), by binding id. */
  bindingsOf: ReadonlyMap<string, ReadonlyMap<string, RoleBinding>>;
  /** Each username's API keys by id. */
  keysOf: ReadonlyMap<string, ReadonlyMap<string, ApiKeyRecord>>;
  /** The bindings naming each role (lower-case name), by binding id. */
  bindingsOfRole: ReadonlyMap<string, ReadonlyMap<string, RoleBinding>>;
}

/** What readers (routes, guards, authorization) see of a tenant: its records by key. */
export interface TenantDirectory {
  readonly tenant: TenantRef;
  readonly revision: number;
  /** By id: live projects and those being deleted (`deletingSince`). */
  readonly projects: ReadonlyMap<string, ProjectRecord>;
  /** By username. */
  readonly users: ReadonlyMap<string, UserRecord>;
  /** By name. */
  readonly teams: ReadonlyMap<string, TeamRecord>;
  /** By lower-case name. */
  readonly roles: ReadonlyMap<string, CustomRoleRecord>;
  /** By id. */
  readonly bindings: ReadonlyMap<string, RoleBinding>;
  /** By id. */
  readonly apiKeys: ReadonlyMap<string, ApiKeyRecord>;
  readonly index: TenantIndex;
  /**
   * Changes whenever the records do: caches of what is derived from them (a user's permissions)
   * are kept per token. Null for a draft with changes of its own (nothing of it is cached).
   */
  readonly version: object | null;
}

/**
 * A value derived from a tenant's records, computed once per version of them: `cache` keeps each
 * version's values by `key`, and a change (a new version) starts afresh. A draft with changes of
 * its own (no version) computes it every time.
 */
export function perVersion<T>(
  cache: WeakMap<object, Map<string, T>>,
  directory: TenantDirectory,
  key: string,
  compute: () => T,
): T {
  const { version } = directory;
  if (version === null) return compute();
  let kept = cache.get(version);
  if (!kept) {
    kept = new Map();
    cache.set(version, kept);
  }
  const found = kept.get(key);
  if (found !== undefined) return found;
  const value = compute();
  kept.set(key, value);
  return value;
}

function addTo<V>(map: Map<string, Map<string, V>>, outer: string, inner: string, value: V): void {
  let found = map.get(outer);
  if (!found) {
    found = new Map();
    map.set(outer, found);
  }
  found.set(inner, value);
}

function removeFrom<V>(map: Map<string, Map<string, V>>, outer: string, inner: string): void {
  const found = map.get(outer);
  if (!found) return;
  found.delete(inner);
  if (found.size === 0) map.delete(outer);
}

/** A tenant's records and their lookups; changed only by {@link apply}. */
export class TenantState implements TenantDirectory {
  revision: number;
  tenant: TenantRef;
  version: object = {};
  readonly projects = new Map<string, ProjectRecord>();
  readonly users = new Map<string, UserRecord>();
  readonly teams = new Map<string, TeamRecord>();
  readonly roles = new Map<string, CustomRoleRecord>();
  readonly bindings = new Map<string, RoleBinding>();
  readonly apiKeys = new Map<string, ApiKeyRecord>();
  private readonly usersById = new Map<string, UserRecord>();
  private readonly projectsByName = new Map<string, ProjectRecord>();
  private readonly teamsOf = new Map<string, Set<string>>();
  private readonly bindingsOf = new Map<string, Map<string, RoleBinding>>();
  private readonly keysOf = new Map<string, Map<string, ApiKeyRecord>>();
  private readonly bindingsOfRole = new Map<string, Map<string, RoleBinding>>();
  readonly index: TenantIndex;

  constructor(tenant: TenantRef, revision = 0) {
    this.tenant = tenant;
    this.revision = revision;
    this.index = {
      usersByName: this.users,
      usersById: this.usersById,
      apiKeys: this.apiKeys,
      projects: this.projectsByName,
      teamsOf: this.teamsOf,
      bindingsOf: this.bindingsOf,
      keysOf: this.keysOf,
      bindingsOfRole: this.bindingsOfRole,
    };
  }

  /** The state a stored document (a snapshot, or a whole document of an earlier release) holds. */
  static fromDocument(document: TenantDocument): TenantState {
    const state = new TenantState(document.tenant, document.revision);
    for (const collection of COLLECTIONS) {
      for (const record of document[collection] as Array<RecordOf[typeof collection]>) {
        state.set(collection, keyOf(collection, record), record);
      }
    }
    return state;
  }

  /** Everything, as a stored document (a snapshot). */
  toDocument(): TenantDocument {
    return {
      tenant: this.tenant,
      projects: [...this.projects.values()],
      users: [...this.users.values()],
      teams: [...this.teams.values()],
      roles: [...this.roles.values()],
      bindings: [...this.bindings.values()],
      apiKeys: [...this.apiKeys.values()],
      revision: this.revision,
    };
  }

  /**
   * Applies the changes of `revision`, which must be the next one; false (nothing applied) for
   * any other: one applied already, or one after a gap (the caller reads what is missing first).
   */
  apply(revision: number, changes: readonly RecordChange[]): boolean {
    if (revision !== this.revision + 1) return false;
    for (const change of changes) this.set(change.c, change.k, change.v);
    this.revision = revision;
    this.version = {};
    return true;
  }

  /**
   * Applies changes without making them a revision, and returns the changes that undo them (to
   * apply, the same way, in the order given). For working out a group of changes, each against
   * the ones before it (./directory.ts): the caller undoes them before anything else runs.
   */
  speculate(changes: readonly RecordChange[]): RecordChange[] {
    const undo: RecordChange[] = [];
    for (const change of changes) {
      const map = this[change.c] as Map<string, RecordOf[Collection]>;
      undo.push({ c: change.c, k: change.k, v: map.get(change.k) ?? null });
      this.set(change.c, change.k, change.v);
    }
    // Whatever is derived meanwhile is derived from records that may never be stored.
    this.version = {};
    return undo.reverse();
  }

  private set<C extends Collection>(collection: C, key: string, value: RecordOf[C] | null): void {
    const map = this[collection] as Map<string, RecordOf[C]>;
    const old = map.get(key);
    if (old !== undefined) this.unindex(collection, old);
    if (value === null) map.delete(key);
    else {
      map.set(key, value);
      this.reindex(collection, value);
    }
  }

  private unindex(collection: Collection, old: RecordOf[Collection]): void {
    switch (collection) {
      case 'users':
        this.usersById.delete((old as UserRecord).id);
        break;
      case 'projects': {
        const project = old as ProjectRecord;
        if (this.projectsByName.get(project.name) === project) this.projectsByName.delete(project.name);
        break;
      }
      case 'teams': {
        const team = old as TeamRecord;
        for (const member of team.members) {
          const teams = this.teamsOf.get(member);
          teams?.delete(team.name);
          if (teams?.size === 0) this.teamsOf.delete(member);
        }
        break;
      }
      case 'bindings': {
        const binding = old as RoleBinding;
        removeFrom(this.bindingsOf, subjectKey(binding.subject), binding.id);
        removeFrom(this.bindingsOfRole, binding.role.toLowerCase(), binding.id);
        break;
      }
      case 'apiKeys': {
        const key = old as ApiKeyRecord;
        removeFrom(this.keysOf, key.username, key.id);
        break;
      }
      case 'roles':
        break;
    }
  }

  private reindex(collection: Collection, record: RecordOf[Collection]): void {
    switch (collection) {
      case 'users': {
        const user = record as UserRecord;
        this.usersById.set(user.id, user);
        break;
      }
      case 'projects': {
        const project = record as ProjectRecord;
        if (project.deletingSince === undefined) this.projectsByName.set(project.name, project);
        break;
      }
      case 'teams': {
        const team = record as TeamRecord;
        for (const member of team.members) {
          let teams = this.teamsOf.get(member);
          if (!teams) {
            teams = new Set();
            this.teamsOf.set(member, teams);
          }
          teams.add(team.name);
        }
        break;
      }
      case 'bindings': {
        const binding = record as RoleBinding;
        addTo(this.bindingsOf, subjectKey(binding.subject), binding.id, binding);
        addTo(this.bindingsOfRole, binding.role.toLowerCase(), binding.id, binding);
        break;
      }
      case 'apiKeys': {
        const key = record as ApiKeyRecord;
        addTo(this.keysOf, key.username, key.id, key);
        break;
      }
      case 'roles':
        break;
    }
  }
}

/** A collection of a draft: reads through to the state, writes kept aside. */
export class DraftCollection<V> implements ReadonlyMap<string, V> {
  /** Written records, and removed ones (null). */
  readonly written = new Map<string, V | null>();

  constructor(private readonly base: ReadonlyMap<string, V>) {}

  get(key: string): V | undefined {
    if (this.written.has(key)) return this.written.get(key) ?? undefined;
    return this.base.get(key);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Writes a record under `key`; records are replaced, never changed in place. */
  set(key: string, value: V): void {
    this.written.set(key, value);
  }

  delete(key: string): boolean {
    const had = this.has(key);
    if (had) this.written.set(key, null);
    return had;
  }

  /** Whether the writes add more records than they remove. */
  get grew(): boolean {
    return this.size > this.base.size;
  }

  get size(): number {
    let size = this.base.size;
    for (const [key, value] of this.written) {
      const before = this.base.has(key);
      if (value === null && before) size--;
      else if (value !== null && !before) size++;
    }
    return size;
  }

  *entries(): MapIterator<[string, V]> {
    for (const [key, value] of this.base) {
      if (!this.written.has(key)) yield [key, value];
      else {
        const now = this.written.get(key);
        if (now !== null && now !== undefined) yield [key, now];
      }
    }
    for (const [key, value] of this.written) if (value !== null && !this.base.has(key)) yield [key, value];
  }

  *keys(): MapIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: string, map: ReadonlyMap<string, V>) => void): void {
    for (const [key, value] of this.entries()) callback(value, key, this);
  }
}

/**
 * A change being worked out: reads see the state and this draft's own writes; {@link changes} are
 * the writes, as the record changes to store. The index is the state's until the draft writes
 * (checks run first); after that it is built for the draft (correct, at the cost of the tenant).
 */
export class TenantDraft implements TenantDirectory {
  readonly projects: DraftCollection<ProjectRecord>;
  readonly users: DraftCollection<UserRecord>;
  readonly teams: DraftCollection<TeamRecord>;
  readonly roles: DraftCollection<CustomRoleRecord>;
  readonly bindings: DraftCollection<RoleBinding>;
  readonly apiKeys: DraftCollection<ApiKeyRecord>;

  constructor(readonly base: TenantState) {
    this.projects = new DraftCollection(base.projects);
    this.users = new DraftCollection(base.users);
    this.teams = new DraftCollection(base.teams);
    this.roles = new DraftCollection(base.roles);
    this.bindings = new DraftCollection(base.bindings);
    this.apiKeys = new DraftCollection(base.apiKeys);
  }

  get tenant(): TenantRef {
    return this.base.tenant;
  }

  get revision(): number {
    return this.base.revision;
  }

  get version(): object | null {
    return this.changes().length === 0 ? this.base.version : null;
  }

  get index(): TenantIndex {
    if (this.changes().length === 0) return this.base.index;
    const copy = TenantState.fromDocument(this.base.toDocument());
    copy.apply(this.base.revision + 1, this.changes());
    return copy.index;
  }

  /** Writes `record` (its key is its own). */
  put<C extends Collection>(collection: C, record: RecordOf[C]): void {
    (this[collection] as unknown as DraftCollection<RecordOf[C]>).set(keyOf(collection, record), record);
  }

  /** Removes the record under `key`; false when there was none. */
  remove(collection: Collection, key: string): boolean {
    return (this[collection] as DraftCollection<unknown>).delete(key);
  }

  /** This draft's writes, as record changes. */
  changes(): RecordChange[] {
    const changes: RecordChange[] = [];
    for (const collection of COLLECTIONS) {
      for (const [key, value] of (this[collection] as DraftCollection<RecordOf[typeof collection]>).written) {
        changes.push({ c: collection, k: key, v: value });
      }
    }
    return changes;
  }
}

/** Live projects (not being deleted). */
export function liveProjects(directory: TenantDirectory): ProjectRecord[] {
  return [...directory.projects.values()].filter((p) => p.deletingSince === undefined);
}

/** The lookups of a tenant's records. */
export function tenantIndex(directory: TenantDirectory): TenantIndex {
  return directory.index;
}
