/**
 * What the registry stores about registries and versions. Version records are the source of
 * truth; the in-memory catalog index holds a {@link VersionSummary} of each, fed by the change log.
 * The keys they are stored under are built by ../storage/layout.ts.
 */
import type { PackDependency, PackManifest } from '@packyard/pack-core';

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
  /** Subresource Integrity string: "sha256-<base64>" (the digest's hash); "sha512-<base64>" in older records. */
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
  /** The README's first paragraph as plain text (absent in records stored before it was kept). */
  description?: string | null;
  deprecated: Deprecation | null;
  /** Set when the version was deleted: the record stays as a tombstone. */
  deleted: Tombstone | null;
  /** Archives this version pointed at before a forced overwrite, oldest first. */
  history: Array<PublishedArchive & { replacedAt: string; replacedBy: string }>;
  revision: number;
  /**
   * The digest of the OCI manifest the version was pushed with, when it came through OCI: OCI
   * pulls answer with that very manifest. Absent for a /v1 publish (served as a manifest made
   * from the archive, see oci/pack-artifacts.ts), and dropped when the archive is overwritten.
   */
  ociManifest?: string;
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
  /** The README's first paragraph (null: none, or published before descriptions were kept). */
  description: string | null;
  /** The packs its constraints name (what the registry answers "who depends on X" from). */
  dependencies: PackDependency[];
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
    description: record.description ?? null,
    dependencies: (manifest.constraints?.dependencies ?? []).map(
      ({ packName, layer, minVersion, maxVersion, type }) => ({
        packName,
        layer,
        ...(minVersion === undefined ? {} : { minVersion }),
        ...(maxVersion === undefined ? {} : { maxVersion }),
        ...(type === undefined ? {} : { type }),
      }),
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
