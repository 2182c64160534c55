/**
 * Pack repositories (`<registry namespace>/spectro-packs/archive/<name>`) behind the OCI seam
 * (./pack-seam.ts): versions are the source of truth, whichever way a pack arrived.
 *
 * - A manifest PUT by tag is a publish: its one pack layer (a blob the client pushed) becomes the
 *   pack archive `packctl build` would make (pack-core's packLayerArchive) and goes through the
 *   one publish pipeline (publish/publish-upload.ts publishFile), with pack.json's name and version
 *   held to the repository and the tag. A refused pack answers MANIFEST_INVALID (the findings or
 *   the archive problem in `detail`), a tag that holds other content DENIED; nothing is stored then.
 * - A tag is a live version: `tags/list` lists the registry's live versions of the pack, a deleted
 *   version's tag names nothing. A version pushed through OCI answers with the manifest its
 *   client pushed; one published through /v1 with the ORAS 1.0 artifact made for it
 *   (./pack-artifacts.ts), written on first access.
 * - `_catalog` lists every pack of the registry.
 * - Deleting through OCI is refused: a version is deleted (tombstoned) through /v1.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { isPackError, packLayerArchive, pipelineUntilClosed, type PackError } from '@packyard/pack-core';
import type { CatalogSync } from '../catalog/catalog-sync.js';
import type { VersionRecord } from '../catalog/records.js';
import { registryError } from '../errors.js';
import { authenticatedName } from '../identity/principals.js';
import type { InspectedPack } from '../publish/inspect-pack.js';
import { publishFile, type PublishServices } from '../publish/publish-upload.js';
import { makePrivateDir } from '../storage/file-modes.js';
import { readJson } from '../storage/json-documents.js';
import { versionKey } from '../storage/layout.js';
import { manifestInvalid } from './manifests.js';
import type { OciNamespace } from './namespaces.js';
import { materialisePackArtifact, PACK_DIGEST_ANNOTATION, packLayerOf } from './pack-artifacts.js';
import { isPackRepository, packNameOf, PACK_REPOSITORY_PREFIX, type OciPackRepositories } from './pack-seam.js';
import type { RepositoryRef, RepositoryStore, StoredManifest } from './repository-store.js';

/** What pack repositories need of the registry's services. */
export type PackRepositoryServices = PublishServices & { catalog: CatalogSync; logger: Logger };

/** Codes of a publish refused for what the pack holds: answered as MANIFEST_INVALID. */
const CONTENT_STATUSES = new Set([400, 413, 422]);
/** Codes of a publish refused because the version holds other content: answered as DENIED. */
const TAKEN_CODES = new Set(['PACK_VERSION_EXISTS', 'PACK_VERSION_DELETED', 'OVERWRITE_NOT_ALLOWED']);

function ref(at: OciNamespace): RepositoryRef {
  return { registry: at.registry.name, repository: at.repository };
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

/** pack.json's name and version must be the repository's last segment and the tag. */
function sameNameAndVersion(name: string, tag: string): (inspected: InspectedPack) => void {
  return ({ manifest }) => {
    const mismatch: Array<{ field: string; packJson: string; oci: string }> = [];
    if (manifest.name !== name) mismatch.push({ field: 'name', packJson: manifest.name, oci: name });
    if (manifest.version !== tag) mismatch.push({ field: 'version', packJson: manifest.version, oci: tag });
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
      if (pushed) return pushed;
    }
    const tagged = await repositories.resolveTag(ref(at), record.version);
    const current = tagged === null ? null : await repositories.getManifest(ref(at), tagged);
    if (current?.record.annotations?.[PACK_DIGEST_ANNOTATION] === record.digest) return current;
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
    tag: string,
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
        log: services.logger.child({ component: 'oci', repository: at.name, tag }),
        accept: sameNameAndVersion(packNameOf(at.repository), tag),
        ociManifest: push.manifest.record.digest,
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

  return {
    async putManifest(at, push) {
      if (push.tag === undefined) {
        throw manifestInvalid('a pack is pushed by tag, and the tag is its version', {
          hint: `push to ${at.name}:<version>`,
        });
      }
      const tag = push.tag;
      const layer = packLayerOf(push.body);
      const digest = push.manifest.record.digest;
      const existing = await versionRecord(at, tag);
      // The same manifest again: nothing to publish (the pack was checked when it first came).
      const manifest = { record: { ...push.manifest.record, packVersion: tag }, body: push.body };
      if (existing?.deleted === null && existing.ociManifest === digest) {
        await repositories.putManifest(ref(at), manifest, tag);
        return;
      }
      const record = await publishLayer(at, tag, layer.digest, push);
      // The version keeps the manifest it was first pushed with; the same pack under another
      // manifest (a re-push with other tar bytes, or a pack published through /v1) is stored by
      // digest only, and the tag keeps naming the version's own manifest.
      const tagged = record.ociManifest === digest ? tag : undefined;
      await repositories.putManifest(ref(at), manifest, tagged);
    },

    async getManifest(at, reference) {
      if ('digest' in reference) {
        const found = await repositories.getManifest(ref(at), reference.digest);
        const version = found?.record.packVersion;
        if (version === undefined) return found;
        const live = await versionRecord(at, version);
        return live && live.deleted === null ? found : null;
      }
      const record = await versionRecord(at, reference.tag);
      if (!record || record.deleted !== null) return null;
      return artifactOf(at, record);
    },

    deleteManifest() {
      return Promise.reject(
        registryError('UNSUPPORTED', 'pack versions are not deleted through OCI', {
          hint: 'delete the version with packctl rm NAME@VERSION --registry REGISTRY (or DELETE /v1/registries/REGISTRY/packs/NAME/VERSION): it leaves a tombstone',
        }),
      );
    },

    tags(at) {
      const live = servicesOf().catalog.index.liveVersions(at.registry.name, packNameOf(at.repository));
      if (!live) return Promise.resolve(null);
      const versions = live.map((v) => v.version);
      return Promise.resolve(versions.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    },

    repositories(registry) {
      const names = servicesOf().catalog.index.packNames(registry.name);
      return Promise.resolve(names.map((name) => `${PACK_REPOSITORY_PREFIX}${name}`).filter(isPackRepository));
    },

    readBlob: (at, digest, range) => repositories.readBlob(ref(at), digest, range),
    blobSize: (at, digest) => repositories.blobSize(ref(at), digest),
  };
}
