/**
 * Reading a pushed manifest: the media types accepted (OCI image manifest and index, Docker v2
 * schema 2 manifest and list), the shape each must have, what it references (which must be in the
 * repository already), its `subject` and artifact type for the referrers API, and its digest.
 * Nothing here touches storage.
 */
import { createHash } from 'node:crypto';
import { isJsonObject, type PackError } from '@packyard/pack-core';
import { registryError } from '../errors.js';
import { duplicateKey } from '../http/json-keys.js';
import { algorithmOf, parseDigest } from './oci-names.js';
import type { ManifestRecord } from './repository-store.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

const IMAGE_TYPES: ReadonlySet<string> = new Set([OCI_MANIFEST, DOCKER_MANIFEST]);
const INDEX_TYPES: ReadonlySet<string> = new Set([OCI_INDEX, DOCKER_LIST]);

/**
 * Descriptors a manifest may hold in all (config, layers, index children, subject). Each one the
 * repository must hold is a storage lookup on push: the count bounds that work. Images have a
 * few dozen layers and indexes a few dozen platforms; distribution's own hard limit is higher,
 * but nothing real comes near this.
 */
export const MAX_DESCRIPTORS = 1024;

/** Strict UTF-8: a manifest with invalid bytes would be stored as pushed and read differently by each client. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function isManifestMediaType(type: string): boolean {
  return IMAGE_TYPES.has(type) || INDEX_TYPES.has(type);
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  urls?: unknown;
  annotations?: Record<string, string>;
}

/** A manifest as pushed, understood. */
export interface ParsedManifest {
  record: ManifestRecord;
  /** Blobs that must be in the repository (config and layers without foreign URLs). */
  blobs: string[];
  /** Manifests that must be in the repository (an index's children). */
  manifests: string[];
}

/** What of a manifest's references must be in storage: its blobs and child manifests. */
export function storedOf(parsed: ParsedManifest): string[] {
  return [...parsed.blobs, ...parsed.manifests];
}

/** The message is the problem alone: clients print it after the code's own words ("manifest invalid: "). */
export function manifestInvalid(message: string, detail?: unknown): PackError {
  return registryError('MANIFEST_INVALID', message, detail === undefined ? {} : { details: detail });
}

function annotationsOf(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isJsonObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw manifestInvalid(`${where}annotations must be an object of strings`);
  }
  return value as Record<string, string>;
}

function descriptorOf(value: unknown, where: string): Descriptor {
  if (!isJsonObject(value)) throw manifestInvalid(`${where} must be a descriptor object`);
  const { mediaType, digest, size, artifactType, urls } = value;
  if (typeof mediaType !== 'string' || mediaType.length === 0 || mediaType.length > 255) {
    throw manifestInvalid(`${where}.mediaType must be a media type`);
  }
  if (typeof digest !== 'string') throw manifestInvalid(`${where}.digest must be a digest`);
  try {
    parseDigest(digest);
  } catch {
    throw manifestInvalid(`${where}.digest is not a sha256 or sha512 digest`);
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw manifestInvalid(`${where}.size must be a whole number of bytes`);
  }
  if (artifactType !== undefined && typeof artifactType !== 'string') {
    throw manifestInvalid(`${where}.artifactType must be a string`);
  }
  const annotations = annotationsOf(value['annotations'], `${where}.`);
  return {
    mediaType,
    digest,
    size,
    ...(artifactType === undefined ? {} : { artifactType }),
    ...(urls === undefined ? {} : { urls }),
    ...(annotations === undefined ? {} : { annotations }),
  };
}

function descriptorsOf(value: unknown, where: string): Descriptor[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw manifestInvalid(`${where} must be an array of descriptors`);
  if (value.length > MAX_DESCRIPTORS) {
    throw manifestInvalid(`${where} holds ${value.length} descriptors; at most ${MAX_DESCRIPTORS} are accepted`);
  }
  return value.map((item, i) => descriptorOf(item, `${where}[${i}]`));
}

