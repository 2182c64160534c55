/**
 * The storage seam: a small object store with conditional writes. Everything the registry keeps
 * (pack blobs, version records, the change log, index snapshots, registry records) is an object
 * under a key; the two drivers (./fs-store.ts, ./s3/s3-store.ts) are wired explicitly by
 * ./create-store.ts from the configuration.
 *
 * Keys are relative, `/`-separated and ASCII: see {@link assertValidKey}. A key is never also the
 * folder of other keys (`a` and `a/b`): S3 allows it, the fs driver cannot, so the layout avoids it.
 * ETags are opaque, unquoted strings; a driver translates them to whatever its backend wants.
 */
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PackError } from '@packyard/pack-core';
import { registryError } from '../errors.js';

export interface StoredObject {
  key: string;
  size: number;
  /** Opaque, unquoted; changes whenever the object is replaced. */
  etag: string;
  lastModified: Date;
}

export interface ObjectRead extends StoredObject {
  body: Readable;
  /** The byte range served, inclusive, when a range was asked for. */
  range?: { start: number; end: number };
}

/** An object that is a local file, opened for positional reads (see {@link ObjectStore.openLocal}). */
export interface LocalObject extends StoredObject {
  /** Open for reading; the caller closes it. */
  handle: FileHandle;
}

export interface PutOptions {
  /** Create-once: fail with {@link PreconditionFailedError} when the key already exists. */
  ifNoneMatch?: '*';
  /** Compare-and-swap: fail with {@link PreconditionFailedError} unless the stored ETag is this one. */
  ifMatch?: string;
  contentType?: string;
  /**
   * What must be done before the object may appear (another object it points at being stored):
   * the driver may write the bytes meanwhile, where that leaves nothing visible (the fs driver's
   * temporary file), and places the object only once this resolves; if it rejects, nothing is
   * stored and the put rejects with its reason.
   */
  after?: Promise<unknown>;
  /**
   * false: the object may be rebuilt from others, so the put need not survive the machine
   * stopping within seconds of it (power loss, a kernel crash; not the process's end): the fs
   * driver flushes neither the file nor its directory entry, and after such a stop the object may
   * be missing, empty, damaged or (a replace) back to its earlier bytes, which its readers must
   * take. S3 stores every object durably.
   * Default true.
   */
  durable?: boolean;
}

/** What a staged write or a file put stored. */
export interface Committed {
  etag: string;
  /**
   * With `contentAddressed` only: this write made the object, there was none under the key. Left
   * out when an object already there was kept (the fs driver; S3 below one part, where the backend
   * enforces `If-None-Match`), replaced (an S3 multipart upload, whose completion cannot tell), or
   * may have been: then the object may have been there unreferenced for longer than garbage
   * collection's grace period, and a record about to point at it claims it first
   * (blobs/blob-claims.ts).
   */
  created?: true;
}

/**
 * An object being written that nobody can see until {@link StagedObject.commit}: an S3 multipart
 * upload (completed on commit, aborted otherwise) or an fs temporary file (moved into place on
 * commit). It lets a publish store an archive while the archive is still being checked.
 */
export interface StagedObject {
  /** Write the bytes here, then end it. */
  readonly stream: Writable;
  /** Once every byte is stored, makes the object visible under its key; rejects if writing failed. */
  commit(): Promise<Committed>;
  /** Discards what was written: nothing becomes visible. Safe after a failure, and more than once. */
  abort(): Promise<void>;
}

export interface StageOptions {
  contentType?: string;
  /**
   * The key names its content (a digest): an object already under it holds the same bytes, so a
   * commit may keep that one instead of replacing it. The fs driver then places the file with a
   * hard link that fails on an existing name, without taking the key's lock.
   */
  contentAddressed?: boolean;
}

export interface PutFileOptions extends StageOptions {
  /**
   * The caller's flush of the file's bytes (an fdatasync it started once the file was written),
   * which a driver that takes the file over awaits instead of flushing them again; when it fails,
   * the driver flushes them itself.
   */
  flushed?: Promise<void>;
}

export interface DeleteOptions {
  /**
   * Sent once, never tried again: a delete whose answer was lost must not land later, after the
   * object was made again (garbage collection's removal of a blob, which a publish may store anew
   * without a claim: blobs/blob-claims.ts). A failure then may or may not have deleted the object.
   */
  once?: boolean;
}

export interface ListOptions {
  /** List keys strictly after this one (S3 ListObjectsV2 `StartAfter`). */
  startAfter?: string;
  /** Stop after this many keys. */
  limit?: number;
  /**
   * The caller reads only `key`: the other fields may be left empty (size 0, etag '', the epoch),
   * which spares the fs store a stat per key. For polls that list many keys they have seen.
   */
  keysOnly?: boolean;
  /**
   * The caller holds every key it listed before this time (ms) and wants what changed since: a
   * store may leave out keys it can tell are older. The fs store leaves out the files of a folder
   * whose time is older (every write here adds, replaces or removes a folder's entry, which moves
   * the folder's time), still looking into its subfolders; S3 lists everything.
   */
  modifiedSince?: number;
}

