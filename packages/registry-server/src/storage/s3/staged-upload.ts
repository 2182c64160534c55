/**
 * Staged writes to S3: a multipart upload fed by a stream, invisible until committed. Parts go up
 * as the bytes arrive, a few at a time, from part buffers reused from upload to upload.
 */
import { Writable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  PreconditionFailedError,
  storageUnavailable,
  type Committed,
  type PutOptions,
  type StageOptions,
  type StagedObject,
} from '../object-store.js';
import { unquote } from './errors.js';
import type { Bounded, Transfer } from './transfer.js';
import { collectGarbage } from '../../v8-policy.js';

/** Parts of a staged upload in flight at once. */
const STAGE_QUEUE = 4;

/** How long part buffers are kept without an upload taking one. */
const PART_BUFFERS_IDLE_MS = 10_000;

/**
 * Part buffers kept for the next staged upload. A fresh 8 MiB buffer per part costs more than the
 * copy into a reused one: the allocator maps new pages for each, the kernel faults every one of
 * them in, and the garbage collector is pushed by the external memory. A pool nobody has taken
 * from for `idleMs` lets its buffers go (~40 MiB with the default part size), so that a registry
 * between bursts of large publishes does not hold them, and asks for a full collection at once
 * (`release`): left to itself, V8 may not collect them, nor the parts of the last upload, for as
 * long as the registry stays quiet (measured: 20-35 MB still resident after 15 s).
 */
export class BufferPool {
  private idle: Buffer[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly size: number,
    private readonly keep: number,
    private readonly idleMs = PART_BUFFERS_IDLE_MS,
    private readonly release: () => void = collectGarbage,
  ) {}

  take(): Buffer {
    this.cancelRelease();
    return this.idle.pop() ?? Buffer.allocUnsafe(this.size);
  }

  give(buffer: Buffer): void {
    if (this.idle.length < this.keep) this.idle.push(buffer);
    this.cancelRelease();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.idle = [];
      this.release();
    }, this.idleMs);
    this.timer.unref();
  }

  private cancelRelease(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Buffers kept for the next upload. */
  get kept(): number {
    return this.idle.length;
  }
}

/** What staged uploads need of their store. */
export interface StagingStore {
  client: S3Client;
  bucket: string;
  /** For messages. */
  description: string;
  partSize: number;
  /** The key in the bucket of a store key (the store's prefix added), after validating it. */
  fullKey: (key: string) => string;
  metadata: Bounded;
  transfer: Transfer;
  /** Turns "cannot reach (or use) the backend" into STORAGE_UNAVAILABLE. */
  guard: <T>(call: Promise<T>) => Promise<T>;
  /** The store's put, for an object smaller than one part. */
  put: (key: string, body: Buffer, options: PutOptions) => Promise<{ etag: string }>;
  /** The ETag of an object just written, for the rare backend that answers without one. */
  etagAfterWrite: (key: string) => Promise<string>;
  /** The store's head: an object's size and ETag, or null when the key does not exist. */
  head: (key: string) => Promise<{ size: number; etag: string } | null>;
  /** Whether the backend is known to enforce `If-None-Match` on a put (its probe is over and said so). */
  createsOnce: () => boolean;
}

