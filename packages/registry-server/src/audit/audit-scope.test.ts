/**
 * An entry's scope is the one its request's authorization found (access/decisions.ts), never read
 * from the path again: a registry's changes go to the log of the scope the registry lives in, a
 * tenant's deletion (a system-scope decision) to the system log, and a request refused before any
 * decision to the caller's own reach.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, startTestRegistry, type TestRegistry } from '../test-support/test-registry.js';
import type { AuditEntry } from './audit-log.js';

describe('the scope of an audit entry', () => {
  let registry: TestRegistry;

  const log = async (path: string): Promise<AuditEntry[]> => {
    await registry.services.audit.drain();
    const answer = await request(registry.app).get(`${path}?limit=500`).set(AUTH).expect(200);
    return (answer.body as { items: AuditEntry[] }).items;
  };

  beforeAll(async () => {
    registry = await startTestRegistry('fs');
    const app = registry.app;
    await request(app).post('/v1/tenants').set(AUTH).send({ name: 'acme' }).expect(201);
    await request(app).post('/v1/tenants/acme/projects').set(AUTH).send({ name: 'web' }).expect(201);
    await request(app)
      .post('/v1/registries')
      .set(AUTH)
      .send({ name: 'web-packs', scope: 'project', tenant: 'acme', project: 'web' })
      .expect(201);
  });
  afterAll(async () => {
    await registry.close();
  });

  it("is the registry's own scope for a change to a registry, whose path names no tenant", async () => {
    await request(registry.app)
      .patch('/v1/registries/web-packs')
      .set(AUTH)
      .send({ description: 'the web team packs' })
      .expect(200);
    const change = { method: 'PATCH', path: '/v1/registries/web-packs', status: 200 };
    expect(await log('/v1/tenants/acme/projects/web/audit')).toContainEqual(
      expect.objectContaining({ ...change, scope: { scope: 'project', tenant: 'acme', project: 'web' } }),
    );
    expect(await log('/v1/audit')).not.toContainEqual(expect.objectContaining(change));
  });

  it("is the system for a tenant's deletion, decided at system scope, even when it is refused", async () => {
    const refused = await request(registry.app).delete('/v1/tenants/acme').set(AUTH).expect(409);
    expect(refused.body.error.code).toBe('TENANT_NOT_EMPTY');
    const deletion = { method: 'DELETE', path: '/v1/tenants/acme', status: 409 };
    expect(await log('/v1/audit')).toContainEqual(expect.objectContaining({ ...deletion, scope: { scope: 'system' } }));
    expect(await log('/v1/tenants/acme/audit')).not.toContainEqual(expect.objectContaining(deletion));
  });

  it('is the system for an operator refused before any decision (a tenant that does not exist)', async () => {
    await request(registry.app).post('/v1/tenants/ghost/teams').set(AUTH).send({ name: 'x' }).expect(404);
    expect(await log('/v1/audit')).toContainEqual(
      expect.objectContaining({ path: '/v1/tenants/ghost/teams', status: 404, scope: { scope: 'system' } }),
    );
  });
});
