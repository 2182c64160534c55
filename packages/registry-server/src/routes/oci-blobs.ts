/**
 * /v2 blobs and blob uploads: reads with Range, deletes, upload sessions (POST, PATCH, GET, PUT,
 * DELETE), monolithic pushes (`POST ?digest=`, POST then PUT with the body) and cross-repository
 * mounts. The bytes are streamed: a blob is never held in memory.
 */
import type { Request, Response, Router } from 'express';
import { pipeline } from 'node:stream/promises';
import type { PackError } from '@packyard/pack-core';
import { registryError } from '../errors.js';
import { pathParam, queryString } from '../http/params.js';
import { byteRange, rangeNotSatisfiable } from '../http/byte-range.js';
import type { RegistryServices } from '../services.js';
import { receiveBlob, storeBlobFile } from '../oci/blob-writer.js';
import { resolveNamespace, type OciNamespace } from '../oci/namespaces.js';
import { tokenAllows } from '../access/oci-authenticate.js';
import { hiddenFrom, mayOnRegistry } from '../oci/oci-access.js';
import { isRepositoryName, parseDigest, parseUploadId } from '../oci/oci-names.js';
import { isPackRepository } from '../oci/oci-names.js';
import { tooLarge, type UploadSession } from '../oci/upload-sessions.js';
import { sendBlob } from '../blobs/pack-downloads.js';
import { blobKey } from '../storage/layout.js';
import { API_VERSION_HEADER, ociRequest, ownerOf, pushStillAllowed, refOf } from './oci-helpers.js';

function blobUnknown(digest: string): PackError {
  return registryError('BLOB_UNKNOWN', 'blob unknown to registry', { details: { digest } });
}

/** `Range: 0-<last byte>` of what a session holds ("0-0" when empty, as distribution answers). */
function rangeOf(session: UploadSession): string {
  return `0-${Math.max(0, session.size - 1)}`;
}

function sessionHeaders(res: Response, at: OciNamespace, session: UploadSession): void {
  res.set({
    Location: `/v2/${at.name}/blobs/uploads/${session.id}`,
    Range: rangeOf(session),
    'Docker-Upload-UUID': session.id,
  });
}

function rangeInvalid(res: Response, session: UploadSession, why: string): PackError {
  res.set('Range', rangeOf(session));
  return registryError('RANGE_INVALID', `invalid content range: ${why}`);
}

/**
 * Checks a chunk's Content-Range (`<start>-<end>`) and Content-Length against the session: the
 * chunk must start where the upload ends (416 RANGE_INVALID with the current Range otherwise), and
 * fit under the size limit. The size the range announces, when there is one: a body without a
 * Content-Length (chunked encoding) must bring exactly that many bytes.
 */
function checkChunk(req: Request, res: Response, session: UploadSession, maxBytes: number): number | undefined {
  const header = req.get('content-range');
  const length = req.get('content-length');
  const declared = length === undefined ? undefined : Number(length);
  if (declared !== undefined && session.size + declared > maxBytes) throw tooLarge(maxBytes);
  if (header === undefined) return undefined;
  const match = /^(?:bytes[ =])?(\d{1,16})-(\d{1,16})$/.exec(header.trim());
  if (!match) throw rangeInvalid(res, session, 'Content-Range must be <start>-<end>');
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (start !== session.size) throw rangeInvalid(res, session, `the upload holds ${session.size} bytes`);
  if (end < start) throw rangeInvalid(res, session, 'the range ends before it starts');
  if (declared !== undefined && declared !== end - start + 1) {
    throw rangeInvalid(res, session, 'Content-Length is not the size of the range');
  }
  return end - start + 1;
}

/** Appends a chunk; one that is not the size its Content-Range announced leaves the session as it was. */
async function appendChunk(
  services: RegistryServices,
  res: Response,
  session: UploadSession,
  body: Request,
  announced: number | undefined,
): Promise<void> {
  const before = session.size;
  await services.oci.uploads.append(session, body, (received) =>
    announced === undefined || received === announced
      ? null
      : rangeInvalid(res, { ...session, size: before }, `the chunk brought ${received} bytes, not ${announced}`),
  );
}

/** Whether the request carries a body (a chunk to append). */
function hasBody(req: Request): boolean {
  return req.get('transfer-encoding') !== undefined || Number(req.get('content-length') ?? 0) > 0;
}

/** What a monolithic push's body says of itself: its length, when it declares one. */
function monolithicBody(services: RegistryServices, req: Request, digest: string) {
  const length = req.get('transfer-encoding') === undefined ? Number(req.get('content-length')) : NaN;
  return {
    digest,
    maxBytes: services.oci.uploads.maxBytes,
    idleMs: services.oci.bodyIdleMs,
    expectedBytes: Number.isSafeInteger(length) ? length : undefined,
  };
}

