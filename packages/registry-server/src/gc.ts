/**
 * Garbage collection: removes blobs that no live version record and no OCI manifest points at
 * (left by deleted versions, forced overwrites, publishes that failed after storing the blob,
 * deleted OCI manifests, or OCI pushes never finished by a manifest). An OCI manifest keeps its
 * own bytes and everything it references: config, layers, an index's child manifests. Blobs
 * younger than the grace period are kept, so a publish or push in flight never loses its blob;
 * so are blobs claimed by a record about to point at them (blobs/blob-claims.ts), before or
 * while this run decides on them.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { removeGcMarkers, removeUnlessClaimed, TIME_GRAIN_MS } from './blobs/blob-claims.js';
import { listBlobs } from './blobs/blob-store.js';
import type { VersionRecord } from './catalog/records.js';
import { registryError } from './errors.js';
import { readJson } from './storage/json-documents.js';
import type { ManifestRecord } from './oci/repository-store.js';
import { gcRunKey, isOciManifestKey, ociPrefix, VERSIONS_PREFIX } from './storage/layout.js';
import { createOnce, isPreconditionFailed, type ObjectStore } from './storage/object-store.js';

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
  /** Stopped before the end (a signal, or its lease lost): what it did is done, the rest left for the next run. */
  stopped: boolean;
}

export interface GcOptions {
  dryRun: boolean;
  graceMs: number;
  logger: Logger;
  /** Stops the run between two blobs (SIGINT, SIGTERM): it lets go of the store on its way out. */
  signal?: AbortSignal;
}

/** A run refreshes its lease this often... */
const LEASE_REFRESH_MS = 30_000;
/** ...and a lease this long without a refresh is a run that stopped without letting go. */
export const LEASE_STALE_MS = 5 * 60_000;

/**
 * The store's gc lease (system/gc-run.json): one run at a time, whatever host it runs on. Two runs
 * would defeat the claims (blobs/blob-claims.ts): one could remove a blob the other listed as old,
 * a restore store it again, and the other remove the new one. The run refreshes it while it runs
 * and removes nothing once it cannot.
 */
class GcLease {
  private refreshedAt = performance.now();
  private lost = false;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly store: ObjectStore,
    private readonly body: string,
    private etag: string,
  ) {
    this.timer = setInterval(() => void this.refresh(), LEASE_REFRESH_MS);
    this.timer.unref();
  }

  static async take(store: ObjectStore): Promise<GcLease> {
    const body = JSON.stringify({ startedAt: new Date().toISOString(), host: hostname(), pid: process.pid });
    const key = gcRunKey();
    const created = await createOnce(store, key, body, { contentType: 'application/json' });
    if (created !== null) return new GcLease(store, body, created);
    const current = await store.head(key);
    if (current && Date.now() - current.lastModified.getTime() < LEASE_STALE_MS) {
      throw registryError(
        'GC_RUNNING',
        `another gc run holds the store (seen alive at ${current.lastModified.toISOString()})`,
      );
    }
    try {
      // A run that stopped without letting go: its lease is taken over, by one run only.
      const options = current ? { ifMatch: current.etag } : { ifNoneMatch: '*' as const };
      return new GcLease(
        store,
        body,
        (await store.put(key, body, { ...options, contentType: 'application/json' })).etag,
      );
    } catch (err) {
      if (isPreconditionFailed(err)) throw registryError('GC_RUNNING', 'another gc run took the store just now');
      throw err;
    }
  }

  /** Whether the run may still remove blobs: the lease is its own, refreshed well within LEASE_STALE_MS. */
  held(): boolean {
    return !this.lost && performance.now() - this.refreshedAt < LEASE_STALE_MS / 2;
  }

  private async refresh(): Promise<void> {
    try {
      this.etag = (await this.store.put(gcRunKey(), this.body, { ifMatch: this.etag })).etag;
      this.refreshedAt = performance.now();
    } catch (err) {
      // Taken over: another run thought this one had stopped. A storage hiccup is retried next time.
      if (isPreconditionFailed(err)) this.lost = true;
    }
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    if (this.lost) return;
    if ((await this.store.head(gcRunKey()))?.etag === this.etag) await this.store.delete(gcRunKey());
  }
}

export async function collectGarbage(store: ObjectStore, options: GcOptions): Promise<GcReport> {
  if (options.dryRun) return sweep(store, options, () => true);
  const lease = await GcLease.take(store);
  try {
    return await sweep(store, options, () => lease.held());
  } finally {
    await lease.release();
  }
}

/** Reads what is referenced, then decides on every blob; removes only while `mayRemove()`. */
async function sweep(store: ObjectStore, options: GcOptions, mayRemove: () => boolean): Promise<GcReport> {
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
    stopped: false,
  };
  // Holding the lease, this is the only run: every gc marker there is from one that stopped.
  if (!options.dryRun) await removeGcMarkers(store);
  for await (const blob of listBlobs(store)) {
    if (options.signal?.aborted === true || !mayRemove()) {
      report.stopped = true;
      break;
    }
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
