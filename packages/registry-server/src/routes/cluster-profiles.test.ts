/**
 * A scope's profile list is answered a page at a time: bounded in profiles (`limit`) and in bytes
 * (profiles may be 2 MB each), own scope first and then those inherited, `nextCursor` going on
 * across scopes; `inherited=false` lists the scope's own alone.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, DRIVERS, startTestRegistry, type TestRegistry } from '../test-support/test-registry.js';
import { MAX_REVISIONS_KEPT } from '../profiles/profile-service.js';
import { MAX_PAGE_BYTES } from './cluster-profiles.js';

const profile = (name: string, values?: string) => ({
  name,
  version: '1.0.0',
  packs:
    values === undefined
      ? [{ name: 'kubernetes', version: '1.29.x' }]
      : [
          { name: 'kubernetes', version: '1.29.x', values },
          { name: 'cilium', version: '1.15.x', values },
        ],
});

describe.each(DRIVERS)('profile lists, a page at a time (%s)', (driver) => {
  let registry: TestRegistry;
  const PROJECT = '/v1/tenants/acme/projects/edge/cluster-profiles';

  /** Every page of `url` (with `query`), following nextCursor: the names of each page. */
  async function pages(url: string, query: Record<string, string>): Promise<string[][]> {
    const seen: string[][] = [];
    let cursor: string | null = null;
    do {
      const res = await request(registry.app)
        .get(url)
        .query({ ...query, ...(cursor === null ? {} : { cursor }) })
        .set(AUTH);
      expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
      seen.push((res.body.items as Array<{ name: string }>).map((p) => p.name));
      cursor = res.body.nextCursor as string | null;
      expect(seen.length).toBeLessThan(50);
    } while (cursor !== null);
    return seen;
  }

  beforeAll(async () => {
    registry = await startTestRegistry(driver);
    await request(registry.app).post('/v1/tenants').set(AUTH).send({ name: 'acme' }).expect(201);
    await request(registry.app).post('/v1/tenants/acme/projects').set(AUTH).send({ name: 'edge' }).expect(201);
    for (const name of ['sys-a', 'sys-b']) {
      await request(registry.app).post('/v1/cluster-profiles').set(AUTH).send(profile(name)).expect(201);
    }
    for (const name of ['ten-a', 'ten-b', 'ten-c']) {
      await request(registry.app).post('/v1/tenants/acme/cluster-profiles').set(AUTH).send(profile(name)).expect(201);
    }
    for (const name of ['p-a', 'p-b', 'p-c', 'p-d']) {
      await request(registry.app).post(PROJECT).set(AUTH).send(profile(name)).expect(201);
    }
  });

  afterAll(async () => {
    await registry.close();
  });

  it('pages go on from scope to scope, each profile once, own scope first', async () => {
    const all = ['p-a', 'p-b', 'p-c', 'p-d', 'ten-a', 'ten-b', 'ten-c', 'sys-a', 'sys-b'];
    expect(await pages(PROJECT, {})).toEqual([all]);
    expect(await pages(PROJECT, { limit: '4' })).toEqual([all.slice(0, 4), all.slice(4, 8), all.slice(8)]);
    expect(await pages(PROJECT, { limit: '2' })).toEqual([
      ['p-a', 'p-b'],
      ['p-c', 'p-d'],
      ['ten-a', 'ten-b'],
      ['ten-c', 'sys-a'],
      ['sys-b'],
    ]);
    // A page that ends with a scope's last profile: the next scope's first begins the next page.
    expect(await pages('/v1/tenants/acme/cluster-profiles', { limit: '3' })).toEqual([
      ['ten-a', 'ten-b', 'ten-c'],
      ['sys-a', 'sys-b'],
    ]);
    expect(await pages(PROJECT, { inherited: 'false', limit: '3' })).toEqual([['p-a', 'p-b', 'p-c'], ['p-d']]);
    expect(await pages(PROJECT, { inherited: 'false', limit: '4' })).toEqual([['p-a', 'p-b', 'p-c', 'p-d']]);
    const inherited = await request(registry.app).get(PROJECT).query({ limit: '5' }).set(AUTH).expect(200);
    expect((inherited.body.items as Array<{ inherited: boolean }>).map((p) => p.inherited)).toEqual([
      false,
      false,
      false,
      false,
      true,
    ]);
  });

  it('keeps the last MAX_REVISIONS_KEPT earlier revisions of a profile', async () => {
    const url = `${PROJECT}/often`;
    await request(registry.app).post(PROJECT).set(AUTH).send(profile('often')).expect(201);
    for (let i = 1; i <= MAX_REVISIONS_KEPT + 1; i++) {
      await request(registry.app)
        .put(url)
        .set(AUTH)
        .send({ ...profile('often'), description: `change ${String(i)}` })
        .expect(200);
    }
    const current = MAX_REVISIONS_KEPT + 2;
    const revision = (n: number) =>
      request(registry.app)
        .get(`${url}/revisions/${String(n)}`)
        .set(AUTH);
    expect((await revision(1)).status).toBe(404);
    expect((await revision(2)).body).toMatchObject({ revision: 2, profile: { description: 'change 1' } });
    expect((await revision(current)).body).toMatchObject({ revision: current });
    await request(registry.app).delete(url).set(AUTH).expect(204);
  }, 120_000);

  it('refuses a cursor or limit it did not give out, with a 400 and a hint', async () => {
    for (const query of [
      { cursor: 'p-a' },
      { cursor: '3:p-a' },
      { cursor: '0:P-A' },
      { limit: '0' },
      { limit: '501' },
    ]) {
      const res = await request(registry.app).get(PROJECT).query(query).set(AUTH);
      expect(res.status, JSON.stringify(query)).toBe(400);
      expect(res.body.error.code).toBe('INVALID_PARAMETER');
      expect(res.body.error.hint).toEqual(expect.any(String));
    }
  });

  it('ends a page before MAX_PAGE_BYTES of profiles, at least one a page, whatever the limit', async () => {
    // Six profiles of ~1.9 MB (a profile body may be 2 MB): an unbounded answer held 11 MB, and
    // three hundred of them once made one JSON string too long (500 INTERNAL_ERROR).
    const values = `big: "${'x'.repeat(950_000)}"\n`;
    const url = '/v1/tenants/acme/projects/edge/cluster-profiles';
    await request(registry.app).post('/v1/tenants/acme/projects').set(AUTH).send({ name: 'big' }).expect(201);
    const big = '/v1/tenants/acme/projects/big/cluster-profiles';
    for (let i = 0; i < 6; i++) {
      await request(registry.app)
        .post(big)
        .set(AUTH)
        .send(profile(`big-${String(i)}`, values))
        .expect(201);
    }
    // Records are read only until a page is full: one more at most (the one that did not fit).
    const { store } = registry.services;
    const getBuffer = store.getBuffer.bind(store);
    let reads = 0;
    store.getBuffer = (key) => {
      if (key.startsWith('profiles/')) reads++;
      return getBuffer(key);
    };
    const sizes: number[] = [];
    const names: string[] = [];
    const readsPerPage: number[] = [];
    let cursor: string | null = null;
    do {
      reads = 0;
      const res = await request(registry.app)
        .get(big)
        .query({ inherited: 'false', limit: '500', ...(cursor === null ? {} : { cursor }) })
        .set(AUTH)
        .expect(200);
      sizes.push(Number(res.headers['content-length']));
      names.push(...(res.body.items as Array<{ name: string }>).map((p) => p.name));
      cursor = res.body.nextCursor as string | null;
      readsPerPage.push(reads);
    } while (cursor !== null);
    store.getBuffer = getBuffer;
    expect(names).toEqual(['big-0', 'big-1', 'big-2', 'big-3', 'big-4', 'big-5']);
    expect(readsPerPage).toEqual(sizes.map((_, i) => (i < sizes.length - 1 ? 5 : 2)));
    expect(sizes.length).toBeGreaterThan(1);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(MAX_PAGE_BYTES + 1024);
    // The other scopes' lists are not held up by it.
    expect((await pages(url, { inherited: 'false' })).flat()).toEqual(['p-a', 'p-b', 'p-c', 'p-d']);
  });
});