export interface ObjectStore {
  /** "fs /var/lib/packyard" or "s3 http://127.0.0.1:7480 bucket/prefix", for logs. */
  readonly description: string;
  /**
   * Whether the backend itself enforces `ifNoneMatch` / `ifMatch` across processes. When false,
   * the store has been wrapped to serialise conditional writes inside this process, and only one
   * server process may use the backend.
   */
  readonly conditionalWrites: boolean;

  /** Writes a small object (records, change entries). */
  put(key: string, body: Buffer | string, options?: PutOptions): Promise<{ etag: string }>;
  /**
   * Appends `body` to an existing object whose ETag is still `ifMatch`, in place, and makes it
   * durable: the object then reads as its earlier bytes followed by `body` (a crash during the
   * append may leave a part of `body` behind). For objects with one writer (an audit entry,
   * settled by the request that began it): the ETag tells a changed or missing object, not a
   * concurrent appender. Drivers whose objects cannot grow in place (S3) do not offer it.
   */
  append?(key: string, body: Buffer, options: { ifMatch: string }): Promise<{ etag: string }>;
  /** Starts writing an object that becomes visible only when committed (no conditions). */
  stage(key: string, options?: StageOptions): StagedObject;
  /**
   * Stores a local file the caller has finished writing as `key`, like a staged write of its bytes
   * (no conditions; with `contentAddressed`, an object already there may be kept). The fs driver takes
   * the file over without copying it when it is on the same filesystem (a hard link), so the caller
   * must not change the file afterwards, only remove it; other drivers upload it.
   */
  putFile(key: string, file: string, options?: PutFileOptions): Promise<Committed>;
  /** Streams an object, or a byte range of it; null when the key does not exist. */
  get(key: string, options?: { range?: { start: number; end?: number } }): Promise<ObjectRead | null>;
  /**
   * Opens an object kept as a local file (the fs driver), so that a large one can be sent with
   * positional reads into reused buffers instead of a stream's fresh buffer per chunk; null when
   * the key does not exist. Drivers whose objects are remote do not offer it.
   */
  openLocal?(key: string): Promise<LocalObject | null>;
  /** Reads a whole object into memory; null when the key does not exist. */
  getBuffer(key: string): Promise<{ body: Buffer; etag: string } | null>;
  head(key: string): Promise<StoredObject | null>;
  /** Deletes a key; deleting a missing key is not an error. */
  delete(key: string, options?: DeleteOptions): Promise<void>;
  /** Keys under `prefix`, in ascending byte order, page by page as the caller iterates. */
  list(prefix: string, options?: ListOptions): AsyncIterable<StoredObject>;
  /**
   * A short-lived URL from which a client may GET the object directly, without credentials; only
   * on backends configured to offer it (S3 with presigned downloads).
   */
  downloadUrl?(
    key: string,
    options: { expiresSeconds: number; filename?: string; contentType?: string },
  ): Promise<string>;
  /** Cheap round trip to the backend for readiness checks; throws when it is unreachable. */
  ping(): Promise<void>;
  /**
   * Resolves once a check of the backend still running after the store was opened is over (S3
   * opened with `checkInBackground`: the conditional-write probe); rejects with the start-up
   * error it found. Until then `conditionalWrites` is not known. Absent: nothing is running.
   */
  ready?(): Promise<void>;
  /** Releases connections and timers. */
  close(): Promise<void>;
}

/** A conditional write lost: the key exists (`ifNoneMatch`) or changed (`ifMatch`). */
export class PreconditionFailedError extends Error {
  readonly key: string;
  constructor(key: string) {
    super(`precondition failed for ${key}`);
    this.name = 'PreconditionFailedError';
    this.key = key;
  }
}

export function isPreconditionFailed(error: unknown): error is PreconditionFailedError {
  return error instanceof PreconditionFailedError;
}

/** Writes `body` as `key` only when the key does not exist yet: its ETag, or null when it did. */
export async function createOnce(
  store: ObjectStore,
  key: string,
  body: Buffer | string,
  options: Pick<PutOptions, 'contentType' | 'after'> = {},
): Promise<string | null> {
  try {
    return (await store.put(key, body, { ...options, ifNoneMatch: '*' })).etag;
  } catch (err) {
    if (isPreconditionFailed(err)) return null;
    throw err;
  }
}

/**
 * The backend cannot be reached (connection refused, timeout, 5xx): the request may be retried.
 * The answer names no endpoint, bucket, path or driver error: anonymous callers see it. The
 * details go to the log instead, through the cause (pino's error serializer prints causes).
 */
