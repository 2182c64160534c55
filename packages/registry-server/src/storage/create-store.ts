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

async function openDriver(config: StorageConfig, logger: Logger, checkInBackground: boolean): Promise<ObjectStore> {
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
      return createS3Store({ ...config.s3, checkInBackground });
    }
    default: {
      const driver: unknown = (config as { driver: unknown }).driver;
      throw new Error(`unknown storage driver ${JSON.stringify(driver)}: use "fs" or "s3"`);
    }
  }
}

/** `store` as it is used: as is, or serialised (with a warning) when its backend ignores conditions. */
function decided(store: ObjectStore, logger: Logger): ObjectStore {
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

/**
 * A store whose backend check is still running (see `ObjectStore.ready`): reads go straight to
 * it; writes wait for the check, then go to the store or, where the backend ignores conditions,
 * to its serialised form; `ready()` is the check's outcome.
 */
function whenChecked(store: ObjectStore & { ready(): Promise<void> }, logger: Logger): ObjectStore {
  const serialised = serialiseConditionalWrites(store);
  let chosen: ObjectStore | null = null;
  const ready = store.ready().then(() => {
    chosen = decided(store, logger);
  });
  ready.catch(() => undefined);
  const writer = async (): Promise<ObjectStore> => {
    await ready;
    return chosen ?? serialised;
  };
  const reader = (): ObjectStore => chosen ?? store;
  return {
    description: store.description,
    get conditionalWrites() {
      return chosen?.conditionalWrites ?? false;
    },
    put: async (key, body, options) => (await writer()).put(key, body, options),
    // A staged object carries no conditions; where writes turn out serialised, its commit has
    // waited its turn on the key (and on a backend that enforces them, the wait costs nothing).
    stage: (key, options) => (chosen ?? serialised).stage(key, options),
    putFile: async (key, file, options) => (await writer()).putFile(key, file, options),
    get: (key, options) => reader().get(key, options),
    getBuffer: (key) => reader().getBuffer(key),
    head: (key) => reader().head(key),
    delete: async (key, options) => (await writer()).delete(key, options),
    list: (prefix, options) => reader().list(prefix, options),
    ping: () => store.ping(),
    ...(store.downloadUrl
      ? {
          downloadUrl: (key, options) =>
            store.downloadUrl?.(key, options) ?? Promise.reject(new Error('no download URLs')),
        }
      : {}),
    ready: () => ready,
    close: () => store.close(),
  };
}

/**
 * Opens the configured store; a backend without conditional writes comes back serialised. With
 * `checkInBackground` (the server's start-up), an S3 backend's conditional-write probe goes on
 * while the caller loads: writes wait for it, and the caller awaits `ready()` before serving.
 */
export async function createStore(
  config: StorageConfig,
  { logger, checkInBackground = false }: { logger: Logger; checkInBackground?: boolean },
): Promise<ObjectStore> {
  const store = await openDriver(config, logger, checkInBackground);
  return store.ready ? whenChecked(store as ObjectStore & { ready(): Promise<void> }, logger) : decided(store, logger);
}
