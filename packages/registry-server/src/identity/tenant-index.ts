/**
 * Lookups into one version of a tenant's document, built once per version (documents are
 * replaced, never changed in place, so a WeakMap keyed by the document is the cache). Every
 * request authenticates and authorizes through these maps: the cost per request does not grow
 * with the number of users, keys, teams or bindings of the tenant.
 */
import {
  liveProjects,
  type ApiKeyRecord,
  type ProjectRecord,
  type RoleBinding,
  type Subject,
  type TenantDirectory,
  type UserRecord,
} from './records.js';

export interface TenantIndex {
  usersByName: ReadonlyMap<string, UserRecord>;
  usersById: ReadonlyMap<string, UserRecord>;
  apiKeys: ReadonlyMap<string, ApiKeyRecord>;
  /** Live projects by name. */
  projects: ReadonlyMap<string, ProjectRecord>;
  /** The teams each username is a member of. */
  teamsOf: ReadonlyMap<string, readonly string[]>;
  /** The bindings of each subject, by subjectKey(). */
  bindingsOf: ReadonlyMap<string, readonly RoleBinding[]>;
}

export function subjectKey(subject: Subject): string {
  return `${subject.kind}:${subject.name}`;
}

const indexes = new WeakMap<TenantDirectory, TenantIndex>();

function push<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export function tenantIndex(directory: TenantDirectory): TenantIndex {
  const cached = indexes.get(directory);
  if (cached) return cached;
  const teamsOf = new Map<string, string[]>();
  for (const team of directory.teams) for (const member of team.members) push(teamsOf, member, team.name);
  const bindingsOf = new Map<string, RoleBinding[]>();
  for (const binding of directory.bindings) push(bindingsOf, subjectKey(binding.subject), binding);
  const index: TenantIndex = {
    usersByName: new Map(directory.users.map((u) => [u.username, u])),
    usersById: new Map(directory.users.map((u) => [u.id, u])),
    apiKeys: new Map(directory.apiKeys.map((k) => [k.id, k])),
    projects: new Map(liveProjects(directory).map((p) => [p.name, p])),
    teamsOf,
    bindingsOf,
  };
  indexes.set(directory, index);
  return index;
}
