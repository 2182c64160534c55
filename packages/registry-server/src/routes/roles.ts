/**
 * The permission catalogue, roles (built-in and a tenant's custom ones) and role bindings.
 *
 * Binding a role to a user needs user.update tenant-wide, to a team team.update; and nobody but the
 * system operator can grant a role holding a permission they do not hold themselves in that scope
 * (no escalation through bindings).
 */
import type { Request, Router } from 'express';
import { PackError } from '@packyard/pack-core';
import { authRequired, type Principal, type Target } from '../access/authorize.js';
import { principalOf } from '../access/authenticate.js';
import { isPermission, PERMISSION_COMPONENTS } from '../access/permissions.js';
import { BUILT_IN_ROLES, customRole, findRole } from '../access/roles.js';
import { roleNotFound } from '../identity/identity-service.js';
import { newBindingSchema, newRoleSchema, roleChangesSchema } from '../http/identity-schemas.js';
import { bodyValidator, pathParam, queryString } from '../http/params.js';
import type { RegistryServices } from '../services.js';
import { tenantFor } from './identity-helpers.js';
import { callerName, jsonBody } from './route-helpers.js';

const readNewRole = bodyValidator(newRoleSchema);
const readRoleChanges = bodyValidator(roleChangesSchema);
const readNewBinding = bodyValidator(newBindingSchema);

const ROLES = '/v1/tenants/:tenant/roles';
const BINDINGS = '/v1/tenants/:tenant/bindings';

function authenticated(req: Request, what: string): Principal {
  const principal = principalOf(req);
  if (principal.kind === 'anonymous') throw authRequired(what);
  return principal;
}

export function registerRoleRoutes(router: Router, services: RegistryServices): void {
  /**
   * No escalation: nobody but the operator hands out, through a role they create or change or a
   * binding they make, a permission they do not hold themselves in `target`.
   */
  function refuseEscalation(principal: Principal, permissions: readonly string[], target: Target, what: string): void {
    // Unknown permissions are the service's to refuse (ROLE_INVALID), with a better message.
    const missing = permissions.filter((p) => isPermission(p) && !services.access.can(principal, p, target));
    if (missing.length === 0) return;
    throw new PackError(
      'ROLE_ESCALATION',
      `${what} would hand out permissions you do not hold: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`,
      { status: 403, hint: 'only someone who holds a permission in a scope can hand it out there' },
    );
  }

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
    // A user sees the built-in roles and their tenant's own; the operator names a tenant with ?tenant=.
    const tenant = principal.kind === 'user' ? principal.tenant : queryString(req, 'tenant');
    const custom = tenant === undefined ? [] : services.identity.tenant(tenant).roles.map(customRole);
    res.json({ items: [...BUILT_IN_ROLES, ...custom] });
  });

  router.get(ROLES, (req, res) => {
    res.json({ items: tenantFor(services, req, 'role.list').roles.map((r) => customRole(r)) });
  });

  router.post(ROLES, jsonBody, async (req, res) => {
    const tenant = tenantFor(services, req, 'role.create').tenant.name;
    const input = readNewRole(req.body);
    refuseEscalation(principalOf(req), input.permissions, { scope: 'tenant', tenant }, `creating ${input.name}`);
    const record = await services.identity.createRole(tenant, input, callerName(req));
    res
      .status(201)
      .location(`/v1/tenants/${tenant}/roles/${encodeURIComponent(record.name)}`)
      .json(customRole(record));
  });

  router.get(`${ROLES}/:role`, (req, res) => {
    const directory = tenantFor(services, req, 'role.get');
    const role = findRole(directory, pathParam(req, 'role'));
    if (!role) throw roleNotFound(pathParam(req, 'role'));
    res.json(role);
  });

  router.patch(`${ROLES}/:role`, jsonBody, async (req, res) => {
    const tenant = tenantFor(services, req, 'role.update').tenant.name;
    const changes = readRoleChanges(req.body);
    refuseEscalation(
      principalOf(req),
      changes.permissions ?? [],
      { scope: 'tenant', tenant },
      `changing ${pathParam(req, 'role')}`,
    );
    const record = await services.identity.updateRole(tenant, pathParam(req, 'role'), changes);
    res.json(customRole(record));
  });

  router.delete(`${ROLES}/:role`, async (req, res) => {
    const tenant = tenantFor(services, req, 'role.delete').tenant.name;
    await services.identity.deleteRole(tenant, pathParam(req, 'role'));
    res.status(204).end();
  });

  router.get(BINDINGS, (req, res) => {
    res.json({ items: tenantFor(services, req, 'role.list').bindings });
  });

  router.post(BINDINGS, jsonBody, async (req, res) => {
    const input = readNewBinding(req.body);
    const directory = tenantFor(services, req, input.subject.kind === 'user' ? 'user.update' : 'team.update');
    const tenant = directory.tenant.name;
    const role = findRole(directory, input.role);
    if (!role) throw roleNotFound(input.role);
    const target: Target =
      input.project === undefined || input.project === null
        ? { scope: 'tenant', tenant }
        : { scope: 'project', tenant, project: input.project };
    refuseEscalation(principalOf(req), role.permissions, target, `granting ${role.name}`);
    const { binding, created } = await services.identity.createBinding(tenant, input, callerName(req));
    res.status(created ? 201 : 200).json(binding);
  });

  router.delete(`${BINDINGS}/:binding`, async (req, res) => {
    const directory = tenantFor(services, req, 'role.list', { allow: () => true });
    const binding = services.identity.binding(directory.tenant.name, pathParam(req, 'binding'));
    tenantFor(services, req, binding.subject.kind === 'user' ? 'user.update' : 'team.update');
    await services.identity.deleteBinding(directory.tenant.name, binding.id);
    res.status(204).end();
  });
}
