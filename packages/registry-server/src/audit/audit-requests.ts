/**
 * Records every mutating request (POST, PUT, PATCH, DELETE) in the audit log once its response has
 * gone out, with the outcome the caller saw. The scope comes from the path: a tenant, a project, a
 * registry's own scope, or the system. A failed audit write is logged; it does not undo the request.
 */
import type { Request, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { registryTarget, SYSTEM, type Target } from '../access/authorize.js';
import { principalOf } from '../access/authenticate.js';
import type { RegistryRecord } from '../catalog/records.js';
import type { IdentityDirectory } from '../identity/directory.js';
import { outcomeOf, type AuditEntry, type AuditLog } from './audit-log.js';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface AuditSources {
  audit: AuditLog;
  directory: IdentityDirectory;
  registry: (name: string) => RegistryRecord | undefined;
  logger: Logger;
}

function stringField(body: unknown, field: string): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const value = (body as Record<string, unknown>)[field];
  return typeof value === 'string' && value.length <= 128 ? value : undefined;
}

/** The scope a request acts in, read from its path (and, for a new registry, its body). */
function scopeOf(req: Request, sources: AuditSources): Target {
  const segments = req.path.split('/').map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  // ['', 'v1', 'tenants', t, 'projects', p, ...]
  if (segments[2] === 'tenants' && segments[3]) {
    const tenant = segments[3];
    if (segments[4] === 'projects' && segments[5]) return { scope: 'project', tenant, project: segments[5] };
    return { scope: 'tenant', tenant };
  }
  if (segments[2] === 'registries') {
    const known = segments[3] ? sources.registry(segments[3]) : undefined;
    if (known) return registryTarget(known);
    const tenant = stringField(req.body, 'tenant');
    const project = stringField(req.body, 'project');
    const scope = stringField(req.body, 'scope');
    if (scope === 'project' && tenant && project) return { scope: 'project', tenant, project };
    if (scope === 'tenant' && tenant) return { scope: 'tenant', tenant };
  }
  if (req.path === '/v1/auth/login') {
    const username = stringField(req.body, 'username')?.toLowerCase();
    const tenant = username ? sources.directory.tenantOfUser(username) : undefined;
    if (tenant) return { scope: 'tenant', tenant };
  }
  return SYSTEM;
}

export function auditRequests(sources: AuditSources): RequestHandler {
  return (req, res, next) => {
    if (!MUTATING.has(req.method)) {
      next();
      return;
    }
    // Read now: once the connection is torn down (a body cut off, a client gone), Node drops
    // req.socket, and req.ip would throw inside the handler below.
    const client = req.ip ?? '';
    res.once('finish', () => {
      const principal = principalOf(req);
      const entry: Omit<AuditEntry, 'id'> = {
        at: new Date().toISOString(),
        actor: {
          kind: principal.kind,
          name: principal.kind === 'operator' ? principal.name : principal.kind === 'user' ? principal.username : '',
          tenant: principal.kind === 'user' ? principal.tenant : null,
        },
        client,
        method: req.method,
        path: req.path,
        scope: scopeOf(req, sources),
        status: res.statusCode,
        outcome: outcomeOf(res.statusCode),
        requestId: String(res.getHeader('x-request-id') ?? ''),
      };
      if (req.path === '/v1/auth/login') {
        const username = stringField(req.body, 'username');
        if (username) entry.username = username.toLowerCase();
      }
      sources.audit.record(entry).catch((err: unknown) => {
        sources.logger.error({ err, method: entry.method, path: entry.path }, 'could not write an audit entry');
      });
    });
    next();
  };
}
