/**
 * What the operations endpoints tell whom: the probes say only ready or not to anyone; /metrics
 * needs the scraper's token or an operator, and carries no tenant data.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUTH,
  buildTestPack,
  SUPER_ADMIN,
  startTestRegistry,
  tempDir,
  type TestRegistry,
} from '../test-support/test-registry.js';

const METRICS_TOKEN = 'scraper-token-0123456789abcdef';

describe('operations endpoints', () => {
  let registry: TestRegistry;
  let work: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    registry = await startTestRegistry('fs', { config: { metrics: { token: METRICS_TOKEN } } });
    work = await tempDir();
    const app = registry.app;
    expect((await request(app).post('/v1/tenants').set(AUTH).send({ name: 'secret-corp' })).status).toBe(201);
    const created = await request(app)
      .post('/v1/registries')
      .set(AUTH)
      .send({ name: 'secret-corp-private', scope: 'tenant', tenant: 'secret-corp' });
    expect(created.status).toBe(201);
    const pack = await buildTestPack(work.dir, { name: 'secret-pack' });
    expect(
      (await request(app).post('/v1/registries/secret-corp-private/packs').set(AUTH).send(pack.bytes)).status,
    ).toBe(201);
    const download = await request(app)
      .get('/v1/registries/secret-corp-private/packs/secret-pack/1.0.0/archive')
      .set(AUTH);
    expect(download.status).toBe(200);
  });
  afterAll(async () => {
    await registry.close();
    await work.cleanup();
  });

  it('/readyz tells anonymous callers only whether the registry is ready', async () => {
    const anonymous = await request(registry.app).get('/readyz');
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toEqual({ status: 'ready' });
    const operator = await request(registry.app).get('/readyz').set(AUTH);
    expect(operator.body).toMatchObject({ status: 'ready', checks: { storage: 'ok', catalog: 'ok' } });
    expect(operator.body.catalog.versions).toBe(1);
  });

  it('/metrics answers the scraper token and operators, nobody else', async () => {
    expect((await request(registry.app).get('/metrics')).status).toBe(401);
    const wrong = await request(registry.app).get('/metrics').set('Authorization', 'Bearer not-the-token');
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('AUTH_REQUIRED');
    expect((await request(registry.app).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`)).status).toBe(
      200,
    );
    expect((await request(registry.app).get('/metrics').set(AUTH)).status).toBe(200);
    const login = await request(registry.app).post('/v1/auth/login').send(SUPER_ADMIN);
    expect(login.status).toBe(200);
    const superAdmin = await request(registry.app).get('/metrics').set('Authorization', `Bearer ${login.body.token}`);
    expect(superAdmin.status).toBe(200);
  });

  it('/metrics names no tenant, registry or pack', async () => {
    const res = await request(registry.app).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
    expect(res.text).toContain('packyard_downloads_total{scope="tenant"} 1');
    expect(res.text).not.toMatch(/secret/);
  });
});
