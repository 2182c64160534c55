/**
 * The OCI API's parts, wired by services.ts: the repository store, the upload sessions, the pack
 * repositories behind the seam (./pack-seam.ts), and the limits.
 */
import type { Logger } from 'pino';
import type { RegistryConfig } from '../config/config.js';
import type { ObjectStore } from '../storage/object-store.js';
import {
  genericManifests,
  genericPackRepositories,
  type ManifestBackend,
  type OciPackRepositories,
} from './pack-seam.js';
import { RepositoryStore } from './repository-store.js';
import { UploadSessions } from './upload-sessions.js';

export interface OciServices {
  repositories: RepositoryStore;
  /** Manifests and tags of generic repositories. */
  manifests: ManifestBackend;
  /** Pack repositories (`spectro-packs/archive/<name>`). */
  packs: OciPackRepositories;
  uploads: UploadSessions;
  maxManifestBytes: number;
  /** How long a request body may send nothing. */
  bodyIdleMs: number;
}

export function createOciServices(options: {
  store: ObjectStore;
  config: RegistryConfig;
  uploadDir: string;
  logger: Logger;
  /** The pack repositories; by default they hold generic content. */
  packs?: (repositories: RepositoryStore) => OciPackRepositories;
}): OciServices {
  const { config } = options;
  const repositories = new RepositoryStore(options.store);
  return {
    repositories,
    manifests: genericManifests(repositories),
    packs: options.packs ? options.packs(repositories) : genericPackRepositories(repositories),
    uploads: new UploadSessions({
      dir: options.uploadDir,
      maxBytes: config.oci.maxBlobBytes,
      idleMs: config.oci.uploadIdleMs,
      bodyIdleMs: config.oci.bodyIdleMs,
      logger: options.logger,
    }),
    maxManifestBytes: config.oci.maxManifestBytes,
    bodyIdleMs: config.oci.bodyIdleMs,
  };
}
