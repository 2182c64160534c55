/**
 * Pack archives, stored once per content: the key is the sha256 of the bytes, so two versions
 * with the same archive share one blob, and a blob is never rewritten with other bytes.
 */
import { ALL_BLOBS_PREFIX, blobKey, digestOfBlobKey } from '../storage/layout.js';
import type { ObjectRead, ObjectStore, StagedObject } from '../storage/object-store.js';
import { registryError } from '../errors.js';

export { blobKey };

/**
 * Starts writing the blob for `digest`, invisible until committed; null when storage holds it
 * already (of `size`, when the size is known).
 */
export async function stageBlob(store: ObjectStore, digest: string, size?: number): Promise<StagedObject | null> {
  const key = blobKey(digest);
  const existing = await store.head(key);
  if (existing && (size === undefined || existing.size === size)) return null;
  return store.stage(key, { contentType: 'application/zip', contentAddressed: true });
}

/** Streams a blob (or a byte range of it); a missing blob is a storage fault, not a client error. */
export async function readBlob(
  store: ObjectStore,
  digest: string,
  range?: { start: number; end?: number },
): Promise<ObjectRead> {
  const found = await store.get(blobKey(digest), range ? { range } : {});
  if (!found) {
    throw registryError('BLOB_MISSING', `the archive ${digest} is missing from storage`);
  }
  return found;
}

/** Every blob digest in storage, for garbage collection. */
export async function* listBlobs(
  store: ObjectStore,
): AsyncIterable<{ digest: string; key: string; size: number; lastModified: Date }> {
  for await (const object of store.list(ALL_BLOBS_PREFIX)) {
    const digest = digestOfBlobKey(object.key);
    if (digest !== null) yield { digest, key: object.key, size: object.size, lastModified: object.lastModified };
  }
}
