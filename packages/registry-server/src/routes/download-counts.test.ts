/**
 * Download counts through the API: which archive answers count (GET 200, a range from byte 0, a
 * redirect to storage; not HEAD, 304, a resumed range, nor single files), GET
 * .../packs/{name}/downloads with what this process has not written yet, its authorization (that of
 * the pack's page), and its place next to the version routes.
 */
import { matchRoute } from '@packyard/registry-api';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJson } from '../storage/json-documents.js';
import { downloadCountsKey } from '../storage/layout.js';
import type { ObjectStore } from '../storage/object-store.js';
import { AUTH, buildTestPack, startTestRegistry, tempDir, type TestRegistry } from '../test-support/test-registry.js';

const PASSWORD = 'download counts test password';
const PACK = '/v1/registries/public/packs/counted-addon';

describe('download counts (routes)', () => {
  let registry: TestRegistry;
  let work: Awaited<ReturnType<typeof tempDir>>;
  const tokens: Record<string, string> = {};
  const counts = async (url = `${PACK}/downloads`, headers: Record<string, string> = {}) => {
    const res = await request(registry.app).get(url).set(headers);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return (res.body as { versions: Record<string, number> }).versions;
  };

  beforeAll(async () => {
    registry = await startTestRegistry('fs');
    work = await tempDir();
    const publish = async (name: string, version: string, target = 'public') => {
      const pack = await buildTestPack(work.dir, { name, version });
      await request(registry.app)
        .post(`/v1/registries/${target}/packs`)
        .set(AUTH)
        .set('Content-Type', 'application/zip')
        .send(pack.bytes)
        .expect(201);
    };
    await publish('counted-addon', '1.0.0');
    await publish('counted-addon', '1.1.0');
    for (const tenant of ['acme', 'other']) {
      await request(registry.app).post('/v1/tenants').set(AUTH).send({ name: tenant }).expect(201);
      const username = tenant === 'acme' ? 'nobody@acme' : 'stranger@other';
      await request(registry.app)
        .post(`/v1/tenants/${tenant}/users`)
        .set(AUTH)
        .send({ username, password: PASSWORD })
        .expect(201);
      const login = await request(registry.app).post('/v1/auth/login').send({ username, password: PASSWORD });
      expect(login.status).toBe(200);
      tokens[tenant] = login.body.token as string;
    }
    await request(registry.app)
      .post('/v1/registries')
      .set(AUTH)
      .send({ name: 'acme-private', scope: 'tenant', tenant: 'acme' })
      .expect(201);
    await publish('acme-secret', '1.0.0', 'acme-private');
  });
  afterAll(async () => {
    await registry.close();
    await work.cleanup();
  });

  it('counts whole archive GETs and ranges from byte 0, for the version a selector resolves to', async () => {
    expect(await counts()).toEqual({});
    await request(registry.app).get(`${PACK}/1.0.0/archive`).expect(200);
    await request(registry.app).get(`${PACK}/1.0.x/archive`).expect(200);
    await request(registry.app).get(`${PACK}/1.1.0/archive`).set('Range', 'bytes=0-99').expect(206);
    // Counted before they are written: the answer adds this process's deltas.
    expect(await counts()).toEqual({ '1.0.0': 2, '1.1.0': 1 });
    await registry.services.downloads.flush();
    const stored = await readJson(registry.services.store, downloadCountsKey('public', 'counted-addon'));
    expect(stored?.value).toEqual({ versions: { '1.0.0': 2, '1.1.0': 1 } });
    expect(await counts()).toEqual({ '1.0.0': 2, '1.1.0': 1 });
  });

  it('does not count HEAD, 304, a resumed range, a refused one, nor single-file reads', async () => {
    const before = await counts();
    const whole = await request(registry.app).head(`${PACK}/1.0.0/archive`).expect(200);
    const etag = whole.headers['etag'] as string;
    await request(registry.app).get(`${PACK}/1.0.0/archive`).set('If-None-Match', etag).expect(304);
    await request(registry.app).get(`${PACK}/1.0.0/archive`).set('Range', 'bytes=100-199').expect(206);
    await request(registry.app).get(`${PACK}/1.0.0/archive`).set('Range', 'bytes=99999999-').expect(416);
    await request(registry.app).get(`${PACK}/1.0.0/files/pack.json`).expect(200);
    await request(registry.app).head(`${PACK}/1.0.0/files/pack.json`).expect(200);
    await request(registry.app).get(`${PACK}/9.9.9/archive`).expect(404);
    expect(await counts()).toEqual(before);
  });

  it('counts a redirect to a presigned storage URL', async () => {
    const store = registry.services.store as { -readonly [K in keyof ObjectStore]: ObjectStore[K] };
    store.downloadUrl = () => Promise.resolve('https://bucket.example/presigned');
    try {
      const before = await counts();
      const res = await request(registry.app).get(`${PACK}/1.1.0/archive`).redirects(0);
      expect(res.status).toBe(307);
      expect(res.headers['location']).toBe('https://bucket.example/presigned');
      await request(registry.app).head(`${PACK}/1.1.0/archive`).redirects(0);
      expect(await counts()).toEqual({ ...before, '1.1.0': (before['1.1.0'] ?? 0) + 1 });
    } finally {
      delete store.downloadUrl;
    }
  });

  it('answers the counts to whoever may read the pack, as the pack page does', async () => {
    const secret = '/v1/registries/acme-private/packs/acme-secret';
    await request(registry.app).get(`${secret}/1.0.0/archive`).set(AUTH).expect(200);
    expect(await counts(`${secret}/downloads`, AUTH)).toEqual({ '1.0.0': 1 });
    const callers: Array<[string, Record<string, string>, number, string]> = [
      ['anonymous', {}, 401, 'AUTH_REQUIRED'],
      ['a user of the tenant without a role', { Authorization: `Bearer ${tokens['acme'] ?? ''}` }, 403, 'FORBIDDEN'],
      ['a user of another tenant', { Authorization: `Bearer ${tokens['other'] ?? ''}` }, 404, 'REGISTRY_NOT_FOUND'],
    ];
    for (const [who, headers, status, code] of callers) {
      const res = await request(registry.app).get(`${secret}/downloads`).set(headers);
      expect([who, res.status, res.body.error?.code]).toEqual([who, status, code]);
      const page = await request(registry.app).get(secret).set(headers);
      expect([who, page.status]).toEqual([who, status]);
    }
  });

  it('answers 404 PACK_NOT_FOUND for an unknown pack, and REGISTRY_NOT_FOUND for an unknown registry', async () => {
    const pack = await request(registry.app).get('/v1/registries/public/packs/no-such-pack/downloads');
    expect([pack.status, pack.body.error?.code]).toEqual([404, 'PACK_NOT_FOUND']);
    const page = await request(registry.app).get('/v1/registries/public/packs/no-such-pack');
    expect([page.status, page.body.error?.code]).toEqual([404, 'PACK_NOT_FOUND']);
    const missing = await request(registry.app).get('/v1/registries/no-such-registry/packs/x/downloads').set(AUTH);
    expect([missing.status, missing.body.error?.code]).toEqual([404, 'REGISTRY_NOT_FOUND']);
  });

  it('is no version: "downloads" never reaches the version routes, which still answer', async () => {
    expect(matchRoute('GET', `${PACK}/downloads`)?.path).toBe('/v1/registries/{registry}/packs/{name}/downloads');
    expect(matchRoute('HEAD', `${PACK}/downloads`)?.path).toBe('/v1/registries/{registry}/packs/{name}/downloads');
    expect(matchRoute('GET', `${PACK}/1.0.0`)?.path).toBe('/v1/registries/{registry}/packs/{name}/{version}');
    expect(matchRoute('PATCH', `${PACK}/downloads`)?.path).toBe('/v1/registries/{registry}/packs/{name}/{version}');

    const version = await request(registry.app).get(`${PACK}/1.0.0`).expect(200);
    expect(version.body).toMatchObject({ name: 'counted-addon', version: '1.0.0' });
    const counted = await request(registry.app).get(`${PACK}/downloads`).expect(200);
    expect(Object.keys(counted.body as object)).toEqual(['versions']);
    // A version can never be called "downloads": the other methods refuse it as a version.
    const patch = await request(registry.app).patch(`${PACK}/downloads`).set(AUTH).send({ deprecated: false });
    expect([patch.status, patch.body.error?.code]).toEqual([400, 'INVALID_NAME']);
    const archive = await request(registry.app).get(`${PACK}/downloads/archive`);
    expect([archive.status, archive.body.error?.code]).toEqual([400, 'INVALID_NAME']);
  });
});
