/** Reading the audit log of a scope: audit.list there (the system's: the operator). */
import type { Request, Router } from 'express';
import { PackError } from '@packyard/pack-core';
import { authRequired, SYSTEM, type Target } from '../access/authorize.js';
import { principalOf } from '../access/authenticate.js';
import { tenantNotFound } from '../identity/identity-service.js';
import { pathParam, queryInteger, queryString } from '../http/params.js';
import type { RegistryServices } from '../services.js';
import { tenantFor } from './identity-helpers.js';

const CURSOR = /^\d{13}-[0-9a-f]{12}\.json$/;

function page(req: Request): { limit: number; cursor?: string } {
  const limit = queryInteger(req, 'limit', 1, 500) ?? 100;
  const cursor = queryString(req, 'cursor');
  if (cursor !== undefined && !CURSOR.test(cursor)) {
    throw new PackError('INVALID_PARAMETER', `cursor=${cursor} is not a cursor this server gave out`, {
      hint: 'pass the nextCursor of the previous page, unchanged',
    });
  }
  return cursor === undefined ? { limit } : { limit, cursor };
}

export function registerAuditRoutes(router: Router, services: RegistryServices): void {
  router.get('/v1/audit', async (req, res) => {
    const principal = principalOf(req);
    if (principal.kind === 'anonymous') throw authRequired('audit.list');
    services.access.authorize(principal, 'audit.list', SYSTEM, () => tenantNotFound(''));
    res.json(await services.audit.list(SYSTEM, page(req)));
  });

  router.get('/v1/tenants/:tenant/audit', async (req, res) => {
    const tenant = tenantFor(services, req, 'audit.list').tenant.name;
    res.json(await services.audit.list({ scope: 'tenant', tenant }, page(req)));
  });

  router.get('/v1/tenants/:tenant/projects/:project/audit', async (req, res) => {
    const project = pathParam(req, 'project');
    const tenant = tenantFor(services, req, 'audit.list', { project }).tenant.name;
    services.identity.project(tenant, project);
    const target: Target = { scope: 'project', tenant, project };
    res.json(await services.audit.list(target, page(req)));
  });
}
