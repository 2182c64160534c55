/**
 * The S3-compatible driver (AWS S3, MinIO, Ceph RGW, ...). Conditional writes use the backend's
 * own `If-None-Match` / `If-Match` on PutObject; whether the backend enforces them, and how it
 * wants `If-Match` spelt, is probed once at start-up, because S3 look-alikes differ.
 *
 * Every call is bounded in time (watchdog.ts): a metadata call (records, heads, listings,
 * deletes) by a deadline across all its retries; the parts of an upload by the time no byte has
 * moved; a download by a deadline until its headers, then by the time its reader waits for bytes.
 * A backend that stalls thus answers STORAGE_UNAVAILABLE (503) within seconds.
 */
import { pipeline, Readable, Transform, Writable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type BucketLocationConstraint,
  type GetObjectCommandOutput,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  PreconditionFailedError,
  assertValidKey,
  assertValidPrefix,
  storageUnavailable,
  type ListOptions,
  type ObjectRead,
  type ObjectStore,
  type PutOptions,
  type StagedObject,
  type StoredObject,
} from './object-store.js';
import { tempName } from './temp-files.js';
import { Watchdog, idleBounded, progressStream, StorageTimeoutError, withDeadline } from './watchdog.js';

/**
 * How a backend handles conditional PutObject. `ifMatch: 'unquoted'`: the ETag must be sent
 * without its quotes (Ceph RGW compares the header with its stored, unquoted ETag verbatim);
 * AWS and MinIO take the quoted form that HTTP specifies.
 */
export type ConditionalWriteSupport = { enforced: false } | { enforced: true; ifMatch: 'quoted' | 'unquoted' };

export interface S3StoreOptions {
  /** For S3-compatible services, e.g. "http://127.0.0.1:7480"; left out for AWS. */
  endpoint?: string;
  /** Default "us-east-1". */
  region?: string;
  bucket: string;
  /** Key prefix inside the bucket, without a trailing slash; "" for the whole bucket. */
  prefix?: string;
  /** Path-style URLs (`endpoint/bucket/key`), which most S3-compatible services need. */
  forcePathStyle?: boolean;
  /** Both or neither; when left out, the standard AWS chain applies (AWS_* environment, profiles, roles). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Create the bucket when it is missing (development and tests). */
  createBucket?: boolean;
  /** Part size of staged (multipart) uploads; default 8 MiB, at least 5 MiB. */
  partSizeBytes?: number;
  /** Offer presigned download URLs (clients then download straight from the bucket). */
  presignDownloads?: boolean;
  /**
   * What the backend is known to do with conditional writes. When given, creation does no I/O
   * (no bucket check, no probe); when left out, both are done.
   */
  conditionalWrites?: ConditionalWriteSupport;
  /**
   * How long a metadata call (get, put, head, list or delete of a record) may take in all,
   * retries included, and how long a download may wait for its headers; default 10 s.
   */
  deadlineMs?: number;
  /**
   * How long a transfer (an upload part, a download's body being read) may go without a byte
   * moving; default 15 s. The transfer as a whole is not bounded: it may be large and the link slow.
   */
  idleTimeoutMs?: number;
}

const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
const DEFAULT_DEADLINE_MS = 10_000;
const DEFAULT_IDLE_TIMEOUT_MS = 15_000;
/** A put larger than this is a transfer (a staged blob smaller than one part), not a metadata call. */
const TRANSFER_PUT_BYTES = 1024 * 1024;
/** Parts of a staged upload in flight at once. */
const STAGE_QUEUE = 4;
const PING_TIMEOUT_MS = 5_000;
/** Where the probe writes, below the store's prefix; "_" is outside the key alphabet, so no key can clash. */
const PROBE_DIR = '_probe/';

/**
 * Part buffers kept for the next staged upload. A fresh 8 MiB buffer per part costs more than the
 * copy into a reused one: the allocator maps new pages for each, the kernel faults every one of
 * them in, and the garbage collector is pushed by the external memory.
 */
class BufferPool {
  private readonly idle: Buffer[] = [];

  constructor(
    private readonly size: number,
    private readonly keep: number,
  ) {}

  take(): Buffer {
    return this.idle.pop() ?? Buffer.allocUnsafe(this.size);
  }

