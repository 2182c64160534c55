/**
 * Receiving a pack upload: the request body (a raw zip, or the first file of a
 * multipart/form-data body) is streamed to a temporary file while its size is held under the
 * limit, and its sha256 is computed off the main thread (upload-hasher.ts). Nothing is
 * buffered whole; on any failure the temporary file is removed.
 *
 * The digest the client announces is known before the body is read, so that the caller can have a
 * copy of the body follow the file as it grows (the blob streams to storage while it arrives).
 *
 * Every path settles: a client that goes away mid-body (a torn request: Node then drops
 * `req.socket`) fails the upload with UPLOAD_ABORTED, whether the body is raw or multipart, and a
 * full disk fails it with STORAGE_FULL (507).
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { finished, type Readable, Transform, type Writable } from 'node:stream';
import busboy from 'busboy';
import { PackError, pipelineUntilClosed, type BlockChecksums } from '@packyard/pack-core';
import { makePrivateDir } from '../storage/file-modes.js';
import { removeFile } from '../storage/fs-files.js';
import type { FsCallsKind } from '../storage/fs-calls.js';
import { isDiskFull, storageFull } from '../storage/object-store.js';
import { tempName } from '../storage/temp-files.js';
import { followInto, GrowingFile } from './growing-file.js';
import type { UploadHasher } from './upload-hasher.js';
import { registryError } from '../errors.js';
import { bodyReceived } from '../v8-policy.js';

export interface ReceivedUpload {
  file: string;
  size: number;
  /** "sha256:<hex>". */
  digest: string;
  /** "sha256-<base64>" (Subresource Integrity, see upload-hasher.ts). */
  integrity: string;
  /** CRC-32s of the file's blocks (see UploadDigests). */
  blocks: BlockChecksums;
  /** Text fields of a multipart body (`message`, say). */
  fields: Record<string, string>;
  /**
   * The file's bytes on their way to disk, when asked for (`flush`): resolved once they are
   * there. The store taking the file over awaits it instead of flushing the bytes again.
   */
  flushed?: Promise<void>;
  /** Removes the temporary file; safe to call twice. */
  discard(): Promise<void>;
}

export interface ReceiveOptions {
  /** Directory for temporary files (created when missing). */
  dir: string;
  maxBytes: number;
  hasher: UploadHasher;
  /**
   * The file will be kept as it is (the fs store takes it over as the blob): its bytes go to disk
   * while its hash is finished, so that taking it over does not wait for them.
   */
  flush?: boolean;
  /**
   * How the file is written: `direct` when `dir` is on a local filesystem (see
   * storage/fs-calls.ts; a small upload then costs no trip through libuv's pool but its flush),
   * `pooled` (default) otherwise.
   */
  calls?: FsCallsKind;
  /** The `digest` query parameter, if any. */
  query?: string;
}

/**
 * An upload whose body has not been read yet: its headers (and, for multipart, the fields before
 * the file) are checked, and the digest the client announced is known, so that the caller can
 * prepare a copy of the body (a staged blob) before calling {@link StartedUpload.receive}.
 */
export interface StartedUpload {
  /** The sha256 the client announced ("sha256:<hex>"), or null. */
  announced: string | null;
  /** The most bytes the file can have (the request's Content-Length), when the client said. */
  atMost: number | undefined;
  /**
   * Streams the body to a temporary file, hashing it, and also into `copy` when given (the file
   * is followed at the copy's own pace, then `copy` is ended; on failure, the caller discards it).
   */
  receive(copy: Writable | null): Promise<ReceivedUpload>;
  /** Gives up before {@link receive}: the body is left unread; returns the error to answer with. */
  cancel(err: unknown): Promise<unknown>;
}

/**
 * The sha256 the client announces for the body, as "sha256:<hex>": RFC 9530's
 * `Content-Digest: sha-256=:<base64>:`, or `?digest=sha256:<hex>`. Null when none is given.
 */
export function announcedDigest(request: IncomingMessage, query: string | undefined): string | null {
  if (query !== undefined) {
    if (!/^sha256:[0-9a-f]{64}$/.test(query)) throw invalidDigest(`digest=${query}`);
    return query;
  }
  const raw = request.headers['content-digest'];
  if (raw === undefined) return null;
  const header = Array.isArray(raw) ? raw.join(',') : raw;
  const match = /(?:^|,)\s*sha-256=:([A-Za-z0-9+/]{43}=):/.exec(header);
  if (!match?.[1]) throw invalidDigest(`Content-Digest: ${header}`);
  return `sha256:${Buffer.from(match[1], 'base64').toString('hex')}`;
}

function invalidDigest(given: string): PackError {
  return registryError('INVALID_DIGEST', `${given} is not a sha256 digest`);
}

