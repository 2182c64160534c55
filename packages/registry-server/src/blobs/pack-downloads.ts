/**
 * Downloads of packs, in one place: a version's archive (ETag = digest, Repr-Digest/Digest,
 * Range, If-None-Match, If-Range), answered with a redirect to a presigned storage URL, from the
 * local blob cache, or streamed from storage (filling the cache); and single files out of it
 * (values.yaml, README.md, logo.png) read with ranged requests, without fetching the whole
 * archive, with their media type from mime-types. The routes (routes/downloads.ts) authorize and
 * find the version record; everything after is here, counting archive downloads too (in memory,
 * ./download-counts.ts).
 *
 * Single files are read through an archive opened once per digest (OpenedArchives): its source
 * holds no request state and reads the blob cache or storage by digest for each range. The
 * ranges a request opens are its own, though: they are tracked (AsyncLocalStorage, since the zip
 * reader opens them on its own) and destroyed when the response closes, so that a client that
 * goes away mid-body leaves no file descriptor or storage connection behind.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import { createRequire } from 'node:module';
import type * as MimeTypes from 'mime-types';
import {
  isPackError,
  openStoredPackArchive,
  type PackError,
  type ArchiveSource,
  type PackArchive,
} from '@packyard/pack-core';
import type { RegistryRecord, VersionRecord } from '../catalog/records.js';
import { registryError } from '../errors.js';
import { byteRange, rangeNotSatisfiable, type ByteRange } from '../http/byte-range.js';
import { sendFile } from '../http/send-file.js';
import type { RegistryServices } from '../services.js';
import { storageUnavailable } from '../storage/object-store.js';
import { blobKey, readBlob } from './blob-store.js';
import { OpenedArchives } from './opened-archives.js';

const require = createRequire(import.meta.url);
let mimeTypesModule: typeof MimeTypes | undefined;
/** mime-types, loaded by the first file read (it builds its tables from mime-db when loaded). */
function mimeTypes(): typeof MimeTypes {
  return (mimeTypesModule ??= require('mime-types') as typeof MimeTypes);
}

/** What downloads need of the registry's services. */
export type DownloadServices = Pick<RegistryServices, 'store' | 'config' | 'blobCache' | 'metrics'>;
/** What archive downloads need besides: the download counts (./download-counts.ts). */
export type ArchiveServices = DownloadServices & Pick<RegistryServices, 'downloads'>;

/** A version to download from, once the caller may read it. */
export interface DownloadSource {
  registry: RegistryRecord;
  record: VersionRecord;
}

/** How long a redirect to a presigned download URL stays usable. */
const DOWNLOAD_URL_SECONDS = 300;
/**
 * Opened archives kept: at most this many, holding at most this many directory entries in all (a
 * parsed entry takes about 1.1 KB of heap: 50,000 entries, about 55 MB).
 */
const OPENED_ARCHIVES = { maxArchives: 256, maxEntries: 50_000 };

/** The streams the current request's reads of an archive opened (see the module comment). */
const requestStreams = new AsyncLocalStorage<Set<Readable>>();

/**
 * Media types that mime-db does not give as the registry does: YAML is `application/yaml` since
 * RFC 9512 (mime-db still maps .yaml to the older text/yaml), and a .tgz is a gzip stream.
 */
const REGISTERED_TYPES: Record<string, string> = {
  '.yaml': 'application/yaml',
  '.yml': 'application/yaml',
  '.tgz': 'application/gzip',
};

/** The media type of a file in a pack, by its extension (express's `res.set` adds the charset of text). */
function contentTypeOf(file: string): string {
  return REGISTERED_TYPES[path.extname(file).toLowerCase()] ?? (mimeTypes().lookup(file) || 'application/octet-stream');
}

function sha256Base64(digest: string): string {
  return Buffer.from(digest.slice('sha256:'.length), 'hex').toString('base64');
}

/** The single byte range asked for, null for the whole archive; throws 416 when unsatisfiable. */
function requestedRange(req: Request, size: number, etag: string): ByteRange | null {
  const ifRange = req.headers['if-range'];
  // A stale If-Range means "send everything" (RFC 9110 13.1.5).
  if (ifRange !== undefined && ifRange !== etag) return null;
  const range = byteRange(req.headers.range, size);
  if (range === 'unsatisfiable') throw rangeNotSatisfiable(size);
  return range;
}

/** Revalidated on every use (a forced overwrite changes the bytes); shared caches only for public registries. */
function cacheControl(registry: RegistryRecord): string {
  return registry.public ? 'public, no-cache' : 'private, no-cache';
}

