/**
 * The read side over a real store: catalog queries, pack detail with line tags, version records
 * by selector, archive downloads (digest headers, Range, If-None-Match) and single files.
 */
import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUTH,
  buildTestPack,
  DRIVERS,
  getBytes,
  startTestRegistry,
  storageFile,
  tempDir,
  type TestPack,
  type TestRegistry,
} from '../test-support/test-registry.js';

describe.each(DRIVERS)('read side (%s)', (driver) => {
  let registry: TestRegistry;
  let work: Awaited<ReturnType<typeof tempDir>>;
  const packs: TestPack[] = [];

  async function publish(pack: TestPack, target = 'public') {
    const res = await request(registry.app).post(`/v1/registries/${target}/packs`).set(AUTH).send(pack.bytes);
    expect(res.status).toBe(201);
    packs.push(pack);
  }

  beforeAll(async () => {
    registry = await startTestRegistry(driver);
    work = await tempDir();
    for (const version of ['1.27.1', '1.27.4', '1.28.0', '1.29.2']) {
      await publish(await buildTestPack(work.dir, { name: 'kubernetes', version, layer: 'k8s' }));
    }
    await publish(
      await buildTestPack(work.dir, {
        name: 'monitoring-stack',
        version: '45.1.0',
        manifest: { addonType: 'monitoring', cloudTypes: ['aws', 'azure'], annotations: { source: 'community' } },
        files: { 'data/big.bin': randomBytes(300 * 1024) },
      }),
    );
    expect((await request(registry.app).post('/v1/tenants').set(AUTH).send({ name: 'acme' })).status).toBe(201);
    const created = await request(registry.app)
      .post('/v1/registries')
      .set(AUTH)
      .send({ name: 'acme-private', scope: 'tenant', tenant: 'acme' });
    expect(created.status).toBe(201);
    await publish(await buildTestPack(work.dir, { name: 'acme-secret', version: '1.0.0' }), 'acme-private');
  });
  afterAll(async () => {
    await registry.close();
    await work.cleanup();
  });

  it('searches the catalog: anonymous callers see public registries only', async () => {
    const anonymous = await request(registry.app).get('/v1/packs');
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.items.map((row: { name: string }) => row.name)).toEqual(['kubernetes', 'monitoring-stack']);
    const admin = await request(registry.app).get('/v1/packs').set(AUTH);
    expect(admin.body.total).toBe(3);
    const filtered = await request(registry.app).get('/v1/packs?cloudType=azure&addonType=monitoring&q=community');
    expect(filtered.body.items).toEqual([
      expect.objectContaining({ name: 'monitoring-stack', latest: '45.1.0', cloudTypes: ['aws', 'azure'] }),
    ]);
    const byVersion = await request(registry.app).get('/v1/packs?version=1.27.x');
    expect(byVersion.body.items).toEqual([
      expect.objectContaining({ name: 'kubernetes', latest: '1.27.4', versions: ['1.27.1', '1.27.4'] }),
    ]);
  });

  it('pages with limit and cursor', async () => {
    const first = await request(registry.app).get('/v1/packs?limit=1').set(AUTH);
    expect(first.body).toMatchObject({ total: 3, items: [{ name: 'acme-secret' }] });
    const second = await request(registry.app)
      .get(`/v1/packs?limit=1&cursor=${first.body.nextCursor as string}`)
      .set(AUTH);
    expect(second.body.items[0].name).toBe('kubernetes');
  });

  it('answers 400 with the parameter name for bad query parameters', async () => {
    const manyWords = `q=${Array.from({ length: 17 }, (_, i) => `w${String(i)}`).join('+')}`;
    for (const query of [
      'limit=0',
      'limit=abc',
      'sort=size',
      'deprecated=maybe',
      'cursor=xyz',
      'version=%3E%3D%3D1',
      manyWords,
      `q=${'x'.repeat(257)}`,
    ]) {
      const res = await request(registry.app).get(`/v1/packs?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code, query).toBe('INVALID_PARAMETER');
    }
  });

  it('hides private registries from anonymous callers', async () => {
    const res = await request(registry.app).get('/v1/registries/acme-private/packs');
    expect(res.status).toBe(401);
    const list = await request(registry.app).get('/v1/registries');
    expect(list.body.items.map((r: { name: string }) => r.name)).toEqual(['public']);
    const download = await request(registry.app).get('/v1/registries/acme-private/packs/acme-secret/1.0.0/archive');
    expect(download.status).toBe(401);
  });

  it('shows a pack with its versions ascending and its line tags', async () => {
    const res = await request(registry.app).get('/v1/registries/public/packs/kubernetes');
    expect(res.status).toBe(200);
    expect(res.body.versions.map((v: { version: string }) => v.version)).toEqual([
      '1.27.1',
      '1.27.4',
      '1.28.0',
      '1.29.2',
    ]);
    expect(res.body.tags).toEqual({ '1.x': '1.29.2', '1.27.x': '1.27.4', '1.28.x': '1.28.0', '1.29.x': '1.29.2' });
    const missing = await request(registry.app).get('/v1/registries/public/packs/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('PACK_NOT_FOUND');
  });

  it('resolves tags and ranges in version URLs', async () => {
    for (const [selector, expected] of [
      ['1.27.x', '1.27.4'],
      ['%3E%3D1.28%20%3C1.29', '1.28.0'],
      ['1.29.2', '1.29.2'],
    ] as const) {
      const res = await request(registry.app).get(`/v1/registries/public/packs/kubernetes/${selector}`);
      expect(res.status, selector).toBe(200);
      expect(res.body.version).toBe(expected);
    }
    const none = await request(registry.app).get('/v1/registries/public/packs/kubernetes/2.x');
    expect(none.status).toBe(404);
    expect(none.body.error.code).toBe('PACK_VERSION_NOT_FOUND');
    // A long range that matches nothing is not a storage key (its encoded text once made a file
    // name past NAME_MAX on the fs store: 500), on every route that takes a version.
    const range = encodeURIComponent(Array.from({ length: 30 }, () => '>=9').join(' || '));
    for (const suffix of ['', '/archive', '/files/values.yaml', '/usage']) {
      const res = await request(registry.app).get(`/v1/registries/public/packs/kubernetes/${range}${suffix}`).set(AUTH);
      expect(res.status, suffix).toBe(404);
      expect(res.body.error.code, suffix).toBe('PACK_VERSION_NOT_FOUND');
    }
  });

  it('downloads the archive with its digest headers, and honours If-None-Match and Range', async () => {
    const pack = packs.find((p) => p.name === 'monitoring-stack') as TestPack;
    const url = '/v1/registries/public/packs/monitoring-stack/45.1.0/archive';
    const full = await getBytes(registry.app, url);
    expect(full.status).toBe(200);
    expect(full.bytes.equals(pack.bytes)).toBe(true);
    const b64 = createHash('sha256').update(pack.bytes).digest('base64');
    expect(full.headers['etag']).toBe(`"${pack.digest}"`);
    expect(full.headers['content-digest']).toBe(`sha-256=:${b64}:`);
    expect(full.headers['repr-digest']).toBe(`sha-256=:${b64}:`);
    expect(full.headers['content-type']).toBe('application/zip');
    expect(full.headers['content-disposition']).toBe('attachment; filename="monitoring-stack-45.1.0.zip"');
    expect(full.headers['cache-control']).toBe('public, no-cache');
    const secret = await getBytes(registry.app, '/v1/registries/acme-private/packs/acme-secret/1.0.0/archive', AUTH);
    expect(secret.headers['cache-control']).toBe('private, no-cache');

    const cached = await getBytes(registry.app, url, { 'If-None-Match': `"${pack.digest}"` });
    expect(cached.status).toBe(304);

    const part = await getBytes(registry.app, url, { Range: 'bytes=100-1099' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-1099/${pack.bytes.length}`);
    expect(part.bytes.equals(pack.bytes.subarray(100, 1100))).toBe(true);

    const suffix = await getBytes(registry.app, url, { Range: 'bytes=-10' });
    expect(suffix.bytes.equals(pack.bytes.subarray(-10))).toBe(true);
    // A suffix longer than the archive is all of it (RFC 9110 14.1.2), not a 416.
    for (const length of [String(pack.bytes.length), String(pack.bytes.length + 1), '9'.repeat(25)]) {
      const whole = await getBytes(registry.app, url, { Range: `bytes=-${length}` });
      expect(whole.status, length).toBe(206);
      expect(whole.headers['content-range']).toBe(`bytes 0-${pack.bytes.length - 1}/${pack.bytes.length}`);
      expect(whole.bytes.equals(pack.bytes)).toBe(true);
    }

    const stale = await getBytes(registry.app, url, { Range: 'bytes=0-9', 'If-Range': '"sha256:other"' });
    expect(stale.status).toBe(200);
    // Another unit must be ignored, several ranges or an invalid one may be (RFC 9110 14.2): the whole.
    for (const ignored of ['items=0-9', 'bytes=0-9,20-29', 'bytes=9-0']) {
      const whole = await getBytes(registry.app, url, { Range: ignored });
      expect(whole.status, ignored).toBe(200);
      expect(whole.bytes.equals(pack.bytes), ignored).toBe(true);
    }

    const beyond = await getBytes(registry.app, url, { Range: `bytes=${pack.bytes.length + 10}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers['content-range']).toBe(`bytes */${pack.bytes.length}`);
  });

  it('serves single files out of a pack without the archive', async () => {
    const base = '/v1/registries/public/packs/monitoring-stack/45.1.0/files';
    const values = await request(registry.app).get(`${base}/values.yaml`);
    expect(values.status).toBe(200);
    expect(values.headers['content-type']).toContain('application/yaml');
    expect(values.text).toContain('pack:');
    const readme = await request(registry.app).get(`${base}/README.md`);
    expect(readme.text).toContain('Monitoring Stack');
    expect(readme.headers['content-security-policy']).toContain('sandbox');
    const logo = await getBytes(registry.app, `${base}/logo.png`);
    expect(logo.bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    const nested = await request(registry.app).get(`${base}/manifests/monitoring-stack.yaml`);
    expect(nested.status).toBe(200);
    const missing = await request(registry.app).get(`${base}/nope.txt`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('FILE_NOT_FOUND');
    const escape = await request(registry.app).get(`${base}/..%2F..%2Fetc%2Fpasswd`);
    expect([400, 404]).toContain(escape.status);
  });
});

describe.each(DRIVERS.filter((d) => d !== 'fs'))('downloads redirected to the bucket (%s)', (driver) => {
  it('answers 307 to a presigned URL that serves the exact archive, after authorizing', async () => {
    const { dir, cleanup } = await tempDir();
    const storage = storageFile(driver, dir);
    const registry = await startTestRegistry(driver, {
      config: { storage: { ...storage, s3: { ...storage.s3, redirectDownloads: true } } },
    });
    try {
      const pack = await buildTestPack(dir, { name: 'redirected', version: '1.0.0' });
      expect((await request(registry.app).post('/v1/registries/public/packs').set(AUTH).send(pack.bytes)).status).toBe(
        201,
      );
      const res = await request(registry.app).get('/v1/registries/public/packs/redirected/1.0.0/archive').redirects(0);
      expect(res.status).toBe(307);
      expect(res.headers['etag']).toBe(`"${pack.digest}"`);
      expect(res.headers['cache-control']).toBe('no-store');
      const location = res.headers['location'] as string;
      expect(new URL(location).hostname).toBe('127.0.0.1');
      const direct = await fetch(location);
      expect(direct.status).toBe(200);
      expect(Buffer.from(await direct.arrayBuffer()).equals(pack.bytes)).toBe(true);
      // Not authorized: no URL is handed out.
      await request(registry.app).post('/v1/registries').set(AUTH).send({ name: 'hidden', scope: 'system' });
      const hidden = await request(registry.app).get('/v1/registries/hidden/packs/redirected/1.0.0/archive');
      expect(hidden.status).toBe(401);
    } finally {
      await registry.close();
      await cleanup();
    }
  });
});
