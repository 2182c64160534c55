/**
 * The S3-compatible driver (AWS S3, MinIO, Ceph RGW, ...). Conditional writes use the backend's
 * own `If-None-Match` / `If-Match` on PutObject; whether the backend enforces them, and how it
 * wants `If-Match` spelt, is probed once at start-up, because S3 look-alikes differ.
 *
 * Every call is bounded in time (watchdog.ts): a metadata call (records, heads, listings,
 * deletes) by a deadline across all its retries; the parts of an upload by the time no byte has
 * moved; a download by a deadline until its headers, then by the time its reader waits for bytes.
 * A backend that stalls thus answers STORAGE_UNAVAILABLE (503) within seconds.
 *
 * This module is the store itself; its parts are ./errors.ts (what an S3 error means),
 * ./transfer.ts (the time bounds of transfers), ./staged-upload.ts (multipart uploads) and
 * ./probe.ts (the start-up check of the bucket and of conditional writes).
 */
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  type GetObjectCommandOutput,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { PROBE_PREFIX } from '../layout.js';
import {
  PreconditionFailedError,
  assertValidKey,
  assertValidPrefix,
  putFileStaged,
  storageUnavailable,
  type DeleteOptions,
  type ListOptions,
  type ObjectRead,
  type ObjectStore,
  type PutOptions,
  type StoredObject,
} from '../object-store.js';
import { idleBounded, StorageTimeoutError, withDeadline } from '../watchdog.js';
import {
  endpointText,
  errorName,
  httpStatus,
  isBackendFault,
  isConditionFailure,
  isNotFound,
  isUnavailable,
  unquote,
} from './errors.js';
import { objectRequests, type CredentialsProvider } from './object-requests.js';
import { checkBucket, checkConditionalWrites, type ConditionalWriteSupport } from './probe.js';
import { stagedUploads } from './staged-upload.js';
import { boundedTransfers, type Bounded } from './transfer.js';

export type { ConditionalWriteSupport } from './probe.js';

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
   * Probe conditional writes after returning (the bucket is still checked first): the store's
   * `ready()` tells when the probe is over, and how it ended; a conditional write waits for it.
   * Start-up uses this so that the probe's round trips overlap loading the catalog.
   */
  checkInBackground?: boolean;
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
const PING_TIMEOUT_MS = 5_000;

/**
 * Whether `<bucket>.<endpoint host>` is the bucket's address as the SDK would make it: a host
 * name (not an IP address) and a bucket name that is one DNS label. Otherwise the SDK's own rules
 * decide (path style for those), and the SDK sends the requests.
 */
