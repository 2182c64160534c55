/**
 * Packs as OCI artifacts, the way Palette reads them: an image manifest with one pack layer.
 *
 * Pushed (ORAS 1.0: config `application/vnd.unknown.config.v1+json`, the 2-byte `{}`, and one
 * layer `application/vnd.oci.image.layer.v1.tar` titled `NAME-VERSION.tar.gz`; ORAS 1.1+:
 * `artifactType` and the empty config `application/vnd.oci.empty.v1+json`): {@link packLayerOf}
 * finds the layer and refuses any other shape.
 *
 * Served for a pack published through /v1 ({@link materialisePackArtifact}): the ORAS 1.0 shape
 * over a deterministic tar.gz of the pack (pack-core's writePackTarGz), written once into the
 * repository (layer blob, config blob, manifest, tag by compare-and-swap). Every replica writes
 * the same bytes for the same version, so whichever writes first, the digest is the same; a
 * version whose archive was overwritten (`--force`) gets a new manifest, told by the pack digest
 * the manifest carries in an annotation.
 */
import { ociTagOf } from '@packyard/registry-api/oci-reference';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  archiveTarSources,
  isJsonObject,
  openPackArchive,
  pipelineUntilClosed,
  writePackTarGz,
  type ArchiveLimits,
} from '@packyard/pack-core';
import { keepStored } from '../blobs/blob-claims.js';
import { putBlobBytes, stageBlob } from '../blobs/blob-store.js';
import type { VersionRecord } from '../catalog/records.js';
import { registryError } from '../errors.js';
import { makePrivateDir } from '../storage/file-modes.js';
import { blobKey } from '../storage/layout.js';
import type { Committed, ObjectStore } from '../storage/object-store.js';
import { manifestInvalid, OCI_MANIFEST, parseManifest, storedOf } from './manifests.js';
import type { RepositoryRef, RepositoryStore, StoredManifest } from './repository-store.js';

/** ORAS 1.0's config for a file push: `application/vnd.unknown.config.v1+json`, the bytes `{}`. */
export const ORAS_CONFIG_TYPE = 'application/vnd.unknown.config.v1+json';
/** OCI 1.1's empty config (ORAS 1.1+), also the bytes `{}`. */
export const EMPTY_CONFIG_TYPE = 'application/vnd.oci.empty.v1+json';
const EMPTY_CONFIG = Buffer.from('{}');
export const EMPTY_CONFIG_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
/** ORAS's default layer type, whatever the file: Palette's packs are tar.gz files pushed under it. */
export const ORAS_LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar';
const TITLE = 'org.opencontainers.image.title';
const CREATED = 'org.opencontainers.image.created';
/** The digest of the pack archive a served manifest was made from (to tell a stale one). */
export const PACK_DIGEST_ANNOTATION = 'dev.packyard.pack.digest';

const CONFIG_TYPES: ReadonlySet<string> = new Set([
  ORAS_CONFIG_TYPE,
  EMPTY_CONFIG_TYPE,
  'application/vnd.oci.image.config.v1+json',
]);
/** Layer types a pack may come as (the bytes decide the format; see pack-core's detectLayerFormat). */
const LAYER_TYPES: ReadonlySet<string> = new Set([
  ORAS_LAYER_TYPE,
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/tar',
  'application/x-tar',
  'application/gzip',
  'application/x-gzip',
  'application/x-gtar',
  'application/zip',
  'application/x-zip-compressed',
  'application/octet-stream',
]);
const LAYER_SUFFIXES = ['+zip', '.zip', '+gzip', '.tar', '+tar'];

/** The one pack layer of a pushed manifest. */
export interface PackLayer {
  digest: string;
  mediaType: string;
  size: number;
}

function isPackLayerType(type: string): boolean {
  return LAYER_TYPES.has(type) || LAYER_SUFFIXES.some((suffix) => type.endsWith(suffix));
}

/**
 * The pack layer of a manifest pushed to a pack repository (already parsed and checked as an OCI
 * manifest by the route); throws MANIFEST_INVALID for any other shape than ORAS's.
 *
 * @example
 * packLayerOf(body); // { digest: 'sha256:…', mediaType: 'application/vnd.oci.image.layer.v1.tar', size: 5120 }
 */
export function packLayerOf(body: Buffer): PackLayer {
  const json = JSON.parse(body.toString('utf8')) as unknown;
  const hint = {
    hint: 'push the pack with `oras push HOST/NS/spectro-packs/archive/NAME:VERSION NAME-VERSION.tar.gz`',
  };
  if (!isJsonObject(json) || !isJsonObject(json['config']) || !Array.isArray(json['layers'])) {
    throw manifestInvalid('a pack is an image manifest with a config and one layer', hint);
  }
  if (json['mediaType'] !== undefined && json['mediaType'] !== OCI_MANIFEST) {
    throw manifestInvalid(
      `a pack is an OCI image manifest (${OCI_MANIFEST}), not ${JSON.stringify(json['mediaType'])}`,
      hint,
    );
  }
  const configType = json['config']['mediaType'];
  if (typeof configType !== 'string' || !CONFIG_TYPES.has(configType)) {
    throw manifestInvalid(`a pack's config is ${[...CONFIG_TYPES].join(' or ')}, not ${String(configType)}`, hint);
  }
  const layers: unknown[] = json['layers'];
  if (layers.length !== 1) {
    throw manifestInvalid(`a pack is exactly one layer (the pack as a tar.gz, tar or zip), not ${layers.length}`, hint);
  }
  const layer = layers[0];
  if (!isJsonObject(layer) || typeof layer['digest'] !== 'string' || typeof layer['mediaType'] !== 'string') {
    throw manifestInvalid('the pack layer has no digest or media type', hint);
  }
  if (!isPackLayerType(layer['mediaType'])) {
    throw manifestInvalid(`the layer's media type ${layer['mediaType']} is not one a pack comes as`, {
      accepted: [...LAYER_TYPES],
    });
  }
  return { digest: layer['digest'], mediaType: layer['mediaType'], size: Number(layer['size']) };
}