async function sendArchive(services: ArchiveServices, req: Request, res: Response, source: DownloadSource) {
  const { record } = source;
  const etag = `"${record.digest}"`;
  const b64 = sha256Base64(record.digest);
  res.set({
    ETag: etag,
    'Repr-Digest': `sha-256=:${b64}:`,
    Digest: `SHA-256=${b64}`,
    'Accept-Ranges': 'bytes',
    'Cache-Control': cacheControl(source.registry),
    'Content-Type': 'application/zip',
    'Content-Disposition': `attachment; filename="${record.name}-${record.version}.zip"`,
    'X-Pack-Version': record.version,
  });
  if (req.fresh) {
    res.status(304).end();
    return;
  }
  let range: { start: number; end: number } | null;
  try {
    range = requestedRange(req, record.size, etag);
  } catch (err) {
    res.set('Content-Range', `bytes */${record.size}`);
    throw err;
  }
  if (range) {
    res.status(206).set('Content-Range', `bytes ${range.start}-${range.end}/${record.size}`);
    res.set('Content-Length', String(range.end - range.start + 1));
  } else {
    res.status(200).set({ 'Content-Length': String(record.size), 'Content-Digest': `sha-256=:${b64}:` });
  }
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  // A download, once: the whole archive or its first bytes, not the rest of a resumed one.
  const counted = range === null || range.start === 0;
  if (services.store.downloadUrl) {
    // Authorized here; the bytes come straight from the bucket through a URL valid for minutes.
    const url = await services.store.downloadUrl(blobKey(record.digest), {
      expiresSeconds: DOWNLOAD_URL_SECONDS,
      filename: `${record.name}-${record.version}.zip`,
      contentType: 'application/zip',
    });
    services.metrics.downloads.inc({ scope: source.registry.scope });
    if (counted) services.downloads.count(source.registry.name, record.name, record.version);
    res.removeHeader('Content-Length');
    res.removeHeader('Content-Range');
    res.removeHeader('Content-Digest');
    res.status(307).set({ Location: url, 'Cache-Control': 'no-store' }).end();
    return;
  }
  services.metrics.downloads.inc({ scope: source.registry.scope });
  if (counted) services.downloads.count(source.registry.name, record.name, record.version);
  const sent = await sendBlob(services, res, record, range);
  services.metrics.downloadBytes.inc(sent);
}

/**
 * Writes a blob's bytes (or a range of them) to `res` and ends it; resolves with the bytes sent.
 * From the local blob cache when it holds the blob (S3), from the store's own file where objects
 * are local files (fs), both by positional reads into reused buffers (http/send-file.ts); else
 * streamed from storage, keeping a copy in the cache as a whole sha256 blob streams past.
 */
export async function sendBlob(
  services: DownloadServices,
  res: Response,
  blob: { digest: string; size: number },
  range: { start: number; end: number } | null,
): Promise<number> {
  const whole = range ?? { start: 0, end: blob.size - 1 };
  // The cache holds sha256 blobs only (it checks what it keeps against the digest).
  const cache = blob.digest.startsWith('sha256:') ? services.blobCache : null;
  const cached = await cache?.get(blob.digest);
  if (cached) {
    services.metrics.blobCache.inc({ result: 'hit' });
    const sent = await sendFile(cached.file, res, whole);
    res.end();
    return sent;
  }
  const local = await services.store.openLocal?.(blobKey(blob.digest));
  if (local === null) {
    throw registryError('BLOB_MISSING', `the archive ${blob.digest} is missing from storage`);
  }
  if (local) {
    const sent = await sendFile(local.handle, res, whole);
    res.end();
    return sent;
  }
  const streams = await archiveStreams({ ...services, blobCache: cache ?? null }, blob, range);
  let sent = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sent += chunk.length;
      callback(null, chunk);
    },
  });
  await pipeline([...streams, counted, res]);
  return sent;
}

/**
 * The archive's (or a sha256 OCI blob's) bytes, or a range of them, not in the local blob cache,
 * as a chain of streams from storage, keeping a copy in the cache as a whole one streams past.
 */
async function archiveStreams(
  services: DownloadServices,
  record: { digest: string; size: number },
  range: { start: number; end: number } | null,
): Promise<[Readable, ...Transform[]]> {
  const cache = services.blobCache;
  if (cache) services.metrics.blobCache.inc({ result: 'miss' });
  const blob = await readBlob(services.store, record.digest, range ?? undefined);
  const fill = range ? null : cache?.fill(record.digest, record.size);
  if (!fill) return [blob.body];
  let keeping = true;
  const tee = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      keeping &&= fill.write(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      void fill.end();
      callback();
    },
  });
  // A download that stops early leaves nothing in the cache.
  tee.once('close', () => {
    if (!tee.writableFinished) fill.abort();
  });
  return [blob.body, tee];
}

/**
 * Bytes `start` to `end` (inclusive) of the archive `digest`: from the blob cache when it holds
 * it, else from storage (also when the cached copy was evicted in between).
 */
async function openRange(
  services: DownloadServices,
  digest: string,
  range: { start: number; end: number },
): Promise<Readable> {
  const cached = await services.blobCache?.get(digest);
  if (cached) {
    const handle = await open(cached.file, 'r').catch(() => null);
    if (handle) return handle.createReadStream({ ...range, autoClose: true });
  }
  return (await readBlob(services.store, digest, range)).body;
}

