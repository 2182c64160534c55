/**
 * The permission catalogue: every `resourceKey.operation` the registry knows, in the model of seed
 * 004 (component, operations, displayName, scopes). The resource keys and their operations are
 * those of the seed 002 tables; the scopes say where a role holding the permission may be defined:
 *
 * - system: the platform operator's own resources (tenants, the public registry, system profiles);
 * - tenant: everything of seed 002, since tenant roles there grant every key across the tenant;
 * - project: the resources a project groups (seed 004 lists cloud accounts, registries, roles,
 *   projects, cluster profiles and clusters; the other infrastructure keys follow them).
 *
 * Users, teams and API keys belong to the tenant, never to one project.
 */
import { registryError } from '../errors.js';

export type Scope = 'system' | 'tenant' | 'project';
export const SCOPES: readonly Scope[] = ['system', 'tenant', 'project'];

export const OPERATIONS = [
  'create',
  'delete',
  'get',
  'list',
  'update',
  'import',
  'publish',
  'backup',
  'restore',
] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface PermissionComponent {
  component: string;
  displayName: string;
  operations: readonly Operation[];
  scopes: readonly Scope[];
}

const CRUD: readonly Operation[] = ['create', 'delete', 'get', 'list', 'update'];
const INFRA: readonly Scope[] = ['tenant', 'project'];

export const PERMISSION_COMPONENTS: readonly PermissionComponent[] = [
  { component: 'apiKey', displayName: 'API keys', operations: CRUD, scopes: ['tenant'] },
  { component: 'audit', displayName: 'Audit logs', operations: ['get', 'list'], scopes: SCOPES },
  { component: 'cloudaccount', displayName: 'Cloud accounts', operations: CRUD, scopes: INFRA },
  { component: 'cloudconfig', displayName: 'Cloud configurations', operations: CRUD, scopes: INFRA },
  { component: 'cluster', displayName: 'Clusters', operations: [...CRUD, 'import'], scopes: INFRA },
  {
    component: 'clusterProfile',
    displayName: 'Cluster profiles',
    operations: [...CRUD, 'publish'],
    scopes: SCOPES,
  },
  { component: 'clusterRbac', displayName: 'Cluster RBAC bindings', operations: CRUD, scopes: INFRA },
  { component: 'dnsMapping', displayName: 'DNS mappings', operations: CRUD, scopes: INFRA },
  { component: 'edgehost', displayName: 'Edge hosts', operations: CRUD, scopes: INFRA },
  { component: 'location', displayName: 'Backup locations', operations: CRUD, scopes: INFRA },
  { component: 'machine', displayName: 'Machines', operations: CRUD, scopes: INFRA },
  { component: 'macro', displayName: 'Macros', operations: CRUD, scopes: SCOPES },
  { component: 'packRegistry', displayName: 'Pack registries', operations: CRUD, scopes: SCOPES },
  { component: 'privateGateway', displayName: 'Private cloud gateways', operations: CRUD, scopes: INFRA },
  { component: 'project', displayName: 'Projects', operations: CRUD, scopes: INFRA },
  { component: 'role', displayName: 'Roles', operations: CRUD, scopes: SCOPES },
  { component: 'sshKey', displayName: 'SSH keys', operations: CRUD, scopes: INFRA },
  { component: 'team', displayName: 'Teams', operations: CRUD, scopes: ['tenant'] },
  { component: 'tenant', displayName: 'Tenants', operations: CRUD, scopes: ['system'] },
  { component: 'user', displayName: 'Users', operations: CRUD, scopes: ['tenant'] },
  {
    component: 'workspace',
    displayName: 'Workspaces',
    operations: [...CRUD, 'backup', 'restore'],
    scopes: INFRA,
  },
];

/** A `resourceKey.operation` string of the catalogue. */
export type Permission = `${string}.${Operation}`;

const scopesOf = new Map<string, ReadonlySet<Scope>>();
for (const component of PERMISSION_COMPONENTS) {
  for (const operation of component.operations) {
    scopesOf.set(`${component.component}.${operation}`, new Set(component.scopes));
  }
}

/** Every permission of the catalogue, in catalogue order. */
export const ALL_PERMISSIONS: readonly Permission[] = [...scopesOf.keys()] as Permission[];

export function isPermission(value: string): value is Permission {
  return scopesOf.has(value);
}

/** Whether a role of `scope` may hold `permission`. */
export function permissionValidIn(permission: string, scope: Scope): boolean {
  return scopesOf.get(permission)?.has(scope) ?? false;
}

/** Every permission a role of `scope` may hold. */
export function permissionsValidIn(scope: Scope): Permission[] {
  return ALL_PERMISSIONS.filter((permission) => permissionValidIn(permission, scope));
}

/** Throws ROLE_INVALID naming every permission that is unknown or not valid in `scope`. */
export function checkRolePermissions(permissions: readonly string[], scope: Scope): void {
  const unknown = permissions.filter((p) => !isPermission(p));
  if (unknown.length > 0) {
    throw registryError('ROLE_INVALID', `unknown permissions: ${unknown.join(', ')}`);
  }
  const misplaced = permissions.filter((p) => !permissionValidIn(p, scope));
  if (misplaced.length > 0) {
    throw registryError('ROLE_INVALID', `not valid in a ${scope} role: ${misplaced.join(', ')}`, {
      hint: `packctl role permissions shows the scopes of each permission; a ${scope} role may hold only permissions of the ${scope} scope`,
    });
  }
}
