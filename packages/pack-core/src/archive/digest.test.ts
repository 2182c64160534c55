import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test-support/valid-pack.js';
import { digestingStream, fileDigest } from './digest.js';

describe('archive digests', () => {
  it('gives the same sha256 for a stream passing through and for the file', async () => {
    const bytes = randomBytes(300_000);
    const expected = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const digesting = digestingStream();
    const passed: Buffer[] = [];
    await pipeline(
      Readable.from([bytes.subarray(0, 1), bytes.subarray(1, 70_000), bytes.subarray(70_000)]),
      digesting.stream,
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          passed.push(chunk);
          callback();
        },
      }),
    );
    expect(digesting.result()).toEqual({ digest: expected, size: bytes.length });
    expect(Buffer.concat(passed).equals(bytes)).toBe(true);

    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(path.join(dir, 'a.zip'), bytes);
      expect(await fileDigest(path.join(dir, 'a.zip'))).toBe(expected);
    } finally {
      await cleanup();
    }
  });
});
