import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../test-support/test-registry.js';
import { BlobCache } from './blob-cache.js';

const logger = pino({ level: 'silent' });

function blob(size: number) {
  const bytes = randomBytes(size);
  return { bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}

describe('the blob cache', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let dir: string;
  beforeEach(async () => {
    work = await tempDir();
    dir = path.join(work.dir, 'cache');
  });
  afterEach(() => work.cleanup());

  async function upload(bytes: Buffer): Promise<string> {
    const file = path.join(work.dir, `upload-${randomBytes(4).toString('hex')}`);
    await writeFile(file, bytes);
    return file;
  }

  it('keeps adopted uploads and evicts the least recently used past maxBytes', async () => {
    const cache = await BlobCache.open(dir, 2500, logger);
    const [a, b, c] = [blob(1000), blob(1000), blob(1000)];
    await cache.adopt(a.digest, await upload(a.bytes), 1000);
    await cache.adopt(b.digest, await upload(b.bytes), 1000);
    expect(await cache.get(a.digest)).not.toBeNull(); // a is now the most recently used
    await cache.adopt(c.digest, await upload(c.bytes), 1000);
    expect(await cache.get(b.digest)).toBeNull();
    const kept = await cache.get(a.digest);
    expect(kept && (await readFile(kept.file)).equals(a.bytes)).toBe(true);
    expect(await cache.get(c.digest)).not.toBeNull();
    expect(cache.bytes).toBe(2000);
  });

  it('keeps a fill only when every byte arrived and they hash to the digest', async () => {
    const cache = await BlobCache.open(dir, 10_000, logger);
    const good = blob(3000);
    const fill = cache.fill(good.digest, 3000);
    fill?.write(good.bytes.subarray(0, 1000));
    fill?.write(good.bytes.subarray(1000));
    expect(await fill?.end()).toBe(true);
    const kept = await cache.get(good.digest);
    expect(kept && (await readFile(kept.file)).equals(good.bytes)).toBe(true);

    const other = blob(3000);
    const wrong = cache.fill(other.digest, 3000);
    wrong?.write(randomBytes(3000));
    expect(await wrong?.end()).toBe(false);
    expect(await cache.get(other.digest)).toBeNull();

    const short = cache.fill(other.digest, 3000);
    short?.write(other.bytes.subarray(0, 2000));
    expect(await short?.end()).toBe(false);
    expect(await cache.get(other.digest)).toBeNull();
    expect(await readdir(path.join(dir, 'tmp'))).toEqual([]);
  });

  it('indexes what a previous process left, drops unfinished fills, and forgets files changed behind its back', async () => {
    const first = await BlobCache.open(dir, 10_000, logger);
    const a = blob(500);
    await first.adopt(a.digest, await upload(a.bytes), 500);
    await mkdir(path.join(dir, 'tmp'), { recursive: true });
    await writeFile(path.join(dir, 'tmp', 'left-over'), 'x');
    const second = await BlobCache.open(dir, 10_000, logger);
    const found = await second.get(a.digest);
    expect(found?.size).toBe(500);
    expect(await readdir(path.join(dir, 'tmp'))).toEqual([]);
    await writeFile(found?.file ?? '', 'truncated');
    expect(await second.get(a.digest)).toBeNull();
  });

  it('indexes what an earlier process left after opening: open does not wait for it, lookups do', async () => {
    const first = await BlobCache.open(dir, 1_000_000, logger);
    const blobs = Array.from({ length: 40 }, () => blob(100));
    for (const b of blobs) await first.adopt(b.digest, await upload(b.bytes), 100);
    const second = await BlobCache.open(dir, 1_000_000, logger);
    // Not indexed when open resolves; the first lookup starts the index and waits for it.
    expect(second.bytes).toBe(0);
    expect((await second.get(blobs[7]?.digest ?? ''))?.size).toBe(100);
    expect(second.bytes).toBe(4000);
    const third = await BlobCache.open(dir, 1_000_000, logger);
    await third.startIndexing();
    expect(third.bytes).toBe(4000);
  });
});