  give(buffer: Buffer): void {
    if (this.idle.length < this.keep) this.idle.push(buffer);
  }
}

const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

function httpStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function errorName(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { name, code } = err as { name?: unknown; code?: unknown };
  if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) return code;
  return typeof name === 'string' ? name : undefined;
}

function describeError(err: unknown): string {
  const status = httpStatus(err);
  const message = err instanceof Error ? err.message : String(err);
  const name = errorName(err);
  // HEAD errors have no body, so the SDK's message is often just "UnknownError".
  return [name && !message.includes(name) ? `${name}:` : '', message, status ? `(HTTP ${status})` : '']
    .filter(Boolean)
    .join(' ');
}

/** Errors worth a retry later: the backend cannot be reached, timed out or failed (5xx, throttling). */
function isUnavailable(err: unknown): boolean {
  const status = httpStatus(err);
  if (status !== undefined) return status >= 500 || status === 429;
  const name = errorName(err);
  return (
    name !== undefined &&
    (NETWORK_ERROR_CODES.has(name) ||
      ['TimeoutError', 'AbortError', 'RequestTimeout', 'SlowDown', 'StorageTimeoutError'].includes(name))
  );
}

/**
 * Errors of the deployment rather than of the request: the bucket is gone, the credentials are
 * missing or were revoked. The client can only retry later, like for an unreachable backend.
 */
function isBackendFault(err: unknown): boolean {
  const name = errorName(err);
  return (
    isUnavailable(err) ||
    httpStatus(err) === 403 ||
    (name !== undefined &&
      [
        'NoSuchBucket',
        'AccessDenied',
        'InvalidAccessKeyId',
        'SignatureDoesNotMatch',
        'CredentialsProviderError',
      ].includes(name))
  );
}

function isNotFound(err: unknown): boolean {
  const name = errorName(err);
  // A missing bucket is a broken deployment, not a missing object.
  return name !== 'NoSuchBucket' && (httpStatus(err) === 404 || name === 'NoSuchKey' || name === 'NotFound');
}

function isConditionFailure(err: unknown): boolean {
  const name = errorName(err);
  // 409 ConditionalRequestConflict: AWS lost a race between two conditional writes of one key.
  return httpStatus(err) === 412 || name === 'PreconditionFailed' || name === 'ConditionalRequestConflict';
}

function isNotImplemented(err: unknown): boolean {
  return httpStatus(err) === 501 || errorName(err) === 'NotImplemented';
}

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^"(.*)"$/, '$1');
}

/** Endpoint for messages and logs: credentials in a URL's user-info part are dropped. */
function endpointText(endpoint: string | undefined, region: string): string {
  if (endpoint === undefined) return `AWS S3 (${region})`;
  try {
    const url = new URL(endpoint);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return endpoint;
  }
}

function startupError(err: unknown, where: string): Error {
  const status = httpStatus(err);
  const name = errorName(err);
  const reason = describeError(err);
  let message: string;
  if (isUnavailable(err)) {
    message = `cannot reach ${where} (${reason}): check the endpoint setting and that the service is running`;
  } else if (name === 'CredentialsProviderError') {
    message = `no S3 credentials for ${where} (${reason}): set accessKeyId and secretAccessKey, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or an AWS profile`;
  } else if (status === 403 || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch') {
    message = `${where} refused the credentials (${reason}): check accessKeyId/secretAccessKey (or the AWS_* environment and profile) and that they may read and write the bucket`;
  } else if (status === 301 || name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed') {
    message = `${where} lives in another region (${reason}): set the region setting to the bucket's region`;
  } else {
    message = `cannot use ${where}: ${reason}`;
  }
  return new Error(message, { cause: err });
}

