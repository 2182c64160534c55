/**
 * Changing who exists and who may do what: tenants, projects, users, teams, custom roles, role
 * bindings and API keys. Each change is one compare-and-swap of the tenant's document (or the
 * system's), so concurrent changes through several processes never lose each other; checks run
 * inside the swap, against the document being replaced, including the route's Guard (no
 * escalation, see access/guards.ts). Which permission a route needs is the routes' business.
 *
 * Deleting a tenant or project first marks it (from then on no lookup finds it, and its name is
 * free for a new one with a new id), then removes what it owns, then drops the mark. A deletion
 * that fails half-way is finished by the next deletion or by the sweep at start-up.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { PackError } from '@packyard/pack-core';
import type { Guard } from '../access/guards.js';
import { checkRolePermissions } from '../access/permissions.js';
import { builtInRole, findRole } from '../access/roles.js';
import { createJson, readJson } from '../storage/json-documents.js';
import { isPreconditionFailed, type ObjectStore } from '../storage/object-store.js';
import type { IdentityDirectory } from './directory.js';
import { HashQueue } from './login-limits.js';
import {
  IDENTITY_KEYS,
  liveProjects,
  newId,
  normaliseSystem,
  type ApiKeyRecord,
  type CustomRoleRecord,
  type LoginIndexEntry,
  type ProjectRecord,
  type RoleBinding,
  type Subject,
  type SystemDirectory,
  type TeamRecord,
  type TenantDirectory,
  type TenantRef,
  type UserRecord,
} from './records.js';
import { hashPassword, newApiKey, sha256Hex } from './secrets.js';
import { tenantIndex } from './tenant-index.js';
import { registryError, type RegistryErrorCode } from '../errors.js';

/** What a lookup of each kind fails with: one literal, catalogued code per kind. */
const NOT_FOUND = {
  tenant: 'TENANT_NOT_FOUND',
  project: 'PROJECT_NOT_FOUND',
  user: 'USER_NOT_FOUND',
  team: 'TEAM_NOT_FOUND',
  role: 'ROLE_NOT_FOUND',
  binding: 'BINDING_NOT_FOUND',
  'API key': 'API_KEY_NOT_FOUND',
} as const satisfies Record<string, RegistryErrorCode>;

const EXISTS = {
  tenant: 'TENANT_EXISTS',
  project: 'PROJECT_EXISTS',
  user: 'USER_EXISTS',
  team: 'TEAM_EXISTS',
  role: 'ROLE_EXISTS',
} as const satisfies Record<string, RegistryErrorCode>;

export function notFound(kind: keyof typeof NOT_FOUND, name: string, hint: string): PackError {
  return registryError(NOT_FOUND[kind], `no ${kind} named ${name}`, { hint });
}

export const tenantNotFound = (name: string) => notFound('tenant', name, 'GET /v1/tenants lists the tenants');
export const projectNotFound = (name: string) =>
  notFound('project', name, 'GET /v1/tenants/<tenant>/projects lists the projects you can see');
export const userNotFound = (name: string) => notFound('user', name, 'GET /v1/tenants/<tenant>/users lists the users');
export const teamNotFound = (name: string) => notFound('team', name, 'GET /v1/tenants/<tenant>/teams lists the teams');
export const roleNotFound = (name: string) => notFound('role', name, 'GET /v1/roles lists the roles');

function exists(kind: keyof typeof EXISTS, name: string, hint = 'choose another name'): PackError {
  return registryError(EXISTS[kind], `a ${kind} named ${name} already exists`, { hint });
}

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

export interface NewRole {
  name: string;
  scope: 'tenant' | 'project';
  description?: string | null;
  permissions: string[];
}

export interface NewBinding {
  role: string;
  subject: Subject;
  project?: string | null;
}

/** What a tenant or project owns outside the identity documents (cluster profiles, audit entries). */
export interface OwnedData {
  /** Removes everything of the tenant `tenantId`, its projects' included. */
  removeTenant(tenantId: string): Promise<void>;
  removeProject(tenantId: string, projectId: string): Promise<void>;
}

