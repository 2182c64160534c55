/**
 * The OCI distribution API's routes (/v2), wired here; the work is in ../oci/. Repository names
 * hold slashes, so they are the `*repository` wildcard, checked against the OCI grammar by
 * {@link ociRequest} before anything else; the route label of metrics stays the template.
 *
 * Error answers on /v2 are the OCI envelope (../oci/oci-errors.ts, mounted by app.ts).
 */
import type { Request, Router } from 'express';
import type { RegistryServices } from '../services.js';
import { authorizeCatalog, checkVersionAccess, hiddenFrom, mayOnRegistry } from '../oci/oci-access.js';
import { ociName } from '../oci/namespaces.js';
import { isPackRepository } from '../oci/oci-names.js';
import { API_VERSION_HEADER } from './oci-helpers.js';
import { pageOf } from '../oci/paging.js';
import { registerOciBlobRoutes } from './oci-blobs.js';
import { registerOciManifestRoutes } from './oci-manifests.js';

async function catalog(services: RegistryServices, req: Request): Promise<string[]> {
  const names: string[] = [];
  for (const registry of services.registries.list()) {
    if (hiddenFrom(services, req, registry) || !mayOnRegistry(services, req, 'pull', registry)) continue;
    const generic = (await services.oci.repositories.repositories(registry.name)).filter((r) => !isPackRepository(r));
    const packs = await services.oci.packs.repositories(registry);
    for (const repository of [...generic, ...packs]) names.push(ociName(registry, repository));
  }
  return [...new Set(names)].sort();
}

export function registerOciRoutes(router: Router, services: RegistryServices): void {
  // Registering touches no service (the OpenAPI test registers routes without any).
  router.get('/v2', (req, res) => {
    res.set(API_VERSION_HEADER);
    checkVersionAccess(req, res);
    res.json({});
  });

  router.get('/v2/_catalog', async (req, res) => {
    res.set(API_VERSION_HEADER);
    authorizeCatalog(req, res);
    const repositories = pageOf(req, res, await catalog(services, req), '/v2/_catalog');
    res.json({ repositories });
  });

  registerOciManifestRoutes(router, services);
  registerOciBlobRoutes(router, services);
}