/**
 * A failed read of an archive's bytes as the storage fault it is (503, or the PackError storage
 * raised): the zip reader would otherwise report it as an unreadable archive.
 */
function readFailure(services: DownloadServices, err: unknown): PackError {
  if (isPackError(err)) return err;
  return storageUnavailable(services.store.description, err);
}

/**
 * Ranged reads of a stored archive, by digest, for reading one entry without downloading the
 * rest. Stateless, so that the opened archive can be kept and shared (OpenedArchives); each
 * stream it opens is added to the current request's set (requestStreams).
 */
function archiveSource(services: DownloadServices, digest: string, size: number): ArchiveSource {
  return {
    size: () => Promise.resolve(size),
    stream(offset, length) {
      const out = new PassThrough();
      requestStreams.getStore()?.add(out);
      const end = length === undefined ? size - 1 : Math.min(offset + length, size) - 1;
      openRange(services, digest, { start: offset, end }).then(
        (body) => {
          if (out.destroyed) {
            body.destroy();
            return;
          }
          // A reader that stops early must not leave the file or the S3 connection open.
          out.once('close', () => body.destroy());
          body.on('error', (err: Error) => out.destroy(readFailure(services, err))).pipe(out);
        },
        (err: unknown) => out.destroy(readFailure(services, err)),
      );
      return out;
    },
  };
}

/**
 * The storage failure behind a failed read, if there was one: the zip reader reports a read that
 * failed as an unreadable archive (422, with the cause's text in its message), which would both
 * misstate the fault and show storage details to the client.
 */
function storageFault(err: unknown): PackError | null {
  for (let at: unknown = err, depth = 0; at instanceof Error && depth < 8; depth++) {
    if (isPackError(at) && at.status >= 500) return at;
    at = at.cause;
  }
  return null;
}

/** Streams `file` out of `archive` into `res`; every range the read opened is closed when `res` closes. */
async function sendEntry(archive: PackArchive, file: string, res: Response): Promise<void> {
  const streams = new Set<Readable>();
  const release = (): void => {
    for (const stream of streams) stream.destroy();
    streams.clear();
  };
  res.once('close', release);
  try {
    const stream = requestStreams.run(streams, () => archive.stream(file));
    await pipeline(stream, res);
  } catch (err) {
    throw storageFault(err) ?? err;
  } finally {
    res.off('close', release);
    release();
  }
}

/** Sends one file of an archive. */
async function sendArchiveFile(
  services: DownloadServices,
  archives: OpenedArchives,
  req: Request,
  res: Response,
  source: DownloadSource & { file: string },
): Promise<void> {
  const { registry, record, file } = source;
  const entry = record.files.find((f) => f.path === file);
  if (!entry) {
    throw registryError('FILE_NOT_FOUND', `${record.name}@${record.version} has no file ${file}`, {
      hint: `the version record (GET .../packs/${record.name}/${record.version}) lists its files`,
    });
  }
  const etag = `"${record.digest}:${file}"`;
  res.set({
    ETag: etag,
    'Content-Type': contentTypeOf(file),
    'Content-Length': String(entry.size),
    'Cache-Control': cacheControl(registry),
    // Files are the publisher's content: never let a browser run them in the registry's origin.
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; sandbox",
  });
  if (req.fresh) {
    res.status(304).end();
    return;
  }
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  if (services.blobCache) {
    const cached = await services.blobCache.get(record.digest);
    services.metrics.blobCache.inc({ result: cached ? 'hit' : 'miss' });
  }
  const archive = await archives
    .get(record.digest, () =>
      openStoredPackArchive(archiveSource(services, record.digest, record.size), services.config.limits.archive),
    )
    .catch((err: unknown) => {
      throw storageFault(err) ?? err;
    });
  await sendEntry(archive, file, res);
}

/**
 * The download pipeline of a registry: one per app, as it keeps the archives it has opened.
 *
 * @example
 * const downloads = new PackDownloads(services);
 * await downloads.archive(req, res, { registry, record });
 */
export class PackDownloads {
  private readonly archives = new OpenedArchives(OPENED_ARCHIVES);

  constructor(private readonly services: ArchiveServices) {}

  /**
   * Answers with the archive of `source.record` (or a range of it, a 304, or a redirect); counts
   * the download (./download-counts.ts says which answers count).
   */
  archive(req: Request, res: Response, source: DownloadSource): Promise<void> {
    return sendArchive(this.services, req, res, source);
  }

  /** Answers with the file `source.file` of the archive of `source.record` (or a 304). */
  file(req: Request, res: Response, source: DownloadSource & { file: string }): Promise<void> {
    return sendArchiveFile(this.services, this.archives, req, res, source);
  }
}
