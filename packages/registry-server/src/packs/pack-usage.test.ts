/**
 * Who uses a version (GET .../{version}/usage) and the README description on catalog rows: the
 * profiles of the scopes the caller may list that select the version, the packs whose constraints
 * name it, each limited to what the caller may read.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUTH,
  buildTestPack,
  DRIVERS,
  startTestRegistry,
  tempDir,
  type TestPack,
  type TestRegistry,
} from '../test-support/test-registry.js';

const PASSWORD = 'usage test password';
const USAGE = '/v1/registries/public/packs/kubernetes';

describe.each(DRIVERS)('pack usage and descriptions (%s)', (driver) => {
  let registry: TestRegistry;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let alice: { Authorization: string };
  const app = () => registry.app;

  async function publish(pack: TestPack, target = 'public') {
    await request(app()).post(`/v1/registries/${target}/packs`).set(AUTH).send(pack.bytes).expect(201);
  }

  beforeAll(async () => {
    registry = await startTestRegistry(driver);
    work = await tempDir();
    for (const version of ['1.28.3', '1.29.1', '1.29.4']) {
      await publish(
        await buildTestPack(work.dir, {
          name: 'kubernetes',
          version,
          layer: 'k8s',
          readme:
            '# Kubernetes\n\n[![ci](https://x/b.svg)](https://x)\n\nThe **Kubernetes** control plane, [upstream](https://k8s.io).\n',
        }),
      );
    }
    const dependsOn = (name: string, version: string, minVersion: string, maxVersion: string) =>
      buildTestPack(work.dir, {
        name,
        version,
        manifest: {
          constraints: {
            dependencies: [{ packName: 'kubernetes', layer: 'k8s', minVersion, maxVersion, type: 'required' }],
          },
        },
      });
    await publish(await dependsOn('cilium', '1.0.0', '1.20', '1.27'));
    await publish(await dependsOn('cilium', '1.1.0', '1.28', '1.29'));
    await request(app()).post('/v1/tenants').set(AUTH).send({ name: 'acme' }).expect(201);
    await request(app()).post('/v1/tenants/acme/projects').set(AUTH).send({ name: 'web' }).expect(201);
    await request(app())
      .post('/v1/registries')
      .set(AUTH)
      .send({ name: 'acme-private', scope: 'tenant', tenant: 'acme' })
      .expect(201);
    await publish(await dependsOn('acme-operator', '2.0.0', '1.29', '1.29'), 'acme-private');

    const profile = (name: string, version: string) => ({
      name,
      version: '1.0.0',
      packs: [{ name: 'kubernetes', version }],
    });
    await request(app()).post('/v1/cluster-profiles').set(AUTH).send(profile('edge', '1.29.x')).expect(201);
    await request(app()).post('/v1/cluster-profiles').set(AUTH).send(profile('old', '1.28.3')).expect(201);
    await request(app())
      .post('/v1/tenants/acme/cluster-profiles')
      .set(AUTH)
      .send(profile('acme-base', '>=1.29'))
      .expect(201);
    await request(app())
      .post('/v1/tenants/acme/projects/web/cluster-profiles')
      .set(AUTH)
      .send(profile('web-prod', '1.29.4'))
      .expect(201);

    await request(app())
      .post('/v1/tenants/acme/users')
      .set(AUTH)
      .send({ username: 'alice', password: PASSWORD })
      .expect(201);
    await request(app())
      .post('/v1/tenants/acme/bindings')
      .set(AUTH)
      .send({ role: 'ClusterProfileViewer', subject: { kind: 'user', name: 'alice' }, project: 'web' })
      .expect(201);
    const login = await request(app())
      .post('/v1/auth/login')
      .send({ username: 'alice', password: PASSWORD })
      .expect(200);
    alice = { Authorization: `Bearer ${login.body.token as string}` };
  });

  afterAll(async () => {
    await registry.close();
    await work.cleanup();
  });

  it('catalog rows and pack details carry the README first paragraph, and search finds its words', async () => {
    const description = 'The Kubernetes control plane, upstream.';
    const detail = await request(app()).get(USAGE).set(AUTH).expect(200);
    expect(detail.body.description).toBe(description);
    const search = await request(app()).get('/v1/packs?q=control%20plane').set(AUTH).expect(200);
    expect(search.body.items.map((row: { name: string }) => row.name)).toEqual(['kubernetes']);
    expect(search.body.items[0].description).toBe(description);
  });

  it('an operator sees every scope: the profiles selecting the version, and the dependents', async () => {
    const res = await request(app()).get(`${USAGE}/1.29.4/usage`).set(AUTH).expect(200);
    expect(res.body.profiles).toEqual([
      { scope: 'system', tenant: null, project: null, name: 'edge', version: '1.0.0', selector: '1.29.x' },
      { scope: 'tenant', tenant: 'acme', project: null, name: 'acme-base', version: '1.0.0', selector: '>=1.29' },
      { scope: 'project', tenant: 'acme', project: 'web', name: 'web-prod', version: '1.0.0', selector: '1.29.4' },
    ]);
    expect(res.body.dependents).toEqual([
      {
        registry: 'acme-private',
        name: 'acme-operator',
        displayName: expect.any(String),
        version: '2.0.0',
        type: 'required',
        minVersion: '1.29',
        maxVersion: '1.29',
        includes: true,
      },
      {
        registry: 'public',
        name: 'cilium',
        displayName: expect.any(String),
        version: '1.1.0',
        type: 'required',
        minVersion: '1.28',
        maxVersion: '1.29',
        includes: true,
      },
    ]);
  });

  it('reads a profile again only once it changed (a profile may be 2 MB; usage reads no values)', async () => {
    const { store } = registry.services;
    const getBuffer = store.getBuffer.bind(store);
    const read: string[] = [];
    store.getBuffer = (key) => {
      if (key.startsWith('profiles/')) read.push(key);
      return getBuffer(key);
    };
    try {
      const names = async () =>
        (
          (await request(app()).get(`${USAGE}/1.29.4/usage`).set(AUTH).expect(200)).body.profiles as Array<{
            name: string;
          }>
        ).map((p) => p.name);
      await names();
      read.length = 0;
      expect(await names()).toEqual(['edge', 'acme-base', 'web-prod']);
      expect(read).toEqual([]);
      // A changed profile is read again, and what it selects now is what counts.
      const values = `big: "${'x'.repeat(900_000)}"\n`;
      await request(app())
        .put('/v1/cluster-profiles/edge')
        .set(AUTH)
        .send({ name: 'edge', version: '1.0.1', packs: [{ name: 'kubernetes', version: '1.28.x', values }] })
        .expect(200);
      read.length = 0;
      expect(await names()).toEqual(['acme-base', 'web-prod']);
      expect(read).toEqual(['profiles/system/edge.json']);
      const old = await request(app()).get(`${USAGE}/1.28.3/usage`).set(AUTH).expect(200);
      expect(old.body.profiles.map((p: { name: string }) => p.name)).toEqual(['edge', 'old']);
      expect(read).toEqual(['profiles/system/edge.json']);
    } finally {
      store.getBuffer = getBuffer;
      await request(app())
        .put('/v1/cluster-profiles/edge')
        .set(AUTH)
        .send({ name: 'edge', version: '1.0.0', packs: [{ name: 'kubernetes', version: '1.29.x' }] })
        .expect(200);
    }
  });

  it('a version no profile resolves to is used by none, and out-of-range dependents say so', async () => {
    const res = await request(app()).get(`${USAGE}/1.29.1/usage`).set(AUTH).expect(200);
    expect(res.body.profiles).toEqual([]);
    const old = await request(app()).get(`${USAGE}/1.28.3/usage`).set(AUTH).expect(200);
    expect(old.body.profiles.map((p: { name: string }) => p.name)).toEqual(['old']);
    expect(old.body.dependents.find((d: { name: string }) => d.name === 'acme-operator').includes).toBe(false);
  });

  it('a tenant user sees only the scopes and registries they may read', async () => {
    const res = await request(app()).get(`${USAGE}/1.29.4/usage`).set(alice).expect(200);
    // System profiles (every signed-in caller) and project web (bound there); not the tenant's own.
    expect(res.body.profiles.map((p: { name: string }) => p.name)).toEqual(['edge', 'web-prod']);
    // acme-private needs packRegistry.get in the tenant, which a profile viewer lacks.
    expect(res.body.dependents.map((d: { name: string }) => d.name)).toEqual(['cilium']);
  });

  it('an anonymous reader of the public registry sees no profiles, and unknown versions are 404', async () => {
    const anonymous = await request(app()).get(`${USAGE}/1.29.4/usage`).expect(200);
    expect(anonymous.body.profiles).toEqual([]);
    expect(anonymous.body.dependents.map((d: { name: string }) => d.name)).toEqual(['cilium']);
    const missing = await request(app()).get(`${USAGE}/9.9.9/usage`).set(AUTH).expect(404);
    expect(missing.body.error.code).toBe('PACK_VERSION_NOT_FOUND');
  });
});
