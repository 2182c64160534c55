/**
 * Putting blobs into the store, content-addressed (the key is the digest): a staged write,
 * invisible until committed, with nothing left behind on failure. A blob already stored with the
 * same size is not written again.
 */
import { createHash } from 'node:crypto';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { registryError } from '../errors.js';
import { blobKey, worthLookingFor } from '../blobs/blob-store.js';
import { diskFullAsStorageFull, type ObjectStore } from '../storage/object-store.js';
import { idleGuard } from './body-idle.js';
import { algorithmOf } from './oci-names.js';
import { tooLarge } from './upload-sessions.js';

/**
 * Stores a finished upload's file as the blob of its (already verified) digest. The store may take
 * the file over (fs: a hard link, no copy): it is not written to afterwards, only removed.
 */
export async function storeBlobFile(
  store: ObjectStore,
  file: string,
  blob: { digest: string; size: number },
): Promise<void> {
  const key = blobKey(blob.digest);
  const existing = worthLookingFor(blob.size) ? await store.head(key) : null;
  if (existing && existing.size === blob.size) return;
  await store.putFile(key, file, { contentType: 'application/octet-stream', contentAddressed: true });
}

/** A sink that drops what it is given (a body whose blob is stored already: it is only checked). */
function discard(): Writable {
  return new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });
}

/**
 * Stores a request body whose digest is announced (a monolithic push): it streams straight into
 * a staged write while it is hashed, and is committed only when the digest matches and it fits
 * under `maxBytes`; nothing becomes visible otherwise. No temporary file, no second copy.
 */
export async function receiveBlob(
  store: ObjectStore,
  body: Readable,
  blob: { digest: string; maxBytes: number; idleMs: number; expectedBytes?: number | undefined },
): Promise<{ size: number }> {
  const { digest, maxBytes } = blob;
  const hash = createHash(algorithmOf(digest));
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > maxBytes) {
        done(tooLarge(maxBytes));
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const key = blobKey(digest);
  // A small body is cheaper to write again than to look for first (the commit keeps a blob that is
  // there already); a large one is only checked, not stored twice.
  const existing = worthLookingFor(blob.expectedBytes) ? await store.head(key) : null;
  const staged = existing
    ? null
    : store.stage(key, { contentType: 'application/octet-stream', contentAddressed: true });
  try {
    await pipeline(body, idleGuard(blob.idleMs), meter, staged ? staged.stream : discard());
    const actual = `${algorithmOf(digest)}:${hash.digest('hex')}`;
    if (actual !== digest) {
      throw registryError('DIGEST_INVALID', 'provided digest did not match uploaded content', {
        details: { expected: digest, actual },
      });
    }
    if (staged) await staged.commit();
    return { size };
  } catch (err) {
    await staged?.abort();
    throw diskFullAsStorageFull(err);
  }
}
