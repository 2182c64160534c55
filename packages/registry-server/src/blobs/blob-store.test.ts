import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createFsStore } from '../storage/fs-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import { tempDir } from '../test-support/test-registry.js';
import { LOOK_FIRST_BYTES, blobKey, stageBlob } from './blob-store.js';

describe('stageBlob', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let store: ObjectStore;
  beforeEach(async () => {
    work = await tempDir();
    store = await createFsStore({ root: path.join(work.dir, 'store') });
  });
  afterEach(() => work.cleanup());

  const digest = (fill: string) => `sha256:${fill.repeat(64)}`;

  it('writes a small blob again without looking for it first, and keeps what was there', async () => {
    const bytes = randomBytes(1000);
    await store.put(blobKey(digest('a')), bytes);
    const head = vi.spyOn(store, 'head');
    const staged = await stageBlob(store, digest('a'), bytes.length);
    expect(head).not.toHaveBeenCalled();
    if (!staged) throw new Error('a small blob is staged');
    await pipeline(Readable.from([bytes]), staged.stream);
    await staged.commit();
    expect((await store.getBuffer(blobKey(digest('a'))))?.body.equals(bytes)).toBe(true);
    // An upper bound alone (a Content-Length) tells a small blob too.
    expect(await stageBlob(store, digest('a'), undefined, 5000)).not.toBeNull();
    expect(head).not.toHaveBeenCalled();
  });

  it('looks a large blob (or one of unknown size) up first, and stages none when it is there', async () => {
    await store.put(blobKey(digest('b')), Buffer.alloc(LOOK_FIRST_BYTES, 1));
    const head = vi.spyOn(store, 'head');
    expect(await stageBlob(store, digest('b'), LOOK_FIRST_BYTES)).toBeNull();
    expect(await stageBlob(store, digest('b'))).toBeNull();
    expect(head).toHaveBeenCalledTimes(2);
    // Another size under the same digest is not that blob: it is written.
    const other = await stageBlob(store, digest('b'), LOOK_FIRST_BYTES + 1);
    expect(other).not.toBeNull();
    await other?.abort();
  });
});
