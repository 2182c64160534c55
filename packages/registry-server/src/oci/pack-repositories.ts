/**
 * Pack repositories (`<registry namespace>/spectro-packs/archive/<name>`) behind the OCI seam
 * (./pack-seam.ts): versions are the source of truth, whichever way a pack arrived.
 *
 * - A manifest PUT by tag is a publish: its one pack layer (a blob the client pushed) becomes the
 *   pack archive `packctl build` would make (pack-core's packLayerArchive) and goes through the
 *   one publish pipeline (publish/publish-upload.ts publishFile), with pack.json's name and version
 *   held to the repository and the tag. A refused pack answers MANIFEST_INVALID (the findings or
 *   the archive problem in `detail`), a tag that holds other content DENIED; nothing is stored then.
 * - A tag is a live version (a build's `+` written `_`, registry-api ociTagOf): `tags/list` lists the registry's live versions of the pack, a deleted
 *   version's tag names nothing. A version pushed through OCI answers with the manifest its
 *   client pushed; one published through /v1 with the ORAS 1.0 artifact made for it
 *   (./pack-artifacts.ts), written on first access.
 * - A tag that is not a version (cosign's `sha256-<hex>.sig`, say), and a manifest pushed by digest
 *   with a `subject` (a notation or ORAS 1.1 signature, an SBOM: listed by the referrers API), hold
 *   what refers to packs: stored as generic content, as they come, and deleted through OCI.
 *   `tags/list` lists such tags beside the versions, so mirrors (skopeo sync, Harbor) copy them;
 *   nothing a pack could be read from goes under them (pack-artifacts.ts notUnderOtherTag).
 * - `_catalog` lists every pack of the registry.
 * - Deleting through OCI is refused: a version is deleted (tombstoned) through /v1. A manifest is
 *   in the repository while it carries what its version holds now: the version is live and holds
 *   the archive the manifest carries (packDigestOf). So the manifests of a deleted version, and
 *   those of the archive a forced overwrite replaced, are gone by digest too (MANIFEST_UNKNOWN),
 *   and so are their blobs: a blob only such manifests reference is not in the repository any
 *   more (BLOB_UNKNOWN), and the bytes withdrawn are not pulled by the digest a client kept. Which
 *   manifests reference a blob is read from the repository's manifest records once per process
 *   and kept (they never change), and what each version holds from the catalog index: a pull
 *   costs no more storage reads, but for a blob of replaced content (one read of the version
 *   record, since the index may not know of an overwrite made on another replica yet).
 */
import { ociTagOf, versionOfOciTag } from '@packyard/registry-api/oci-reference';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { isPackError, packLayerArchive, parseVersion, pipelineUntilClosed, type PackError } from '@packyard/pack-core';
import type { CatalogSync } from '../catalog/catalog-sync.js';
import type { VersionRecord } from '../catalog/records.js';
import { registryError } from '../errors.js';
import { authenticatedName } from '../identity/principals.js';
import type { InspectedPack } from '../publish/inspect-pack.js';
import { publishFile, type PublishServices } from '../publish/publish-upload.js';
import { makePrivateDir } from '../storage/file-modes.js';
import { readJson } from '../storage/json-documents.js';
import { ociManifestKey, versionKey } from '../storage/layout.js';
import { manifestInvalid, storedOf } from './manifests.js';
import type { OciNamespace } from './namespaces.js';
import {
  EMPTY_CONFIG_DIGEST,
  materialisePackArtifact,
  notUnderOtherTag,
  PACK_DIGEST_ANNOTATION,
  packLayerOf,
} from './pack-artifacts.js';
import { isPackRepository, PACK_REPOSITORY_PREFIX } from './oci-names.js';
import { packNameOf, type OciPackRepositories } from './pack-seam.js';
import type {
  ManifestRecord,
  ManifestToStore,
  RepositoryRef,
  RepositoryStore,
  StoredManifest,
} from './repository-store.js';

/** What pack repositories need of the registry's services. */
export type PackRepositoryServices = PublishServices & { catalog: CatalogSync; logger: Logger };

/** Codes of a publish refused for what the pack holds: answered as MANIFEST_INVALID. */
const CONTENT_STATUSES = new Set([400, 413, 422]);
/** Codes of a publish refused because the version holds other content: answered as DENIED. */
const TAKEN_CODES = new Set(['PACK_VERSION_EXISTS', 'PACK_VERSION_DELETED', 'OVERWRITE_NOT_ALLOWED']);

