/**
 * The one place access is decided. Every route names the action it performs and the resource it
 * performs it on; `authorize` answers by throwing a PackError (401 to authenticate, 403 when the
 * caller is known but not allowed) or returning.
 *
 * Until identity lands (tenants, users, roles), there are two principals: the bootstrap admin,
 * who may do everything, and anonymous callers, who may read registries marked public when the
 * server allows anonymous reads. Registries already carry their scope (system, tenant, project)
 * so that the identity model can be enforced here without touching the routes.
 */
import { PackError } from '@packyard/pack-core';
import type { RegistryRecord } from '../catalog/records.js';

export type Principal = { kind: 'anonymous' } | { kind: 'admin'; name: string };

export const ANONYMOUS: Principal = { kind: 'anonymous' };

export type Action =
  | 'registry.list'
  | 'registry.get'
  | 'registry.create'
  | 'registry.update'
  | 'pack.list'
  | 'pack.get'
  | 'pack.publish'
  | 'pack.overwrite'
  | 'pack.deprecate'
  | 'pack.delete'
  | 'system.manage';

export type Resource = { type: 'registry'; registry: RegistryRecord } | { type: 'system' };

export interface AccessPolicy {
  /** Anonymous callers may read registries marked public. */
  anonymousRead: boolean;
}

const READ_ACTIONS: ReadonlySet<Action> = new Set(['registry.list', 'registry.get', 'pack.list', 'pack.get']);

/** The name recorded as publisher, deprecator... */
export function authenticatedName(principal: Principal): string {
  return principal.kind === 'admin' ? principal.name : 'anonymous';
}

/** Whether `principal` may perform `action` on `resource`, without throwing. */
export function can(policy: AccessPolicy, principal: Principal, action: Action, resource: Resource): boolean {
  if (principal.kind === 'admin') return true;
  return policy.anonymousRead && READ_ACTIONS.has(action) && resource.type === 'registry' && resource.registry.public;
}

/** Throws unless `principal` may perform `action` on `resource`. */
export function authorize(policy: AccessPolicy, principal: Principal, action: Action, resource: Resource): void {
  if (can(policy, principal, action, resource)) return;
  if (principal.kind === 'anonymous') {
    throw new PackError('AUTH_REQUIRED', `${action} needs an authenticated caller`, {
      status: 401,
      hint: 'send Authorization: Bearer <token> (packctl login <server>)',
    });
  }
  throw new PackError('FORBIDDEN', `not allowed to ${action}`, {
    status: 403,
    hint: 'ask an administrator for access',
  });
}
