/**
 * Roles: the built-in ones (SuperAdmin for the system operator, the tenant roles of seed 002 and
 * the project roles of seed 004, generated from the seeds into ../generated/builtin-roles.ts) and
 * a tenant's custom roles, and the changes to those. Role names are compared case-insensitively
 * (JOHN_DOE is john_doe).
 */
import type { PackError } from '@packyard/pack-core';
import { registryError } from '../errors.js';
import { seedRoles } from '../generated/builtin-roles.js';
import { exists, roleNotFound } from './identity-errors.js';
import { ALL_PERMISSIONS, checkRolePermissions, type Scope } from './permissions.js';
import type { CustomRoleRecord } from './records.js';
import type { TenantDirectory } from './tenant-state.js';
import { mutateTenant, now, type Guard, type IdentityContext } from './tenant-mutation.js';

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
  const record = directory?.roles.get(name.toLowerCase());
  return record ? customRole(record) : undefined;
}

export interface NewRole {
  name: string;
  scope: 'tenant' | 'project';
  description?: string | null;
  permissions: string[];
}

/** The custom role `name` (any case) of a tenant's directory. */
function customRoleIn(draft: TenantDirectory, name: string): CustomRoleRecord {
  const record = draft.roles.get(name.toLowerCase());
  if (!record) throw roleNotFound(name);
  return record;
}

function builtIn(name: string): PackError {
  return registryError('ROLE_BUILT_IN', `${name} is a built-in role: it cannot be changed or deleted`);
}

export function roleOperations(context: IdentityContext) {
  return {
    createRole(tenant: string, input: NewRole, by: string, guard?: Guard) {
      checkRolePermissions(input.permissions, input.scope);
      return mutateTenant(
        context,
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
          draft.put('roles', record);
          return record;
        },
        guard,
      );
    },

    updateRole(
      tenant: string,
      name: string,
      changes: { description?: string | null; permissions?: string[] | null },
      guard?: Guard,
    ) {
      if (builtInRole(name)) throw builtIn(name);
      return mutateTenant(
        context,
        tenant,
        (draft) => {
          const record = { ...customRoleIn(draft, name) };
          if (changes.permissions) {
            checkRolePermissions(changes.permissions, record.scope);
            record.permissions = [...new Set(changes.permissions)].sort();
          }
          if (changes.description !== undefined && changes.description !== null)
            record.description = changes.description;
          draft.put('roles', record);
          return record;
        },
        guard,
      );
    },

    deleteRole(tenant: string, name: string) {
      if (builtInRole(name)) throw builtIn(name);
      return mutateTenant(context, tenant, (draft) => {
        const record = customRoleIn(draft, name);
        const bound = draft.index.bindingsOfRole.get(record.name.toLowerCase())?.size ?? 0;
        if (bound > 0) {
          throw registryError('ROLE_IN_USE', `role ${record.name} is bound ${bound} time(s)`);
        }
        draft.remove('roles', record.name.toLowerCase());
      });
    },
  };
}
