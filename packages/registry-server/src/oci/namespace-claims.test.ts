/**
 * One name, one meaning in the OCI names (./namespaces.ts): a tenant, project or registry whose
 * name another holds at its level of `/v2/...` is refused, so nobody can make an existing name
 * resolve to content they control; a refusal about a registry does not name its project.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, startTestRegistry, type TestRegistry } from '../test-support/test-registry.js';

const PASSWORD = 'namespace claims password';

describe('OCI namespace claims', () => {
  let registry: TestRegistry;
  const app = () => registry.app;
  const post = (path: string, body: object, headers: Record<string, string> = AUTH) =>
    request(app()).post(path).set(headers).send(body);
  const taken = (answer: request.Response) => {
    expect(answer.status, JSON.stringify(answer.body)).toBe(409);
    expect(answer.body).toMatchObject({ error: { code: 'NAMESPACE_TAKEN', hint: expect.any(String) } });
  };

  beforeAll(async () => {
    registry = await startTestRegistry('fs');
    await post('/v1/tenants', { name: 'acme' }).expect(201);
    await post('/v1/tenants/acme/projects', { name: 'edge' }).expect(201);
    await post('/v1/tenants/acme/projects', { name: 'secret-merger' }).expect(201);
    await post('/v1/registries', { name: 'tools', scope: 'tenant', tenant: 'acme' }).expect(201);
    await post('/v1/registries', {
      name: 'm-and-a',
      scope: 'project',
      tenant: 'acme',
      project: 'secret-merger',
    }).expect(201);
    await post('/v1/tenants/acme/users', { username: 'nobody', password: PASSWORD }).expect(201);
  });
  afterAll(async () => {
    await registry.close();
  });

  it('refuses a tenant named like a system registry, and a system registry named like a tenant', async () => {
    taken(await post('/v1/tenants', { name: 'public' }));
    taken(await post('/v1/registries', { name: 'acme', scope: 'system' }));
    // The public registry still answers for its own names.
    expect((await request(app()).get('/v2/public/spectro-packs/archive/x/tags/list').set(AUTH)).body).toMatchObject({
      errors: [{ code: 'NAME_UNKNOWN' }],
    });
  });

  it("refuses a project named like its tenant's registry, and a tenant registry named like a project", async () => {
    taken(await post('/v1/tenants/acme/projects', { name: 'tools' }));
    taken(await post('/v1/registries', { name: 'edge', scope: 'tenant', tenant: 'acme' }));
    // Elsewhere the same names are free: another tenant's project, a project's own registry.
    await post('/v1/tenants', { name: 'globex' }).expect(201);
    await post('/v1/tenants/globex/projects', { name: 'tools' }).expect(201);
    await post('/v1/registries', { name: 'charts', scope: 'project', tenant: 'acme', project: 'edge' }).expect(201);
  });

  it('never lets a registry outlive its tenant or project, created while they are deleted', async () => {
    for (let round = 0; round < 6; round++) {
      const tenant = `doomed-${round}`;
      await post('/v1/tenants', { name: tenant }).expect(201);
      await post(`/v1/tenants/${tenant}/projects`, { name: 'p' }).expect(201);
      const [project, projectGone] = await Promise.all([
        post('/v1/registries', { name: `${tenant}-p`, scope: 'project', tenant, project: 'p' }),
        request(app()).delete(`/v1/tenants/${tenant}/projects/p`).set(AUTH),
      ]);
      // One of the two wins: the registry, and the project stays (409 not empty); or the delete.
      expect([project.status, projectGone.status].sort(), `round ${round}`).toSatisfy(
        (pair: number[]) => JSON.stringify(pair) === '[201,409]' || JSON.stringify(pair) === '[204,404]',
      );
      const [registry, tenantGone] = await Promise.all([
        post('/v1/registries', { name: `${tenant}-t`, scope: 'tenant', tenant }),
        request(app()).delete(`/v1/tenants/${tenant}`).set(AUTH),
      ]);
      expect(registry.status === 201 ? tenantGone.status : registry.status, `round ${round}`).toBe(
        registry.status === 201 ? 409 : 404,
      );
    }
  });

  it('gives a name raced for at one level to one claimant only', async () => {
    for (let round = 0; round < 6; round++) {
      // A tenant and a system registry, both first segments of the OCI names.
      const first = `twin-${round}`;
      const [tenant, system] = await Promise.all([
        post('/v1/tenants', { name: first }),
        post('/v1/registries', { name: first, scope: 'system' }),
      ]);
      expect([tenant.status, system.status].sort(), `round ${round}: tenant and system registry`).toEqual([201, 409]);
      // A project and a registry of its tenant, both second segments.
      const second = `pair-${round}`;
      const [project, registry] = await Promise.all([
        post('/v1/tenants/acme/projects', { name: second }),
        post('/v1/registries', { name: second, scope: 'tenant', tenant: 'acme' }),
      ]);
      expect([project.status, registry.status].sort(), `round ${round}: project and tenant registry`).toEqual([
        201, 409,
      ]);
    }
  });

  it("does not name a registry's project to a caller refused it", async () => {
    const login = await post('/v1/auth/login', { username: 'nobody', password: PASSWORD }, {});
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    const answer = await request(app())
      .get('/v1/registries/m-and-a')
      .set({ Authorization: `Bearer ${login.body.token as string}` });
    expect(answer.status).toBe(403);
    expect(answer.body.error.message).toContain('m-and-a');
    expect(JSON.stringify(answer.body)).not.toContain('secret-merger');
  });
});
