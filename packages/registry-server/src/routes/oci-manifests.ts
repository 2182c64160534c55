/**
 * /v2 manifests, tags and referrers: parse, authorize, and hand the repository's backend (generic
 * content, or packs through the seam) a validated manifest.
 */
import type { Request, Router } from 'express';
import { pipeline } from 'node:stream/promises';
import { idleGuard } from '../oci/body-idle.js';
import { isPackError, type PackError } from '@packyard/pack-core';
import { registryError } from '../errors.js';
import { principalOf } from '../access/authenticate.js';
import { pathParam, queryString } from '../http/params.js';
import type { RegistryServices } from '../services.js';
import { forEachLimited } from '../storage/for-each-limited.js';
import { parseManifest } from '../oci/manifests.js';
import { isDigestReference, isTag, isTagLike, parseDigest, parseReference } from '../oci/oci-names.js';
import type { ManifestReference } from '../oci/pack-seam.js';
import type { OciNamespace } from '../oci/namespaces.js';
import { nameUnknown } from '../oci/oci-access.js';
import { linkNext, pageAsked } from '../oci/paging.js';
import { API_VERSION_HEADER, manifestsOf, ociRequest, ownerOf, pushStillAllowed, refOf } from './oci-helpers.js';

const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';

/** Referrers listed (and read from storage) per answer at most; `Link` leads to the rest. */
export const MAX_REFERRERS_PAGE = 500;
/**
 * Bytes of stored descriptors per answer at most (at least one descriptor): each carries its
 * manifest's annotations, and 500 manifests of 4 MiB once made one answer of 2 GiB.
 */
export const MAX_REFERRERS_BYTES = 4 * 1024 * 1024;

function manifestUnknown() {
  return registryError('MANIFEST_UNKNOWN', 'manifest unknown to registry');
}

/**
 * The reference of a read or delete: a tag-like reference outside the grammar names no manifest
 * that could exist, so it is unknown (404), as distribution answers; a hostile one (a slash, a
 * control character) is NAME_INVALID and a malformed digest DIGEST_INVALID, as on every path.
 */
function existingReference(text: string): ManifestReference {
  if (!isDigestReference(text) && !isTag(text) && isTagLike(text)) throw manifestUnknown();
  return parseReference(text);
}

/**
 * The bytes of manifest bodies one process holds while they arrive, all pushes together: real
 * manifests are a few KiB, but each push may send up to oci.maxManifestBytes, slowly, and a
 * thousand connections doing so would hold gigabytes outside V8's heap limit.
 */
const MANIFEST_BYTES_IN_FLIGHT = 64 * 1024 * 1024;

function manifestsBusy(): PackError {
  return registryError('TOOMANYREQUESTS', 'too many manifest bodies are arriving at once; retry later', {
    details: { retryAfterSeconds: 10 },
  });
}

/** The body of a manifest push, read whole up to the limit (manifests are small; blobs never are). */
async function readManifestBody(
  req: Request,
  limits: { bytes: number; idleMs: number; inFlight: { bytes: number } },
): Promise<Buffer> {
  const limit = limits.bytes;
  const tooLarge = () => registryError('BODY_TOO_LARGE', `the manifest is larger than the limit of ${limit} bytes`);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  // Held in an object: TypeScript does not see assignments made inside the callback.
  const state: { refusal: PackError | null } = { refusal: null };
  const { inFlight } = limits;
  try {
    await pipeline(req, idleGuard(limits.idleMs), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        size += chunk.length;
        if (size > limit) state.refusal = tooLarge();
        else if (inFlight.bytes + chunk.length > MANIFEST_BYTES_IN_FLIGHT) state.refusal = manifestsBusy();
        if (state.refusal) throw state.refusal;
        inFlight.bytes += chunk.length;
        chunks.push(chunk);
      }
    });
  } catch (err) {
    // Leaving the loop destroys the streams before it: the pipeline may report that instead.
    throw state.refusal ?? err;
  } finally {
    for (const chunk of chunks) inFlight.bytes -= chunk.length;
  }
  return Buffer.concat(chunks, size);
}

/** Storage lookups one manifest push runs at once (a remote store answers each in milliseconds). */
const LOOKUPS_AT_ONCE = 8;

/**
 * Refuses a manifest whose blobs or child manifests the repository does not hold. A child is
 * looked up by its record, never read: an index of many large children costs no memory.
 */
async function checkReferences(services: RegistryServices, at: OciNamespace, blobs: string[], manifests: string[]) {
  const ref = refOf(at);
  const packs = manifestsOf(services, at) === services.oci.packs;
  const missing: string[] = [];
  const lookups = [
    ...blobs.map((digest) => async () => {
      // Whether the bytes are there, not whether a pull may read them: a pack version deleted
      // hides its layer from pulls (./../oci/pack-repositories.ts), and pushing it again brings it back.
      const size = await services.oci.repositories.blobSize(ref, digest);
      if (size === null) missing.push(digest);
    }),
    ...manifests.map((digest) => async () => {
      const found = packs
        ? await services.oci.packs.getManifest(at, { digest })
        : await services.oci.repositories.manifestRecord(ref, digest);
      if (found === null) missing.push(digest);
    }),
  ];
  await forEachLimited(lookups, LOOKUPS_AT_ONCE, (lookup) => lookup());
  if (missing.length > 0) {
    throw registryError('MANIFEST_BLOB_UNKNOWN', 'manifest references a manifest or blob unknown to the repository', {
      details: { digests: missing.sort() },
    });
  }
}

