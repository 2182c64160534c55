/**
 * One publish, from the request body to the stored version, in one place. The steps, each in its
 * own module and each called from here only:
 *
 * 1. receive (receive-upload.ts): the body streams to a temporary file, hashed on the way
 *    (upload-hasher.ts, on a worker thread);
 * 2. stage (blobs/blob-store.ts): the archive's blob is written to storage, invisible until
 *    committed. With the digest announced it follows the body as it arrives; without, it is fed
 *    from the file once the digest is known. A store that keeps objects as local files (fs) stages
 *    nothing: its commit takes the received file itself (`putFile`, a hard link), as copying
 *    100 MB while the body arrives halved the rate at which it arrived. The blob is staged,
 *    committed and aborted here, and nowhere else;
 * 3. inspect (pack-inspector.ts): the archive is checked on a worker thread, within a budget,
 *    while the blob's tail goes up;
 * 4. record (publish-service.ts): the version record is created once; it calls for the blob's
 *    commit when the outcome needs the blob, and only then;
 * 5. adopt: the upload, hashed to its digest, joins the local blob cache for the downloads to come.
 *
 * A pack can also arrive as a file made on this server ({@link publishFile}: an OCI pack layer
 * turned into a zip): it is taken in as a body would be, and goes through the same steps.
 *
 * The publish and upload metrics, and the "published" log line with the time of each step, are
 * kept here too.
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { isPackError } from '@packyard/pack-core';
import { keepStored } from '../blobs/blob-claims.js';
import { blobKey, stageBlob } from '../blobs/blob-store.js';
import type { RegistryRecord } from '../catalog/records.js';
import type { BlobCache } from '../blobs/blob-cache.js';
import type { RegistryConfig } from '../config/config.js';
import type { Metrics } from '../http/metrics.js';
import type { Committed, ObjectStore, StagedObject } from '../storage/object-store.js';
import type { FsCallsKind } from '../storage/fs-calls.js';
import type { PackInspector } from './pack-inspector.js';
import type { PublishResult, PublishService } from './publish-service.js';
import type { UploadHasher } from './upload-hasher.js';
import type { InspectedPack } from './inspect-pack.js';
import { receiveFile, startUpload, type ReceiveOptions, type ReceivedUpload } from './receive-upload.js';

/**
 * What a publish needs of the registry's services (services.ts's RegistryServices has them all;
 * spelled out so that the OCI pack repositories, which services.ts wires, can publish without an
 * import circle).
 */
export interface PublishServices {
  store: ObjectStore;
  config: RegistryConfig;
  uploadDir: string;
  uploadCalls: FsCallsKind;
  hasher: UploadHasher;
  inspector: PackInspector;
  publisher: PublishService;
  blobCache: BlobCache | null;
  metrics: Metrics;
}

export interface PublishUploadOptions {
  /** The registry published into, once the caller is authorized. */
  registry: RegistryRecord;
  /** The name recorded as publisher. */
  publisher: string;
  /** Overwrite a version with other bytes (authorized by the caller). */
  force: boolean;
  /** The `digest` query parameter ("sha256:<hex>"), if any. */
  digest: string | undefined;
  /** The `message` query parameter, if any; else the multipart `message` field is taken. */
  message: string | undefined;
  /** The request's logger. */
  log: Logger;
  /** Aborted when the client goes away: a publish still waiting for its check is dropped. */
  signal?: AbortSignal;
  /**
   * Authorizes the caller again once the body is in and checked, right before the version is
   * recorded (the caller may have lost their credential or role while it arrived); throws to refuse.
   */
  authorize?: () => void;
}

const since = (start: number): number => Math.round(performance.now() - start);

/** Where and how uploads are received, whichever way they arrive. */
function receiving(services: PublishServices): Omit<ReceiveOptions, 'query'> {
  return {
    dir: services.uploadDir,
    calls: services.uploadCalls,
    maxBytes: services.config.limits.maxUploadBytes,
    hasher: services.hasher,
    // The fs store takes the file over at commit: its bytes go to disk while the hash finishes.
    flush: keepsLocalFiles(services.store),
  };
}

/** The blob of a publish on its way to storage: made visible by `commit`, dropped by `abort`. */
interface PendingBlob {
  commit(): Promise<Committed>;
  abort(): Promise<void>;
}

/** Whether the store keeps objects as local files, and so takes a received file without a copy. */
function keepsLocalFiles(store: ObjectStore): boolean {
  return store.openLocal !== undefined;
}

/**
 * The blob of a received upload, unless one already follows it: on a store of local files the
 * file itself, taken over at commit; elsewhere staged from the file in the background (a failure
 * shows in `commit`).
 */
async function blobFromFile(services: PublishServices, upload: ReceivedUpload): Promise<PendingBlob | null> {
  const { store } = services;
  if (keepsLocalFiles(store)) {
    return {
      commit: () =>
        store.putFile(blobKey(upload.digest), upload.file, {
          contentType: 'application/zip',
          contentAddressed: true,
          flushed: upload.flushed,
        }),
      abort: () => Promise.resolve(),
    };
  }
  const staged = await stageBlob(store, upload.digest, upload.size);
  if (staged) {
    pipeline(createReadStream(upload.file, { highWaterMark: 1024 * 1024 }), staged.stream).catch(() => undefined);
  }
  return staged;
}

/**
 * Publishes the pack archive in `request`'s body (a raw zip, or the file of a multipart body);
 * throws PackError for anything the client can fix, and leaves nothing behind when it fails.
 *
 * @example
 * const result = await publishUpload(req, services, { registry, publisher, force: false, ... });
 * res.status(result.outcome === 'created' ? 201 : 200).json(versionView(result.record));
 */