export function storageUnavailable(description: string, cause: unknown): PackError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return registryError('STORAGE_UNAVAILABLE', 'storage is unavailable', {
    cause: new Error(`${description}: ${reason}`, { cause }),
  });
}

/** Whether a system error with one of `codes` is anywhere in `err`'s chain of causes. */
function codeInCauses(err: unknown, codes: ReadonlySet<unknown>): boolean {
  for (let at: unknown = err, depth = 0; at !== null && typeof at === 'object' && depth < 8; depth++) {
    const { code, cause } = at as { code?: unknown; cause?: unknown };
    if (codes.has(code)) return true;
    at = cause;
  }
  return false;
}

const FULL = new Set<unknown>(['ENOSPC', 'EDQUOT']);
/** A local disk refusing the registry: mounted read-only, or its files' owner or modes changed under it. */
const REFUSING = new Set<unknown>(['EROFS', 'EACCES', 'EPERM']);

/** ENOSPC or EDQUOT anywhere in `err`'s chain of causes: a disk or a quota is full. */
export function isDiskFull(err: unknown): boolean {
  return codeInCauses(err, FULL);
}

/**
 * EROFS, EACCES or EPERM anywhere in `err`'s chain of causes: the local disk (the fs store, the
 * upload area) refuses the registry, which only its operator can mend; no request causes it (keys
 * and paths are the registry's own).
 */
export function isDiskRefusing(err: unknown): boolean {
  return codeInCauses(err, REFUSING);
}

/**
 * The local disk (uploads, the fs store) has no space left: 507, nothing was stored. Like
 * {@link storageUnavailable}, the answer names no path; the cause goes to the log.
 */
export function storageFull(cause: unknown): PackError {
  return registryError('STORAGE_FULL', 'the registry has no disk space left to store this', {
    cause,
  });
}

/** `err` as {@link storageFull} when it says the disk is full, else unchanged. */
export function diskFullAsStorageFull(err: unknown): unknown {
  return isDiskFull(err) && !(err instanceof PackError) ? storageFull(err) : err;
}

const KEY_SEGMENT = /^[A-Za-z0-9._~@+=%-]+$/;
/** A key segment is a file or directory name on the fs store: Linux's NAME_MAX (ASCII only, so bytes). */
const MAX_SEGMENT_BYTES = 255;
const KEY_RULE =
  'names, versions and other identifiers must form a storage key: at most 900 bytes in all, of letters, digits and . _ ~ @ + = % - in /-separated segments of at most 255 bytes (a file name), none of them "." or ".."';

/**
 * A key no backend may store, as a client error: names and versions are validated where they
 * enter, so this is the second lock on the door, and no input may turn it into a 5xx. The key
 * itself is not repeated in the answer.
 */
export function invalidKey(what = 'key'): PackError {
  return registryError('INVALID_NAME', `invalid storage ${what}: a name or version in the request cannot be stored`, {
    hint: KEY_RULE,
  });
}

/**
 * Keys are at most 900 bytes of `[A-Za-z0-9._~@+=%-]` segments of at most 255 bytes joined by
 * `/`, with no empty, "." or ".." segment, so that no key can name a file outside the fs driver's
 * root, every segment is a file name the fs driver can make (NAME_MAX), and every backend orders
 * them the same way (plain byte order). Throws INVALID_NAME (400) otherwise.
 */
export function assertValidKey(key: string): void {
  if (!isValidKey(key)) throw invalidKey();
}

function isValidKey(key: string): boolean {
  if (key.length === 0 || key.length > 900) return false;
  return key
    .split('/')
    .every(
      (segment) =>
        segment.length <= MAX_SEGMENT_BYTES && KEY_SEGMENT.test(segment) && segment !== '.' && segment !== '..',
    );
}

/**
 * A list prefix may end mid-segment ("changes/17"); with a letter after it, it must still make a
 * valid key, so that no prefix can reach outside the store either.
 */
export function assertValidPrefix(prefix: string): void {
  if (!isValidKey(`${prefix}x`)) throw invalidKey('key prefix');
}

/** A key segment for arbitrary text (a pack version, say): percent-encoded, so always valid. */
export function keySegment(text: string): string {
  // encodeURIComponent leaves !'()* alone; they are not in the key alphabet.
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** {@link ObjectStore.putFile} for a driver that has nothing better: the file's bytes, staged. */
export async function putFileStaged(
  stage: ObjectStore['stage'],
  key: string,
  file: string,
  options?: StageOptions,
): Promise<Committed> {
  const staged = stage(key, options);
  try {
    await pipeline(createReadStream(file), staged.stream);
    return await staged.commit();
  } catch (err) {
    await staged.abort();
    throw err;
  }
}