export async function createS3Store(options: S3StoreOptions): Promise<ObjectStore> {
  const region = options.region ?? 'us-east-1';
  const { bucket } = options;
  const prefix = options.prefix ?? '';
  if (prefix !== '') {
    try {
      assertValidKey(prefix);
    } catch {
      throw new Error(
        `invalid S3 key prefix ${JSON.stringify(prefix)}: use "" or segments like "packyard/prod", without a trailing slash`,
      );
    }
  }
  if ((options.accessKeyId === undefined) !== (options.secretAccessKey === undefined)) {
    throw new Error('set both accessKeyId and secretAccessKey for S3, or neither to use the AWS credential chain');
  }
  const partSize = options.partSizeBytes ?? DEFAULT_PART_SIZE;
  if (partSize < 5 * 1024 * 1024)
    throw new Error(`partSizeBytes must be at least 5 MiB (S3's minimum), not ${partSize}`);
  const partBuffers = new BufferPool(partSize, STAGE_QUEUE + 1);

  const keyBase = prefix === '' ? '' : `${prefix}/`;
  const endpoint = endpointText(options.endpoint, region);
  const description = `s3 ${endpoint} ${bucket}${prefix === '' ? '' : `/${prefix}`}`;
  const where = `S3 bucket "${bucket}" at ${endpoint}`;

  const client = new S3Client({
    region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle ?? false,
    credentials:
      options.accessKeyId !== undefined && options.secretAccessKey !== undefined
        ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
        : undefined,
    // An unreachable backend must fail a request in seconds, not hang it: a short connection
    // timeout and few retries; every call's time is bounded by its watchdog (see `metadata`,
    // `transfer` and `get`), which the SDK honours across its retries.
    maxAttempts: 3,
    requestHandler: {
      connectionTimeout: 2_000,
      httpAgent: { keepAlive: true, maxSockets: 64 },
      httpsAgent: { keepAlive: true, maxSockets: 64 },
    },
    // The SDK's default CRC checksums (aws-chunked trailers) are not understood by many
    // S3-compatible services; send them only where S3 requires them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });

  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;

  /** A metadata call: over within `deadlineMs`, every retry included. */
  const metadata: Bounded = (run) => withDeadline(deadlineMs, run);

  /**
   * A transfer (an upload part, the completion of an upload) of the command whose middleware
   * stack is `stack`: it fails once no byte has moved for `idleMs` while the body is sent, and
   * when the answer does not come within `idleMs + deadlineMs` of the body's last byte (the
   * connection may have taken megabytes that the backend still has to read before it answers).
   */
  async function transfer<T>(stack: TransferStack, run: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const watchdog = new Watchdog();
    const progress: TransferProgress = {
      moved: () => {
        watchdog.arm(idleMs, `storage moved no byte for ${idleMs} ms`);
      },
      sent: () => {
        watchdog.arm(idleMs + deadlineMs, `storage gave no answer within ${idleMs + deadlineMs} ms of the last byte`);
      },
    };
    watchTransfer(stack, progress);
    progress.moved();
    try {
      return await run(watchdog.signal);
    } finally {
      watchdog.disarm();
    }
  }

  /** Fails fast, with the fix in the message, when the bucket cannot be used. */
  async function checkBackend(): Promise<ConditionalWriteSupport> {
    let exists: boolean;
    try {
      exists = await ensureBucket(client, metadata, bucket, { create: options.createBucket ?? false, region });
    } catch (err) {
      throw startupError(err, where);
    }
    if (!exists) {
      throw new Error(
        `${where} does not exist: create it, or set createBucket to create it at start-up (meant for development)`,
      );
    }
    try {
      return await probeConditionalWrites(client, metadata, bucket, `${keyBase}${PROBE_DIR}${tempName()}`);
    } catch (err) {
      throw startupError(err, where);
    }
  }

  let support: ConditionalWriteSupport;
  try {
    support = options.conditionalWrites ?? (await checkBackend());
  } catch (err) {
    client.destroy();
    throw err;
  }

  function fullKey(key: string): string {
    assertValidKey(key);
    return keyBase + key;
  }

  /** Runs an S3 call, turning "cannot reach the backend" (or "cannot use it") into STORAGE_UNAVAILABLE. */
  async function guard<T>(call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (err) {
      throw isBackendFault(err) ? storageUnavailable(description, err) : err;
    }
  }

  async function orNull<T>(call: Promise<T>): Promise<T | null> {
    try {
      return await guard(call);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  function ifMatchHeader(etag: string): string {
    return support.enforced && support.ifMatch === 'unquoted' ? etag : `"${etag}"`;
  }

  async function put(key: string, body: Buffer | string, putOptions: PutOptions = {}): Promise<{ etag: string }> {
    const input: PutObjectCommandInput = {
      Bucket: bucket,
      Key: fullKey(key),
      Body: body,
      ContentType: putOptions.contentType,
      IfNoneMatch: putOptions.ifNoneMatch,
      IfMatch: putOptions.ifMatch === undefined ? undefined : ifMatchHeader(putOptions.ifMatch),
    };
    const command = new PutObjectCommand(input);
    // A staged blob smaller than one part is put whole: a transfer, whose time depends on the link.
    const send = (abortSignal: AbortSignal) => client.send(command, { abortSignal });
    const sent =
      Buffer.byteLength(body) > TRANSFER_PUT_BYTES ? transfer(command.middlewareStack, send) : metadata(send);
    try {
      const output = await guard(sent);
      return { etag: output.ETag ? unquote(output.ETag) : await etagAfterWrite(key) };
    } catch (err) {
      // A missing key under If-Match answers 404 on some backends, 412 on others. (Ceph RGW
      // answers some losers of a concurrent If-Match race 500; the SDK's retry then gets the 412.)
      if (isConditionFailure(err) || (putOptions.ifMatch !== undefined && isNotFound(err))) {
        throw new PreconditionFailedError(key);
      }
      throw err;
    }
  }

  /** For the rare backend that answers a write without an ETag header. */
  async function etagAfterWrite(key: string): Promise<string> {
    const object = await head(key);
    if (!object) throw new Error(`${description} did not return ${key} right after writing it`);
    return object.etag;
  }

  /**
   * A multipart upload fed by a stream: parts of `partSize` go up as the bytes arrive, at most
   * STAGE_QUEUE at a time (memory stays at about (STAGE_QUEUE + 1) parts), and the upload is only
   * completed on commit. An object smaller than one part is kept in memory and put on commit.
   * The bytes are copied into part buffers that are reused from upload to upload (partBuffers).
   */
  function stage(key: string, stageOptions: { contentType?: string } = {}): StagedObject {
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
          client.send(
            new CreateMultipartUploadCommand({ Bucket: bucket, Key, ContentType: stageOptions.contentType }),
            {
              abortSignal,
            },
          ),
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
          if (small) return await put(key, small, stageOptions);
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

  async function get(
    key: string,
    getOptions: { range?: { start: number; end?: number } } = {},
  ): Promise<ObjectRead | null> {
    const { range } = getOptions;
    // S3 would ignore a malformed range and answer the whole object.
    if (range && (range.start < 0 || (range.end !== undefined && range.end < range.start))) {
      throw new Error(`range ${range.start}-${range.end} of ${key} is malformed`);
    }
    const input = {
      Bucket: bucket,
      Key: fullKey(key),
      Range: range ? `bytes=${range.start}-${range.end ?? ''}` : undefined,
    };
    let output: GetObjectCommandOutput | null;
    try {
      // The deadline runs until the headers; the body is then bounded by its idle time instead.
      output = await orNull(metadata((abortSignal) => client.send(new GetObjectCommand(input), { abortSignal })));
    } catch (err) {
      if (httpStatus(err) === 416 || errorName(err) === 'InvalidRange') {
        throw new Error(`range ${range?.start}-${range?.end ?? ''} is outside ${key}: check the size first`, {
          cause: err,
        });
      }
      throw err;
    }
    if (!output) return null;
    if (!(output.Body instanceof Readable)) throw new Error(`${description} returned no body stream for ${key}`);
    const body = idleBounded(output.Body, idleMs, () =>
      storageUnavailable(description, new StorageTimeoutError(`the body of ${key} stalled for ${idleMs} ms`)),
    );
    const common = {
      key,
      etag: unquote(output.ETag),
      lastModified: output.LastModified ?? new Date(0),
      body,
    };
    const served = range ? /^bytes (\d+)-(\d+)\/(\d+)$/.exec(output.ContentRange ?? '') : null;
    if (!served) return { ...common, size: output.ContentLength ?? 0 };
    const [, start, end, size] = served;
    return { ...common, size: Number(size), range: { start: Number(start), end: Number(end) } };
  }

  async function getBuffer(key: string): Promise<{ body: Buffer; etag: string } | null> {
    // One guard and one deadline around request and body: a connection lost or stalled mid-body
    // is as unavailable as a refused one.
    const Key = fullKey(key);
    return orNull(metadata((abortSignal) => readWhole(Key, abortSignal)));
  }

  async function readWhole(Key: string, abortSignal: AbortSignal): Promise<{ body: Buffer; etag: string }> {
    for (let attempt = 1; ; attempt++) {
      const output = await client.send(new GetObjectCommand({ Bucket: bucket, Key }), { abortSignal });
      if (!output.Body) throw new Error(`${description} returned no body for ${Key}`);
      try {
        const bytes = await output.Body.transformToByteArray();
        return { body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), etag: unquote(output.ETag) };
      } catch (err) {
        // The SDK retries requests, not the reading of their bodies: a connection lost mid-body
        // gets one more try here. (s3rver, which rewrites files in place, cuts off a read that
        // races a write of the same key this way.)
        if (attempt === 2 || !isUnavailable(err)) throw err;
      }
    }
  }

  async function head(key: string): Promise<StoredObject | null> {
    const Key = fullKey(key);
    const output = await orNull(
      metadata((abortSignal) => client.send(new HeadObjectCommand({ Bucket: bucket, Key }), { abortSignal })),
    );
    if (!output) return null;
    return {
      key,
      size: output.ContentLength ?? 0,
      etag: unquote(output.ETag),
      lastModified: output.LastModified ?? new Date(0),
    };
  }

  async function remove(key: string): Promise<void> {
    const Key = fullKey(key);
    await orNull(
      metadata((abortSignal) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key }), { abortSignal })),
    );
  }

  async function* list(listPrefix: string, listOptions: ListOptions = {}): AsyncGenerator<StoredObject> {
    assertValidPrefix(listPrefix);
    let remaining = listOptions.limit ?? Infinity;
    let continuationToken: string | undefined;
    while (remaining > 0) {
      const input = {
        Bucket: bucket,
        Prefix: keyBase + listPrefix,
        StartAfter: listOptions.startAfter === undefined ? undefined : keyBase + listOptions.startAfter,
        ContinuationToken: continuationToken,
        MaxKeys: Math.min(1000, remaining),
      };
      const page = await guard(
        metadata((abortSignal) => client.send(new ListObjectsV2Command(input), { abortSignal })),
      );
      for (const entry of page.Contents ?? []) {
        if (entry.Key === undefined) continue;
        const key = entry.Key.slice(keyBase.length);
        if (key.startsWith(PROBE_DIR)) continue; // left by a probe that crashed
        yield {
          key,
          size: entry.Size ?? 0,
          etag: unquote(entry.ETag),
          lastModified: entry.LastModified ?? new Date(0),
        };
        if (--remaining === 0) return;
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (continuationToken === undefined) return;
    }
  }

  async function downloadUrl(
    key: string,
    urlOptions: { expiresSeconds: number; filename?: string; contentType?: string },
  ): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: bucket,
      Key: fullKey(key),
      ResponseContentType: urlOptions.contentType,
      ResponseContentDisposition:
        urlOptions.filename === undefined ? undefined : `attachment; filename="${urlOptions.filename}"`,
    });
    return getSignedUrl(client, command, { expiresIn: urlOptions.expiresSeconds });
  }

  async function ping(): Promise<void> {
    try {
      await withDeadline(Math.min(PING_TIMEOUT_MS, deadlineMs), (abortSignal) =>
        client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal }),
      );
    } catch (err) {
      // Whatever the reason (unreachable, bucket gone, credentials revoked), the store is not ready.
      throw storageUnavailable(description, err);
    }
  }

  return {
    description,
    conditionalWrites: support.enforced,
    put,
    stage,
    get,
    getBuffer,
    head,
    delete: remove,
    list,
    ping,
    ...(options.presignDownloads === true ? { downloadUrl } : {}),
    close: () => {
      client.destroy();
      return Promise.resolve();
    },
  };
}

