/**
 * What the registry stores, and under which keys. Version records are the source of truth; the
 * in-memory catalog index holds a {@link VersionSummary} of each, fed by the change log.
 *
 * Key layout (relative to the storage root or S3 prefix):
 *   registries/<registry>.json                         registry records
 *   packs/<registry>/<name>/<version>.json             version records (create-once, then CAS)
 *   blobs/sha256/<ab>/<hex>                             pack archives, content-addressed
 *   changes/<13-digit ms>-<id>.json                     the change log replicas follow
 *   snapshots/<13-digit ms>-<id>.json.gz                compacted index snapshots
 *   system/…                                            bootstrap state (admin token hash)
 */
import type { PackManifest } from '@packyard/pack-core';
import { keySegment } from '../storage/object-store.js';

export type RegistryScope = 'system' | 'tenant' | 'project';

export interface RegistryRecord {
  name: string;
  scope: RegistryScope;
  /** The owning tenant, for tenant and project registries. */
  tenant: string | null;
  /** The owning project, for project registries. */
  project: string | null;
  description: string;
  /** Anonymous callers may read it (when the server allows anonymous reads). */
  public: boolean;
  /** `?force=true` may replace a published version's bytes. */
  allowOverwrite: boolean;
  createdAt: string;
  createdBy: string;
  /** Incremented by every update; replicas keep the highest they have seen. */
  revision: number;
}

export interface Deprecation {
  message: string;
  at: string;
  by: string;
}

export interface Tombstone {
  at: string;
  by: string;
  message: string | null;
}

/** The bytes a version points at, and who put them there. */
export interface PublishedArchive {
  /** "sha256:<hex>" of the archive. */
  digest: string;
  /** Subresource Integrity string, "sha512-<base64>". */
  integrity: string;
  size: number;
  publishedAt: string;
  publisher: string;
  message: string | null;
}

export interface ArchiveFile {
  path: string;
  size: number;
}

export interface VersionRecord extends PublishedArchive {
  registry: string;
  name: string;
  version: string;
  layer: string;
  /** pack.json as published. */
  manifest: PackManifest;
  files: ArchiveFile[];
  deprecated: Deprecation | null;
  /** Set when the version was deleted: the record stays as a tombstone. */
  deleted: Tombstone | null;
  /** Archives this version pointed at before a forced overwrite, oldest first. */
  history: Array<PublishedArchive & { replacedAt: string; replacedBy: string }>;
  revision: number;
}

/** What the catalog index keeps of a version record. */
export interface VersionSummary {
  registry: string;
  name: string;
  version: string;
  layer: string;
  displayName: string;
  addonType: string | null;
  cloudTypes: string[];
  annotations: Record<string, string>;
  digest: string;
  size: number;
  publishedAt: string;
  publisher: string;
  deprecated: string | null;
  deleted: boolean;
  revision: number;
  /** The ETag of the stored record this summary was made from (null when not known). */
  etag: string | null;
}

export function summarise(record: VersionRecord, etag: string | null): VersionSummary {
  const { manifest } = record;
  const clouds = manifest.cloudTypes ?? (manifest.cloudType === undefined ? [] : [manifest.cloudType]);
  return {
    registry: record.registry,
    name: record.name,
    version: record.version,
    layer: record.layer,
    displayName: manifest.displayName,
    addonType: manifest.addonType ?? null,
    cloudTypes: [...clouds],
    annotations: Object.fromEntries(
      Object.entries(manifest.annotations ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'),
    ),
    digest: record.digest,
    size: record.size,
    publishedAt: record.publishedAt,
    publisher: record.publisher,
    deprecated: record.deprecated?.message ?? null,
    deleted: record.deleted !== null,
    revision: record.revision,
    etag,
  };
}

/** The registry, name and version a version record key names, or null for another key. */
export function parseVersionKey(key: string): { registry: string; name: string; version: string } | null {
  const match = /^packs\/([^/]+)\/([^/]+)\/([^/]+)\.json$/.exec(key);
  if (!match) return null;
  try {
    return { registry: match[1] ?? '', name: match[2] ?? '', version: decodeURIComponent(match[3] ?? '') };
  } catch {
    return null;
  }
}

export const KEYS = {
  registriesPrefix: 'registries/',
  registry: (name: string) => `registries/${name}.json`,
  versionsPrefix: 'packs/',
  version: (registry: string, name: string, version: string) => `packs/${registry}/${name}/${keySegment(version)}.json`,
  blobsPrefix: 'blobs/sha256/',
  blob: (hex: string) => `blobs/sha256/${hex.slice(0, 2)}/${hex}`,
  changesPrefix: 'changes/',
  change: (time: number, id: string) => `changes/${timeKey(time)}-${id}.json`,
  snapshotsPrefix: 'snapshots/',
  snapshot: (time: number, id: string) => `snapshots/${timeKey(time)}-${id}.json.gz`,
  adminToken: 'system/admin-token.json',
} as const;

/** Milliseconds since the epoch, zero-padded so that keys sort by time. */
export function timeKey(time: number): string {
  return String(Math.max(0, Math.floor(time))).padStart(13, '0');
}

/** The time a change or snapshot key was written, or NaN for a foreign key. */
export function timeOfKey(key: string): number {
  const match = /^(?:changes|snapshots)\/(\d{13})-/.exec(key);
  return match ? Number(match[1]) : Number.NaN;
}

/** "sha256:<hex>" -> "<hex>", or null when the string is not such a digest. */
export function digestHex(digest: string): string | null {
  const match = /^sha256:([0-9a-f]{64})$/.exec(digest);
  return match ? (match[1] ?? null) : null;
}
