/**
 * Putting a finished upload into the store: the file becomes the content-addressed blob of its
 * digest (a staged write: invisible until committed, nothing left behind on failure). A blob
 * already stored with that size is not written again.
 */
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { blobKey } from '../storage/layout.js';
import type { ObjectStore } from '../storage/object-store.js';

export async function storeBlobFile(
  store: ObjectStore,
  file: string,
  blob: { digest: string; size: number },
): Promise<void> {
  const key = blobKey(blob.digest);
  const existing = await store.head(key);
  if (existing && existing.size === blob.size) return;
  const staged = store.stage(key, { contentType: 'application/octet-stream' });
  try {
    await pipeline(createReadStream(file), staged.stream);
    await staged.commit();
  } catch (err) {
    await staged.abort();
    throw err;
  }
}
