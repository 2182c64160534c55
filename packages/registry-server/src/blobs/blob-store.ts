/**
 * Pack archives, stored once per content: the key is the sha256 of the bytes, so two versions
 * with the same archive share one blob, and a blob is never rewritten with other bytes.
 */
import { ALL_BLOBS_PREFIX, blobKey, digestOfBlobKey } from '../storage/layout.js';
import {
  createOnce,
  type Committed,
  type ObjectRead,
  type ObjectStore,
  type StagedObject,
} from '../storage/object-store.js';
import { registryError } from '../errors.js';

export { blobKey };

/**
 * Blobs of fewer bytes than this are cheaper to write again than to look for first (a remote
 * store's HEAD is a round trip of its own; a content-addressed commit keeps what is there); larger
 * ones are looked for, so that their bytes are not sent twice.
 */
export const LOOK_FIRST_BYTES = 1024 * 1024;

/** Whether a blob of at most `bytes` (undefined: unknown) is worth looking for before it is written. */
export function worthLookingFor(bytes: number | undefined): boolean {
  return (bytes ?? Infinity) >= LOOK_FIRST_BYTES;
}

/**
 * Starts writing the blob for `digest`, invisible until committed; null when storage holds it
 * already (of `size`, when the size is known). `size`, or else `atMost` (an upper bound, such as
 * a request's Content-Length), tells a small blob, which is written without looking first.
 */
export async function stageBlob(
  store: ObjectStore,
  digest: string,
  size?: number,
  atMost: number | undefined = size,
): Promise<StagedObject | null> {
  const key = blobKey(digest);
  const existing = worthLookingFor(atMost) ? await store.head(key) : null;
  if (existing && (size === undefined || existing.size === size)) return null;
  return store.stage(key, { contentType: 'application/zip', contentAddressed: true });
}

/** Stores `body` (small) as the blob of `digest`, create-once: one already there is kept. */
export async function putBlobBytes(store: ObjectStore, digest: string, body: Buffer): Promise<Committed> {
  const etag = await createOnce(store, blobKey(digest), body);
  return etag === null ? { etag: '' } : { etag, created: true };
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