export function registerOciManifestRoutes(router: Router, services: RegistryServices): void {
  const MANIFEST = '/v2/*repository/manifests/:reference';
  const inFlight = { bytes: 0 };

  router.get(MANIFEST, async (req, res) => {
    res.set(API_VERSION_HEADER);
    const reference = existingReference(pathParam(req, 'reference'));
    const at = ociRequest(services, req, res, 'pull');
    const found = await manifestsOf(services, at).getManifest(at, reference);
    if (!found) throw manifestUnknown();
    res.set({
      'Content-Type': found.record.mediaType,
      'Docker-Content-Digest': found.record.digest,
      'Content-Length': String(found.body.length),
      ETag: `"${found.record.digest}"`,
    });
    if (req.method === 'HEAD') res.status(200).end();
    else res.status(200).end(found.body);
  });

  router.put(MANIFEST, async (req, res) => {
    res.set(API_VERSION_HEADER);
    const reference = parseReference(pathParam(req, 'reference'));
    const at = ociRequest(services, req, res, 'push');
    // Counted as an upload while it is read: one caller cannot hold a body in memory per connection.
    const body = await services.oci.uploads.counted(ownerOf(req), () =>
      readManifestBody(req, { bytes: services.oci.maxManifestBytes, idleMs: services.oci.bodyIdleMs, inFlight }),
    );
    pushStillAllowed(services, req, res);
    const manifest = parseManifest(body, req.get('content-type'), 'digest' in reference ? reference.digest : undefined);
    await checkReferences(services, at, manifest.blobs, manifest.manifests);
    await manifestsOf(services, at).putManifest(at, {
      manifest,
      body,
      ...('tag' in reference ? { tag: reference.tag } : {}),
      principal: principalOf(req),
      authorize: () => pushStillAllowed(services, req, res),
    });
    const { digest, subject } = manifest.record;
    res.set({ Location: `/v2/${at.name}/manifests/${digest}`, 'Docker-Content-Digest': digest });
    if (subject !== undefined) res.set('OCI-Subject', subject);
    res.status(201).end();
  });

  router.delete(MANIFEST, async (req, res) => {
    res.set(API_VERSION_HEADER);
    const reference = existingReference(pathParam(req, 'reference'));
    const at = ociRequest(services, req, res, 'delete');
    const deleted = await manifestsOf(services, at)
      .deleteManifest(at, reference)
      .catch((err: unknown) => {
        // A pack version's manifest or tag (deleted through /v1, leaving a tombstone).
        if (isPackError(err) && err.code === 'METHOD_NOT_ALLOWED') res.set('Allow', 'GET, HEAD, PUT');
        throw err;
      });
    if (!deleted) throw manifestUnknown();
    res.status(202).end();
  });

  router.get('/v2/*repository/tags/list', async (req, res) => {
    res.set(API_VERSION_HEADER);
    const at = ociRequest(services, req, res, 'pull');
    const asked = pageAsked(req);
    // `last` starts the listing in storage: a tag, as the previous page's Link gave it.
    if (asked.after !== undefined && !isTag(asked.after)) {
      throw registryError('INVALID_PARAMETER', 'query parameter "last" must be a tag', {
        hint: "pass the last tag of the previous page, as its Link header's URL does",
      });
    }
    const page = await manifestsOf(services, at).tags(at, asked);
    if (page === null) throw nameUnknown(at.name);
    linkNext(res, `/v2/${at.name}/tags/list`, asked, page.tags, page.more);
    res.json({ name: at.name, tags: page.tags });
  });

  router.get('/v2/*repository/referrers/:digest', async (req, res) => {
    res.set(API_VERSION_HEADER);
    const subject = parseDigest(pathParam(req, 'digest'));
    const at = ociRequest(services, req, res, 'pull');
    const artifactType = queryString(req, 'artifactType');
    const last = queryString(req, 'last');
    // Each referrer is one storage read: a page reads a bounded number, the Link header goes on.
    const page = await services.oci.repositories.referrers(refOf(at), subject, {
      ...(last === undefined ? {} : { after: parseDigest(last) }),
      limit: MAX_REFERRERS_PAGE,
      maxBytes: MAX_REFERRERS_BYTES,
    });
    let manifests = page.descriptors;
    if (artifactType !== undefined) {
      manifests = manifests.filter((m) => m.artifactType === artifactType);
      res.set('OCI-Filters-Applied', 'artifactType');
    }
    if (page.next !== undefined) {
      const query = new URLSearchParams({ ...(artifactType === undefined ? {} : { artifactType }), last: page.next });
      res.set('Link', `</v2/${at.name}/referrers/${subject}?${query.toString()}>; rel="next"`);
    }
    res.set('Content-Type', INDEX_TYPE);
    res.status(200).send(JSON.stringify({ schemaVersion: 2, mediaType: INDEX_TYPE, manifests }));
  });
}