export interface IdentityServiceOptions {
  passwordHashCost: number;
  /** Bounds the password hashes of this process; shared with the sign-in checks (Sessions). */
  hashQueue?: HashQueue;
  /** Removed with their tenant or project. */
  owners?: OwnedData[];
  logger?: Logger;
}

export class IdentityService {
  private readonly hashQueue: HashQueue;

  constructor(
    private readonly store: ObjectStore,
    private readonly directory: IdentityDirectory,
    private readonly options: IdentityServiceOptions,
  ) {
    this.hashQueue = options.hashQueue ?? new HashQueue();
  }

  private hash(password: string): Promise<string> {
    return this.hashQueue.run(() => hashPassword(password, this.options.passwordHashCost));
  }

  // --- tenants ------------------------------------------------------------------------------------

  tenant(name: string): TenantDirectory {
    const found = this.directory.tenant(name);
    if (!found) throw tenantNotFound(name);
    return found;
  }

  private liveRef(name: string): TenantRef {
    const ref = this.directory.tenantRef(name);
    if (!ref) throw tenantNotFound(name);
    return ref;
  }

  listTenants(): TenantRef[] {
    return this.directory.systemDirectory().tenants.filter((t) => t.deletingSince === undefined);
  }

  async createTenant(input: { name: string; displayName?: string | null }): Promise<TenantRef> {
    const ref: TenantRef = {
      id: newId('tn'),
      name: input.name,
      displayName: input.displayName ?? input.name,
      createdAt: now(),
    };
    await this.directory.updateSystem((system) => {
      // A tenant being deleted does not hold its name any more.
      if (system.tenants.some((t) => t.name === input.name && t.deletingSince === undefined)) {
        throw exists('tenant', input.name);
      }
      return { ...system, tenants: [...system.tenants, ref], revision: system.revision + 1 };
    });
    await this.directory.updateTenant(ref, (directory) => ({ ...directory, revision: directory.revision + 1 }));
    return ref;
  }

  async deleteTenant(name: string, hasRegistries: boolean): Promise<void> {
    const ref = this.liveRef(name);
    if (hasRegistries) {
      throw registryError('TENANT_NOT_EMPTY', `tenant ${name} still owns registries`);
    }
    await this.directory.updateSystem((system) => {
      const found = system.tenants.find((t) => t.id === ref.id);
      if (!found) throw tenantNotFound(name);
      if (found.deletingSince !== undefined) return undefined;
      found.deletingSince = now();
      return { ...system, revision: system.revision + 1 };
    });
    await this.removeTenant(ref.id);
    await this.sweep();
  }

  /**
   * Removes what a tenant owns (its users' login names, its owners' data, its document), then its
   * entry in the system document. Every step may be repeated: a deletion that failed half-way is
   * finished by running this again.
   */
  private async removeTenant(id: string): Promise<void> {
    const stored = await this.directory.readTenant(id);
    for (const user of stored?.users ?? []) await this.releaseUsername(user.username, id);
    for (const owner of this.options.owners ?? []) await owner.removeTenant(id);
    await this.directory.deleteTenantDocument(id);
    await this.directory.updateSystem((system) => {
      if (!system.tenants.some((t) => t.id === id)) return undefined;
      return { ...system, tenants: system.tenants.filter((t) => t.id !== id), revision: system.revision + 1 };
    });
  }

  /**
   * Finishes deletions left half-done: tenants and projects marked as being deleted, and tenant
   * documents the system no longer lists (a deletion by an older version that failed after the
   * system document changed). Failures are logged and left for the next sweep.
   */
  async sweep(): Promise<void> {
    const attempt = async (what: string, work: () => Promise<void>) => {
      try {
        await work();
      } catch (err) {
        this.options.logger?.warn({ err }, `could not finish deleting ${what}; the next sweep tries again`);
      }
    };
    for (const ref of this.directory.deletingTenants())
      await attempt(`tenant ${ref.name}`, () => this.removeTenant(ref.id));
    // Listed before the system document is read: a document listed was written after its tenant
    // was added there (createTenant writes the system first), so a live one is never taken for a leftover.
    const documents: string[] = [];
    for await (const object of this.store.list(IDENTITY_KEYS.tenantsPrefix)) {
      documents.push(object.key.slice(IDENTITY_KEYS.tenantsPrefix.length).replace(/\.json$/, ''));
    }
    const system = await readJson<SystemDirectory>(this.store, IDENTITY_KEYS.system);
    const listed = new Set(
      normaliseSystem(system?.value ?? { tenants: [], operators: [], revision: 0 }).tenants.map((t) => t.id),
    );
    for (const id of documents.filter((d) => !listed.has(d)))
      await attempt(`tenant ${id}`, () => this.removeTenant(id));
    for (const ref of this.listTenants()) {
      await attempt(`the projects of tenant ${ref.name}`, () => this.removeDeletedProjects(ref));
    }
  }

