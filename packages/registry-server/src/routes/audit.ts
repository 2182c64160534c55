/** Reading the audit log of a scope: audit.list there (the system's: the operator). */
import type { AuditEntry, AuditPage } from '@packyard/registry-api';
import type { Request, Router } from 'express';
import type { PackError } from '@packyard/pack-core';
import { SYSTEM, type Target } from '../identity/principals.js';
import { invalidCursor, pathParam, queryInteger, queryString } from '../http/params.js';
import type { RegistryServices } from '../services.js';
import { AUDIT_ID } from '../audit/audit-log.js';
import { authorizeSystem, tenantFor } from './identity-helpers.js';
import { registryError } from '../errors.js';

function page(req: Request): { limit: number; cursor?: string } {
  const limit = queryInteger(req, 'limit', 1, 500) ?? 100;
  const cursor = queryString(req, 'cursor');
  if (cursor !== undefined && !AUDIT_ID.test(cursor)) {
    throw invalidCursor(cursor);
  }
  return cursor === undefined ? { limit } : { limit, cursor };
}

function entryNotFound(id: string): PackError {
  return registryError('AUDIT_ENTRY_NOT_FOUND', `no audit entry ${id} in this scope`);
}

/** The audit scope of a request's path, once `permission` there is authorized. */
function auditScope(services: RegistryServices, req: Request, permission: string): Target {
  if (req.params['tenant'] === undefined) {
    authorizeSystem(services, req, permission);
    return SYSTEM;
  }
  if (req.params['project'] === undefined) {
    return { scope: 'tenant', tenant: tenantFor(services, req, permission).tenant.name };
  }
  const project = pathParam(req, 'project');
  const tenant = tenantFor(services, req, permission, { project }).tenant.name;
  return { scope: 'project', tenant, project };
}

const AUDIT_PATHS = ['/v1/audit', '/v1/tenants/:tenant/audit', '/v1/tenants/:tenant/projects/:project/audit'];

export function registerAuditRoutes(router: Router, services: RegistryServices): void {
  for (const path of AUDIT_PATHS) {
    router.get(path, async (req, res) => {
      res.json((await services.audit.list(auditScope(services, req, 'audit.list'), page(req))) satisfies AuditPage);
    });
    router.get(`${path}/:entry`, async (req, res) => {
      const entry = await services.audit.get(auditScope(services, req, 'audit.get'), pathParam(req, 'entry'));
      if (!entry) throw entryNotFound(pathParam(req, 'entry'));
      res.json(entry satisfies AuditEntry);
    });
  }
}
