/**
 * The one place access is decided. Every route names the permission it needs and the scope of its
 * target (loaded first: object-level), and `AccessControl.authorize` answers by returning or
 * throwing a PackError:
 *
 * - 401 AUTH_REQUIRED for an anonymous caller;
 * - 404 for a target in another tenant (its existence is not revealed), with the route's own code;
 * - 403 FORBIDDEN when the caller is in the right tenant but lacks the permission.
 *
 * A decision that grants tells the request's watchers its scope (./decisions.ts: the audit log).
 *
 * Who holds what: the system operator (the bootstrap admin token, or a SuperAdmin user) holds every
 * permission everywhere. A user's permissions in their tenant are the union of the tenant roles
 * bound to them or to any of their teams; in a project, those plus the project roles bound there.
 * A user is associated with a project when they or one of their teams has a binding in it.
 */
import type { PackError } from '@packyard/pack-core';
import type { RegistryRecord } from '../catalog/records.js';
import type { IdentityDirectory } from '../identity/directory.js';
import { SYSTEM, type Principal, type Target } from '../identity/principals.js';
import type { TenantDirectory } from '../identity/tenant-state.js';
import { registryNotFound } from '../registries/registry-service.js';
import { perVersion, subjectKey, tenantIndex } from '../identity/tenant-state.js';
import { findRole } from '../identity/roles.js';
import { decided } from './decisions.js';
import { registryError } from '../errors.js';

/** What can be done with a registry and its packs. */
export type RegistryAction =
  | 'registry.get'
  | 'registry.update'
  | 'pack.list'
  | 'pack.get'
  | 'pack.publish'
  | 'pack.overwrite'
  | 'pack.deprecate'
  | 'pack.delete';

export interface AccessPolicy {
  /** Anonymous callers may read system registries marked public. */
  anonymousRead: boolean;
}

const REGISTRY_READS: ReadonlySet<RegistryAction> = new Set(['registry.get', 'pack.list', 'pack.get']);

/** A user's permissions, computed once per revision of their tenant's records. */
export interface UserAccess {
  tenantPermissions: ReadonlySet<string>;
  /** Permissions granted by bindings in each project (tenant-wide ones not repeated). */
  projectPermissions: ReadonlyMap<string, ReadonlySet<string>>;
  /** Projects where the user or one of their teams has a binding. */
  associatedProjects: ReadonlySet<string>;
}

/** Per revision of a tenant's records (its version token): a change starts afresh. */
const accessCache = new WeakMap<object, Map<string, UserAccess>>();

export function userAccess(directory: TenantDirectory, username: string): UserAccess {
  return perVersion(accessCache, directory, username, () => accessOf(directory, username));
}

function accessOf(directory: TenantDirectory, username: string): UserAccess {
  const index = tenantIndex(directory);
  const subjects = [
    subjectKey({ kind: 'user', name: username }),
    ...[...(index.teamsOf.get(username) ?? [])].map((team) => subjectKey({ kind: 'team', name: team })),
  ];
  const tenantPermissions = new Set<string>();
  const projectPermissions = new Map<string, Set<string>>();
  const associatedProjects = new Set<string>();
  for (const binding of subjects.flatMap((subject) => [...(index.bindingsOf.get(subject)?.values() ?? [])])) {
    const role = findRole(directory, binding.role);
    if (!role) continue;
    let into: Set<string> = tenantPermissions;
    if (binding.project !== null) {
      associatedProjects.add(binding.project);
      into = projectPermissions.get(binding.project) ?? new Set();
      projectPermissions.set(binding.project, into);
    }
    for (const permission of role.permissions) into.add(permission);
  }
  return { tenantPermissions, projectPermissions, associatedProjects };
}

/** The target a registry's packs live in. */
export function registryTarget(registry: RegistryRecord): Target {
  if (registry.scope === 'system' || registry.tenant === null) return SYSTEM;
  if (registry.scope === 'project' && registry.project !== null) {
    return { scope: 'project', tenant: registry.tenant, project: registry.project };
  }
  return { scope: 'tenant', tenant: registry.tenant };
}