  private async mutate<T>(tenant: string, change: (draft: TenantDirectory) => T, guard?: Guard): Promise<T> {
    const ref = this.liveRef(tenant);
    let result: T | undefined;
    await this.directory.updateTenant(ref, (draft) => {
      guard?.(draft);
      result = change(draft);
      draft.revision += 1;
      return draft;
    });
    return result as T;
  }

  // --- projects -----------------------------------------------------------------------------------

  project(tenant: string, name: string): ProjectRecord {
    const found = tenantIndex(this.tenant(tenant)).projects.get(name);
    if (!found) throw projectNotFound(name);
    return found;
  }

  /** The tenant's projects, but those being deleted. */
  projects(tenant: string): ProjectRecord[] {
    return liveProjects(this.tenant(tenant));
  }

  createProject(tenant: string, input: { name: string; description?: string | null }, by: string) {
    return this.mutate(tenant, (draft) => {
      if (liveProjects(draft).some((p) => p.name === input.name)) throw exists('project', input.name);
      const record: ProjectRecord = {
        id: newId('pj'),
        name: input.name,
        description: input.description ?? '',
        createdAt: now(),
        createdBy: by,
      };
      draft.projects.push(record);
      return record;
    });
  }

  updateProject(tenant: string, name: string, changes: { description?: string | null }) {
    return this.mutate(tenant, (draft) => {
      const record = liveProjects(draft).find((p) => p.name === name);
      if (!record) throw projectNotFound(name);
      if (changes.description !== undefined && changes.description !== null) record.description = changes.description;
      return record;
    });
  }

  /** Marks the project (its bindings go in the same swap), then removes what it owns. */
  async deleteProject(tenant: string, name: string, hasRegistries: boolean): Promise<void> {
    if (hasRegistries) {
      throw registryError('PROJECT_NOT_EMPTY', `project ${name} still owns registries`);
    }
    const ref = this.liveRef(tenant);
    await this.mutate(tenant, (draft) => {
      const record = liveProjects(draft).find((p) => p.name === name);
      if (!record) throw projectNotFound(name);
      record.deletingSince = now();
      draft.bindings = draft.bindings.filter((b) => b.project !== name);
    });
    await this.removeDeletedProjects(ref);
  }

  /** Removes what each project marked as being deleted owns, then the project. */
  private async removeDeletedProjects(ref: TenantRef): Promise<void> {
    const doomed = this.directory.tenantById(ref.id)?.projects.filter((p) => p.deletingSince !== undefined) ?? [];
    for (const project of doomed) {
      for (const owner of this.options.owners ?? []) await owner.removeProject(ref.id, project.id);
      await this.directory.updateTenant(ref, (draft) => {
        if (!draft.projects.some((p) => p.id === project.id)) return undefined;
        draft.projects = draft.projects.filter((p) => p.id !== project.id);
        draft.revision += 1;
        return draft;
      });
    }
  }

  // --- users --------------------------------------------------------------------------------------

  user(tenant: string, username: string): UserRecord {
    const found = tenantIndex(this.tenant(tenant)).usersByName.get(username);
    if (!found) throw userNotFound(username);
    return found;
  }

  /** Claims a username across every tenant (and the operators): one login index entry per name. */
  private async claimUsername(username: string, tenantId: string | null): Promise<void> {
    const key = loginKey(username);
    const entry: LoginIndexEntry = { username, tenant: tenantId };
    if ((await createJson(this.store, key, entry)) !== null) return;
    const existing = await readJson<LoginIndexEntry>(this.store, key);
    if (existing && this.usernameTaken(existing.value))
      throw exists('user', username, 'usernames are unique across tenants');
    // A claim whose user was never created (a failed request) or was deleted: take it over.
    try {
      await this.store.put(key, JSON.stringify(entry), existing ? { ifMatch: existing.etag } : { ifNoneMatch: '*' });
    } catch (err) {
      if (isPreconditionFailed(err)) throw exists('user', username, 'usernames are unique across tenants');
      throw err;
    }
  }

