/**
 * Who exists, as stored. Identity lives in the registry's own storage (no separate database), as
 * one JSON document per tenant plus one for the system, each changed only by compare-and-swap so
 * that several server processes can share it:
 *
 *   identity/system.json                 the tenants (names) and the system operators
 *   identity/tenants/<tenant>.json        a tenant's projects, users, teams, custom roles,
 *                                         role bindings and API keys
 *   identity/logins/<sha256 of name>.json one per username: usernames are unique across tenants
 *   identity/signing-key.json             the key access tokens are signed with
 *   audit/<scope>/<ms>-<id>.json          the audit log (see audit/audit-log.ts)
 *
 * Secrets are never stored: passwords as scrypt hashes, API keys as sha256 of their random part.
 */
import type { Scope } from '../access/permissions.js';

export interface TenantRef {
  name: string;
  displayName: string;
  createdAt: string;
}

export interface SystemUser {
  username: string;
  passwordHash: string;
  createdAt: string;
}

export interface SystemDirectory {
  tenants: TenantRef[];
  /** SuperAdmins: every permission everywhere. */
  operators: SystemUser[];
  revision: number;
}

export interface ProjectRecord {
  name: string;
  description: string;
  createdAt: string;
  createdBy: string;
}

export interface UserRecord {
  username: string;
  displayName: string;
  /** Null for a user who signs in only with API keys. */
  passwordHash: string | null;
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

/** A role given to a user or team, tenant-wide (project null) or in one project. */
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
  username: string;
  name: string;
  /** sha256 (hex) of the key's secret part. */
  secretSha256: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface TenantDirectory {
  tenant: TenantRef;
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
  /** Null for a system operator. */
  tenant: string | null;
}

export const IDENTITY_KEYS = {
  prefix: 'identity/',
  system: 'identity/system.json',
  tenantsPrefix: 'identity/tenants/',
  tenant: (name: string) => `identity/tenants/${name}.json`,
  login: (usernameSha256: string) => `identity/logins/${usernameSha256}.json`,
  signingKey: 'identity/signing-key.json',
};

export function emptyTenantDirectory(tenant: TenantRef): TenantDirectory {
  return { tenant, projects: [], users: [], teams: [], roles: [], bindings: [], apiKeys: [], revision: 0 };
}