function virtualHostable(endpoint: string, bucket: string): boolean {
  let hostname: string;
  try {
    hostname = new URL(endpoint).hostname;
  } catch {
    return false;
  }
  return isIP(hostname.replace(/^\[|\]$/g, '')) === 0 && /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket);
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

  const keyBase = prefix === '' ? '' : `${prefix}/`;
  const endpoint = endpointText(options.endpoint, region);
  const description = `s3 ${endpoint} ${bucket}${prefix === '' ? '' : `/${prefix}`}`;
  const where = `S3 bucket "${bucket}" at ${endpoint}`;

  const clientConfig: S3ClientConfig = {
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
  };
  const client = new S3Client(clientConfig);
  /** For deletes sent once (DeleteOptions.once) where the SDK sends them; made on first use. */
  let onceClient: S3Client | null = null;

  // Small object requests to a configured endpoint skip the SDK's middleware (object-requests.ts),
  // where the address is plain: path style, or a virtual host the SDK too would use as it is.
  const requests =
    options.endpoint === undefined || !(options.forcePathStyle === true || virtualHostable(options.endpoint, bucket))
      ? null
      : objectRequests({
          endpoint: options.endpoint,
          bucket,
          region,
          forcePathStyle: options.forcePathStyle ?? false,
          credentials: client.config.credentials as CredentialsProvider,
        });

  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;

  /** A metadata call: over within `deadlineMs`, every retry included. */
  const metadata: Bounded = (run) => withDeadline(deadlineMs, run);

  const transfer = boundedTransfers(idleMs, deadlineMs);

  const target = { bucket, keyBase, create: options.createBucket ?? false, region, where };
  /** How the backend handles conditional writes: configured, or asked of it (probe.ts). */
  let support: ConditionalWriteSupport | null = options.conditionalWrites ?? null;
  let checked: Promise<ConditionalWriteSupport>;
  try {
    if (support === null) await checkBucket(client, metadata, target);
    checked =
      support === null
        ? checkConditionalWrites(client, metadata, target).then((found) => (support = found))
        : Promise.resolve(support);
    // In the background, the probe's round trips overlap the registry's loading; a conditional
    // write waits for it (see `put`), and `ready` tells how it ended.
    if (options.checkInBackground) checked.catch(() => undefined);
    else await checked;
  } catch (err) {
    client.destroy();
    requests?.close();
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

  function ifMatchHeader(etag: string, found: ConditionalWriteSupport): string {
    return found.enforced && found.ifMatch === 'unquoted' ? etag : `"${etag}"`;
  }

  async function put(key: string, body: Buffer | string, putOptions: PutOptions = {}): Promise<{ etag: string }> {
    const Key = fullKey(key);
    // A PUT is visible at once: nothing of it can go ahead of `after`.
    await putOptions.after;
    const ifMatch =
      putOptions.ifMatch === undefined ? undefined : ifMatchHeader(putOptions.ifMatch, support ?? (await checked));
    const small = Buffer.byteLength(body) <= TRANSFER_PUT_BYTES;
    try {
      let etag: string;
      if (small && requests !== null) {
        // A record or a marker: without the SDK, as a metadata call.
        const headers: Record<string, string> = {};
        if (putOptions.contentType !== undefined) headers['content-type'] = putOptions.contentType;
        if (putOptions.ifNoneMatch !== undefined) headers['if-none-match'] = putOptions.ifNoneMatch;
        if (ifMatch !== undefined) headers['if-match'] = ifMatch;
        const bytes = typeof body === 'string' ? Buffer.from(body) : body;
        ({ etag } = await guard(metadata((abortSignal) => requests.put(Key, bytes, headers, abortSignal))));
      } else {
        const input: PutObjectCommandInput = {
          Bucket: bucket,
          Key,
          Body: body,
          ContentType: putOptions.contentType,
          IfNoneMatch: putOptions.ifNoneMatch,
          IfMatch: ifMatch,
        };
        const command = new PutObjectCommand(input);
        // A staged blob smaller than one part is put whole: a transfer, whose time depends on the link.
        const send = (abortSignal: AbortSignal) => client.send(command, { abortSignal });
        etag = unquote((await guard(small ? metadata(send) : transfer(command.middlewareStack, send))).ETag);
      }
      return { etag: etag !== '' ? etag : await etagAfterWrite(key) };
    } catch (err) {
      // A missing key under If-Match answers 404 on some backends, 412 on others. (Ceph RGW
      // answers some losers of a concurrent If-Match race 500; the retries then get the 412.)
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

  const stage = stagedUploads({
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
    createsOnce: () => support?.enforced === true,
  });

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
    if (requests !== null) return orNull(metadata((abortSignal) => requests.get(Key, abortSignal)));
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
    if (requests !== null) {
      const found = await orNull(metadata((abortSignal) => requests.head(Key, abortSignal)));
      return found && { key, ...found };
    }
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

  async function remove(key: string, deleteOptions: DeleteOptions = {}): Promise<void> {
    const Key = fullKey(key);
    const once = deleteOptions.once === true;
    // The SDK's client for a delete sent once is made only where the SDK sends deletes.
    const sdk = () => (once ? (onceClient ??= new S3Client({ ...clientConfig, maxAttempts: 1 })) : client);
    await orNull(
      metadata((abortSignal) =>
        requests !== null
          ? requests.delete(Key, abortSignal, once)
          : sdk()
              .send(new DeleteObjectCommand({ Bucket: bucket, Key }), { abortSignal })
              .then(() => undefined),
      ),
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
        if (key.startsWith(PROBE_PREFIX)) continue; // left by a probe that crashed
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
    // Until a background probe is in: "enforced" (createStore decides after `ready`).
    get conditionalWrites() {
      return support?.enforced ?? true;
    },
    ...(options.checkInBackground
      ? {
          ready: async () => {
            await checked;
          },
        }
      : {}),
    put,
    stage,
    putFile: (key, file, putOptions) => putFileStaged(stage, key, file, putOptions),
    get,
    getBuffer,
    head,
    delete: remove,
    list,
    ping,
    ...(options.presignDownloads === true ? { downloadUrl } : {}),
    close: () => {
      client.destroy();
      onceClient?.destroy();
      requests?.close();
      return Promise.resolve();
    },
  };
}