  /** Whether the entry's tenant (by id; a legacy entry's tenant name is that tenant's id) holds the name. */
  private usernameTaken(entry: LoginIndexEntry): boolean {
    if (entry.tenant === null) return this.directory.operatorNamed(entry.username) !== undefined;
    const directory = this.directory.tenantById(entry.tenant);
    return directory !== undefined && tenantIndex(directory).usersByName.has(entry.username);
  }

  /** Deletes a username's login index entry while it still names `tenantId`. */
  private async releaseUsername(username: string, tenantId: string): Promise<void> {
    const existing = await readJson<LoginIndexEntry>(this.store, loginKey(username));
    if (existing?.value.tenant === tenantId) await this.store.delete(loginKey(username));
  }

  async createUser(tenant: string, input: NewUser, by: string): Promise<UserRecord> {
    const ref = this.liveRef(tenant);
    const username = input.username.toLowerCase();
    const passwordHash = input.password ? await this.hash(input.password) : null;
    await this.claimUsername(username, ref.id);
    try {
      return await this.mutate(tenant, (draft) => {
        if (draft.users.some((u) => u.username === username)) throw exists('user', username);
        const record: UserRecord = {
          id: newId('us'),
          username,
          displayName: input.displayName ?? username,
          passwordHash,
          passwordGeneration: 0,
          disabled: false,
          createdAt: now(),
          createdBy: by,
        };
        draft.users.push(record);
        return record;
      });
    } catch (err) {
      await this.releaseUsername(username, ref.id).catch(() => undefined);
      throw err;
    }
  }

  /** A new password or disabling the user ends the sessions signed in with the password. */
  async updateUser(tenant: string, username: string, changes: UserChanges, guard?: Guard): Promise<UserRecord> {
    const passwordHash = changes.password ? await this.hash(changes.password) : null;
    return this.mutate(
      tenant,
      (draft) => {
        const record = draft.users.find((u) => u.username === username);
        if (!record) throw userNotFound(username);
        if (changes.displayName) record.displayName = changes.displayName;
        if (passwordHash) {
          record.passwordHash = passwordHash;
          record.passwordGeneration += 1;
        }
        if (changes.disabled !== undefined && changes.disabled !== null) {
          if (changes.disabled && !record.disabled) record.passwordGeneration += 1;
          record.disabled = changes.disabled;
        }
        return record;
      },
      guard,
    );
  }

  async deleteUser(tenant: string, username: string, guard?: Guard): Promise<void> {
    const ref = this.liveRef(tenant);
    await this.mutate(
      tenant,
      (draft) => {
        if (!draft.users.some((u) => u.username === username)) throw userNotFound(username);
        draft.users = draft.users.filter((u) => u.username !== username);
        draft.bindings = draft.bindings.filter((b) => !(b.subject.kind === 'user' && b.subject.name === username));
        draft.apiKeys = draft.apiKeys.filter((k) => k.username !== username);
        for (const team of draft.teams) team.members = team.members.filter((m) => m !== username);
      },
      guard,
    );
    await this.releaseUsername(username, ref.id);
  }

  // --- system operators ---------------------------------------------------------------------------