/** Ends the session as the blob of `digest`: checked, stored, linked into the repository. */
async function finishUpload(services: RegistryServices, at: OciNamespace, session: UploadSession, digest: string) {
  const done = await services.oci.uploads.finish(session, digest);
  try {
    await storeBlobFile(services.store, done.file, { digest, size: done.size });
    // The verified file is the blob: the local cache (S3) keeps it for the pulls to come.
    if (services.blobCache && digest.startsWith('sha256:')) {
      await services.blobCache.adopt(digest, done.file, done.size).catch((err: unknown) => {
        services.logger.warn({ err, digest }, 'could not keep an uploaded blob in the blob cache');
      });
    }
  } finally {
    await done.discard();
  }
  await services.oci.repositories.linkBlob(refOf(at), digest);
}

function blobCreated(res: Response, at: OciNamespace, digest: string): void {
  res.set({ Location: `/v2/${at.name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
  res.status(201).end();
}

/**
 * Mounts `digest` from repository `from` when the caller may pull there and it holds the blob;
 * without `from`, from wherever this registry's generic repositories hold it (OCI 1.1 automatic
 * mount, within the same registry only: tenants never reach each other's blobs, nor anyone a
 * deleted pack version's). False when it cannot be mounted.
 */
async function mount(services: RegistryServices, req: Request, at: OciNamespace, digest: string, from?: string) {
  const { repositories } = services.oci;
  if (from === undefined) {
    // Two lookups whatever the registry holds (never one per repository).
    if (!(await repositories.registryHolds(at.registry.name, digest))) return false;
    await repositories.linkBlob(refOf(at), digest);
    return true;
  }
  if (!isRepositoryName(from)) return false;
  const source = resolveNamespace(from, (registry) => services.catalog.index.registry(registry));
  if (!source || hiddenFrom(services, req, source.registry) || !mayOnRegistry(services, req, 'pull', source.registry)) {
    return false;
  }
  // Within a registry token's scope only: clients ask for pull on `from` when they mean to mount.
  if (!tokenAllows(req, { type: 'repository', name: from }, 'pull')) return false;
  const size = isPackRepository(source.repository)
    ? await services.oci.packs.blobSize(source, digest)
    : await repositories.blobSize(refOf(source), digest);
  if (size === null || (await repositories.storedSize(digest)) === null) return false;
  await repositories.linkBlob(refOf(at), digest);
  return true;
}

/** How long a presigned blob URL stays valid (as for archive downloads). */
const DOWNLOAD_URL_SECONDS = 300;

/**
 * Sends a generic repository's blob, authorized: a 307 to a presigned bucket URL where the store
 * offers them (`storage.s3.redirectDownloads`), else as pack archives are sent (`sendBlob`: the
 * local blob cache, the fs store's own file, or a stream from storage that fills the cache).
 */
async function sendStoredBlob(
  services: RegistryServices,
  res: Response,
  blob: { digest: string; size: number },
  range: { start: number; end: number } | undefined,
): Promise<void> {
  const { digest } = blob;
  if (services.store.downloadUrl && range === undefined) {
    const url = await services.store.downloadUrl(blobKey(digest), {
      expiresSeconds: DOWNLOAD_URL_SECONDS,
      contentType: 'application/octet-stream',
    });
    res.removeHeader('Content-Length');
    res.status(307).set({ Location: url, 'Cache-Control': 'no-store' }).end();
    return;
  }
  await sendBlob(services, res, blob, range ?? null);
}

/** The answer's headers for a blob of `size` (and the range sent), status set. */
function blobHeaders(res: Response, digest: string, size: number, range?: { start: number; end: number }): void {
  res.set({
    'Content-Type': 'application/octet-stream',
    'Docker-Content-Digest': digest,
    'Accept-Ranges': 'bytes',
    ETag: `"${digest}"`,
  });
  if (range) {
    res.status(206).set({
      'Content-Range': `bytes ${range.start}-${range.end}/${size}`,
      'Content-Length': String(range.end - range.start + 1),
    });
  } else {
    res.status(200).set('Content-Length', String(size));
  }
}

export function registerOciBlobRoutes(router: Router, services: RegistryServices): void {
  const BLOB = '/v2/*repository/blobs/:digest';
  const UPLOADS = '/v2/*repository/blobs/uploads';
  const UPLOAD = '/v2/*repository/blobs/uploads/:uuid';
  // Registering touches no service (the OpenAPI test registers routes without any).
  const uploads = () => services.oci.uploads;
  /**
   * The session a request names, and where: the id's shape is checked before authorization (a
   * hostile id is a 400 whoever asks), then the session must be the caller's own.
   */
  const sessionRequest = (req: Request, res: Response) => {
    const id = parseUploadId(pathParam(req, 'uuid'));
    const at = ociRequest(services, req, res, 'push');
    return { at, session: uploads().get(id, refOf(at), ownerOf(req)) };
  };

  router.get(UPLOAD, (req, res) => {
    const { at, session } = sessionRequest(req, res);
    sessionHeaders(res, at, session);
    res.status(204).end();
  });

  router.patch(UPLOAD, async (req, res) => {
    const { at, session } = sessionRequest(req, res);
    const announced = checkChunk(req, res, session, uploads().maxBytes);
    await appendChunk(services, res, session, req, announced);
    sessionHeaders(res, at, session);
    res.status(202).end();
  });

  router.put(UPLOAD, async (req, res) => {
    const { at, session } = sessionRequest(req, res);
    const digest = parseDigest(queryString(req, 'digest') ?? '');
    const announced = checkChunk(req, res, session, uploads().maxBytes);
    if (session.size === 0 && hasBody(req) && announced === undefined) {
      // POST then PUT with the whole body: monolithic, straight into the store.
      await uploads().cancel(session);
      await uploads().counted(ownerOf(req), () =>
        receiveBlob(services.store, req, monolithicBody(services, req, digest)),
      );
      pushStillAllowed(services, req, res);
      await services.oci.repositories.linkBlob(refOf(at), digest);
    } else {
      if (hasBody(req)) await appendChunk(services, res, session, req, announced);
      pushStillAllowed(services, req, res);
      await finishUpload(services, at, session, digest);
    }
    blobCreated(res, at, digest);
  });

  router.delete(UPLOAD, async (req, res) => {
    await uploads().cancel(sessionRequest(req, res).session);
    res.status(204).end();
  });

  router.post(UPLOADS, async (req, res) => {
    const at = ociRequest(services, req, res, 'push');
    const mounted = queryString(req, 'mount');
    if (mounted !== undefined) {
      const digest = parseDigest(mounted);
      if (await mount(services, req, at, digest, queryString(req, 'from'))) {
        blobCreated(res, at, digest);
        return;
      }
      // Not mountable: an ordinary upload session instead, as the spec allows.
    }
    const announced = queryString(req, 'digest');
    if (announced !== undefined) {
      // Monolithic: the body streams straight into the store, committed once its digest matches.
      const digest = parseDigest(announced);
      const declared = Number(req.get('content-length') ?? 0);
      if (declared > uploads().maxBytes) throw tooLarge(uploads().maxBytes);
      await uploads().counted(ownerOf(req), () =>
        receiveBlob(services.store, req, monolithicBody(services, req, digest)),
      );
      pushStillAllowed(services, req, res);
      await services.oci.repositories.linkBlob(refOf(at), digest);
      blobCreated(res, at, digest);
      return;
    }
    const session = await uploads().start(refOf(at), ownerOf(req));
    sessionHeaders(res, at, session);
    res.status(202).end();
  });

  router.get(BLOB, async (req, res) => {
    res.set(API_VERSION_HEADER);
    const digest = parseDigest(pathParam(req, 'digest'));
    const at = ociRequest(services, req, res, 'pull');
    const packs = isPackRepository(at.repository);
    const size = packs
      ? await services.oci.packs.blobSize(at, digest)
      : await services.oci.repositories.blobSize(refOf(at), digest);
    if (size === null) throw blobUnknown(digest);
    const asked = req.method === 'HEAD' ? null : byteRange(req.get('range'), size);
    if (asked === 'unsatisfiable') {
      res.set('Content-Range', `bytes */${size}`);
      throw rangeNotSatisfiable(size);
    }
    const range = asked ?? undefined;
    blobHeaders(res, digest, size, range);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (!packs) {
      await sendStoredBlob(services, res, { digest, size }, range);
      return;
    }
    const found = await services.oci.packs.readBlob(at, digest, range);
    if (!found) throw blobUnknown(digest);
    await pipeline(found.body, res);
  });

  router.delete(BLOB, async (req, res) => {
    res.set(API_VERSION_HEADER);
    const digest = parseDigest(pathParam(req, 'digest'));
    const at = ociRequest(services, req, res, 'delete');
    if (!(await services.oci.repositories.unlinkBlob(refOf(at), digest))) throw blobUnknown(digest);
    res.status(202).end();
  });
}
