/**
 * Identity as a journal per tenant (./directory.ts): concurrent writers through one or several
 * processes lose nothing and never fail with a 5xx; another process reads only what changed;
 * snapshots compact the journal; a write that cannot take its turn answers 503 and changes nothing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { PreconditionFailedError, type ObjectStore } from '../storage/object-store.js';
import { AUTH, DRIVERS, startTestRegistry, type TestRegistry } from '../test-support/test-registry.js';

/** Polls `check` until it holds (another process's poll), for at most `ms`. */
async function eventually(check: () => boolean, ms = 5000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error('timed out waiting');
    await sleep(20);
  }
}

async function journalRevisions(store: ObjectStore, tenantId: string): Promise<number[]> {
  const revisions: number[] = [];
  for await (const object of store.list(`identity/journal/${tenantId}/`)) {
    revisions.push(Number(object.key.slice(-17, -5)));
  }
  return revisions;
}

describe.each(DRIVERS)('identity journal (%s)', (driver) => {
  const open: TestRegistry[] = [];
  afterEach(async () => {
    for (const registry of open.splice(0).reverse()) await registry.close();
  });

  async function start(options: Parameters<typeof startTestRegistry>[1] = {}): Promise<TestRegistry> {
    const registry = await startTestRegistry(driver, options);
    open.push(registry);
    return registry;
  }

  it('takes writes from two processes at once into one tenant and loses none', async () => {
    const first = await start();
    const second = await start({ share: first });
    await request(first.app).post('/v1/tenants').set(AUTH).send({ name: 'busy' }).expect(201);
    await eventually(() => second.services.directory.tenantRef('busy') !== undefined);
    const creates = Array.from({ length: 40 }, (_, i) =>
      request((i % 2 === 0 ? first : second).app)
        .post('/v1/tenants/busy/users')
        .set(AUTH)
        .send({ username: `u${i}` }),
    );
    const answers = await Promise.all(creates);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
    for (const registry of [first, second]) {
      await eventually(() => registry.services.directory.tenant('busy')?.users.size === 40);
    }
    // One revision after another, none missing; changes that queued together share one.
    const tenantId = first.services.directory.tenantId('busy') ?? '';
    const revisions = (await journalRevisions(first.services.store, tenantId)).sort((a, b) => a - b);
    expect(revisions).toEqual(Array.from({ length: revisions.length }, (_, i) => i + 1));
    const written = new Set<string>();
    for (const revision of revisions) {
      const key = `identity/journal/${tenantId}/${String(revision).padStart(12, '0')}.json`;
      const entry = JSON.parse((await first.services.store.getBuffer(key))?.body.toString() ?? '{}') as {
        changes: Array<{ c: string; k: string }>;
      };
      for (const change of entry.changes) written.add(`${change.c}:${change.k}`);
    }
    expect(written.size).toBe(40);
  });

  it('stores changes that queued together as one revision, leaving out the one that refuses', async () => {
    const registry = await start();
    await request(registry.app).post('/v1/tenants').set(AUTH).send({ name: 'grouped' }).expect(201);
    const answers = await Promise.all([
      ...Array.from({ length: 6 }, (_, i) =>
        request(registry.app)
          .post('/v1/tenants/grouped/teams')
          .set(AUTH)
          .send({ name: `t${i}` }),
      ),
      // The same team twice: one of the two is refused, whichever comes second.
      request(registry.app).post('/v1/tenants/grouped/teams').set(AUTH).send({ name: 't0' }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([201, 201, 201, 201, 201, 201, 409]);
    const state = registry.services.directory.tenant('grouped');
    expect(state?.teams.size).toBe(6);
    const tenantId = registry.services.directory.tenantId('grouped') ?? '';
    expect((await journalRevisions(registry.services.store, tenantId)).length).toBeLessThan(6);
  });

  it('answers 32 concurrent writers without a 5xx', async () => {
    const registry = await start();
    await request(registry.app).post('/v1/tenants').set(AUTH).send({ name: 'many' }).expect(201);
    await request(registry.app).post('/v1/tenants/many/users').set(AUTH).send({ username: 'ci' }).expect(201);
    const answers = await Promise.all(
      Array.from({ length: 32 }, (_, i) =>
        request(registry.app)
          .post('/v1/tenants/many/users/ci/api-keys')
          .set(AUTH)
          .send({ name: `k${i}` }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
    const listed = await request(registry.app).get('/v1/tenants/many/users/ci/api-keys').set(AUTH).expect(200);
    expect(listed.body.items).toHaveLength(32);
  });

  it('shows another process a change by reading the one entry it lacks', async () => {
    const first = await start();
    const reads: string[] = [];
    const second = await start({
      share: first,
      wrapStore: (store) => ({
        ...store,
        getBuffer: (key) => {
          reads.push(key);
          return store.getBuffer(key);
        },
      }),
    });
    await request(first.app).post('/v1/tenants').set(AUTH).send({ name: 'seen' }).expect(201);
    for (let i = 0; i < 5; i++) {
      await request(first.app)
        .post('/v1/tenants/seen/users')
        .set(AUTH)
        .send({ username: `s${i}` })
        .expect(201);
    }
    await eventually(() => second.services.directory.tenant('seen')?.users.size === 5);
    reads.length = 0;
    await request(first.app)
      .post('/v1/tenants/seen/teams')
      .set(AUTH)
      .send({ name: 'ops', members: ['s1'] });
    await eventually(() => second.services.directory.tenant('seen')?.teams.has('ops') === true);
    const tenantId = first.services.directory.tenantId('seen') ?? '';
    expect(reads.filter((key) => key.startsWith('identity/'))).toEqual([
      `identity/journal/${tenantId}/000000000006.json`,
    ]);
    expect(second.services.directory.tenant('seen')?.index.teamsOf.get('s1')).toEqual(new Set(['ops']));
  });

  it('compacts the journal into snapshots, and a new process starts from them', async () => {
    const registry = await start({ identity: { directory: { snapshotEvery: 5, retentionMs: 0 } } });
    await request(registry.app).post('/v1/tenants').set(AUTH).send({ name: 'compact' }).expect(201);
    for (let i = 0; i < 23; i++) {
      await request(registry.app)
        .post('/v1/tenants/compact/users')
        .set(AUTH)
        .send({ username: `c${i}` })
        .expect(201);
    }
    const tenantId = registry.services.directory.tenantId('compact') ?? '';
    const store = registry.services.store;
    // Compaction runs after the write that triggers it answered.
    let revisions: number[] = [];
    const began = Date.now();
    for (;;) {
      revisions = await journalRevisions(store, tenantId);
      if (Math.min(...revisions) > 10 || Date.now() - began > 5000) break;
      await sleep(50);
    }
    // Entries an earlier snapshot covers are gone; the newest are kept.
    expect(Math.min(...revisions)).toBeGreaterThan(10);
    expect(Math.max(...revisions)).toBe(23);
    const snapshot = JSON.parse((await store.getBuffer(`identity/tenants/${tenantId}.json`))?.body.toString() ?? '{}');
    expect(snapshot.revision).toBeGreaterThanOrEqual(20);
    const replica = await start({ share: registry });
    expect(replica.services.directory.tenant('compact')?.users.size).toBe(23);
    expect(replica.services.directory.tenant('compact')?.revision).toBe(23);
    // A replica that falls behind a pruned entry reads the snapshot again.
    await request(replica.app).post('/v1/tenants/compact/users').set(AUTH).send({ username: 'late' }).expect(201);
    await eventually(() => registry.services.directory.tenant('compact')?.users.has('late') === true);
  });

  it('answers 503 IDENTITY_BUSY with Retry-After when a write cannot take its turn, changing nothing', async () => {
    let contended = false;
    const registry = await start({
      identity: { directory: { writeBudgetMs: 300 } },
      wrapStore: (store) => ({
        ...store,
        // Another writer (as it looks from here) always takes the revision first.
        put: (key, body, options) =>
          contended && key.startsWith('identity/journal/')
            ? Promise.reject(new PreconditionFailedError(key))
            : store.put(key, body, options),
      }),
    });
    await request(registry.app).post('/v1/tenants').set(AUTH).send({ name: 'jammed' }).expect(201);
    contended = true;
    const refused = await request(registry.app).post('/v1/tenants/jammed/users').set(AUTH).send({ username: 'j1' });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('IDENTITY_BUSY');
    expect(refused.headers['retry-after']).toBe('1');
    contended = false;
    expect(registry.services.directory.tenant('jammed')?.users.size).toBe(0);
    // The username was not kept: the same create now succeeds.
    await request(registry.app).post('/v1/tenants/jammed/users').set(AUTH).send({ username: 'j1' }).expect(201);
  });
});