function tooLarge(maxBytes: number): PackError {
  return registryError('UPLOAD_TOO_LARGE', `the upload is larger than the limit of ${maxBytes} bytes`);
}

function aborted(): PackError {
  return registryError('UPLOAD_ABORTED', 'the client closed the connection before the upload ended');
}

/** Files from this size on are flushed before the upload counts as received (while the hash finishes). */
const FLUSH_AHEAD_BYTES = 1024 * 1024;

/**
 * The file an upload is received into: written as `options.calls` says, flushed once complete
 * when asked for (`flush`), its directory made when missing.
 */
function uploadFile(file: string, options: ReceiveOptions): GrowingFile {
  return new GrowingFile(file, {
    calls: options.calls ?? 'pooled',
    flush: options.flush === true,
    makeDir: () => makePrivateDir(options.dir),
  });
}

/**
 * The received file's bytes on their way to disk, when asked for (`flush`: the file flushes
 * itself once complete, see GrowingFile). `now` is what the receive awaits: a large file's
 * flush, with its hash. A smaller one (hashed as it arrived, so there is nothing to overlap with
 * here) is left running while the pack is inspected, and awaited by the store when it takes the
 * file over (`all`).
 */
function flushing(sink: GrowingFile): { now: Promise<void> | undefined; all: Promise<void> | undefined } {
  const flushed = sink.flushed;
  return { now: sink.written < FLUSH_AHEAD_BYTES ? undefined : flushed, all: flushed };
}

/** Counts the bytes passing through, failing past `maxBytes`. */
function sizeLimit(maxBytes: number): Transform {
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      bodyReceived(chunk);
      callback(size > maxBytes ? tooLarge(maxBytes) : null, chunk);
    },
  });
}

/**
 * Calls `onTorn` if the client goes away before the whole body has arrived, whether that happens
 * later or already has; returns a function that stops watching. (A torn request emits 'close'
 * with `complete` false; by the time it does, Node has dropped `req.socket`.)
 */
function whenTorn(request: IncomingMessage, onTorn: () => void): () => void {
  const check = (): void => {
    if (!request.complete) onTorn();
  };
  if (request.destroyed) {
    check();
    return () => undefined;
  }
  request.once('close', check);
  return () => {
    request.off('close', check);
  };
}

function malformedMultipart(err: Error): PackError {
  return registryError('UPLOAD_INVALID', `malformed multipart request (${err.message})`, {
    cause: err,
  });
}

/** The file part of a multipart body being parsed, and how to stop the parser. */
interface MultipartFile {
  file: Readable;
  /** Stops parsing (the rest of the body is left unread); safe to call twice. */
  stop(): void;
}

/**
 * The file part of a multipart/form-data request, and the text fields before it. Settles in
 * every case: a malformed body, a body without a file and a client that goes away all reject.
 */
function multipartFile(
  request: IncomingMessage,
  fields: Record<string, string>,
  maxBytes: number,
): Promise<MultipartFile> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: request.headers,
        limits: { files: 1, fields: 20, fieldSize: 64 * 1024, fileSize: maxBytes + 1 },
      });
    } catch (err) {
      reject(malformedMultipart(err as Error));
      return;
    }
    let file: Readable | null = null;
    const stop = (): void => {
      unwatch();
      request.unpipe(parser);
      parser.destroy();
    };
    // Until the file part is found, a torn request rejects; after, it fails the file stream
    // (which receive() is reading by then).
    const unwatch = whenTorn(request, () => {
      if (file) file.destroy(aborted());
      else reject(aborted());
      stop();
    });
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (_name, stream) => {
      file = stream;
      // Until receive() reads it, a failure is kept on the stream (`errored`), not thrown.
      stream.on('error', () => undefined);
      resolve({ file: stream, stop });
    });
    parser.on('error', (err: Error) => {
      const error = malformedMultipart(err);
      if (file) file.destroy(error);
      else reject(error);
      stop();
    });
    parser.on('close', () => {
      if (!file) {
        reject(registryError('UPLOAD_EMPTY', 'the multipart request holds no file'));
      }
    });
    request.pipe(parser);
  });
}

/**
 * What a failure while receiving means for the client: a full disk is 507 STORAGE_FULL, a
 * stream that closed early is the client going away; the PackErrors raised on the way (the size
 * limit, a malformed body) stand as they are.
 */
function receiveError(err: unknown, request: IncomingMessage): unknown {
  if (err instanceof PackError) return err;
  if (isDiskFull(err)) return storageFull(err);
  const torn = request.destroyed && !request.complete;
  if (torn || (err as NodeJS.ErrnoException | null)?.code === 'ERR_STREAM_PREMATURE_CLOSE') return aborted();
  return err;
}