/** Runs a call under a time bound, given the abort signal that enforces it. */
type Bounded = <T>(run: (abortSignal: AbortSignal) => Promise<T>) => Promise<T>;

/** The middleware stack of an S3 command, as far as watchTransfer needs it. */
interface TransferStack {
  add: UploadPartCommand['middlewareStack']['add'];
}

/** What a transfer's watchdog is told: bytes moved, and the whole request body sent. */
interface TransferProgress {
  moved: () => void;
  sent: () => void;
}

/**
 * Counts the bytes of a transfer as they move, for its watchdog: the request body is handed to
 * the connection in slices (each slice taken is progress), and the response's arrival and the
 * chunks of its body are progress too. Installed innermost, next to the HTTP handler, so that it
 * runs for every attempt the SDK makes.
 */
function watchTransfer(stack: TransferStack, progress: TransferProgress): void {
  const { moved } = progress;
  stack.add(
    (next) => async (args) => {
      const result = await next(withProgressBody(args, progress));
      moved();
      const response = result.response as { body?: unknown };
      if (response.body instanceof Readable) {
        const source = response.body;
        const tapped = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            moved();
            callback(null, chunk);
          },
        });
        pipeline(source, tapped, () => undefined);
        response.body = tapped;
      }
      return result;
    },
    { step: 'deserialize', priority: 'low', name: 'packyardTransferWatchdog' },
  );
}