export async function publishUpload(
  request: IncomingMessage,
  services: PublishServices,
  options: PublishUploadOptions,
): Promise<PublishResult> {
  const received = performance.now();
  const started = await startUpload(request, {
    ...receiving(services),
    ...(options.digest === undefined ? {} : { query: options.digest }),
  });
  let staged: StagedObject | null = null;
  let upload: ReceivedUpload;
  try {
    // With the digest announced, the blob streams to a remote store while the body arrives.
    const { announced, atMost } = started;
    staged =
      announced === null || keepsLocalFiles(services.store)
        ? null
        : await stageBlob(services.store, announced, undefined, atMost);
  } catch (err) {
    throw await started.cancel(err);
  }
  try {
    upload = await started.receive(staged?.stream ?? null);
  } catch (err) {
    await staged?.abort();
    throw err;
  }
  services.metrics.uploadBytes.inc(upload.size);
  const socket = request.socket as IncomingMessage['socket'] | null;
  const gone = new AbortController();
  const onClose = () => {
    gone.abort();
  };
  if (socket?.destroyed === true) gone.abort();
  else socket?.once('close', onClose);
  try {
    return await publishReceived(upload, staged, services, {
      ...options,
      signal: gone.signal,
      message: options.message ?? upload.fields['message'] ?? null,
      receiveMs: since(received),
    });
  } finally {
    socket?.off('close', onClose);
  }
}

/** A publish of an archive made on this server from what a client pushed (an OCI pack layer). */
export interface PublishFileOptions extends Omit<PublishUploadOptions, 'digest' | 'force' | 'message'> {
  /**
   * Checks the inspected pack before anything is recorded (an OCI push: pack.json's name and
   * version against the repository and the tag); throws a PackError to refuse it.
   */
  accept?: (inspected: InspectedPack) => void;
  /** The digest of the OCI manifest the pack was pushed with, kept on the version record. */
  ociManifest?: string;
}

/**
 * Publishes the pack archive in the local file `file` through the very steps of
 * {@link publishUpload} (it is taken in like a body, then staged, inspected and recorded), never
 * forced: what a pack pushed through OCI needs. `file` stays the caller's.
 *
 * @example
 * const result = await publishFile('/tmp/work/pack.zip', services, { registry, publisher, log, ociManifest });
 */
export async function publishFile(
  file: string,
  services: PublishServices,
  options: PublishFileOptions,
): Promise<PublishResult> {
  const received = performance.now();
  const upload = await receiveFile(file, receiving(services));
  return publishReceived(upload, null, services, {
    ...options,
    force: false,
    message: null,
    receiveMs: since(received),
  });
}

interface ReceivedPublishOptions extends Omit<PublishUploadOptions, 'digest' | 'message'> {
  message: string | null;
  /** How long receiving took, for the "published" log line. */
  receiveMs: number;
  accept?: ((inspected: InspectedPack) => void) | undefined;
  ociManifest?: string | undefined;
}

/**
 * The steps after receiving, shared by every way a pack arrives: stage (unless `staged` already
 * follows the upload), inspect, accept, record, adopt; the metrics and the log line. Owns `upload`
 * and `staged` from here: both are cleaned up whatever happens.
 */
async function publishReceived(
  upload: ReceivedUpload,
  initiallyStaged: PendingBlob | null,
  services: PublishServices,
  options: ReceivedPublishOptions,
): Promise<PublishResult> {
  let staged = initiallyStaged;
  const streamed = staged !== null;
  const timings = { receive: options.receiveMs, inspectMs: 0, blobMs: 0, recordMs: 0 };
  try {
    // The blob goes up to storage while the archive is checked; it becomes visible only when
    // committed, after every check has passed.
    staged ??= await blobFromFile(services, upload);
    let start = performance.now();
    const inspected = await services.inspector.inspect(upload.file, services.config.limits.archive, upload.blocks, {
      caller: options.publisher,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    timings.inspectMs = since(start);
    options.accept?.(inspected);
    options.authorize?.();
    start = performance.now();
    const result = await services.publisher.record(
      {
        registry: options.registry,
        archive: { digest: upload.digest, integrity: upload.integrity, size: upload.size },
        inspected,
        publisher: options.publisher,
        force: options.force,
        message: options.message,
        ...(options.ociManifest === undefined ? {} : { ociManifest: options.ociManifest }),
      },
      async () => {
        const committing = performance.now();
        // A failed commit cleans up after itself: nothing is left to abort then.
        const blob = staged;
        staged = null;
        // None: storage was found to hold the blob already.
        const written = blob ? await blob.commit() : null;
        // A blob stored before this publish is claimed, or stored again if garbage collection took it.
        await keepStored(services.store, upload.digest, written, () =>
          services.store.putFile(blobKey(upload.digest), upload.file, {
            contentType: 'application/zip',
            contentAddressed: true,
          }),
        );
        timings.blobMs = since(committing);
      },
    );
    timings.recordMs = since(start) - timings.blobMs;
    services.metrics.publishes.inc({ outcome: result.outcome });
    const { record } = result;
    options.log.info(
      {
        registry: record.registry,
        pack: record.name,
        version: record.version,
        digest: record.digest,
        size: record.size,
        outcome: result.outcome,
        streamed,
        ms: timings,
      },
      `published ${record.name}@${record.version}`,
    );
    if (services.blobCache) {
      // The upload hashed to the digest on the way in: keep it for the downloads to come.
      await services.blobCache.adopt(upload.digest, upload.file, upload.size).catch((err: unknown) => {
        options.log.warn({ err }, 'could not keep the upload in the blob cache');
      });
    }
    return result;
  } catch (err) {
    if (isPackError(err) && err.status < 500) services.metrics.publishes.inc({ outcome: 'rejected' });
    throw err;
  } finally {
    await staged?.abort();
    await upload.discard();
  }
}
