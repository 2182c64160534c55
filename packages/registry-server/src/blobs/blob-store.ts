/**
 * Pack archives, stored once per content: the key is the sha256 of the bytes, so two versions
 * with the same archive share one blob, and a blob is never rewritten with other bytes.
 */
import { PackError } from '@packyard/pack-core';
import { digestHex, KEYS } from '../catalog/records.js';
import type { ObjectRead, ObjectStore } from '../storage/object-store.js';

function keyOf(digest: string): string {
  const hex = digestHex(digest);
  if (hex === null) throw new Error(`not a sha256 digest: ${digest}`);
  return KEYS.blob(hex);
}

/** Stores `file` as the blob for `digest` unless a blob of that size is already there. */
export async function putBlob(store: ObjectStore, digest: string, file: string, size: number): Promise<void> {
  const key = keyOf(digest);
  const existing = await store.head(key);
  if (existing?.size === size) return;
  await store.putFile(key, file, { contentType: 'application/zip' });
}

/** Streams a blob (or a byte range of it); a missing blob is a storage fault, not a client error. */
export async function readBlob(
  store: ObjectStore,
  digest: string,
  range?: { start: number; end?: number },
): Promise<ObjectRead> {
  const found = await store.get(keyOf(digest), range ? { range } : {});
  if (!found) {
    throw new PackError('BLOB_MISSING', `the archive ${digest} is missing from storage`, {
      status: 500,
      hint: 'the registry storage lost an object; restore it from backup or publish the version again',
    });
  }
  return found;
}

/** Every blob digest in storage, for garbage collection. */
export async function* listBlobs(
  store: ObjectStore,
): AsyncIterable<{ digest: string; key: string; size: number; lastModified: Date }> {
  for await (const object of store.list(KEYS.blobsPrefix)) {
    const hex = object.key.split('/').at(-1) ?? '';
    if (/^[0-9a-f]{64}$/.test(hex)) {
      yield { digest: `sha256:${hex}`, key: object.key, size: object.size, lastModified: object.lastModified };
    }
  }
}