/** `args` with a byte-array request body replaced by a stream that reports each slice taken. */
function withProgressBody<A extends { request: unknown }>(args: A, progress: TransferProgress): A {
  const request = args.request as { body?: unknown } | null;
  if (request === null || typeof request !== 'object' || !(request.body instanceof Uint8Array)) return args;
  // A copy per attempt: the SDK retries with the same request, whose body must stay the bytes.
  const copy = Object.assign(Object.create(Object.getPrototypeOf(request) as object) as object, request, {
    body: progressStream(request.body, progress.moved, progress.sent),
  });
  return { ...args, request: copy };
}

/** Whether the bucket exists, after creating it if `create` is set. */
async function ensureBucket(
  client: S3Client,
  bounded: Bounded,
  bucket: string,
  { create, region }: { create: boolean; region: string },
): Promise<boolean> {
  try {
    await bounded((abortSignal) => client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal }));
    return true;
  } catch (err) {
    if (httpStatus(err) !== 404) throw err;
  }
  if (!create) return false;
  const input = {
    Bucket: bucket,
    // us-east-1 is the one region that refuses to be named as a location constraint.
    CreateBucketConfiguration:
      region === 'us-east-1' ? undefined : { LocationConstraint: region as BucketLocationConstraint },
  };
  try {
    await bounded((abortSignal) => client.send(new CreateBucketCommand(input), { abortSignal }));
  } catch (err) {
    if (errorName(err) !== 'BucketAlreadyOwnedByYou') throw err;
  }
  return true;
}

