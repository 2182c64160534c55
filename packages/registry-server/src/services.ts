/**
 * The registry's parts, wired explicitly: storage, the catalog kept in sync with it, and the
 * services the routes delegate to. `createServices` loads the catalog and bootstraps the public
 * registry and the admin token, failing fast when storage is not usable.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { AccessPolicy } from './access/authorize.js';
import { setupAdminToken, type AdminTokenCheck } from './access/admin-token.js';
import { CatalogSync } from './catalog/catalog-sync.js';
import type { RegistryConfig } from './config/config.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { VersionService } from './packs/version-service.js';
import { PublishService } from './publish/publish-service.js';
import { RegistryService } from './registries/registry-service.js';
import type { ObjectStore } from './storage/object-store.js';
import { removeOrphanedTempFiles } from './storage/temp-files.js';

export interface RegistryServices {
  config: RegistryConfig;
  logger: Logger;
  store: ObjectStore;
  catalog: CatalogSync;
  registries: RegistryService;
  publisher: PublishService;
  versions: VersionService;
  policy: AccessPolicy;
  adminToken: AdminTokenCheck;
  metrics: Metrics;
  /** Where uploads are streamed before they are checked (local disk, whatever the store). */
  uploadDir: string;
}

export async function createServices(options: {
  config: RegistryConfig;
  store: ObjectStore;
  logger: Logger;
  metrics?: Metrics;
}): Promise<RegistryServices> {
  const { config, store, logger } = options;
  const uploadDir = path.join(config.dataDir, 'tmp', 'uploads');
  const removed = await removeOrphanedTempFiles(uploadDir);
  if (removed > 0) logger.info({ removed }, 'removed temporary upload files left by a stopped process');

  const catalog = new CatalogSync(store, {
    logger: logger.child({ component: 'catalog' }),
    pollIntervalMs: config.catalog.pollIntervalMs,
    snapshotEveryChanges: config.catalog.snapshotEveryChanges,
    queryCacheSize: config.catalog.queryCacheSize,
  });
  await catalog.start();
  const registries = new RegistryService(store, catalog);
  await registries.ensurePublic();
  const adminToken = await setupAdminToken({
    configured: config.auth.adminToken,
    dataDir: config.dataDir,
    store,
    logger,
  });
  return {
    config,
    logger,
    store,
    catalog,
    registries,
    publisher: new PublishService(store, catalog, config.limits.archive),
    versions: new VersionService(store, catalog),
    policy: { anonymousRead: config.auth.anonymousRead },
    adminToken,
    metrics: options.metrics ?? createMetrics(),
    uploadDir,
  };
}

/** Stops background work and releases storage connections. */
export async function closeServices(services: RegistryServices): Promise<void> {
  await services.catalog.stop();
  await services.store.close();
}
