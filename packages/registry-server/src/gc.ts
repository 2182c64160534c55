/**
 * Garbage collection: removes blobs that no live version record and no OCI manifest points at
 * (left by deleted versions, forced overwrites, publishes that failed after storing the blob,
 * deleted OCI manifests, or OCI pushes never finished by a manifest). An OCI manifest keeps its
 * own bytes and everything it references: config, layers, an index's child manifests. Blobs
 * younger than the grace period are kept, so a publish or push in flight never loses its blob;
 * so are blobs claimed by a record about to point at them (blobs/blob-claims.ts), before or
 * while this run decides on them.
 */
import type { Logger } from 'pino';
import { removeStaleGcMarkers, removeUnlessClaimed, TIME_GRAIN_MS } from './blobs/blob-claims.js';
import { listBlobs } from './blobs/blob-store.js';
import type { VersionRecord } from './catalog/records.js';
import { readJson } from './storage/json-documents.js';
import type { ManifestRecord } from './oci/repository-store.js';
import { isOciManifestKey, ociPrefix, VERSIONS_PREFIX } from './storage/layout.js';
import type { ObjectStore } from './storage/object-store.js';

export interface GcReport {
  records: number;
  /** OCI manifests (per repository) whose blobs were kept. */
  manifests: number;
  blobs: number;
  referenced: number;
  removed: number;
  removedBytes: number;
  /** Unreferenced, but younger than the grace period, or claimed within it. */
  young: number;
  /** Unreferenced when the run read the records, and claimed by a new one while it decided. */
  claimed: number;
  dryRun: boolean;
}

export async function collectGarbage(
  store: ObjectStore,
  options: { dryRun: boolean; graceMs: number; logger: Logger },
): Promise<GcReport> {
  // Taken before the records are read: a claim made since is younger.
  const cutoff = Date.now() - options.graceMs;
  const referenced = new Set<string>();
  let records = 0;
  for await (const object of store.list(VERSIONS_PREFIX)) {
    const found = await readJson<VersionRecord>(store, object.key);
    if (!found) continue;
    records++;
    if (!found.value.deleted) referenced.add(found.value.digest);
  }
  let manifests = 0;
  for await (const object of store.list(ociPrefix())) {
    if (!isOciManifestKey(object.key)) continue;
    const found = await readJson<ManifestRecord>(store, object.key);
    if (!found) continue;
    manifests++;
    referenced.add(found.value.digest);
    for (const digest of found.value.references) referenced.add(digest);
  }
  const report: GcReport = {
    records,
    manifests,
    blobs: 0,
    referenced: referenced.size,
    removed: 0,
    removedBytes: 0,
    young: 0,
    claimed: 0,
    dryRun: options.dryRun,
  };
  if (!options.dryRun) await removeStaleGcMarkers(store);
  for await (const blob of listBlobs(store)) {
    report.blobs++;
    if (referenced.has(blob.digest)) continue;
    if (blob.lastModified.getTime() > cutoff - TIME_GRAIN_MS) {
      report.young++;
      continue;
    }
    const decision = await removeUnlessClaimed(store, blob, cutoff, options.dryRun);
    if (decision !== 'removed') {
      report[decision]++;
      continue;
    }
    options.logger.info({ digest: blob.digest, size: blob.size, dryRun: options.dryRun }, 'unreferenced blob removed');
    report.removed++;
    report.removedBytes += blob.size;
  }
  return report;
}