function ref(at: OciNamespace): RepositoryRef {
  return { registry: at.registry.name, repository: at.repository };
}

/** Pack repositories whose blob owners a process keeps: each costs a few strings per manifest. */
const OWNED_REPOSITORIES = 1024;
/** Manifest records read at once while learning a repository's. */
const READS_AT_ONCE = 8;

/** A manifest of a pack repository, as far as its blobs go: the version and archive it carries. */
interface Carrier {
  version: string;
  /** The pack archive's digest (undefined in manifest records written before it was kept). */
  pack: string | undefined;
}

/** What the manifests of one pack repository say about its blobs. */
interface BlobOwners {
  /** The manifest records read (their keys): records are written once per digest, never changed. */
  read: Set<string>;
  /** The manifests referencing each blob (config, layers), by manifest digest. */
  carriers: Map<string, Map<string, Carrier>>;
}

/**
 * The pack archive a manifest of a pack repository carries: recorded when it was pushed, or the
 * annotation of an artifact made from a version (./pack-artifacts.ts). Manifests pushed before it
 * was recorded carry none, and count as carrying whatever their version holds.
 */
function packDigestOf(record: ManifestRecord): string | undefined {
  return record.packDigest ?? record.annotations?.[PACK_DIGEST_ANNOTATION];
}

/** Whether a manifest carrying `pack` carries the archive a version holds now. */
function carriesArchive(pack: string | undefined, archive: string): boolean {
  return pack === undefined || pack === archive;
}

/**
 * Where a repository's manifest records are: the key of one, less the `<alg>/<hex>` of its digest
 * (as long as the `<alg>:<hex>` digest itself).
 */
function manifestsPrefix(at: RepositoryRef): string {
  return ociManifestKey(at.registry, at.repository, EMPTY_CONFIG_DIGEST).slice(0, -EMPTY_CONFIG_DIGEST.length);
}

/** A refused publish as the OCI answer: what was wrong goes in `detail`, whole. */
function refusal(err: PackError): PackError {
  const detail = {
    code: err.code,
    message: err.message,
    ...(err.details === undefined ? {} : { details: err.details }),
  };
  if (TAKEN_CODES.has(err.code)) {
    return registryError('DENIED', `${err.message}; a pack tag never moves to other content`, { details: detail });
  }
  return manifestInvalid(err.message, detail);
}

/** Whether a tag names a version (a publish), not other content (a signature's, say). */
function isVersionTag(tag: string): boolean {
  return parseVersion(versionOfOciTag(tag)) !== null;
}

/** Stored tags listed at a time while looking for those that are not versions. */
const TAG_LISTING_PAGE = 500;

/** Pack versions are deleted through /v1, never with an OCI DELETE. */
function notDeletedThroughOci(): PackError {
  return registryError('METHOD_NOT_ALLOWED', 'pack versions are not deleted through OCI', {
    hint: 'delete the version with packctl rm NAME@VERSION --registry REGISTRY (or DELETE /v1/registries/REGISTRY/packs/NAME/VERSION): it leaves a tombstone',
  });
}

/** pack.json's name and version must be the repository's last segment and the tag. */
function sameNameAndVersion(name: string, version: string): (inspected: InspectedPack) => void {
  return ({ manifest }) => {
    const mismatch: Array<{ field: string; packJson: string; oci: string }> = [];
    if (manifest.name !== name) mismatch.push({ field: 'name', packJson: manifest.name, oci: name });
    if (manifest.version !== version) mismatch.push({ field: 'version', packJson: manifest.version, oci: version });
    if (mismatch.length > 0) {
      const said = mismatch.map(
        (m) => `pack.json ${m.field} is ${m.packJson}, the ${m.field === 'name' ? 'repository' : 'tag'} says ${m.oci}`,
      );
      throw manifestInvalid(said.join('; '), { mismatch });
    }
  };
}

