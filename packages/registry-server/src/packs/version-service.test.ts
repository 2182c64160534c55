/**
 * Version records are kept in memory after a read, and served from there while the catalog index
 * names the same revision: a deprecation or deletion made here or by another replica is seen.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectStore } from '../storage/object-store.js';
import {
  AUTH,
  buildTestPack,
  DRIVERS,
  startTestRegistry,
  tempDir,
  type TestRegistry,
} from '../test-support/test-registry.js';

const VERSION = '/v1/registries/public/packs/cached/1.0.0';

/** The store, counting the whole-object reads of version records. */
function countingReads(counter: { reads: number }) {
  return (store: ObjectStore): ObjectStore => ({
    ...store,
    getBuffer: (key) => {
      if (key.startsWith('packs/')) counter.reads++;
      return store.getBuffer(key);
    },
  });
}

async function until(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('the condition did not hold in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(DRIVERS)('version records in memory (%s)', (driver) => {
  const counter = { reads: 0 };
  let first: TestRegistry;
  let second: TestRegistry;
  let work: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    first = await startTestRegistry(driver, { wrapStore: countingReads(counter) });
    second = await startTestRegistry(driver, { share: first });
    work = await tempDir();
    const pack = await buildTestPack(work.dir, { name: 'cached', version: '1.0.0' });
    expect((await request(first.app).post('/v1/registries/public/packs').set(AUTH).send(pack.bytes)).status).toBe(201);
  });
  afterAll(async () => {
    await second.close();
    await first.close();
    await work.cleanup();
  });

  it('reads a record from storage once, then serves it from memory', async () => {
    const before = counter.reads;
    for (let i = 0; i < 5; i++) expect((await request(first.app).get(VERSION).set(AUTH)).status).toBe(200);
    expect(counter.reads - before).toBe(1);
  });

  it('serves the change another replica makes, once the catalog has it', async () => {
    const changed = await request(second.app).patch(VERSION).set(AUTH).send({ deprecated: true, message: 'use 2' });
    expect(changed.status).toBe(200);
    await until(async () => (await request(first.app).get(VERSION).set(AUTH)).body.deprecated?.message === 'use 2');
    const deleted = await request(second.app).delete(VERSION).set(AUTH);
    expect(deleted.status).toBeLessThan(300);
    await until(async () => (await request(first.app).get(VERSION).set(AUTH)).status === 410);
  });
});