function describeTarget(target: Target): string {
  if (target.scope === 'system') return 'the system scope';
  if (target.scope === 'tenant') return `tenant ${target.tenant}`;
  return `project ${target.project} of tenant ${target.tenant}`;
}

export function authRequired(what: string): PackError {
  return registryError('AUTH_REQUIRED', `${what} needs an authenticated caller`);
}

export function forbidden(permission: string, target: Target): PackError {
  return registryError('FORBIDDEN', `this needs the permission ${permission} in ${describeTarget(target)}`);
}

export class AccessControl {
  constructor(
    private readonly directory: IdentityDirectory,
    readonly policy: AccessPolicy,
  ) {}

  /** The user's access in their tenant, or null for a user who no longer exists. */
  accessOf(principal: Principal & { kind: 'user' }): UserAccess | null {
    const directory = this.directory.tenant(principal.tenant);
    const user = directory && tenantIndex(directory).usersByName.get(principal.username);
    if (!directory || !user || user.disabled) return null;
    return userAccess(directory, principal.username);
  }

  /** Whether the target is hidden from the principal: it belongs to another tenant. */
  hidden(principal: Principal, target: Target): boolean {
    return principal.kind === 'user' && target.scope !== 'system' && target.tenant !== principal.tenant;
  }

  can(principal: Principal, permission: string, target: Target): boolean {
    if (principal.kind === 'operator') return true;
    if (principal.kind === 'anonymous' || target.scope === 'system' || this.hidden(principal, target)) return false;
    const access = this.accessOf(principal);
    if (!access) return false;
    if (access.tenantPermissions.has(permission)) return true;
    return target.scope === 'project' && (access.projectPermissions.get(target.project)?.has(permission) ?? false);
  }

  /**
   * Throws unless the principal holds `permission` in `target`; `notFound` is the error for a
   * target of another tenant (the route's own 404).
   */
  authorize(principal: Principal, permission: string, target: Target, notFound: () => PackError): void {
    if (this.can(principal, permission, target)) {
      decided(target);
      return;
    }
    if (principal.kind === 'anonymous') throw authRequired(permission);
    if (this.hidden(principal, target)) throw notFound();
    throw forbidden(permission, target);
  }

  /** Whether the principal is associated with a project (bound there, or holding project.get tenant-wide). */
  associated(principal: Principal, tenant: string, project: string): boolean {
    if (principal.kind === 'operator') return true;
    if (principal.kind !== 'user' || principal.tenant !== tenant) return false;
    const access = this.accessOf(principal);
    return access !== null && (access.associatedProjects.has(project) || access.tenantPermissions.has('project.get'));
  }

  canOnRegistry(principal: Principal, action: RegistryAction, registry: RegistryRecord): boolean {
    const target = registryTarget(registry);
    if (REGISTRY_READS.has(action)) {
      if (target.scope === 'system') {
        // The public (system) registry: every authenticated caller, anonymous ones when allowed.
        return principal.kind !== 'anonymous' || (this.policy.anonymousRead && registry.public);
      }
      return this.can(principal, action === 'registry.get' ? 'packRegistry.get' : 'packRegistry.list', target);
    }
    return this.can(principal, 'packRegistry.update', target);
  }

  authorizeRegistry(principal: Principal, action: RegistryAction, registry: RegistryRecord): void {
    const target = registryTarget(registry);
    if (this.canOnRegistry(principal, action, registry)) {
      decided(target);
      return;
    }
    if (principal.kind === 'anonymous') throw authRequired(action);
    if (this.hidden(principal, target)) throw registryNotFound(registry.name);
    const permission = REGISTRY_READS.has(action) ? 'packRegistry.get' : 'packRegistry.update';
    // Said of the registry the request named, not of its project: a caller who is not in that
    // project must not learn its name (nor which project a registry belongs to) from a refusal.
    throw registryError('FORBIDDEN', `this needs the permission ${permission} on registry ${registry.name}`);
  }
}
