/** What the /v2 route modules share: the repository a request names, and its manifest backend. */
import type { Request, Response } from 'express';
import { pathParam } from '../http/params.js';
import { callerNow, principalOf } from '../access/authenticate.js';
import type { RegistryServices } from '../services.js';
import { authorizeOci, type OciAction } from '../oci/oci-access.js';
import type { OciNamespace } from '../oci/namespaces.js';
import { repositoryName } from '../oci/oci-names.js';
import { isPackRepository } from '../oci/oci-names.js';
import type { ManifestBackend } from '../oci/pack-seam.js';

/** Every /v2 answer says which API it speaks (clients probe for it). */
export const API_VERSION_HEADER = { 'Docker-Distribution-API-Version': 'registry/2.0' };

/** The repository a /v2 request names (OCI grammar first), once `action` on it is authorized. */
export function ociRequest(services: RegistryServices, req: Request, res: Response, action: OciAction): OciNamespace {
  res.set(API_VERSION_HEADER);
  const name = repositoryName(pathParam(req, 'repository').split('/'));
  return authorizeOci(services, req, res, { name, action });
}

/**
 * The repository of a push whose body is in, authorized again for the caller as they stand now
 * (access/authenticate.ts callerNow): right before what it pushed becomes visible.
 */
export function pushStillAllowed(services: RegistryServices, req: Request, res: Response): OciNamespace {
  callerNow(req);
  return ociRequest(services, req, res, 'push');
}

/** Where the manifests and tags of a repository are kept: the pack seam, or generic content. */
export function manifestsOf(services: RegistryServices, at: OciNamespace): ManifestBackend {
  return isPackRepository(at.repository) ? services.oci.packs : services.oci.manifests;
}

/** The repository store's address of a repository. */
export function refOf(at: OciNamespace): { registry: string; repository: string } {
  return { registry: at.registry.name, repository: at.repository };
}

/** Who an upload belongs to: the signed-in user or operator (one key per principal). */
export function ownerOf(req: Request): string {
  const principal = principalOf(req);
  if (principal.kind === 'user') return JSON.stringify(['user', principal.tenant, principal.username]);
  if (principal.kind === 'operator') return JSON.stringify(['operator', principal.name]);
  return 'anonymous';
}
