/**
 * Who may do what on /v2: the same `AccessControl` as /v1. Pulling needs the registry's read
 * (`pack.get`: anonymous only where /v1 allows anonymous reads), pushing `pack.publish` and
 * deleting `pack.delete` (both `packRegistry.update`). A registry of another tenant answers
 * NAME_UNKNOWN, exactly as a name that maps onto nothing: its existence is not revealed.
 *
 * The 401 challenge is built in one function, {@link challenge}, for the token flow to change.
 */
import type { Request, Response } from 'express';
import { isPackError, type PackError } from '@packyard/pack-core';
import { principalOf } from '../access/authenticate.js';
import { ociChallenge, registryTokenAccess, tokenAllows } from '../access/oci-authenticate.js';
import { registryTarget, type RegistryAction } from '../access/authorize.js';
import type { RegistryRecord } from '../catalog/records.js';
import type { RegistryServices } from '../services.js';
import { registryError } from '../errors.js';
import { resolveNamespace, type OciNamespace } from './namespaces.js';
import { isRepositoryName } from './oci-names.js';

export type OciAction = 'pull' | 'push' | 'delete';

const REGISTRY_ACTIONS: Readonly<Record<OciAction, RegistryAction>> = {
  pull: 'pack.get',
  push: 'pack.publish',
  delete: 'pack.delete',
};

/**
 * The `WWW-Authenticate` value of a 401 on /v2: a Bearer challenge naming the repository scope
 * the request needed (`repository:<name>:pull,push`), as Docker and OCI clients expect. A
 * cross-repository mount (`?mount=...&from=<name>`) needs pull on `from` too, so the challenge
 * names both (as CNCF distribution does): the client's one token then covers the mount, which
 * otherwise falls back to an ordinary upload.
 */
export function challenge(req: Request, scope?: { name: string; actions: OciAction[] }): string {
  if (!scope) return ociChallenge(req, []);
  const scopes = [{ type: 'repository', name: scope.name, actions: scope.actions }];
  const from = req.method === 'POST' && typeof req.query['mount'] === 'string' ? req.query['from'] : undefined;
  if (typeof from === 'string' && from !== scope.name && isRepositoryName(from)) {
    scopes.push({ type: 'repository', name: from, actions: ['pull'] });
  }
  return ociChallenge(req, scopes);
}

export function nameUnknown(name: string): PackError {
  return registryError('NAME_UNKNOWN', 'repository name not known to registry', { details: { name } });
}

/** 401 UNAUTHORIZED with the challenge for `scope`. */
export function unauthorized(req: Request, res: Response, scope?: { name: string; actions: OciAction[] }): PackError {
  res.set('WWW-Authenticate', challenge(req, scope));
  return registryError('UNAUTHORIZED', 'authentication required', {
    ...(scope ? { details: [{ Type: 'repository', Name: scope.name, Action: scope.actions.join(',') }] } : {}),
  });
}

/** Whether the caller may do `action` in `registry` (no error, no audit decision). */
export function mayOnRegistry(services: RegistryServices, req: Request, action: OciAction, registry: RegistryRecord) {
  return services.access.canOnRegistry(principalOf(req), REGISTRY_ACTIONS[action], registry);
}

/** Whether `registry` is another tenant's (to be answered as unknown). */
export function hiddenFrom(services: RegistryServices, req: Request, registry: RegistryRecord): boolean {
  return services.access.hidden(principalOf(req), registryTarget(registry));
}

/**
 * The registry and repository `name` maps onto, once `action` there is authorized; NAME_UNKNOWN
 * when it maps onto nothing the caller can see, UNAUTHORIZED (with the challenge) for an
 * anonymous caller who needs to sign in, DENIED for a signed-in one who lacks the permission.
 */
