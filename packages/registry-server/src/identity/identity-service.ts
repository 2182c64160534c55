/**
 * Changing who exists and who may do what: tenants, projects, users, teams, custom roles, role
 * bindings and API keys. Each change is one compare-and-swap of the tenant's document (or the
 * system's), so concurrent changes through several processes never lose each other; checks run
 * inside the swap, against the document being replaced. Authorization is the routes' business.
 */
import { randomBytes } from 'node:crypto';
import { PackError } from '@packyard/pack-core';
import { checkRolePermissions } from '../access/permissions.js';
import { builtInRole, findRole } from '../access/roles.js';
import { createJson, readJson } from '../storage/json-documents.js';
import { isPreconditionFailed, type ObjectStore } from '../storage/object-store.js';
import type { IdentityDirectory } from './directory.js';
import {
  IDENTITY_KEYS,
  type ApiKeyRecord,
  type CustomRoleRecord,
  type LoginIndexEntry,
  type ProjectRecord,
  type RoleBinding,
  type Subject,
  type TeamRecord,
  type TenantDirectory,
  type TenantRef,
  type UserRecord,
} from './records.js';
import { hashPassword, newApiKey, sha256Hex } from './secrets.js';

export const SLUG_PATTERN = '^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$';
export const USERNAME_PATTERN = '^[a-z0-9][a-z0-9._@+-]{0,127}$';
export const ROLE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$';

export function notFound(kind: string, name: string, hint: string): PackError {
  return new PackError(`${kind.toUpperCase().replace(/ /g, '_')}_NOT_FOUND`, `no ${kind} named ${name}`, {
    status: 404,
    hint,
  });
}

export const tenantNotFound = (name: string) => notFound('tenant', name, 'GET /v1/tenants lists the tenants');
export const projectNotFound = (name: string) =>
  notFound('project', name, 'GET /v1/tenants/<tenant>/projects lists the projects you can see');
export const userNotFound = (name: string) => notFound('user', name, 'GET /v1/tenants/<tenant>/users lists the users');
export const teamNotFound = (name: string) => notFound('team', name, 'GET /v1/tenants/<tenant>/teams lists the teams');
export const roleNotFound = (name: string) => notFound('role', name, 'GET /v1/roles lists the roles');

