/**
 * The registry's parts, wired explicitly: storage, the catalog kept in sync with it, and the
 * services the routes delegate to. `createServices` loads the catalog and bootstraps the public
 * registry and the admin token, failing fast when storage is not usable.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { makerStillOutranks } from './access/guards.js';
import { AccessControl } from './access/authorize.js';
import { setupAdminToken, type AdminTokenCheck } from './access/admin-token.js';
import { OciAuthenticator } from './access/oci-authenticate.js';
import { CatalogSync } from './catalog/catalog-sync.js';
import type { RegistryConfig } from './config/config.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { ensureSuperAdmin } from './identity/bootstrap.js';
import { IdentityDirectory, type IdentityDirectoryOptions } from './identity/directory.js';
import { createIdentity, type Identity } from './identity/identity.js';
import { HashQueue, type HashQueueOptions } from './identity/login-limits.js';
import { Sessions, type SessionOptions } from './identity/sessions.js';
import { VersionService } from './packs/version-service.js';
import { ProfileService } from './profiles/profile-service.js';
import { AuditLog } from './audit/audit-log.js';
import { gatedStore } from './audit/change-gate.js';
import { projectAuditStream, systemAuditStream, tenantAuditStream } from './storage/layout.js';
import { BlobCache } from './blobs/blob-cache.js';
import { DownloadCounts, type DownloadCountsOptions } from './blobs/download-counts.js';
import { PackInspector, type PackInspectorOptions } from './publish/pack-inspector.js';
import { PublishService } from './publish/publish-service.js';
import { UploadHasher } from './publish/upload-hasher.js';
import { RegistryService } from './registries/registry-service.js';
import { createOciServices, type OciServices } from './oci/oci-services.js';
import { packRepositories } from './oci/pack-repositories.js';
import type { ObjectStore } from './storage/object-store.js';
import { removeOrphanedTempFiles } from './storage/temp-files.js';
import { makePrivateDir } from './storage/file-modes.js';
import { fsCallsFor, type FsCallsKind } from './storage/fs-calls.js';

export interface RegistryServices {
  config: RegistryConfig;
  logger: Logger;
  store: ObjectStore;
  catalog: CatalogSync;
  registries: RegistryService;
  publisher: PublishService;
  versions: VersionService;
  access: AccessControl;
  directory: IdentityDirectory;
  identity: Identity;
  sessions: Sessions;
  profiles: ProfileService;
  audit: AuditLog;
  /** Archive downloads per pack version: counted in memory, flushed to storage every 30 s. */
  downloads: DownloadCounts;
  /** Local copies of archives (S3 driver); null when off. */
  blobCache: BlobCache | null;
  adminToken: AdminTokenCheck;
  /** Who calls /v2: Basic, registry tokens and /v1's credentials. */
  ociAuthenticator: OciAuthenticator;
  metrics: Metrics;
  /** Where uploads are streamed before they are checked (local disk, whatever the store). */
  uploadDir: string;
  /** How uploads are written into `uploadDir` (see storage/fs-calls.ts). */
  uploadCalls: FsCallsKind;
  /** Hashes uploads as they arrive, on a worker thread. */
  hasher: UploadHasher;
  /** Checks uploaded packs on worker threads, each within a time budget. */
  inspector: PackInspector;
  /** The OCI distribution API (/v2): repositories, upload sessions, the pack seam. */
  oci: OciServices;
}

