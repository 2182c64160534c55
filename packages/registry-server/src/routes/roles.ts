/**
 * The permission catalogue, roles (built-in and a tenant's custom ones) and role bindings.
 *
 * Binding a role to a user, or removing a binding of theirs, needs user.update tenant-wide, to or
 * of a team team.update; and nobody but the system operator can give or take away, through a
 * binding or a custom role, a permission they do not hold themselves in that scope, nor change the
 * bindings of a user who holds more than they do (access/guards.ts).
 */
import {
  NewBinding,
  NewRole,
  RoleChanges,
  type Binding,
  type ListOf,
  type PageOf,
  type Role as RoleView,
} from '@packyard/registry-api';
import type { Request, Router } from 'express';
import { authRequired } from '../access/authorize.js';
import type { Principal } from '../identity/principals.js';
import { principalOf } from '../access/authenticate.js';
import { refuseBindingEdit, refuseEscalation } from '../access/guards.js';
import { PERMISSION_COMPONENTS } from '../identity/permissions.js';
import { BUILT_IN_ROLES, customRole, findRole } from '../identity/roles.js';
import { roleNotFound } from '../identity/identity-errors.js';
import type { RoleBinding } from '../identity/records.js';
import type { Guard } from '../identity/tenant-mutation.js';
import { bodyValidator, pathParam, queryString } from '../http/params.js';
import type { RegistryServices } from '../services.js';
import { tenantFor } from './identity-helpers.js';
import { pageOf, tenantInOrder } from './identity-pages.js';
import { callerName, jsonBody } from './route-helpers.js';

const readNewRole = bodyValidator(NewRole);
const readRoleChanges = bodyValidator(RoleChanges);
const readNewBinding = bodyValidator(NewBinding);

const byLowerName = (role: { name: string }) => role.name.toLowerCase();
const byId = (binding: { id: string }) => binding.id;

const ROLES = '/v1/tenants/:tenant/roles';
const BINDINGS = '/v1/tenants/:tenant/bindings';

function authenticated(req: Request, what: string): Principal {
  const principal = principalOf(req);
  if (principal.kind === 'anonymous') throw authRequired(what);
  return principal;
}

/** A binding given or taken away (access/guards.ts refuseBindingEdit). */
function bindingGuard(
  principal: Principal,
  binding: Pick<RoleBinding, 'role' | 'project' | 'subject'>,
  what: string,
): Guard {
  return (draft) => {
    refuseBindingEdit(principal, draft, binding, what);
  };
}

export function registerRoleRoutes(router: Router, services: RegistryServices): void {
  router.get('/v1/permissions', (req, res) => {
    authenticated(req, 'GET /v1/permissions');
    res.json({
      items: PERMISSION_COMPONENTS.map((c) => ({
        ...c,
        permissions: c.operations.map((operation) => `${c.component}.${operation}`),
      })),
    });
  });

  router.get('/v1/roles', (req, res) => {
    const principal = authenticated(req, 'GET /v1/roles');
    // Everyone signed in sees the built-in roles (the seeds' catalogue); a tenant's own roles only
    // a caller who may list them (role.list), as through GET /v1/tenants/{tenant}/roles. A user's
    // tenant is their own; the operator names one with ?tenant=.
    const tenant = principal.kind === 'user' ? principal.tenant : queryString(req, 'tenant');
    const listed = tenant !== undefined && services.access.can(principal, 'role.list', { scope: 'tenant', tenant });
    const custom = listed ? [...services.identity.tenant(tenant).roles.values()].map(customRole) : [];
    res.json({ items: [...BUILT_IN_ROLES, ...custom] } satisfies ListOf<RoleView>);
  });

  router.get(ROLES, (req, res) => {
    const directory = tenantFor(services, req, 'role.list');
    const roles = tenantInOrder(directory, 'roles', () => directory.roles.values(), byLowerName);
    res.json(pageOf(req, roles, byLowerName, (r) => customRole(r)) satisfies PageOf<RoleView>);
  });

  router.post(ROLES, jsonBody, async (req, res) => {
    const tenant = tenantFor(services, req, 'role.create').tenant.name;
    const input = readNewRole(req.body);
    const principal = principalOf(req);
    const record = await services.identity.createRole(tenant, input, callerName(req), (draft) => {
      refuseEscalation(principal, draft, {
        permissions: input.permissions,
        project: null,
        what: `creating ${input.name}`,
      });
    });
    res
      .status(201)
      .location(`/v1/tenants/${tenant}/roles/${encodeURIComponent(record.name)}`)
      .json(customRole(record) satisfies RoleView);
  });

  router.get(`${ROLES}/:role`, (req, res) => {
    const directory = tenantFor(services, req, 'role.get');
    const role = findRole(directory, pathParam(req, 'role'));
    if (!role) throw roleNotFound(pathParam(req, 'role'));
    res.json(role satisfies RoleView);
  });

  router.patch(`${ROLES}/:role`, jsonBody, async (req, res) => {
    const tenant = tenantFor(services, req, 'role.update').tenant.name;
    const changes = readRoleChanges(req.body);
    const name = pathParam(req, 'role');
    const principal = principalOf(req);
    // Permissions taken out of a role are taken from everyone bound to it: the caller must hold
    // those too, as well as those put in.
    const record = await services.identity.updateRole(tenant, name, changes, (draft) => {
      if (!changes.permissions) return;
      const current = draft.roles.get(name.toLowerCase())?.permissions ?? [];
      const permissions = [...new Set([...current, ...changes.permissions])];
      refuseEscalation(principal, draft, { permissions, project: null, what: `changing ${name}` });
    });
    res.json(customRole(record) satisfies RoleView);
  });

  router.delete(`${ROLES}/:role`, async (req, res) => {
    const tenant = tenantFor(services, req, 'role.delete').tenant.name;
    await services.identity.deleteRole(tenant, pathParam(req, 'role'));
    res.status(204).end();
  });

  router.get(BINDINGS, (req, res) => {
    const directory = tenantFor(services, req, 'role.list');
    const bindings = tenantInOrder(directory, 'bindings', () => directory.bindings.values(), byId);
    res.json(pageOf(req, bindings, byId, (binding) => binding) satisfies PageOf<Binding>);
  });

  router.post(BINDINGS, jsonBody, async (req, res) => {
    const input = readNewBinding(req.body);
    const directory = tenantFor(services, req, input.subject.kind === 'user' ? 'user.update' : 'team.update');
    const tenant = directory.tenant.name;
    const role = findRole(directory, input.role);
    if (!role) throw roleNotFound(input.role);
    const guard = bindingGuard(
      principalOf(req),
      { role: role.name, project: input.project ?? null, subject: input.subject },
      `granting ${role.name}`,
    );
    const { binding, created } = await services.identity.createBinding(tenant, input, callerName(req), guard);
    res.status(created ? 201 : 200).json(binding satisfies Binding);
  });

  router.delete(`${BINDINGS}/:binding`, async (req, res) => {
    const directory = tenantFor(services, req, 'role.list', { allow: () => true });
    const binding = services.identity.binding(directory.tenant.name, pathParam(req, 'binding'));
    tenantFor(services, req, binding.subject.kind === 'user' ? 'user.update' : 'team.update');
    const principal = principalOf(req);
    await services.identity.deleteBinding(directory.tenant.name, binding.id, (draft) => {
      const current = draft.bindings.get(binding.id);
      if (current) bindingGuard(principal, current, `removing ${current.role}`)(draft);
    });
    res.status(204).end();
  });
}
