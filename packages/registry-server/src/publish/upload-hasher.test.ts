import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlockChecksummer } from '@packyard/pack-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GrowingFile } from './growing-file.js';
import { INLINE_MAX_BYTES, UploadHasher } from './upload-hasher.js';

let dir: string;
const hasher = new UploadHasher();

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'packyard-hasher-'));
});
afterAll(async () => {
  await hasher.close();
  await rm(dir, { recursive: true, force: true });
});

function expected(bytes: Buffer) {
  const blocks = new BlockChecksummer(64 * 1024);
  blocks.update(bytes);
  return {
    digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    integrity: `sha256-${createHash('sha256').update(bytes).digest('base64')}`,
    blocks: blocks.result(),
  };
}

/** Writes `bytes` into a new GrowingFile in chunks of `chunk`, hashing it as it grows. */
async function hashWhileWriting(bytes: Buffer, chunk: number, by = hasher) {
  const file = new GrowingFile(path.join(dir, `${randomBytes(6).toString('hex')}.zip`));
  const digests = by.follow(file);
  const chunks = [];
  for (let at = 0; at < bytes.length; at += chunk) chunks.push(bytes.subarray(at, at + chunk));
  await pipeline(Readable.from(chunks), file);
  return digests;
}

describe('UploadHasher', () => {
  it('gives the sha256 (as digest and SRI string) and block CRC-32s of files as they grow, several at once', async () => {
    const files = [randomBytes(5 * 1024 * 1024 + 3), randomBytes(64 * 1024), randomBytes(1), Buffer.alloc(0)];
    const results = await Promise.all(files.map((bytes, i) => hashWhileWriting(bytes, [65_536, 1000, 1, 1][i] ?? 1)));
    expect(results).toEqual(files.map(expected));
  });

  it('rejects when the file is abandoned before it is complete, and keeps serving', async () => {
    const file = new GrowingFile(path.join(dir, 'abandoned.zip'));
    const digests = hasher.follow(file);
    file.on('error', () => undefined);
    file.write(randomBytes(2 * 1024 * 1024));
    file.destroy(new Error('client went away'));
    await expect(digests).rejects.toThrow(/ended before it was complete/);
    const bytes = randomBytes(100_000);
    await expect(hashWhileWriting(bytes, 4096)).resolves.toEqual(expected(bytes));
  });

  it('hashes small uploads on the main thread, and hands one that grows past the bound to the worker', async () => {
    const fresh = new UploadHasher();
    const write = (bytes: Buffer, chunk: number) => hashWhileWriting(bytes, chunk, fresh);
    try {
      const small = [randomBytes(53_000), randomBytes(INLINE_MAX_BYTES), Buffer.alloc(0)];
      for (const bytes of small) await expect(write(bytes, 16_384)).resolves.toEqual(expected(bytes));
      expect(fresh.workerRunning).toBe(false);
      // One byte over, in the last chunk; and a large one crossing the bound mid-chunk.
      const over = randomBytes(INLINE_MAX_BYTES + 1);
      await expect(write(over, 16_384)).resolves.toEqual(expected(over));
      expect(fresh.workerRunning).toBe(true);
      const large = randomBytes(3 * INLINE_MAX_BYTES + 17);
      await expect(write(large, 100_000)).resolves.toEqual(expected(large));
    } finally {
      await fresh.close();
    }
  });

  it('stops the worker once it has been idle, and starts it again for the next large upload', async () => {
    const fresh = new UploadHasher(50);
    const write = (bytes: Buffer) => hashWhileWriting(bytes, 100_000, fresh);
    try {
      const large = randomBytes(2 * INLINE_MAX_BYTES);
      await expect(write(large)).resolves.toEqual(expected(large));
      expect(fresh.workerRunning).toBe(true);
      await vi.waitFor(() => {
        expect(fresh.workerRunning).toBe(false);
      });
      const again = randomBytes(2 * INLINE_MAX_BYTES + 5);
      await expect(write(again)).resolves.toEqual(expected(again));
      expect(fresh.workerRunning).toBe(true);
    } finally {
      await fresh.close();
    }
  });

  it('rejects a small upload abandoned before it is complete', async () => {
    const file = new GrowingFile(path.join(dir, 'abandoned-small.zip'));
    const digests = hasher.follow(file);
    file.on('error', () => undefined);
    file.write(randomBytes(1000));
    file.destroy(new Error('client went away'));
    await expect(digests).rejects.toThrow(/ended before it was complete/);
  });

  it('refuses new work once closed', async () => {
    const closed = new UploadHasher();
    await closed.close();
    await expect(closed.follow(new GrowingFile(path.join(dir, 'late.zip')))).rejects.toThrow(/closed/);
  });
});
