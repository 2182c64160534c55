/**
 * Who exists, as stored. Identity lives in the registry's own storage (no separate database): one
 * JSON document for the system (tenants and operators, changed by compare-and-swap), and per tenant
 * a snapshot document plus a journal of the record changes since (./directory.ts; where each lives:
 * storage/layout.ts).
 *
 * Tenants, projects, users and operators have immutable random ids; names are labels. Whatever a
 * tenant or project owns is keyed by its id, so that one deleted and another created under the
 * same name share nothing, even while the old one's leftovers are still being removed. Documents
 * written before ids existed are read with ids derived from what they hold (`normalise*` below):
 * a tenant's or project's id is its name, a user's or operator's a hash of its name and creation
 * time; the derived ids are written back with the document's next change.
 *
 * Secrets are never stored: passwords as scrypt hashes, API keys as sha256 of their random part.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Scope } from './permissions.js';

export interface TenantRef {
  /** Immutable: `tn_<hex>`, or the name for a tenant created before ids existed. */
  id: string;
  name: string;
  displayName: string;
  createdAt: string;
  /**
   * Set when the tenant's deletion started: from then on no lookup finds it and its name is free,
   * while what it owns is removed; the entry goes once everything is.
   */
  deletingSince?: string;
}

export interface SystemUser {
  /** Immutable: `op_<hex>`. */
  id: string;
  username: string;
  passwordHash: string;
  /** Grows with every password change: sessions signed in with an older one end. */
  passwordGeneration: number;
  createdAt: string;
}

export interface SystemDirectory {
  /** Live tenants and those being deleted (`deletingSince`). */
  tenants: TenantRef[];
  /** SuperAdmins: every permission everywhere. */
  operators: SystemUser[];
  revision: number;
}

export interface ProjectRecord {
  /** Immutable: `pj_<hex>`, or the name for a project created before ids existed. */
  id: string;
  name: string;
  description: string;
  createdAt: string;
  createdBy: string;
  /** Set while the project's deletion removes what it owns; no lookup finds it meanwhile. */
  deletingSince?: string;
}

/**
 * The ids of the users of the tenant through whose hands a credential came, other than its owner:
 * who made it for the owner, and the makers of the credential they (or the owner) made it with, so
 * that a credential made from a limited one is limited alike. The credential is worth no more than
 * any of them: it works only while each still holds every permission its owner holds
 * (../access/guards.ts makerStillOutranks). One id in records written before the chain was kept.
 */
export type Makers = string | string[];

/** The ids of {@link Makers} (none when the credential's owner or an operator made it). */
export function makersOf(made: Makers | undefined): string[] {
  if (made === undefined) return [];
  return typeof made === 'string' ? [made] : made;
}

export interface UserRecord {
  /** Immutable and never reused: `us_<hex>`. */
  id: string;
  username: string;
  displayName: string;
  /** Null for a user who signs in only with API keys. */
  passwordHash: string | null;
  /**
   * Grows whenever the password is set or reset and when the user is disabled: sessions signed in
   * with a password carry the generation they started with and end when it moves.
   */
  passwordGeneration: number;
  /**
   * Whose hands the password came through, when other users of the tenant's did (a user admin's
   * reset, a password given at creation, or the owner's own change from a session such a
   * credential opened: {@link Makers}); absent when the owner set it from a credential of their
   * own, or an operator did.
   */
  passwordSetBy?: Makers;
  disabled: boolean;
  createdAt: string;
  createdBy: string;
}

export interface TeamRecord {
  name: string;
  description: string;
  members: string[];
  createdAt: string;
  createdBy: string;
}

/** A tenant's own role; built-in roles are not stored. */
export interface CustomRoleRecord {
  name: string;
  scope: Extract<Scope, 'tenant' | 'project'>;
  description: string;
  permissions: string[];
  createdAt: string;
  createdBy: string;
}

export interface Subject {
  kind: 'user' | 'team';
  name: string;
}