export async function createServices(options: {
  config: RegistryConfig;
  store: ObjectStore;
  logger: Logger;
  metrics?: Metrics;
  /** Overrides of the configuration's identity settings, beyond what it allows (tests). */
  identity?: {
    sessionMaxSeconds?: number;
    hashQueue?: Partial<HashQueueOptions>;
    /** Journal settings: snapshot frequency, retention, the write budget. */
    directory?: Omit<Partial<IdentityDirectoryOptions>, 'logger'>;
  };
  /** Overrides of the configuration's pack-check settings (tests). */
  inspection?: Partial<PackInspectorOptions>;
  /** Overrides of the download counts' settings (tests: the flush interval). */
  downloads?: DownloadCountsOptions;
}): Promise<RegistryServices> {
  const { config, logger } = options;
  // Every service stores through the gate: a request's changes wait for its audit record.
  const store = gatedStore(options.store);
  const uploadDir = path.join(config.dataDir, 'tmp', 'uploads');
  const removed = await removeOrphanedTempFiles(uploadDir);
  if (removed > 0) logger.info({ removed }, 'removed temporary upload files left by a stopped process');
  await makePrivateDir(uploadDir);
  // Uploads are received with the calls of the filesystem the directory is on (see fs-calls.ts).
  const uploadCalls = (await fsCallsFor(uploadDir)).kind;

  const catalog = new CatalogSync(store, {
    logger: logger.child({ component: 'catalog' }),
    pollIntervalMs: config.catalog.pollIntervalMs,
    snapshotEveryChanges: config.catalog.snapshotEveryChanges,
    queryCacheSize: config.catalog.queryCacheSize,
  });
  const registries = new RegistryService(store, catalog);
  const directory = new IdentityDirectory(store, {
    logger: logger.child({ component: 'identity' }),
    pollIntervalMs: config.catalog.pollIntervalMs,
    ...options.identity?.directory,
  });
  const { auth } = config;
  // One bound on the password hashes of this process, for sign-ins and new passwords alike.
  const hashQueue = new HashQueue({ ...auth.passwordHashes, ...options.identity?.hashQueue });
  const profiles = new ProfileService(store, directory);
  const identity = createIdentity(store, directory, {
    passwordHashCost: auth.passwordHashCost,
    hashQueue,
    owners: [profiles],
    logger: logger.child({ component: 'identity' }),
  });
  const sessionOptions: SessionOptions = {
    tokenTtlSeconds: auth.tokenTtlSeconds,
    passwordHashCost: auth.passwordHashCost,
    maxFailedLogins: auth.maxFailedLogins,
    loginWindowMs: auth.loginWindowMs,
    hashQueue,
    sessionMaxSeconds: options.identity?.sessionMaxSeconds ?? auth.sessionMaxSeconds,
    // A rotated signing key reaches every replica's signing within one poll.
    keyRefreshMs: config.catalog.pollIntervalMs,
    makerOutranks: makerStillOutranks,
  };
  // The catalog, identity, the blob cache and the admin token load independently: at once, as
  // each is a few storage round trips in a row (on S3, start-up was their sum).
  const [, sessions, blobCache, adminToken] = await Promise.all([
    (async () => {
      await catalog.start();
      await registries.ensurePublic();
    })(),
    // The signing key is read while identity loads and is swept (neither touches the other).
    Promise.all([
      Sessions.open(store, directory, sessionOptions),
      (async () => {
        await directory.start();
        await identity.sweep();
        await ensureSuperAdmin({ identity, directory, superAdmin: auth.superAdmin, dataDir: config.dataDir, logger });
      })(),
    ]).then(([opened]) => opened),
    config.blobCache
      ? BlobCache.open(config.blobCache.dir, config.blobCache.maxBytes, logger.child({ component: 'blob-cache' }))
      : null,
    setupAdminToken({ configured: config.auth.adminToken, dataDir: config.dataDir, store, logger }),
  ]);
  // What the blob cache holds from an earlier process is indexed now, off start-up's path.
  void blobCache?.startIndexing();
  // Audit streams are keyed by ids: a tenant or project re-created under an old name starts empty.
  const audit = new AuditLog(options.store, (scope) => {
    const tenant = directory.tenantId(scope.tenant);
    if (tenant === undefined) return null;
    if (scope.scope === 'tenant') return { tenant };
    const project = directory.projectId(scope.tenant, scope.project);
    return project === undefined ? null : { tenant, project };
  });
  // Prunes old anonymous entries, and with audit.retentionDays every stream's old entries.
  const DAY_MS = 24 * 60 * 60 * 1000;
  audit.startMaintenance({
    retentionMs: config.audit.unauthenticatedRetentionDays * DAY_MS,
    everyMs: 10 * 60 * 1000,
    logger: logger.child({ component: 'audit' }),
    signedInRetentionMs: config.audit.retentionDays === null ? null : config.audit.retentionDays * DAY_MS,
    streams: () => [
      systemAuditStream(),
      ...directory
        .systemDirectory()
        .tenants.flatMap((ref) => [
          tenantAuditStream(ref.id),
          ...[...(directory.tenantById(ref.id)?.projects.keys() ?? [])].map((project) =>
            projectAuditStream(ref.id, project),
          ),
        ]),
    ],
  });
  const inspector = new PackInspector({ ...config.limits.inspection, ...options.inspection });
  const services: RegistryServices = {
    config,
    logger,
    store,
    catalog,
    registries,
    publisher: new PublishService(store, catalog),
    versions: new VersionService(store, catalog),
    access: new AccessControl(directory, { anonymousRead: auth.anonymousRead }),
    directory,
    identity,
    sessions,
    profiles,
    audit,
    blobCache,
    // Counts are no change a caller makes (nothing to audit): written to the store itself, from
    // a timer made here, outside any request.
    downloads: new DownloadCounts(options.store, logger.child({ component: 'downloads' }), options.downloads),
    adminToken,
    ociAuthenticator: new OciAuthenticator({
      adminToken,
      sessions,
      service: auth.registryService,
      publicUrl: config.server.publicUrl,
    }),
    metrics: options.metrics ?? createMetrics(),
    uploadDir,
    uploadCalls,
    hasher: new UploadHasher(),
    inspector,
    oci: createOciServices({
      store,
      config,
      uploadDir,
      logger: logger.child({ component: 'oci' }),
      // Pack repositories publish through the services being made here: read when first used.
      packs: (repositories) => packRepositories(repositories, () => services),
    }),
  };
  return services;
}

/** Stops background work and releases storage connections. */
export async function closeServices(services: RegistryServices): Promise<void> {
  await services.oci.uploads.close();
  // Before the store closes: what was counted and not yet written.
  await services.downloads.close();
  await services.catalog.stop();
  await services.directory.stop();
  await services.audit.drain();
  await services.hasher.close();
  await services.inspector.close();
  await services.store.close();
}
