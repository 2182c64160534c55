import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUTH,
  buildTestPack,
  DRIVERS,
  getBytes,
  startTestRegistry,
  tempDir,
  type TestPack,
  type TestRegistry,
} from '../test-support/test-registry.js';

async function cacheReads(registry: TestRegistry): Promise<{ hit: number; miss: number }> {
  const metrics = await registry.services.metrics.registry.getSingleMetricAsString('packyard_blob_cache_reads_total');
  const count = (result: string) => Number(new RegExp(`result="${result}"} (\\d+)`).exec(metrics)?.[1] ?? 0);
  return { hit: count('hit'), miss: count('miss') };
}

describe.each(DRIVERS.filter((d) => d !== 'fs'))('the blob cache of a registry on S3 (%s)', (driver) => {
  let a: TestRegistry;
  let b: TestRegistry;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let pack: TestPack;
  const url = '/v1/registries/public/packs/cached-addon/1.0.0';

  beforeAll(async () => {
    a = await startTestRegistry(driver);
    // A second replica on the same bucket, with a cache of its own.
    b = await startTestRegistry(driver, { share: a });
    work = await tempDir();
    pack = await buildTestPack(work.dir, {
      name: 'cached-addon',
      version: '1.0.0',
      files: { 'data/blob.bin': Buffer.alloc(200_000, 7) },
    });
    const res = await request(a.app)
      .post('/v1/registries/public/packs')
      .set(AUTH)
      .set('Content-Type', 'application/zip')
      .send(pack.bytes);
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await b.close();
    await a.close();
    await work.cleanup();
  });

  it('serves a download from the copy kept at publish', async () => {
    const before = await cacheReads(a);
    const res = await getBytes(a.app, `${url}/archive`, AUTH);
    expect(res.status).toBe(200);
    expect(res.bytes.equals(pack.bytes)).toBe(true);
    expect((await cacheReads(a)).hit).toBe(before.hit + 1);
  });

  it('fills on the first download from storage, then serves whole archives, ranges and files from disk', async () => {
    let wanted = 0;
    await expect.poll(async () => (wanted = (await request(b.app).get(url).set(AUTH)).status)).toBe(200);
    expect(wanted).toBe(200);
    const first = await getBytes(b.app, `${url}/archive`, AUTH);
    expect(first.bytes.equals(pack.bytes)).toBe(true);
    expect(await cacheReads(b)).toEqual({ hit: 0, miss: 1 });
    await expect.poll(() => b.services.blobCache?.bytes).toBe(pack.bytes.length);

    const second = await getBytes(b.app, `${url}/archive`, AUTH);
    expect(createHash('sha256').update(second.bytes).digest('hex')).toBe(pack.digest.slice('sha256:'.length));
    const range = await getBytes(b.app, `${url}/archive`, { ...AUTH, Range: 'bytes=100-1099' });
    expect(range.status).toBe(206);
    expect(range.bytes.equals(pack.bytes.subarray(100, 1100))).toBe(true);
    const file = await getBytes(b.app, `${url}/files/data/blob.bin`, AUTH);
    expect(file.bytes.equals(Buffer.alloc(200_000, 7))).toBe(true);
    expect((await cacheReads(b)).hit).toBe(3);
  });

  it('falls back to storage when a cached copy was damaged on disk', async () => {
    const cached = await a.services.blobCache?.get(pack.digest);
    expect(cached).not.toBeNull();
    await writeFile(cached?.file ?? '', 'not the archive');
    const res = await getBytes(a.app, `${url}/archive`, AUTH);
    expect(res.bytes.equals(pack.bytes)).toBe(true);
  });
});
