/**
 * What every route module shares: finding the registry a request names and authorizing the
 * action on it, and the JSON views of records.
 */
import type { Request, RequestHandler } from 'express';
import type { RegistryAction } from '../access/authorize.js';
import { authenticatedName } from '../identity/principals.js';
import { callerNow, principalOf } from '../access/authenticate.js';
import type { Registry, VersionRecord as VersionView } from '@packyard/registry-api';
import type { RegistryRecord, VersionRecord } from '../catalog/records.js';
import { pathParam } from '../http/params.js';
import { readJsonBody } from '../http/json-body.js';
import type { RegistryServices } from '../services.js';
import { checkNamespaceFree, type NamespaceClaim } from '../oci/namespaces.js';

/**
 * A JSON body of at most `limit`, read before the route runs; then the caller is checked again
 * (callerNow), so that the route authorizes who they are once the body is in.
 */
export function jsonBodyOf(limit: string): RequestHandler {
  const read = readJsonBody(limit);
  return (req, res, next) => {
    read(req, res, (err?: unknown) => {
      if (err === undefined || err === null) {
        try {
          callerNow(req);
        } catch (refused) {
          next(refused);
          return;
        }
      }
      next(err);
    });
  };
}

/** JSON bodies for the management routes; uploads never go through it. */
export const jsonBody = jsonBodyOf('64kb');

/** The registry named by the `:registry` parameter, once `action` on it is authorized. */
export function registryFor(services: RegistryServices, req: Request, action: RegistryAction): RegistryRecord {
  const registry = services.registries.get(pathParam(req, 'registry'));
  services.access.authorizeRegistry(principalOf(req), action, registry);
  return registry;
}

/** Refuses a new tenant, project or registry whose name another holds in the OCI names (409). */
export function claimNamespace(services: RegistryServices, claim: NamespaceClaim): void {
  checkNamespaceFree(claim, {
    registry: (name) => services.catalog.index.registry(name),
    tenantExists: (name) => services.identity.listTenants().some((tenant) => tenant.name === name),
    projectExists: (tenant, name) => services.identity.projects(tenant).some((project) => project.name === name),
  });
}

/** The caller's name for records (publisher, deprecated by...). */
export function callerName(req: Request): string {
  return authenticatedName(principalOf(req));
}

/** A registry record as the API shows it (all of it). */
export function registryView(record: RegistryRecord): Registry {
  return record;
}

/** A version record as the API shows it. */
export function versionView(record: VersionRecord): VersionView {
  return {
    registry: record.registry,
    name: record.name,
    version: record.version,
    layer: record.layer,
    digest: record.digest,
    integrity: record.integrity,
    size: record.size,
    publishedAt: record.publishedAt,
    publisher: record.publisher,
    message: record.message,
    deprecated: record.deprecated,
    manifest: record.manifest,
    files: record.files,
    history: record.history,
    revision: record.revision,
  };
}
