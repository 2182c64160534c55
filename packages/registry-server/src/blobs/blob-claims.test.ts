/**
 * The claim protocol's edges that a gc run racing a publish (gc.test.ts) does not reach: a gc
 * marker left by a run that stopped, and the next run clearing it.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createFsStore } from '../storage/fs-store.js';
import { blobGcKey, blobKey, blobUseKey } from '../storage/layout.js';
import type { ObjectStore } from '../storage/object-store.js';
import { tempDir } from '../test-support/test-registry.js';
import { CLAIM_WAIT_MS, claimBlob, claimBlobs, removeGcMarkers, removeUnlessClaimed } from './blob-claims.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const C = `sha256:${'c'.repeat(64)}`;

describe('blob claims', () => {
  let root: Awaited<ReturnType<typeof tempDir>>;
  let store: ObjectStore;

  beforeAll(async () => {
    root = await tempDir();
    store = await createFsStore({ root: root.dir });
  });
  afterAll(async () => {
    await store.close();
    await root.cleanup();
  });

  it('claims a stored blob and says when one is gone', async () => {
    await store.put(blobKey(A), 'a');
    expect(await claimBlob(store, A)).toBe(true);
    const first = await store.head(blobUseKey(A));
    expect(first).not.toBeNull();
    // Every claim rewrites the marker: a run deciding on the blob tells a new claim by its ETag.
    expect(await claimBlob(store, A)).toBe(true);
    expect((await store.head(blobUseKey(A)))?.etag).not.toBe(first?.etag);
    expect(await claimBlobs(store, [B, A, B])).toEqual([B]);
  });

  it('waits for a run deciding on the blob, and past a run that stopped, goes on', async () => {
    await store.put(blobKey(A), 'a');
    await store.put(blobGcKey(A), 'left by a run that stopped');
    const pauses: number[] = [];
    expect(await claimBlob(store, A, (ms) => Promise.resolve(pauses.push(ms)))).toBe(true);
    const waited = pauses.reduce((sum, ms) => sum + ms, 0);
    expect(waited).toBeGreaterThanOrEqual(CLAIM_WAIT_MS);
    expect(waited).toBeLessThan(CLAIM_WAIT_MS + 1000);
    expect(Math.max(...pauses)).toBe(1000);

    // A run that decides meanwhile: the claim sees its verdict (here, the blob removed).
    let polls = 0;
    const removed = claimBlob(store, A, async () => {
      if (++polls === 3) {
        await store.delete(blobKey(A));
        await store.delete(blobGcKey(A));
      }
    });
    expect(await removed).toBe(false);
    expect(polls).toBe(3);
  });

  it('keeps a blob claimed within the grace period, removes one that is not, and clears the gc markers of runs that stopped', async () => {
    await store.put(blobKey(A), 'a');
    await store.put(blobKey(C), 'c');
    await claimBlob(store, A);
    const cutoff = Date.now() - 60_000;
    expect(await removeUnlessClaimed(store, { digest: A, key: blobKey(A) }, cutoff, false)).toBe('young');
    expect(await removeUnlessClaimed(store, { digest: C, key: blobKey(C) }, cutoff, true)).toBe('removed');
    expect(await store.head(blobKey(C))).not.toBeNull();
    expect(await removeUnlessClaimed(store, { digest: C, key: blobKey(C) }, cutoff, false)).toBe('removed');
    expect(await store.head(blobKey(C))).toBeNull();
    expect(await store.head(blobGcKey(C))).toBeNull();

    await store.put(blobGcKey(A), 'left by a run that stopped');
    await store.put(blobGcKey(B), 'and another');
    expect(await removeGcMarkers(store)).toBe(2);
    expect(await store.head(blobGcKey(A))).toBeNull();
    expect(await store.head(blobGcKey(B))).toBeNull();
  });

  // A retry whose first try landed unseen could come after a publish made the blob again, which
  // claims nothing (its write made the blob), and remove it under the new record.
  it('removes a blob with a delete that is never tried again', async () => {
    await store.put(blobKey(C), 'c');
    const remove = vi.spyOn(store, 'delete');
    try {
      expect(await removeUnlessClaimed(store, { digest: C, key: blobKey(C) }, Date.now() + 60_000, false)).toBe(
        'removed',
      );
      expect(remove).toHaveBeenCalledWith(blobKey(C), { once: true });
    } finally {
      remove.mockRestore();
    }
  });
});