/** The `stage` of a store; its part buffers are shared by the store's uploads. */
export function stagedUploads(store: StagingStore): (key: string, stageOptions?: StageOptions) => StagedObject {
  const {
    client,
    bucket,
    description,
    partSize,
    fullKey,
    metadata,
    transfer,
    guard,
    put,
    etagAfterWrite,
    head,
    createsOnce,
  } = store;
  const partBuffers = new BufferPool(partSize, STAGE_QUEUE + 1);

  /**
   * A multipart upload fed by a stream: parts of `partSize` go up as the bytes arrive, at most
   * STAGE_QUEUE at a time (memory stays at about (STAGE_QUEUE + 1) parts), and the upload is only
   * completed on commit. An object smaller than one part is kept in memory and put on commit.
   * The bytes are copied into part buffers that are reused from upload to upload (partBuffers).
   */
  function stage(key: string, stageOptions: StageOptions = {}): StagedObject {
    const { contentType, contentAddressed } = stageOptions;
    const Key = fullKey(key);
    let uploadId: Promise<string> | null = null;
    const parts: Array<{ PartNumber: number; ETag: string | undefined }> = [];
    const inflight = new Set<Promise<void>>();
    let current: Buffer | null = null;
    let filled = 0;
    let partNumber = 0;
    let failure: Error | null = null;
    let small: Buffer | null = null;

    const createUpload = (): Promise<string> => {
      uploadId ??= guard(
        metadata((abortSignal) =>
          client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key, ContentType: contentType }), {
            abortSignal,
          }),
        ),
      ).then((output) => {
        if (!output.UploadId) throw new Error(`${description} started a multipart upload without an id`);
        return output.UploadId;
      });
      return uploadId;
    };
    const sendPart = (buffer: Buffer, length: number): void => {
      const PartNumber = ++partNumber;
      const sent = (async () => {
        const UploadId = await createUpload();
        const Body = buffer.subarray(0, length);
        const command = new UploadPartCommand({ Bucket: bucket, Key, UploadId, PartNumber, Body });
        const output = await guard(
          transfer(command.middlewareStack, (abortSignal) => client.send(command, { abortSignal })),
        );
        parts.push({ PartNumber, ETag: output.ETag });
      })()
        .catch((err: unknown) => {
          failure ??= err instanceof Error ? err : new Error(`part ${PartNumber} failed`);
        })
        .finally(() => {
          partBuffers.give(buffer);
        });
      inflight.add(sent);
      void sent.finally(() => inflight.delete(sent));
    };
    /** Copies `chunk` into part buffers, sending each one that fills up. */
    const take = (chunk: Buffer): void => {
      for (let at = 0; at < chunk.length;) {
        current ??= partBuffers.take();
        const copied = chunk.copy(current, filled, at);
        filled += copied;
        at += copied;
        if (filled === partSize) {
          sendPart(current, filled);
          current = null;
          filled = 0;
        }
      }
    };

    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (failure) {
          callback(failure);
          return;
        }
        take(chunk);
        if (inflight.size < STAGE_QUEUE) {
          callback();
          return;
        }
        // Backpressure: wait for a part to finish before taking more bytes.
        void Promise.race(inflight).then(() => {
          callback(failure);
        });
      },
      final(callback) {
        if (partNumber === 0) {
          // Smaller than one part: a single put on commit, from a copy (the part buffer is reused).
          small = Buffer.from(current ? current.subarray(0, filled) : []);
          if (current) partBuffers.give(current);
        } else if (current) {
          sendPart(current, filled);
        }
        current = null;
        void Promise.all(inflight).then(() => {
          callback(failure);
        });
      },
      destroy(err, callback) {
        if (current) partBuffers.give(current);
        current = null;
        callback(err);
      },
    });
    const written = new Promise<void>((resolve, reject) => {
      stream.once('finish', resolve);
      stream.once('error', reject);
      stream.once('close', () => {
        if (!stream.writableFinished) reject(new Error('the staged upload was closed before it finished'));
      });
    });
    written.catch(() => undefined);

    const abort = async (): Promise<void> => {
      if (!stream.destroyed) stream.destroy();
      await Promise.allSettled([...inflight]);
      const id = uploadId ? await uploadId.catch(() => null) : null;
      uploadId = null;
      // Best effort: an upload left behind is invisible, and a bucket lifecycle rule cleans it.
      if (id)
        await metadata((abortSignal) =>
          client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key, UploadId: id }), { abortSignal }),
        ).catch(() => undefined);
    };

    return {
      stream,
      async commit() {
        try {
          await written;
          if (small) return await putSmall(key, small, { contentType, contentAddressed });
          const UploadId = await createUpload();
          parts.sort((a, b) => a.PartNumber - b.PartNumber);
          const command = new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key,
            UploadId,
            MultipartUpload: { Parts: parts },
          });
          // Completing a large upload takes AWS a while, during which it sends whitespace: a transfer.
          const output = await guard(
            transfer(command.middlewareStack, (abortSignal) => client.send(command, { abortSignal })),
          );
          return { etag: output.ETag ? unquote(output.ETag) : await etagAfterWrite(key) };
        } catch (err) {
          await abort();
          throw err;
        }
      },
      abort,
    };
  }

  /**
   * A staged object smaller than one part, put whole. Content-addressed on a backend that enforces
   * `If-None-Match`, it is created once: the put tells whether it made the object (`created`),
   * which spares a new blob the claim that one kept or replaced needs (blobs/blob-claims.ts), and
   * an object already there (the same bytes) is kept as it is. A multipart upload's completion
   * makes no such promise on every backend, so a larger object is replaced and never `created`.
   */
  async function putSmall(key: string, body: Buffer, options: StageOptions): Promise<Committed> {
    const putOptions = options.contentType === undefined ? {} : { contentType: options.contentType };
    if (options.contentAddressed !== true || !createsOnce()) return put(key, body, putOptions);
    // Twice at most: the object found there may be removed (garbage) before it is looked at.
    for (let attempt = 1; ; attempt++) {
      try {
        return { ...(await put(key, body, { ...putOptions, ifNoneMatch: '*' })), created: true };
      } catch (err) {
        if (!(err instanceof PreconditionFailedError)) throw err;
        const kept = await head(key);
        // One of another size is not these bytes (damaged, or put there by hand): replaced.
        if (kept) return kept.size === body.length ? { etag: kept.etag } : put(key, body, putOptions);
        if (attempt === 2)
          throw storageUnavailable(description, new Error(`${key} was removed each time it was found`));
      }
    }
  }

  return stage;
}
