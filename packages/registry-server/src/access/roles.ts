/**
 * Roles: the built-in ones (SuperAdmin for the system operator, the tenant roles of seed 002 and
 * the project roles of seed 004, generated from the seeds into ../generated/builtin-roles.ts) and
 * a tenant's custom roles. Role names are compared case-insensitively (JOHN_DOE is john_doe).
 */
import { seedRoles } from '../generated/builtin-roles.js';
import type { CustomRoleRecord, TenantDirectory } from '../identity/records.js';
import { ALL_PERMISSIONS, type Scope } from './permissions.js';

export interface Role {
  name: string;
  scope: Scope;
  builtIn: boolean;
  description: string;
  permissions: readonly string[];
}

export const SUPER_ADMIN = 'SuperAdmin';

export const BUILT_IN_ROLES: readonly Role[] = [
  {
    name: SUPER_ADMIN,
    scope: 'system',
    builtIn: true,
    description: 'The platform operator: every permission, in every scope.',
    permissions: ALL_PERMISSIONS,
  },
  ...seedRoles.map((role) => ({
    name: role.name,
    scope: role.scope,
    builtIn: true,
    description: `Built-in ${role.scope} role (${role.seed}).`,
    permissions: role.permissions,
  })),
];

const builtInByName = new Map(BUILT_IN_ROLES.map((role) => [role.name.toLowerCase(), role]));

export function builtInRole(name: string): Role | undefined {
  return builtInByName.get(name.toLowerCase());
}

export function customRole(record: CustomRoleRecord): Role {
  return {
    name: record.name,
    scope: record.scope,
    builtIn: false,
    description: record.description,
    permissions: record.permissions,
  };
}

/** The role named `name` (any case) that a binding in `directory`'s tenant may use. */
export function findRole(directory: TenantDirectory | undefined, name: string): Role | undefined {
  const builtIn = builtInRole(name);
  if (builtIn) return builtIn;
  const lower = name.toLowerCase();
  const record = directory?.roles.find((r) => r.name.toLowerCase() === lower);
  return record ? customRole(record) : undefined;
}