/**
 * Finds out whether the backend enforces conditional writes, by trying them on a scratch key:
 * a second create-once of one key must fail, an `If-Match` with a wrong ETag must fail, and one
 * with the right ETag must succeed, quoted or (Ceph RGW) unquoted. s3rver and some appliances
 * ignore the headers and let everything through.
 */
async function probeConditionalWrites(
  client: S3Client,
  bounded: Bounded,
  bucket: string,
  key: string,
): Promise<ConditionalWriteSupport> {
  const write = async (conditions: { IfNoneMatch?: string; IfMatch?: string }): Promise<'written' | 'refused'> => {
    const input = { Bucket: bucket, Key: key, Body: 'probe', ...conditions };
    try {
      await bounded((abortSignal) => client.send(new PutObjectCommand(input), { abortSignal }));
      return 'written';
    } catch (err) {
      if (isConditionFailure(err) || isNotImplemented(err)) return 'refused';
      throw err;
    }
  };
  try {
    if ((await write({ IfNoneMatch: '*' })) === 'refused') return { enforced: false };
    if ((await write({ IfNoneMatch: '*' })) === 'written') return { enforced: false };
    const { ETag } = await bounded((abortSignal) =>
      client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal }),
    );
    const etag = unquote(ETag);
    if ((await write({ IfMatch: '"00000000000000000000000000000000"' })) === 'written') return { enforced: false };
    if ((await write({ IfMatch: `"${etag}"` })) === 'written') return { enforced: true, ifMatch: 'quoted' };
    if ((await write({ IfMatch: etag })) === 'written') return { enforced: true, ifMatch: 'unquoted' };
    return { enforced: false };
  } finally {
    await bounded((abortSignal) =>
      client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), { abortSignal }),
    ).catch(() => undefined);
  }
}
