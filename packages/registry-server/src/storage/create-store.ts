/**
 * Wires the configured storage driver at start-up. Failing here, with the setting to fix, is
 * better than a registry that starts and then answers 503 to every request.
 */
import type { Logger } from 'pino';
import { createFsStore } from './fs-store.js';
import type { ObjectStore } from './object-store.js';
import { serialiseConditionalWrites } from './serialised-store.js';

export interface StorageConfig {
  driver: 'fs' | 's3';
  fs: { root: string };
  s3: {
    endpoint?: string;
    region: string;
    bucket: string;
    prefix: string;
    forcePathStyle: boolean;
    accessKeyId?: string;
    secretAccessKey?: string;
    createBucket: boolean;
    partSizeBytes?: number;
    presignDownloads?: boolean;
    /** Total time a metadata call may take, retries included (s3/transfer.ts). */
    deadlineMs?: number;
    /** Longest wait for the next bytes of a transfer (s3/transfer.ts). */
    idleTimeoutMs?: number;
  };
}

async function openDriver(config: StorageConfig, logger: Logger): Promise<ObjectStore> {
  switch (config.driver) {
    case 'fs':
      try {
        return await createFsStore({ root: config.fs.root, logger });
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new Error(
          `cannot use the storage directory ${config.fs.root} (${reason}): make it writable by the registry's user, or set another fs root`,
          { cause: err },
        );
      }
    case 's3': {
      // Loaded only when configured: the AWS SDK is most of the server's start-up time, and the
      // fs store has no use for it. Its own start-up errors already name the bucket, the endpoint
      // and the fix.
      const { createS3Store } = await import('./s3/s3-store.js');
      return createS3Store(config.s3);
    }
    default: {
      const driver: unknown = (config as { driver: unknown }).driver;
      throw new Error(`unknown storage driver ${JSON.stringify(driver)}: use "fs" or "s3"`);
    }
  }
}

/** Opens the configured store; a backend without conditional writes comes back serialised. */
export async function createStore(config: StorageConfig, { logger }: { logger: Logger }): Promise<ObjectStore> {
  const store = await openDriver(config, logger);
  // The description names the endpoint, bucket and prefix, never the credentials.
  if (store.conditionalWrites) {
    logger.info({ storage: store.description }, 'storage ready');
    return store;
  }
  logger.warn(
    { storage: store.description },
    `${store.description} does not enforce conditional writes (If-None-Match/If-Match); writes are serialised inside this process, so run only ONE registry process against it`,
  );
  return serialiseConditionalWrites(store);
}