function exists(kind: string, name: string, hint = 'choose another name'): PackError {
  return new PackError(`${kind.toUpperCase()}_EXISTS`, `a ${kind} named ${name} already exists`, {
    status: 409,
    hint,
  });
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

export class IdentityService {
  constructor(
    private readonly store: ObjectStore,
    private readonly directory: IdentityDirectory,
    private readonly options: { passwordHashCost: number },
  ) {}

  // --- tenants ------------------------------------------------------------------------------------

  tenant(name: string): TenantDirectory {
    const found = this.directory.tenant(name);
    if (!found) throw tenantNotFound(name);
    return found;
  }

  listTenants(): TenantRef[] {
    return this.directory.systemDirectory().tenants;
  }

  async createTenant(input: { name: string; displayName?: string | null }): Promise<TenantRef> {
    const ref: TenantRef = { name: input.name, displayName: input.displayName ?? input.name, createdAt: now() };
    await this.directory.updateSystem((system) => {
      if (system.tenants.some((t) => t.name === input.name)) throw exists('tenant', input.name);
      return { ...system, tenants: [...system.tenants, ref], revision: system.revision + 1 };
    });
    await this.directory.updateTenant(ref, (directory) => ({ ...directory, revision: directory.revision + 1 }));
    return ref;
  }

  async deleteTenant(name: string, hasRegistries: boolean): Promise<void> {
    const directory = this.tenant(name);
    if (hasRegistries) {
      throw new PackError('TENANT_NOT_EMPTY', `tenant ${name} still owns registries`, {
        status: 409,
        hint: 'delete or move its registries first',
      });
    }
    await this.directory.updateSystem((system) => ({
      ...system,
      tenants: system.tenants.filter((t) => t.name !== name),
      revision: system.revision + 1,
    }));
    await this.directory.deleteTenant(name);
    await Promise.all(directory.users.map((user) => this.store.delete(loginKey(user.username))));
  }

  private async mutate<T>(tenant: string, change: (draft: TenantDirectory) => T): Promise<T> {
    const ref = this.directory.tenantRef(tenant);
    if (!ref) throw tenantNotFound(tenant);
    let result: T | undefined;
    await this.directory.updateTenant(ref, (draft) => {
      result = change(draft);
      draft.revision += 1;
      return draft;
    });
    return result as T;
  }

  // --- projects -----------------------------------------------------------------------------------

  project(tenant: string, name: string): ProjectRecord {
    const found = this.tenant(tenant).projects.find((p) => p.name === name);
    if (!found) throw projectNotFound(name);
    return found;
  }

  createProject(tenant: string, input: { name: string; description?: string | null }, by: string) {
    return this.mutate(tenant, (draft) => {
      if (draft.projects.some((p) => p.name === input.name)) throw exists('project', input.name);
      const record: ProjectRecord = {
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
      const record = draft.projects.find((p) => p.name === name);
      if (!record) throw projectNotFound(name);
      if (changes.description !== undefined && changes.description !== null) record.description = changes.description;
      return record;
    });
  }

  deleteProject(tenant: string, name: string, hasRegistries: boolean) {
    if (hasRegistries) {
      throw new PackError('PROJECT_NOT_EMPTY', `project ${name} still owns registries`, {
        status: 409,
        hint: 'delete its registries first',
      });
    }
    return this.mutate(tenant, (draft) => {
      if (!draft.projects.some((p) => p.name === name)) throw projectNotFound(name);
      draft.projects = draft.projects.filter((p) => p.name !== name);
      draft.bindings = draft.bindings.filter((b) => b.project !== name);
    });
  }

  // --- users --------------------------------------------------------------------------------------

  user(tenant: string, username: string): UserRecord {
    const found = this.tenant(tenant).users.find((u) => u.username === username);
    if (!found) throw userNotFound(username);
    return found;
  }

  /** Claims a username across every tenant (and the operators): one login index entry per name. */
  private async claimUsername(username: string, tenant: string | null): Promise<void> {
    const key = loginKey(username);
    const entry: LoginIndexEntry = { username, tenant };
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

  private usernameTaken(entry: LoginIndexEntry): boolean {
    if (entry.tenant === null) {
      return this.directory.systemDirectory().operators.some((o) => o.username === entry.username);
    }
    return this.directory.tenant(entry.tenant)?.users.some((u) => u.username === entry.username) ?? false;
  }

  async createUser(tenant: string, input: NewUser, by: string): Promise<UserRecord> {
    this.tenant(tenant);
    const username = input.username.toLowerCase();
    const passwordHash = input.password ? await hashPassword(input.password, this.options.passwordHashCost) : null;
    await this.claimUsername(username, tenant);
    try {
      return await this.mutate(tenant, (draft) => {
        if (draft.users.some((u) => u.username === username)) throw exists('user', username);
        const record: UserRecord = {
          username,
          displayName: input.displayName ?? username,
          passwordHash,
          disabled: false,
          createdAt: now(),
          createdBy: by,
        };
        draft.users.push(record);
        return record;
      });
    } catch (err) {
      await this.store.delete(loginKey(username)).catch(() => undefined);
      throw err;
    }
  }

  async updateUser(tenant: string, username: string, changes: UserChanges): Promise<UserRecord> {
    const passwordHash = changes.password ? await hashPassword(changes.password, this.options.passwordHashCost) : null;
    return this.mutate(tenant, (draft) => {
      const record = draft.users.find((u) => u.username === username);
      if (!record) throw userNotFound(username);
      if (changes.displayName) record.displayName = changes.displayName;
      if (passwordHash) record.passwordHash = passwordHash;
      if (changes.disabled !== undefined && changes.disabled !== null) record.disabled = changes.disabled;
      return record;
    });
  }

  async deleteUser(tenant: string, username: string): Promise<void> {
    await this.mutate(tenant, (draft) => {
      if (!draft.users.some((u) => u.username === username)) throw userNotFound(username);
      draft.users = draft.users.filter((u) => u.username !== username);
      draft.bindings = draft.bindings.filter((b) => !(b.subject.kind === 'user' && b.subject.name === username));
      draft.apiKeys = draft.apiKeys.filter((k) => k.username !== username);
      for (const team of draft.teams) team.members = team.members.filter((m) => m !== username);
    });
    await this.store.delete(loginKey(username));
  }

  // --- system operators ---------------------------------------------------------------------------

  /** Creates the SuperAdmin `username` unless an operator of that name exists; true when created. */
  async ensureOperator(username: string, password: string): Promise<boolean> {
    if (this.directory.systemDirectory().operators.some((o) => o.username === username)) return false;
    const passwordHash = await hashPassword(password, this.options.passwordHashCost);
    await this.claimUsername(username, null);
    let created = false;
    await this.directory.updateSystem((system) => {
      if (system.operators.some((o) => o.username === username)) return undefined;
      created = true;
      return {
        ...system,
        operators: [...system.operators, { username, passwordHash, createdAt: now() }],
        revision: system.revision + 1,
      };
    });
    return created;
  }

  /** Sets an operator's password (the operator changing their own). */
  async setOperatorPassword(username: string, password: string): Promise<void> {
    const passwordHash = await hashPassword(password, this.options.passwordHashCost);
    await this.directory.updateSystem((system) => {
      if (!system.operators.some((o) => o.username === username)) {
        throw notFound('user', username, 'the operator was removed: sign in as another one');
      }
      return {
        ...system,
        operators: system.operators.map((o) => (o.username === username ? { ...o, passwordHash } : o)),
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
  ) {
    return this.mutate(tenant, (draft) => {
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
    });
  }

  updateTeam(tenant: string, name: string, changes: { description?: string | null; members?: string[] | null }) {
    return this.mutate(tenant, (draft) => {
      const record = draft.teams.find((t) => t.name === name);
      if (!record) throw teamNotFound(name);
      if (changes.description !== undefined && changes.description !== null) record.description = changes.description;
      if (changes.members) record.members = checkMembers(draft, changes.members);
      return record;
    });
  }

  deleteTeam(tenant: string, name: string) {
    return this.mutate(tenant, (draft) => {
      if (!draft.teams.some((t) => t.name === name)) throw teamNotFound(name);
      draft.teams = draft.teams.filter((t) => t.name !== name);
      draft.bindings = draft.bindings.filter((b) => !(b.subject.kind === 'team' && b.subject.name === name));
    });
  }

  // --- custom roles -------------------------------------------------------------------------------

  createRole(tenant: string, input: NewRole, by: string) {
    checkRolePermissions(input.permissions, input.scope);
    return this.mutate(tenant, (draft) => {
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
    });
  }

  updateRole(tenant: string, name: string, changes: { description?: string | null; permissions?: string[] | null }) {
    if (builtInRole(name)) throw builtIn(name);
    return this.mutate(tenant, (draft) => {
      const record = customRoleIn(draft, name);
      if (changes.permissions) {
        checkRolePermissions(changes.permissions, record.scope);
        record.permissions = [...new Set(changes.permissions)].sort();
      }
      if (changes.description !== undefined && changes.description !== null) record.description = changes.description;
      return record;
    });
  }

  deleteRole(tenant: string, name: string) {
    if (builtInRole(name)) throw builtIn(name);
    return this.mutate(tenant, (draft) => {
      const record = customRoleIn(draft, name);
      const bound = draft.bindings.filter((b) => b.role.toLowerCase() === record.name.toLowerCase());
      if (bound.length > 0) {
        throw new PackError('ROLE_IN_USE', `role ${record.name} is bound ${bound.length} time(s)`, {
          status: 409,
          hint: 'delete its role bindings first (GET /v1/tenants/<tenant>/bindings)',
        });
      }
      draft.roles = draft.roles.filter((r) => r !== record);
    });
  }

  // --- role bindings ------------------------------------------------------------------------------

  createBinding(tenant: string, input: NewBinding, by: string): Promise<{ binding: RoleBinding; created: boolean }> {
    return this.mutate(tenant, (draft) => {
      const role = findRole(draft, input.role);
      if (!role) throw roleNotFound(input.role);
      const project = input.project ?? null;
      if (role.scope === 'system' || (role.scope === 'project') !== (project !== null)) {
        throw new PackError(
          'ROLE_SCOPE_MISMATCH',
          `${role.name} is a ${role.scope} role: it can be bound ${role.scope === 'project' ? 'only in a project' : 'only tenant-wide'}`,
          { hint: role.scope === 'project' ? 'pass "project"' : 'leave "project" out' },
        );
      }
      if (project !== null && !draft.projects.some((p) => p.name === project)) throw projectNotFound(project);
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
    });
  }

  binding(tenant: string, id: string): RoleBinding {
    const found = this.tenant(tenant).bindings.find((b) => b.id === id);
    if (!found) throw bindingNotFound(id);
    return found;
  }

  deleteBinding(tenant: string, id: string) {
    return this.mutate(tenant, (draft) => {
      if (!draft.bindings.some((b) => b.id === id)) throw bindingNotFound(id);
      draft.bindings = draft.bindings.filter((b) => b.id !== id);
    });
  }

  // --- API keys -----------------------------------------------------------------------------------

  async createApiKey(
    tenant: string,
    username: string,
    input: { name: string; expiresAt?: string | null },
  ): Promise<{ record: ApiKeyRecord; key: string }> {
    const expiresAt = input.expiresAt ?? null;
    if (expiresAt !== null && !(Date.parse(expiresAt) > Date.now())) {
      throw new PackError('API_KEY_INVALID', `expiresAt ${expiresAt} is not a future date-time`, {
        hint: 'pass an ISO 8601 date-time in the future, or leave expiresAt out for a key that does not expire',
      });
    }
    const fresh = newApiKey();
    const record = await this.mutate(tenant, (draft) => {
      if (!draft.users.some((u) => u.username === username)) throw userNotFound(username);
      const created: ApiKeyRecord = {
        id: fresh.id,
        username,
        name: input.name,
        secretSha256: fresh.secretSha256,
        createdAt: now(),
        expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
        revokedAt: null,
      };
      draft.apiKeys.push(created);
      return created;
    });
    return { record, key: fresh.key };
  }

  revokeApiKey(tenant: string, username: string, id: string) {
    return this.mutate(tenant, (draft) => {
      const record = draft.apiKeys.find((k) => k.id === id && k.username === username);
      if (!record) throw notFound('API key', id, `GET /v1/tenants/<tenant>/users/${username}/api-keys lists them`);
      record.revokedAt ??= now();
      return record;
    });
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
  return new PackError('ROLE_BUILT_IN', `${name} is a built-in role: it cannot be changed or deleted`, {
    status: 409,
    hint: 'create a custom role with the permissions you need',
  });
}

function checkMembers(draft: TenantDirectory, members: string[]): string[] {
  const unknown = members.filter((m) => !draft.users.some((u) => u.username === m));
  if (unknown.length > 0) throw userNotFound(unknown.join(', '));
  return [...new Set(members)].sort();
}