/**
 * Why a manifest may not be stored in a pack repository under a tag that is not a version, or null
 * when it may. Such tags hold what refers to packs (cosign's `sha256-<hex>.sig`, `.att`, `.sbom`),
 * stored as they come; `tags/list` lists them beside the versions, so that a mirror copies them,
 * but a pack reaches a client only under its version's tag, checked. So nothing a pack could be
 * read from: no index (its children could be anything), and no layer of a type a pack comes as.
 *
 * @example
 * notUnderOtherTag(cosignSignature); // null
 * notUnderOtherTag(orasPackManifest); // 'a layer of type application/vnd.oci.image.layer.v1.tar, ...'
 */
export function notUnderOtherTag(body: Buffer): string | null {
  const json = JSON.parse(body.toString('utf8')) as unknown;
  if (!isJsonObject(json) || json['manifests'] !== undefined) return 'an index';
  const layers: unknown[] = Array.isArray(json['layers']) ? json['layers'] : [];
  for (const layer of layers) {
    const type = isJsonObject(layer) ? layer['mediaType'] : undefined;
    if (typeof type === 'string' && isPackLayerType(type)) return `a layer of type ${type}, which a pack comes as`;
  }
  return null;
}

/** What materialising a version's artifact needs. */
export interface ArtifactServices {
  store: ObjectStore;
  repositories: RepositoryStore;
  /** Where temporary files go (local disk). */
  workDir: string;
  limits: ArchiveLimits;
}

/** Stores a local file as the blob of `digest`; null when storage held it already. */
async function storeBlobFile(
  store: ObjectStore,
  digest: string,
  file: string,
  size: number,
): Promise<Committed | null> {
  const staged = await stageBlob(store, digest, size);
  if (!staged) return null;
  try {
    await pipeline(createReadStream(file, { highWaterMark: 1024 * 1024 }), staged.stream);
    return await staged.commit();
  } catch (err) {
    await staged.abort();
    throw err;
  }
}

/** Content-addressed: whoever stored it first stored the same two bytes. */
function storeEmptyConfig(store: ObjectStore): Promise<Committed> {
  return putBlobBytes(store, EMPTY_CONFIG_DIGEST, EMPTY_CONFIG);
}

/**
 * The ORAS 1.0 manifest of a version, over its layer: bytes fixed by the version alone (its name,
 * version, archive digest and publication time), so that every replica makes the same.
 */
export function orasManifest(record: VersionRecord, layer: { digest: string; size: number }): Buffer {
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: ORAS_CONFIG_TYPE, digest: EMPTY_CONFIG_DIGEST, size: EMPTY_CONFIG.length },
    layers: [
      {
        mediaType: ORAS_LAYER_TYPE,
        digest: layer.digest,
        size: layer.size,
        annotations: { [TITLE]: `${record.name}-${record.version}.tar.gz` },
      },
    ],
    annotations: { [CREATED]: record.publishedAt, [PACK_DIGEST_ANNOTATION]: record.digest },
  };
  return Buffer.from(JSON.stringify(manifest));
}

/**
 * Writes the OCI artifact of a version published through /v1 into its pack repository and points
 * the version's tag at it (registry-api ociTagOf): the deterministic tar.gz of its archive, the `{}` config, the ORAS
 * 1.0 manifest. Every write is create-once or content-addressed, and the tag compare-and-swap:
 * replicas racing here write the same bytes.
 */
export async function materialisePackArtifact(
  services: ArtifactServices,
  at: RepositoryRef,
  record: VersionRecord,
): Promise<StoredManifest> {
  await makePrivateDir(services.workDir);
  const work = await mkdtemp(path.join(services.workDir, 'oci-artifact-'));
  try {
    const zip = path.join(work, 'pack.zip');
    const stored = await services.store.get(blobKey(record.digest));
    if (!stored) throw registryError('BLOB_MISSING', `the archive ${record.digest} is missing from storage`);
    await pipelineUntilClosed([stored.body, createWriteStream(zip)]);
    const archive = await openPackArchive(zip, services.limits);
    const layer = await writePackTarGz(archiveTarSources(archive), {
      folder: record.name,
      outFile: path.join(work, 'layer.tar.gz'),
    });
    // Either may have been stored before (by another version, or this one before a delete).
    const store = services.store;
    await keepStored(store, layer.digest, await storeBlobFile(store, layer.digest, layer.path, layer.size), () =>
      store.putFile(blobKey(layer.digest), layer.path, { contentType: 'application/zip', contentAddressed: true }),
    );
    await keepStored(store, EMPTY_CONFIG_DIGEST, await storeEmptyConfig(store), () => storeEmptyConfig(store));
    await services.repositories.linkBlob(at, layer.digest);
    await services.repositories.linkBlob(at, EMPTY_CONFIG_DIGEST);
    const body = orasManifest(record, layer);
    // Recorded as pushed when the version was published: the record's bytes are the same everywhere.
    const parsed = parseManifest(body, OCI_MANIFEST);
    const manifest = {
      record: { ...parsed.record, pushedAt: record.publishedAt, packVersion: record.version },
      body,
      stored: storedOf(parsed),
      kept: [layer.digest, EMPTY_CONFIG_DIGEST],
    };
    await services.repositories.putManifest(at, manifest, ociTagOf(record.version));
    return manifest;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