/**
 * Starts receiving a pack upload into `options.dir`: the declared size, the multipart fields
 * before the file and the announced digest are checked first. Every path settles, a client that
 * goes away included; on any failure nothing is left behind (temporary file, parser). The request
 * itself is never destroyed here: when the upload is refused (too large, say) the rest of the
 * body is left unread, so that the answer can still reach the client.
 *
 * @example
 * const started = await startUpload(req, { dir: '/var/lib/packyard/tmp', maxBytes: 2 ** 31, hasher });
 * const upload = await started.receive(null);
 * try { ... } finally { await upload.discard(); }
 */
export async function startUpload(request: IncomingMessage, options: ReceiveOptions): Promise<StartedUpload> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxBytes) throw tooLarge(options.maxBytes);
  const file = path.join(options.dir, tempName('.zip'));
  const discard = () => removeFile(file);
  const fields: Record<string, string> = {};
  const type = (request.headers['content-type'] ?? '').toLowerCase();
  let multipart: MultipartFile | null = null;
  const fail = async (err: unknown): Promise<unknown> => {
    if (!request.complete) request.unpipe();
    multipart?.stop();
    await discard();
    return receiveError(err, request);
  };
  let announced: string | null;
  try {
    multipart = type.startsWith('multipart/form-data') ? await multipartFile(request, fields, options.maxBytes) : null;
    announced = announcedDigest(request, options.query);
  } catch (err) {
    throw await fail(err);
  }
  const source: Readable = multipart ? multipart.file : request;

  const receive = async (copy: Writable | null): Promise<ReceivedUpload> => {
    const limit = sizeLimit(options.maxBytes);
    let unwatch = (): void => undefined;
    try {
      // Piped, not put in the pipeline: a pipeline would destroy the request on failure, and
      // with it the connection the answer has to go out on. (The request itself gets no 'error'
      // listener: a torn request is told by whenTorn, as UPLOAD_ABORTED.) A multipart file part
      // may have failed already, while the copy was being prepared: `finished` tells that too.
      if (multipart) {
        finished(multipart.file, (err) => {
          if (err) limit.destroy(err);
        });
      }
      unwatch = whenTorn(request, () => limit.destroy(aborted()));
      source.pipe(limit);
      const sink = uploadFile(file, options);
      const hashed = options.hasher.follow(sink);
      hashed.catch(() => undefined);
      if (copy) {
        // The copy follows the file as it grows; its tail overlaps what the caller does next.
        followInto(sink, copy).catch((err: unknown) => copy.destroy(err as Error));
      }
      // The file is closed before it is removed on failure (its open may still be queued).
      await pipelineUntilClosed([limit, sink]);
      const size = sink.written;
      if (size === 0) {
        throw registryError('UPLOAD_EMPTY', 'the request body is empty', {
          hint: 'send the pack zip written by `packctl build` as the request body',
        });
      }
      const flushed = flushing(sink);
      const { digest, integrity, blocks } = await hashed;
      await flushed.now;
      if (announced !== null && announced !== digest) {
        throw registryError('DIGEST_MISMATCH', `the body's digest is ${digest}, not the ${announced} announced`);
      }
      return { file, size, digest, integrity, blocks, fields, flushed: flushed.all, discard };
    } catch (err) {
      throw await fail(err);
    } finally {
      unwatch();
    }
  };
  return { announced, atMost: Number.isFinite(declared) ? declared : undefined, receive, cancel: fail };
}

/**
 * A pack archive made on this server (an OCI pack layer turned into a zip) taken in as an upload:
 * copied into `options.dir` and hashed exactly as a request body is, so that the rest of the
 * publish cannot tell the two apart. The copy is the upload's own: `discard` removes it, never
 * `source`.
 *
 * @example
 * const upload = await receiveFile('/tmp/work/pack.zip', { dir, maxBytes, hasher });
 */
export async function receiveFile(source: string, options: Omit<ReceiveOptions, 'query'>): Promise<ReceivedUpload> {
  const file = path.join(options.dir, tempName('.zip'));
  const discard = () => removeFile(file);
  try {
    const sink = uploadFile(file, options);
    const hashed = options.hasher.follow(sink);
    hashed.catch(() => undefined);
    await pipelineUntilClosed([
      createReadStream(source, { highWaterMark: 1024 * 1024 }),
      sizeLimit(options.maxBytes),
      sink,
    ]);
    const size = sink.written;
    if (size === 0) throw registryError('UPLOAD_EMPTY', 'the pack archive is empty');
    const flushed = flushing(sink);
    const { digest, integrity, blocks } = await hashed;
    await flushed.now;
    return { file, size, digest, integrity, blocks, fields: {}, flushed: flushed.all, discard };
  } catch (err) {
    await discard();
    throw isDiskFull(err) ? storageFull(err) : err;
  }
}