/** A role given to a user or team, tenant-wide (project null) or in one project (by name). */
export interface RoleBinding {
  id: string;
  role: string;
  subject: Subject;
  project: string | null;
  createdAt: string;
  createdBy: string;
}

export interface ApiKeyRecord {
  id: string;
  /** The id of the user it belongs to (`username` is its label). */
  userId: string;
  username: string;
  name: string;
  /** sha256 (hex) of the key's secret part. */
  secretSha256: string;
  /**
   * Whose hands the key came through, when other users of the tenant's did: whoever made it for
   * its owner, and those of the credential it was made with ({@link Makers}).
   */
  madeBy?: Makers;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

/** A tenant's records as one document: a snapshot (./directory.ts), or all of it before journals. */
export interface TenantDocument {
  tenant: TenantRef;
  /** Live projects and those being deleted (`deletingSince`): see liveProjects(). */
  projects: ProjectRecord[];
  users: UserRecord[];
  teams: TeamRecord[];
  roles: CustomRoleRecord[];
  bindings: RoleBinding[];
  apiKeys: ApiKeyRecord[];
  revision: number;
}

export interface LoginIndexEntry {
  username: string;
  /** The id of the tenant holding the username; null for a system operator. */
  tenant: string | null;
}

/**
 * A new immutable id. The prefix holds `_`, which no tenant or project name may: a new id never
 * equals the name-derived id of a record written before ids existed.
 */
export function newId(prefix: 'tn' | 'pj' | 'us' | 'op'): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

function derivedId(prefix: 'us' | 'op', ...parts: string[]): string {
  return `${prefix}_${createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 24)}`;
}

export function emptyTenantDocument(tenant: TenantRef): TenantDocument {
  return { tenant, projects: [], users: [], teams: [], roles: [], bindings: [], apiKeys: [], revision: 0 };
}

// Stored documents as they may have been written by an older version: ids and generations missing.
type Legacy<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

function normaliseRef(ref: Legacy<TenantRef, 'id'>): TenantRef {
  return ref.id === undefined ? { ...ref, id: ref.name } : (ref as TenantRef);
}

/** A system document with every id filled in (the same ids on every replica). */
export function normaliseSystem(stored: SystemDirectory): SystemDirectory {
  const raw = stored as Omit<SystemDirectory, 'tenants' | 'operators'> & {
    tenants: Array<Legacy<TenantRef, 'id'>>;
    operators: Array<Legacy<SystemUser, 'id' | 'passwordGeneration'>>;
  };
  return {
    ...raw,
    tenants: raw.tenants.map(normaliseRef),
    operators: raw.operators.map((o) => ({
      ...o,
      id: o.id ?? derivedId('op', 'operator', o.username, o.createdAt),
      passwordGeneration: o.passwordGeneration ?? 0,
    })),
  };
}

/** A tenant document with every id filled in (the same ids on every replica). */
export function normaliseTenant(stored: TenantDocument): TenantDocument {
  const raw = stored as Omit<TenantDocument, 'tenant' | 'projects' | 'users' | 'apiKeys'> & {
    tenant: Legacy<TenantRef, 'id'>;
    projects: Array<Legacy<ProjectRecord, 'id'>>;
    users: Array<Legacy<UserRecord, 'id' | 'passwordGeneration'>>;
    apiKeys: Array<Legacy<ApiKeyRecord, 'userId'>>;
  };
  const tenant = normaliseRef(raw.tenant);
  const users = raw.users.map((u) => ({
    ...u,
    id: u.id ?? derivedId('us', tenant.id, u.username, u.createdAt),
    passwordGeneration: u.passwordGeneration ?? 0,
  }));
  const idOf = new Map(users.map((u) => [u.username, u.id]));
  return {
    ...raw,
    tenant,
    projects: raw.projects.map((p) => (p.id === undefined ? { ...p, id: p.name } : (p as ProjectRecord))),
    users,
    // A key whose user is gone names nobody: it is refused like a revoked one.
    apiKeys: raw.apiKeys.map((k) => ({ ...k, userId: k.userId ?? idOf.get(k.username) ?? '' })),
  };
}