export function authorizeOci(
  services: RegistryServices,
  req: Request,
  res: Response,
  request: { name: string; action: OciAction },
): OciNamespace {
  const namespace = resolveNamespace(request.name, (registry) => services.catalog.index.registry(registry));
  if (!namespace || hiddenFrom(services, req, namespace.registry)) throw nameUnknown(request.name);
  try {
    services.access.authorizeRegistry(principalOf(req), REGISTRY_ACTIONS[request.action], namespace.registry);
  } catch (err) {
    if (!isPackError(err)) throw err;
    if (err.code === 'AUTH_REQUIRED') {
      const actions: OciAction[] = request.action === 'pull' ? ['pull'] : ['pull', request.action];
      throw unauthorized(req, res, { name: request.name, actions });
    }
    if (err.code === 'FORBIDDEN') throw registryError('DENIED', 'requested access to the resource is denied');
    if (err.code === 'REGISTRY_NOT_FOUND') throw nameUnknown(request.name);
    throw err;
  }
  // A registry token limits the caller to its scope: a 401 naming the scope sends the client
  // back to the token endpoint for it (Docker clients ask for pull first, then pull,push).
  if (!tokenAllows(req, { type: 'repository', name: request.name }, request.action)) {
    const actions: OciAction[] = request.action === 'pull' ? ['pull'] : ['pull', request.action];
    throw unauthorized(req, res, { name: request.name, actions });
  }
  return namespace;
}

/** `_catalog` with a registry token needs the token's `registry:catalog:*` scope. */
export function authorizeCatalog(req: Request, res: Response): void {
  const scope = { type: 'registry', name: 'catalog', actions: ['*'] };
  if (tokenAllows(req, scope, '*')) return;
  res.set('WWW-Authenticate', ociChallenge(req, [scope], 'insufficient_scope'));
  throw registryError('UNAUTHORIZED', 'the registry token does not grant the catalog');
}

/**
 * `GET /v2/`: 200 for a signed-in caller; an anonymous one gets the challenge, so that clients
 * learn where to authenticate before they push (docker login, skopeo and ORAS probe here first).
 */
export function checkVersionAccess(req: Request, res: Response): void {
  // A valid registry token is an answer to the challenge, an anonymous one included (as in CNCF
  // distribution): the client has authenticated as far as it can.
  if (principalOf(req).kind === 'anonymous' && registryTokenAccess(req) === null) throw unauthorized(req, res);
}

const UPLOAD_SESSION_PATH = /\/blobs\/uploads(?:\/[^/]*)?$/;

/**
 * What a request to an upload path does, for the audit log:
 * - `moves-bytes`: an upload session's start, its chunks and its cancel (a temporary file of this
 *   process, which nobody else can read), recorded only when they fail ({@link changesNothingStored});
 * - `stores-blob`: `PUT ?digest=` finishing a session, a monolithic `POST ?digest=`, recorded once,
 *   before the answer ({@link storesBlob}): a stored blob is readable at once by digest by whoever
 *   may read the repository, before any manifest names it;
 * - null: anything else, a mount (`?mount=`) among them, recorded as a change like the manifest
 *   pushes and every delete.
 */
function uploadStep(req: Request): 'moves-bytes' | 'stores-blob' | null {
  if (!req.path.startsWith('/v2/') || !UPLOAD_SESSION_PATH.test(req.path)) return null;
  if (req.method === 'PATCH' || req.method === 'DELETE') return 'moves-bytes';
  if ((req.method !== 'PUT' && req.method !== 'POST') || req.query['mount'] !== undefined) return null;
  if (req.query['digest'] !== undefined) return 'stores-blob';
  return req.method === 'POST' ? 'moves-bytes' : null;
}

/** Whether a request only moves bytes into an upload session (see {@link uploadStep}). */
export function changesNothingStored(req: Request): boolean {
  return uploadStep(req) === 'moves-bytes';
}

/** Whether a request stores a blob: recorded once, before its answer (see AuditSources). */
export function storesBlob(req: Request): boolean {
  return uploadStep(req) === 'stores-blob';
}
