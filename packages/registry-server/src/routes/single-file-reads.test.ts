/**
 * Single-file reads out of a many-entry pack (issue 11): the archive's central directory is
 * parsed once per digest and kept, so a later read of any of its files reads that file's range
 * and nothing else.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AUTH, buildTestPack, startTestRegistry, tempDir, type TestRegistry } from '../test-support/test-registry.js';

const ENTRIES = 9_000;

describe('single-file reads of a pack with many entries (fs)', () => {
  let registry: TestRegistry;
  let work: Awaited<ReturnType<typeof tempDir>>;
  const url = '/v1/registries/public/packs/many-files/1.0.0/files';

  beforeAll(async () => {
    registry = await startTestRegistry('fs');
    work = await tempDir();
    const files: Record<string, string> = {};
    for (let i = 0; i < ENTRIES; i++) files[`data/f${i}.txt`] = `file ${i}\n`;
    const pack = await buildTestPack(work.dir, { name: 'many-files', version: '1.0.0', files });
    const res = await request(registry.app).post('/v1/registries/public/packs').set(AUTH).send(pack.bytes);
    expect(res.status).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await registry.close();
    await work.cleanup();
  });

  it('reads the central directory once: a second read opens only the file it serves', async () => {
    const reads = vi.spyOn(registry.services.store, 'get');
    let started = performance.now();
    const first = await request(registry.app).get(`${url}/data/f17.txt`).set(AUTH);
    const firstMs = performance.now() - started;
    expect(first.status).toBe(200);
    expect(first.text).toBe('file 17\n');
    // The end of the archive, the directory, the entry.
    const firstReads = reads.mock.calls.length;
    expect(firstReads).toBeGreaterThanOrEqual(3);

    reads.mockClear();
    started = performance.now();
    const second = await request(registry.app).get(`${url}/data/f8999.txt`).set(AUTH);
    const secondMs = performance.now() - started;
    expect(second.status).toBe(200);
    expect(second.text).toBe('file 8999\n');
    // One ranged read: the entry's local header and data, no directory.
    expect(reads.mock.calls).toHaveLength(1);
    const range = reads.mock.calls[0]?.[1]?.range;
    expect(range?.start).toBeGreaterThan(0);
    expect((range?.end ?? Infinity) - (range?.start ?? 0)).toBeLessThan(64 * 1024);
    reads.mockRestore();
    // For the report: the first read parses ENTRIES directory entries, the second none.
    console.info(
      `single-file read of a ${ENTRIES}-entry pack: first ${firstMs.toFixed(0)} ms, then ${secondMs.toFixed(0)} ms`,
    );
  });
});