  /** Creates the SuperAdmin `username` unless an operator of that name exists; true when created. */
  async ensureOperator(username: string, password: string): Promise<boolean> {
    if (this.directory.operatorNamed(username)) return false;
    const passwordHash = await this.hash(password);
    await this.claimUsername(username, null);
    let created = false;
    await this.directory.updateSystem((system) => {
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
  }

  /** Sets an operator's password (the operator changing their own); their other sessions end. */
  async setOperatorPassword(username: string, password: string): Promise<void> {
    const passwordHash = await this.hash(password);
    await this.directory.updateSystem((system) => {
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
  }

  // --- teams --------------------------------------------------------------------------------------

  team(tenant: string, name: string): TeamRecord {
    const found = this.tenant(tenant).teams.find((t) => t.name === name);
    if (!found) throw teamNotFound(name);
    return found;
  }

  createTeam(
    tenant: string,
    input: { name: string; description?: string | null; members?: string[] | null },
    by: string,
    guard?: Guard,
  ) {
    return this.mutate(
      tenant,
      (draft) => {
        if (draft.teams.some((t) => t.name === input.name)) throw exists('team', input.name);
        const members = checkMembers(draft, input.members ?? []);
        const record: TeamRecord = {
          name: input.name,
          description: input.description ?? '',
          members,
          createdAt: now(),
          createdBy: by,
        };
        draft.teams.push(record);
        return record;
      },
      guard,
    );
  }

  updateTeam(
    tenant: string,
    name: string,
    changes: { description?: string | null; members?: string[] | null },
    guard?: Guard,
  ) {
    return this.mutate(
      tenant,
      (draft) => {
        const record = draft.teams.find((t) => t.name === name);
        if (!record) throw teamNotFound(name);
        if (changes.description !== undefined && changes.description !== null) {
          record.description = changes.description;
        }
        if (changes.members) record.members = checkMembers(draft, changes.members);
        return record;
      },
      guard,
    );
  }

  deleteTeam(tenant: string, name: string, guard?: Guard) {
    return this.mutate(
      tenant,
      (draft) => {
        if (!draft.teams.some((t) => t.name === name)) throw teamNotFound(name);
        draft.teams = draft.teams.filter((t) => t.name !== name);
        draft.bindings = draft.bindings.filter((b) => !(b.subject.kind === 'team' && b.subject.name === name));
      },
      guard,
    );
  }

  // --- custom roles -------------------------------------------------------------------------------

  createRole(tenant: string, input: NewRole, by: string, guard?: Guard) {
    checkRolePermissions(input.permissions, input.scope);
    return this.mutate(
      tenant,
      (draft) => {
        if (findRole(draft, input.name)) {
          throw exists('role', input.name, 'role names are unique regardless of case, built-in roles included');
        }
        const record: CustomRoleRecord = {
          name: input.name,
          scope: input.scope,
          description: input.description ?? '',
          permissions: [...new Set(input.permissions)].sort(),
          createdAt: now(),
          createdBy: by,
        };
        draft.roles.push(record);
        return record;
      },
      guard,
    );
  }

  updateRole(
    tenant: string,
    name: string,
    changes: { description?: string | null; permissions?: string[] | null },
    guard?: Guard,
  ) {
    if (builtInRole(name)) throw builtIn(name);
    return this.mutate(
      tenant,
      (draft) => {
        const record = customRoleIn(draft, name);
        if (changes.permissions) {
          checkRolePermissions(changes.permissions, record.scope);
          record.permissions = [...new Set(changes.permissions)].sort();
        }
        if (changes.description !== undefined && changes.description !== null) record.description = changes.description;
        return record;
      },
      guard,
    );
  }

  deleteRole(tenant: string, name: string) {
    if (builtInRole(name)) throw builtIn(name);
    return this.mutate(tenant, (draft) => {
      const record = customRoleIn(draft, name);
      const bound = draft.bindings.filter((b) => b.role.toLowerCase() === record.name.toLowerCase());
      if (bound.length > 0) {
        throw registryError('ROLE_IN_USE', `role ${record.name} is bound ${bound.length} time(s)`);
      }
      draft.roles = draft.roles.filter((r) => r !== record);
    });
  }

  // --- role bindings ------------------------------------------------------------------------------

  createBinding(
    tenant: string,
    input: NewBinding,
    by: string,
    guard?: Guard,
  ): Promise<{ binding: RoleBinding; created: boolean }> {
    return this.mutate(
      tenant,
      (draft) => {
        const role = findRole(draft, input.role);
        if (!role) throw roleNotFound(input.role);
        const project = input.project ?? null;
        if (role.scope === 'system' || (role.scope === 'project') !== (project !== null)) {
          throw registryError(
            'ROLE_SCOPE_MISMATCH',
            `${role.name} is a ${role.scope} role: it can be bound ${role.scope === 'project' ? 'only in a project' : 'only tenant-wide'}`,
            { hint: role.scope === 'project' ? 'pass "project"' : 'leave "project" out' },
          );
        }
        if (project !== null && !liveProjects(draft).some((p) => p.name === project)) throw projectNotFound(project);
        const { subject } = input;
        if (subject.kind === 'user' && !draft.users.some((u) => u.username === subject.name)) {
          throw userNotFound(subject.name);
        }
        if (subject.kind === 'team' && !draft.teams.some((t) => t.name === subject.name))
          throw teamNotFound(subject.name);
        const same = draft.bindings.find(
          (b) =>
            b.role.toLowerCase() === role.name.toLowerCase() &&
            b.project === project &&
            b.subject.kind === subject.kind &&
            b.subject.name === subject.name,
        );
        if (same) return { binding: same, created: false };
        const binding: RoleBinding = {
          id: randomBytes(6).toString('hex'),
          role: role.name,
          subject: { kind: subject.kind, name: subject.name },
          project,
          createdAt: now(),
          createdBy: by,
        };
        draft.bindings.push(binding);
        return { binding, created: true };
      },
      guard,
    );
  }

  binding(tenant: string, id: string): RoleBinding {
    const found = this.tenant(tenant).bindings.find((b) => b.id === id);
    if (!found) throw bindingNotFound(id);
    return found;
  }

  deleteBinding(tenant: string, id: string, guard?: Guard) {
    return this.mutate(
      tenant,
      (draft) => {
        if (!draft.bindings.some((b) => b.id === id)) throw bindingNotFound(id);
        draft.bindings = draft.bindings.filter((b) => b.id !== id);
      },
      guard,
    );
  }

  // --- API keys -----------------------------------------------------------------------------------

  async createApiKey(
    tenant: string,
    username: string,
    input: { name: string; expiresAt?: string | null },
    guard?: Guard,
  ): Promise<{ record: ApiKeyRecord; key: string }> {
    const expiresAt = input.expiresAt ?? null;
    if (expiresAt !== null && !(Date.parse(expiresAt) > Date.now())) {
      throw registryError('API_KEY_INVALID', `expiresAt ${expiresAt} is not a future date-time`);
    }
    const fresh = newApiKey();
    const record = await this.mutate(
      tenant,
      (draft) => {
        const user = draft.users.find((u) => u.username === username);
        if (!user) throw userNotFound(username);
        const created: ApiKeyRecord = {
          id: fresh.id,
          userId: user.id,
          username,
          name: input.name,
          secretSha256: fresh.secretSha256,
          createdAt: now(),
          expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
          revokedAt: null,
        };
        draft.apiKeys.push(created);
        return created;
      },
      guard,
    );
    return { record, key: fresh.key };
  }

  revokeApiKey(tenant: string, username: string, id: string, guard?: Guard) {
    return this.mutate(
      tenant,
      (draft) => {
        const record = draft.apiKeys.find((k) => k.id === id && k.username === username);
        if (!record) throw notFound('API key', id, `GET /v1/tenants/<tenant>/users/${username}/api-keys lists them`);
        record.revokedAt ??= now();
        return record;
      },
      guard,
    );
  }
}

function now(): string {
  return new Date().toISOString();
}

function loginKey(username: string): string {
  return IDENTITY_KEYS.login(sha256Hex(username));
}

const bindingNotFound = (id: string) =>
  notFound('binding', id, 'GET /v1/tenants/<tenant>/bindings lists the role bindings');

/** The custom role `name` (any case) of a tenant's directory. */
function customRoleIn(draft: TenantDirectory, name: string): CustomRoleRecord {
  const lower = name.toLowerCase();
  const record = draft.roles.find((r) => r.name.toLowerCase() === lower);
  if (!record) throw roleNotFound(name);
  return record;
}

function builtIn(name: string): PackError {
  return registryError('ROLE_BUILT_IN', `${name} is a built-in role: it cannot be changed or deleted`);
}

function checkMembers(draft: TenantDirectory, members: string[]): string[] {
  const unknown = members.filter((m) => !draft.users.some((u) => u.username === m));
  if (unknown.length > 0) throw userNotFound(unknown.join(', '));
  return [...new Set(members)].sort();
}
