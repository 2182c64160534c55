/**
 * @packyard/registry-server: the pack registry as a library (for tests, embedding and tools) and
 * the `pack-registry` binary (./bin.ts).
 */
export { createApp, createRouter } from './app.js';
export { createServices, closeServices, type RegistryServices } from './services.js';
export { startRegistry, type RunningRegistry } from './server.js';
export {
  loadConfig,
  resolveConfig,
  validateConfigFile,
  type RegistryConfig,
  type ConfigFlags,
} from './config/config.js';
export { createLogger } from './logger.js';
export { createStore, type StorageConfig } from './storage/create-store.js';
export type { ObjectStore } from './storage/object-store.js';
export { collectGarbage, type GcReport } from './gc.js';
export { summarise, type VersionRecord, type RegistryRecord, type VersionSummary } from './catalog/records.js';
export { SNAPSHOTS_PREFIX, registryKey, versionKey } from './storage/layout.js';
export { CatalogSync, type CatalogSyncOptions } from './catalog/catalog-sync.js';
export { sendFile } from './http/send-file.js';
