/**
 * What the identity routes share: the tenant (and project) a request names, authorized with one
 * call, so that a tenant that does not exist and a tenant of someone else look the same (404).
 */
import type { ApiKey, User } from '@packyard/registry-api';
import type { Request } from 'express';
import { authRequired } from '../access/authorize.js';
import { SYSTEM, type Principal, type Target } from '../identity/principals.js';
import { principalOf } from '../access/authenticate.js';
import { decided } from '../access/decisions.js';
import { refuseActingOn } from '../access/guards.js';
import { registryError } from '../errors.js';
import { tenantNotFound } from '../identity/identity-errors.js';
import type { ApiKeyRecord, UserRecord } from '../identity/records.js';
import type { TenantDirectory } from '../identity/tenant-state.js';
import type { Guard } from '../identity/tenant-mutation.js';
import { pathParam } from '../http/params.js';
import type { RegistryServices } from '../services.js';

/**
 * The `:tenant` of the request, once `permission` in it (or in `project`) is authorized; with a
 * project, that project must exist too (PROJECT_NOT_FOUND, told only to callers who may know).
 */
export function tenantFor(
  services: RegistryServices,
  req: Request,
  permission: string,
  options: { project?: string; allow?: (principal: Principal) => boolean } = {},
): TenantDirectory {
  const name = pathParam(req, 'tenant');
  const principal = principalOf(req);
  if (principal.kind === 'anonymous') throw authRequired(permission);
  // Another tenant's name answers exactly like a name that does not exist.
  if (principal.kind === 'user' && principal.tenant !== name) throw tenantNotFound(name);
  const directory = services.identity.tenant(name);
  const target: Target =
    options.project === undefined
      ? { scope: 'tenant', tenant: name }
      : { scope: 'project', tenant: name, project: options.project };
  // Allowed without the permission (the caller acting on themselves, say): decided all the same.
  if (options.allow?.(principal)) decided(target);
  else services.access.authorize(principal, permission, target, () => tenantNotFound(name));
  if (options.project !== undefined) services.identity.project(name, options.project);
  return directory;
}

/** Authorizes `permission` at system scope (the operator's); 401 for anonymous callers. */
export function authorizeSystem(services: RegistryServices, req: Request, permission: string): void {
  const principal = principalOf(req);
  if (principal.kind === 'anonymous') throw authRequired(permission);
  services.access.authorize(principal, permission, SYSTEM, () => tenantNotFound(pathParam(req, 'tenant')));
}

/** True when the caller is the user named by `:user` of the request's tenant. */
export function isSelf(req: Request): boolean {
  const principal = principalOf(req);
  return (
    principal.kind === 'user' &&
    principal.tenant === pathParam(req, 'tenant') &&
    principal.username === pathParam(req, 'user').toLowerCase()
  );
}

/** The most users a credential may have come through (identity/records.ts Makers). */
export const MAX_MAKERS = 32;

/**
 * Whose hands a credential (an API key, a password) the caller makes for `username` comes through
 * (identity/records.ts Makers): the caller, when a user of the tenant other than `username`, and
 * whoever the caller's own credential came through. The credential is worth no more than any of
 * them (access/guards.ts makerStillOutranks). Undefined when an operator makes it, or the user
 * from a credential of their own: a session opened with a limited credential never makes an
 * unlimited one.
 */
export function makersFor(req: Request, directory: TenantDirectory, username: string): string[] | undefined {
  const principal = principalOf(req);
  if (principal.kind !== 'user') return undefined;
  // A caller not found (deleted meanwhile) holds nothing: the empty id names nobody.
  const own = principal.username === username ? [] : [directory.users.get(principal.username)?.id ?? ''];
  const makers = [...new Set([...own, ...(principal.makers ?? [])])];
  if (makers.length > MAX_MAKERS) {
    throw registryError(
      'IDENTITY_LIMIT_REACHED',
      `your credential came through the hands of ${String(MAX_MAKERS)} other users already: it cannot make another`,
      {
        hint: 'sign in with a password you were given by an operator or an administrator who outranks you',
        details: { limit: MAX_MAKERS },
      },
    );
  }
  return makers.length === 0 ? undefined : makers;
}

/** The check that the caller does not act on a user who holds more than they do (a Guard). */
export function actingOn(req: Request, username: string, what: string): Guard {
  const principal = principalOf(req);
  return (draft) => {
    refuseActingOn(principal, draft, username, what);
  };
}

/** A user as the API shows it: never the password hash or its generation. */
export function userView(user: UserRecord): User {
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    disabled: user.disabled,
    createdAt: user.createdAt,
    createdBy: user.createdBy,
    hasPassword: user.passwordHash !== null,
  };
}

export function apiKeyView(key: ApiKeyRecord): ApiKey {
  return {
    id: key.id,
    username: key.username,
    name: key.name,
    createdAt: key.createdAt,
    expiresAt: key.expiresAt,
    revokedAt: key.revokedAt,
  };
}
