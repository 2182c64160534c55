/**
 * Claims: how a record about to point at a blob already in storage, and a garbage collection run
 * about to remove that blob, learn of each other, so that a blob is never removed under a record
 * that points at it. Garbage collection (../gc.ts) removes a blob that no record pointed at when
 * it looked and that is older than its grace period; a publish of bytes already stored (a deleted
 * version restored, an overwrite back to earlier bytes, the same archive under another version)
 * or an OCI manifest over blobs pushed earlier adds a record pointing at such a blob, maybe while
 * a run is deciding on it. Both sides write a marker, then read the other's (the way Dekker's
 * mutual exclusion does), on any store whose reads see every write made before them (the fs
 * store; S3 since 2020, Ceph RGW):
 *
 * - the writer (`claimBlob`) rewrites the blob's use marker, then, while a run holds the blob's
 *   gc marker, waits for it to decide (milliseconds; at most CLAIM_WAIT_MS), then looks for the
 *   blob: there, the record may point at it; gone, the writer stores the bytes again or refuses;
 * - a run (`removeUnlessClaimed`) keeps a blob whose use marker is younger than its grace; else it
 *   writes the gc marker, reads the use marker again, and removes the blob only if no claim came
 *   in between (and only within GC_DECISION_MS of writing its marker), then drops its marker.
 *
 * Whichever reads second sees the other's marker: a claim the run misses waits for the run's
 * decision and then sees the blob gone. One run at a time holds the store (../gc.ts GcLease): a
 * second run could remove a blob stored again after the first removed it. A record written after
 * a run read the records comes from a claim the run sees as young, as long as a publish takes less
 * than the grace period from claim to record (seconds against an hour by default).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomHex } from '../random-hex.js';
import { forEachLimited } from '../storage/for-each-limited.js';
import { blobGcKey, blobKey, blobUseKey, BLOB_GC_PREFIX } from '../storage/layout.js';
import { storageUnavailable, type Committed, type ObjectStore, type StoredObject } from '../storage/object-store.js';

/** A gc run removes a blob only this soon after writing its gc marker, or keeps it. */
export const GC_DECISION_MS = 5_000;
/**
 * How long a claim waits for a gc marker to go: far past GC_DECISION_MS, so that a marker still
 * there by then is a run that stopped (its blob left alone, or removed long before).
 */
export const CLAIM_WAIT_MS = 30_000;
/** S3 keeps an object's time in whole seconds: a blob or claim within one of the cutoff counts as younger. */
export const TIME_GRAIN_MS = 1000;
/** Claims one request makes at once (a remote store answers each in milliseconds). */
const CLAIMS_AT_ONCE = 8;
/** How often a claim stored the bytes again and found them gone again, before it gives up. */
const MAX_RESTORES = 3;

/** A marker's body: unique, so that every write of it changes its ETag (S3's is the body's MD5). */
function markerBody(): string {
  return `${new Date().toISOString()} ${randomHex(8)}\n`;
}

/**
 * Claims the stored blob `digest` for a record about to point at it: true when the record may be
 * written, false when the blob is gone (removed by garbage collection, or never stored). Only for
 * a blob this request did not write itself: a fresh one is young for a whole grace period.
 */
export async function claimBlob(
  store: ObjectStore,
  digest: string,
  wait: (ms: number) => Promise<unknown> = sleep,
): Promise<boolean> {
  await store.put(blobUseKey(digest), markerBody(), { contentType: 'text/plain', durable: false });
  // Counted in pauses, which the time waited is at least.
  for (let pause = 10, waited = 0; (await store.head(blobGcKey(digest))) !== null; pause = Math.min(pause * 2, 1000)) {
    if (waited >= CLAIM_WAIT_MS) break;
    await wait(pause);
    waited += pause;
  }
  return (await store.head(blobKey(digest))) !== null;
}

/** Claims of several blobs at once (at most CLAIMS_AT_ONCE in flight): the digests found gone, sorted. */
export async function claimBlobs(store: ObjectStore, digests: readonly string[]): Promise<string[]> {
  const gone: string[] = [];
  await forEachLimited([...new Set(digests)], CLAIMS_AT_ONCE, async (digest) => {
    if (!(await claimBlob(store, digest))) gone.push(digest);
  });
  return gone.sort();
}

/**
 * Makes sure the blob `digest` is stored for a record about to point at it, after a write of it
 * (`written`; null when storage was found to hold it and nothing was written): unless that write
 * made the blob (`created`), the blob may be one from before (kept, or replaced where the store
 * cannot tell), so it is claimed, and stored again by `storeAgain` when garbage collection
 * removed it meanwhile.
 */
export async function keepStored(
  objects: ObjectStore,
  digest: string,
  written: Committed | null,
  storeAgain: () => Promise<Committed>,
): Promise<void> {
  let committed = written;
  for (let restores = 0; committed?.created !== true; restores++) {
    if (await claimBlob(objects, digest)) return;
    if (restores === MAX_RESTORES) {
      throw storageUnavailable(objects.description, new Error(`${digest} was removed each time it was stored again`));
    }
    committed = await storeAgain();
  }
}

export type GcDecision = 'removed' | 'young' | 'claimed';

/**
 * Garbage collection's side: removes `blob` (unreferenced when the run read the records, and
 * older than `cutoff`) unless a claim on it is younger than `cutoff` or comes in while the run
 * decides. `dryRun`: only says what would be done.
 */
export async function removeUnlessClaimed(
  store: ObjectStore,
  blob: { digest: string; key: string },
  cutoff: number,
  dryRun: boolean,
): Promise<GcDecision> {
  const useKey = blobUseKey(blob.digest);
  const used = await store.head(useKey);
  if (used && used.lastModified.getTime() > cutoff - TIME_GRAIN_MS) return 'young';
  if (dryRun) return 'removed';
  const gcKey = blobGcKey(blob.digest);
  const marked = performance.now();
  await store.put(gcKey, markerBody(), { contentType: 'text/plain', durable: false });
  try {
    const usedNow = await store.head(useKey);
    if (!sameMarker(used, usedNow) || performance.now() - marked > GC_DECISION_MS) return 'claimed';
    // Once: a retry landing after a publish made the blob again would remove it under its record.
    await store.delete(blob.key, { once: true });
    if (usedNow) await store.delete(useKey);
    return 'removed';
  } finally {
    await store.delete(gcKey);
  }
}

function sameMarker(a: StoredObject | null, b: StoredObject | null): boolean {
  return a === null || b === null ? a === b : a.etag === b.etag;
}

/**
 * Removes every gc marker: those of runs that stopped midway (a claim waits on one until
 * CLAIM_WAIT_MS). Only for the run that holds the gc lease (../gc.ts): no other run is deciding.
 */
export async function removeGcMarkers(store: ObjectStore): Promise<number> {
  const markers: string[] = [];
  for await (const marker of store.list(BLOB_GC_PREFIX, { keysOnly: true })) markers.push(marker.key);
  for (const key of markers) await store.delete(key);
  return markers.length;
}