export function packRepositories(
  repositories: RepositoryStore,
  servicesOf: () => PackRepositoryServices,
): OciPackRepositories {
  /** Materialisations under way on this replica, so concurrent pulls of a version make it once. */
  const making = new Map<string, Promise<StoredManifest>>();
  /** By repository (`<registry>/<repository>`): the versions referencing each blob. */
  const owners = new LRUCache<string, BlobOwners>({ max: OWNED_REPOSITORIES });
  /** Readings of a repository's new manifest records under way, so concurrent pulls share one. */
  const learning = new Map<string, Promise<BlobOwners>>();

  function ownersKey(at: RepositoryRef): string {
    return `${at.registry}/${at.repository}`;
  }

  /** Adds what a manifest record of the repository says (a record read, or written here). */
  function remember(entry: BlobOwners, key: string, record: ManifestRecord): void {
    entry.read.add(key);
    const version = record.packVersion;
    if (version === undefined) return;
    const carrier = { version, pack: packDigestOf(record) };
    for (const digest of record.references) {
      const carriers = entry.carriers.get(digest) ?? new Map<string, Carrier>();
      carriers.set(record.digest, carrier);
      entry.carriers.set(digest, carriers);
    }
  }

  function ownersEntry(at: RepositoryRef): BlobOwners {
    const key = ownersKey(at);
    let entry = owners.get(key);
    if (!entry) {
      entry = { read: new Set(), carriers: new Map() };
      owners.set(key, entry);
    }
    return entry;
  }

  /** Records a manifest this replica wrote or read, sparing the listing that would find it. */
  function rememberManifest(at: RepositoryRef, record: ManifestRecord): void {
    remember(ownersEntry(at), ociManifestKey(at.registry, at.repository, record.digest), record);
  }

  /** Reads the repository's manifest records not read yet: one listing, each new record once. */
  async function learn(at: RepositoryRef): Promise<BlobOwners> {
    const entry = ownersEntry(at);
    const store = servicesOf().store;
    const fresh: string[] = [];
    for await (const object of store.list(manifestsPrefix(at), { keysOnly: true })) {
      if (!entry.read.has(object.key)) fresh.push(object.key);
    }
    for (let i = 0; i < fresh.length; i += READS_AT_ONCE) {
      const keys = fresh.slice(i, i + READS_AT_ONCE);
      const records = await Promise.all(keys.map((key) => readJson<ManifestRecord>(store, key)));
      records.forEach((found, n) => {
        const key = keys[n];
        if (found && key !== undefined) remember(entry, key, found.value);
      });
    }
    return entry;
  }

  /** {@link learn}, shared by the requests that need it while it is under way. */
  function learnOnce(at: RepositoryRef): Promise<BlobOwners> {
    const key = ownersKey(at);
    let pending = learning.get(key);
    if (!pending) {
      pending = learn(at).finally(() => learning.delete(key));
      learning.set(key, pending);
    }
    return pending;
  }

  /**
   * Whether one of the manifests carries what its version holds now. The catalog index says, but
   * for a manifest whose archive is not the one the index knows: the version record does then (an
   * overwrite made on another replica may not be in the index yet). A version the index does not
   * know of was just published.
   */
  async function anyCarriesNow(at: OciNamespace, carriers: ReadonlyMap<string, Carrier>): Promise<boolean> {
    const { index } = servicesOf().catalog;
    const name = packNameOf(at.repository);
    const unsure: Carrier[] = [];
    for (const carrier of carriers.values()) {
      const summary = index.version(at.registry.name, name, carrier.version);
      if (summary === undefined || (!summary.deleted && carriesArchive(carrier.pack, summary.digest))) return true;
      if (!summary.deleted) unsure.push(carrier);
    }
    for (const carrier of unsure) {
      const record = await versionRecord(at, carrier.version);
      if (record?.deleted === null && carriesArchive(carrier.pack, record.digest)) return true;
    }
    return false;
  }

  /**
   * Whether the blob was withdrawn: manifests reference it, and none carries what its version
   * holds now (deleted, or overwritten). The `{}` config every pack shares holds nothing, and a
   * blob in no manifest is one pushed for a manifest to come: both stay. Only a blob in no
   * manifest seen yet, or one that would be refused, costs a listing of the repository's
   * manifests: one written since (on another replica) may name it, for a version that holds it.
   */
  async function withdrawn(at: OciNamespace, digest: string): Promise<boolean> {
    if (digest === EMPTY_CONFIG_DIGEST) return false;
    const repository = ref(at);
    const known = owners.get(ownersKey(repository))?.carriers.get(digest);
    if (known && (await anyCarriesNow(at, known))) return false;
    const carriers = (await learnOnce(repository)).carriers.get(digest);
    return carriers !== undefined && !(await anyCarriesNow(at, carriers));
  }

  async function versionRecord(at: OciNamespace, version: string): Promise<VersionRecord | null> {
    const found = await readJson<VersionRecord>(
      servicesOf().store,
      versionKey(at.registry.name, packNameOf(at.repository), version),
    );
    return found ? found.value : null;
  }

  async function artifactOf(at: OciNamespace, record: VersionRecord): Promise<StoredManifest> {
    if (record.ociManifest !== undefined) {
      const pushed = await repositories.getManifest(ref(at), record.ociManifest);
      if (pushed) {
        rememberManifest(ref(at), pushed.record);
        return pushed;
      }
    }
    const tagged = await repositories.resolveTag(ref(at), ociTagOf(record.version));
    const current = tagged === null ? null : await repositories.getManifest(ref(at), tagged);
    if (current && packDigestOf(current.record) === record.digest) {
      rememberManifest(ref(at), current.record);
      return current;
    }
    const key = `${record.registry}/${record.name}@${record.version}:${record.digest}`;
    let pending = making.get(key);
    if (!pending) {
      const services = servicesOf();
      const started = performance.now();
      pending = materialisePackArtifact(
        { store: services.store, repositories, workDir: services.uploadDir, limits: services.config.limits.archive },
        ref(at),
        record,
      )
        .then((made) => {
          rememberManifest(ref(at), made.record);
          const ms = Math.round(performance.now() - started);
          const fields = { registry: record.registry, pack: record.name, version: record.version, ms };
          services.logger.info({ ...fields, manifest: made.record.digest }, 'wrote the OCI artifact of a pack version');
          return made;
        })
        .finally(() => making.delete(key));
      making.set(key, pending);
    }
    return pending;
  }

  async function publishLayer(
    at: OciNamespace,
    version: string,
    layerDigest: string,
    push: Parameters<OciPackRepositories['putManifest']>[1],
  ): Promise<VersionRecord> {
    const services = servicesOf();
    await makePrivateDir(services.uploadDir);
    const work = await mkdtemp(path.join(services.uploadDir, 'oci-pack-'));
    try {
      const layerFile = path.join(work, 'layer');
      const blob = await repositories.readBlob(ref(at), layerDigest);
      if (!blob) throw registryError('MANIFEST_BLOB_UNKNOWN', `the pack layer ${layerDigest} is not in the repository`);
      if (blob.size > services.config.limits.maxUploadBytes) {
        blob.body.destroy();
        throw manifestInvalid(
          `the pack layer is larger than the limit of ${services.config.limits.maxUploadBytes} bytes`,
        );
      }
      await pipelineUntilClosed([blob.body, createWriteStream(layerFile)]);
      const converted = path.join(work, 'converted');
      await mkdir(converted);
      const { archive } = await packLayerArchive(layerFile, converted, { limits: services.config.limits.archive });
      const result = await publishFile(archive, services, {
        registry: at.registry,
        publisher: authenticatedName(push.principal),
        log: services.logger.child({ component: 'oci', repository: at.name, version }),
        accept: sameNameAndVersion(packNameOf(at.repository), version),
        ociManifest: push.manifest.record.digest,
        ...(push.authorize === undefined ? {} : { authorize: push.authorize }),
      });
      return result.record;
    } catch (err) {
      if (
        isPackError(err) &&
        (CONTENT_STATUSES.has(err.status) || TAKEN_CODES.has(err.code)) &&
        err.code !== 'MANIFEST_INVALID'
      ) {
        throw refusal(err);
      }
      throw err;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /**
   * The repository's stored tags that are not versions, after `after`, sorted: at most `limit` + 1
   * (one more tells that more follow). Versions pushed through OCI have stored tags too, passed over.
   */
  async function otherTags(at: OciNamespace, after: string | undefined, limit: number): Promise<string[]> {
    const found: string[] = [];
    let from = after;
    for (;;) {
      const page = await repositories.tags(ref(at), {
        ...(from === undefined ? {} : { after: from }),
        limit: TAG_LISTING_PAGE,
      });
      for (const tag of page.tags) {
        if (isVersionTag(tag)) continue;
        found.push(tag);
        if (found.length > limit) return found;
      }
      if (!page.more) return found;
      from = page.tags.at(-1);
    }
  }

  return {
    async putManifest(at, push) {
      const generic = { record: push.manifest.record, body: push.body, stored: storedOf(push.manifest) };
      if (push.tag === undefined) {
        if (push.manifest.record.subject !== undefined) {
          await repositories.putManifest(ref(at), generic);
          return;
        }
        throw manifestInvalid('a pack is pushed by tag, and the tag is its version', {
          hint: `push to ${at.name}:<version> (by digest, only what refers to a pack, with a subject)`,
        });
      }
      const tag = push.tag;
      if (!isVersionTag(tag)) {
        const problem = notUnderOtherTag(push.body);
        if (problem !== null) {
          throw manifestInvalid(
            `the tag ${tag} is not a version: it may hold what refers to packs (a signature, an attestation), not ${problem}`,
            { hint: `push a pack to ${at.name}:<its version>` },
          );
        }
        await repositories.putManifest(ref(at), generic, tag);
        return;
      }
      const version = versionOfOciTag(tag);
      const layer = packLayerOf(push.body);
      const digest = push.manifest.record.digest;
      const existing = await versionRecord(at, version);
      const carrying = (packDigest: string): ManifestToStore => ({
        record: { ...push.manifest.record, packVersion: version, packDigest },
        body: push.body,
        stored: storedOf(push.manifest),
      });
      // The same manifest again: nothing to publish (the pack was checked when it first came).
      if (existing?.deleted === null && existing.ociManifest === digest) {
        const manifest = carrying(existing.digest);
        await repositories.putManifest(ref(at), manifest, tag);
        rememberManifest(ref(at), manifest.record);
        return;
      }
      const record = await publishLayer(at, version, layer.digest, push);
      const manifest = carrying(record.digest);
      // The version keeps the manifest it was first pushed with; the same pack under another
      // manifest (a re-push with other tar bytes, or a pack published through /v1) is stored by
      // digest only, and the tag keeps naming the version's own manifest.
      const tagged = record.ociManifest === digest ? tag : undefined;
      await repositories.putManifest(ref(at), manifest, tagged);
      rememberManifest(ref(at), manifest.record);
    },

    async getManifest(at, reference) {
      if ('digest' in reference) {
        const found = await repositories.getManifest(ref(at), reference.digest);
        const version = found?.record.packVersion;
        if (found === null || version === undefined) return found;
        const live = await versionRecord(at, version);
        return live?.deleted === null && carriesArchive(packDigestOf(found.record), live.digest) ? found : null;
      }
      if (!isVersionTag(reference.tag)) {
        const digest = await repositories.resolveTag(ref(at), reference.tag);
        return digest === null ? null : repositories.getManifest(ref(at), digest);
      }
      const record = await versionRecord(at, versionOfOciTag(reference.tag));
      if (!record || record.deleted !== null) return null;
      return artifactOf(at, record);
    },

    // What refers to packs is deleted through OCI; a version's manifest or tag is not.
    async deleteManifest(at, reference) {
      if ('tag' in reference) {
        if (isVersionTag(reference.tag)) throw notDeletedThroughOci();
        return repositories.deleteTag(ref(at), reference.tag);
      }
      const found = await repositories.getManifest(ref(at), reference.digest);
      if (found?.record.packVersion !== undefined) throw notDeletedThroughOci();
      return found !== null && repositories.deleteManifest(ref(at), reference.digest);
    },

    async tags(at, page) {
      const live = servicesOf().catalog.index.liveVersions(at.registry.name, packNameOf(at.repository));
      const { after } = page;
      const others = await otherTags(at, after, page.limit);
      if (!live && others.length === 0) return null;
      const tags = (live ?? [])
        .map((v) => ociTagOf(v.version))
        .filter((tag) => after === undefined || tag > after)
        .concat(others)
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      return { tags: tags.slice(0, page.limit), more: tags.length > page.limit };
    },

    repositories(registry) {
      const names = servicesOf().catalog.index.packNames(registry.name);
      return Promise.resolve(names.map((name) => `${PACK_REPOSITORY_PREFIX}${name}`).filter(isPackRepository));
    },

    // A blob not linked into the repository is unknown without asking whether it was withdrawn,
    // which for a digest never seen lists every manifest of the repository: asked first, any
    // digest a client makes up would cost that listing.
    async readBlob(at, digest, range) {
      const read = await repositories.readBlob(ref(at), digest, range);
      if (read === null || !(await withdrawn(at, digest))) return read;
      read.body.destroy();
      return null;
    },

    async blobSize(at, digest) {
      const size = await repositories.blobSize(ref(at), digest);
      return size === null || (await withdrawn(at, digest)) ? null : size;
    },
  };
}