/** The digest of `body` in `algorithm`. */
export function digestOf(body: Buffer, algorithm: 'sha256' | 'sha512'): string {
  return `${algorithm}:${createHash(algorithm).update(body).digest('hex')}`;
}

/**
 * Understands a manifest push: `contentType` is the request's Content-Type, `reference` the
 * digest it is pushed under (its digest must be the body's) or undefined for a tag.
 */
export function parseManifest(body: Buffer, contentType: string | undefined, referenceDigest?: string): ParsedManifest {
  const digest = digestOf(body, referenceDigest === undefined ? 'sha256' : algorithmOf(referenceDigest));
  if (referenceDigest !== undefined && referenceDigest !== digest) {
    throw registryError('DIGEST_INVALID', 'the manifest does not have the digest it is pushed under', {
      details: { expected: referenceDigest, actual: digest },
    });
  }
  let text: string;
  try {
    text = UTF8.decode(body);
  } catch {
    throw manifestInvalid('not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw manifestInvalid('not valid JSON');
  }
  if (!isJsonObject(json)) throw manifestInvalid('not a JSON object');
  const duplicate = duplicateKey(text);
  if (duplicate !== null) {
    // Echoed only when plain printable ASCII (no control or bidirectional characters).
    const shown = /^[\x20-\x7e]{1,100}$/.test(duplicate) ? ` ${JSON.stringify(duplicate)}` : '';
    throw manifestInvalid(`the key${shown} appears twice in one object`);
  }
  if (json['schemaVersion'] !== 2) throw manifestInvalid('schemaVersion must be 2');
  const declared = json['mediaType'];
  if (declared !== undefined && typeof declared !== 'string') throw manifestInvalid('mediaType must be a string');
  const type = (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
  if (declared !== undefined && isManifestMediaType(type) && declared !== type) {
    throw manifestInvalid(`its mediaType ${declared} is not the Content-Type ${type}`);
  }
  const mediaType = declared ?? (isManifestMediaType(type) ? type : inferType(json));
  if (!isManifestMediaType(mediaType)) throw manifestInvalid(`unsupported media type ${mediaType}`);
  const subject = json['subject'] === undefined ? undefined : descriptorOf(json['subject'], 'subject');
  const artifactType = json['artifactType'];
  if (artifactType !== undefined && typeof artifactType !== 'string')
    throw manifestInvalid('artifactType must be a string');
  const annotations = annotationsOf(json['annotations'], '');
  const base = {
    digest,
    mediaType,
    size: body.length,
    ...(annotations === undefined ? {} : { annotations }),
    ...(subject === undefined ? {} : { subject: subject.digest }),
    pushedAt: new Date().toISOString(),
  };
  if (IMAGE_TYPES.has(mediaType)) {
    if (json['manifests'] !== undefined) throw manifestInvalid('an image manifest has no "manifests"');
    const config = descriptorOf(json['config'], 'config');
    const layers = descriptorsOf(json['layers'], 'layers');
    // Foreign layers (with URLs) live elsewhere: distribution does not require them either.
    const blobs = [config, ...layers].filter((d) => d.urls === undefined).map((d) => d.digest);
    return {
      record: {
        ...base,
        // The referrers API's artifact type: the manifest's own, else its config's media type.
        artifactType: artifactType ?? config.mediaType,
        references: [config.digest, ...layers.map((d) => d.digest)],
      },
      blobs: [...new Set(blobs)],
      manifests: [],
    };
  }
  if (json['layers'] !== undefined || json['config'] !== undefined) {
    throw manifestInvalid('an image index has no "config" or "layers"');
  }
  const children = descriptorsOf(json['manifests'], 'manifests');
  return {
    record: {
      ...base,
      ...(artifactType === undefined ? {} : { artifactType }),
      references: children.map((d) => d.digest),
    },
    blobs: [],
    manifests: [...new Set(children.map((d) => d.digest))],
  };
}

/** A manifest without a mediaType, pushed without a manifest Content-Type: its shape says. */
function inferType(json: Record<string, unknown>): string {
  return json['manifests'] !== undefined ? OCI_INDEX : OCI_MANIFEST;
}
