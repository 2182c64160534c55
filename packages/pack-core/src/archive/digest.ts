/**
 * Archive digests as registries record them, "sha256:<hex>": of a stream as it passes (a build
 * writing an archive, a download being saved) or of a file on disk.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';

export interface DigestingStream {
  /** Passes every byte through unchanged, hashing and counting it. */
  stream: Transform;
  /** The digest and size of what has passed; call once the stream has ended. */
  result(): { digest: string; size: number };
}

/**
 * A pass-through stream that takes the sha256 and the size of what goes through it.
 *
 * @example
 * const digesting = digestingStream();
 * await pipeline(source, digesting.stream, createWriteStream(file));
 * const { digest, size } = digesting.result(); // { digest: 'sha256:9f86…', size: 4096 }
 */
export function digestingStream(): DigestingStream {
  const hash = createHash('sha256');
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  return { stream, result: () => ({ digest: `sha256:${hash.digest('hex')}`, size }) };
}

/**
 * The "sha256:<hex>" digest of a file, read as a stream.
 *
 * @example
 * await fileDigest('dist/cni-calico-3.27.2.zip'); // 'sha256:9f86…'
 */
export async function fileDigest(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}
