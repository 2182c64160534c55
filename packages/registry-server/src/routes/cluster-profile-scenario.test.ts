/**
 * Seed 003's "Scenario - ClusterProfile Access Control" (seeds/003_12c9697dad634286.txt), built
 * exactly and checked row by row. How the scenario is read (docs/access.md says the same):
 *
 * - the SuperAdmin creates CP1 at system scope; tenant T1's Tenant Admin creates CP2 at tenant
 *   scope; project admins create CP4 in P1, CP5 in P2 and CP6 in P3; CP3 belongs to tenant T2;
 * - U1 holds ClusterProfileAdmin in P1 and ClusterProfileEditor in P2 (the editor role has to be
 *   bound in P2: bound tenant-wide it would associate U1 with P3, which the table rules out);
 *   team T1, with U1 as member, holds ClusterProfileViewer in P2.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, startTestRegistry, type TestRegistry } from '../test-support/test-registry.js';

const PASSWORD = 'scenario password 003';

const profile = (name: string) => ({ name, version: '1.0.0', packs: [{ name: 'kubernetes', version: '1.29.x' }] });

describe('seed 003: ClusterProfile access control', () => {
  let registry: TestRegistry;
  let u1: { Authorization: string };
  const app = () => registry.app;
  const inProject = (project: string) => `/v1/tenants/t1/projects/${project}/cluster-profiles`;

  async function user(tenant: string, username: string, bindings: Array<{ role: string; project?: string }>) {
    await request(app())
      .post(`/v1/tenants/${tenant}/users`)
      .set(AUTH)
      .send({ username, password: PASSWORD })
      .expect(201);
    for (const { role, project } of bindings) {
      await request(app())
        .post(`/v1/tenants/${tenant}/bindings`)
        .set(AUTH)
        .send({ role, subject: { kind: 'user', name: username }, project })
        .expect(201);
    }
    const login = await request(app()).post('/v1/auth/login').send({ username, password: PASSWORD }).expect(200);
    return { Authorization: `Bearer ${login.body.token as string}` };
  }

  beforeAll(async () => {
    registry = await startTestRegistry('fs');
    for (const tenant of ['t1', 't2']) {
      await request(app()).post('/v1/tenants').set(AUTH).send({ name: tenant }).expect(201);
    }
    for (const project of ['p1', 'p2', 'p3']) {
      await request(app()).post('/v1/tenants/t1/projects').set(AUTH).send({ name: project }).expect(201);
    }
    // CP1: the SuperAdmin, system scope.
    await request(app()).post('/v1/cluster-profiles').set(AUTH).send(profile('cp1')).expect(201);
    // CP2: tenant T1, tenant scope; CP3: tenant T2.
    const t1Admin = await user('t1', 't1-admin', [{ role: 'Tenant Admin' }]);
    await request(app()).post('/v1/tenants/t1/cluster-profiles').set(t1Admin).send(profile('cp2')).expect(201);
    const t2Admin = await user('t2', 't2-admin', [{ role: 'Tenant Admin' }]);
    await request(app()).post('/v1/tenants/t2/cluster-profiles').set(t2Admin).send(profile('cp3')).expect(201);
    // CP4, CP5, CP6: each project's admin, in their project.
    for (const [project, name] of [
      ['p1', 'cp4'],
      ['p2', 'cp5'],
      ['p3', 'cp6'],
    ] as const) {
      const admin = await user('t1', `${project}-admin`, [{ role: 'ProjectAdmin', project }]);
      await request(app()).post(inProject(project)).set(admin).send(profile(name)).expect(201);
    }
    // U1 and team T1.
    u1 = await user('t1', 'u1', [
      { role: 'ClusterProfileAdmin', project: 'p1' },
      { role: 'ClusterProfileEditor', project: 'p2' },
    ]);
    await request(app())
      .post('/v1/tenants/t1/teams')
      .set(AUTH)
      .send({ name: 't1', members: ['u1'] })
      .expect(201);
    await request(app())
      .post('/v1/tenants/t1/bindings')
      .set(AUTH)
      .send({ role: 'ClusterProfileViewer', subject: { kind: 'team', name: 't1' }, project: 'p2' })
      .expect(201);
  });
  afterAll(async () => {
    await registry.close();
  });

  it('Projects listed for U1: P1 and P2', async () => {
    const res = await request(app()).get('/v1/tenants/t1/projects').set(u1).expect(200);
    expect(res.body.items.map((p: { name: string }) => p.name)).toEqual(['p1', 'p2']);
  });

  it('Viewable: under P1 CP1, CP2, CP4; under P2 CP1, CP2, CP5; under P3 none', async () => {
    const listed = async (project: string) => {
      const res = await request(app()).get(inProject(project)).set(u1);
      return res.status === 200 ? (res.body.items as Array<{ name: string }>).map((p) => p.name).sort() : [];
    };
    expect(await listed('p1')).toEqual(['cp1', 'cp2', 'cp4']);
    expect(await listed('p2')).toEqual(['cp1', 'cp2', 'cp5']);
    expect(await listed('p3')).toEqual([]);
    const viewable = async (project: string) => {
      const names = [];
      for (const name of ['cp1', 'cp2', 'cp3', 'cp4', 'cp5', 'cp6']) {
        if (
          (
            await request(app())
              .get(`${inProject(project)}/${name}`)
              .set(u1)
          ).status === 200
        )
          names.push(name);
      }
      return names;
    };
    expect(await viewable('p1')).toEqual(['cp1', 'cp2', 'cp4']);
    expect(await viewable('p2')).toEqual(['cp1', 'cp2', 'cp5']);
    expect(await viewable('p3')).toEqual([]);
    // CP1 and CP2 are inherited, read-only.
    const cp2 = await request(app())
      .get(`${inProject('p1')}/cp2`)
      .set(u1)
      .expect(200);
    expect(cp2.body).toMatchObject({ scope: 'tenant', inherited: true });
  });

  it('Editable: under P1 CP4, under P2 CP5 (the user is an editor there, the team only a viewer)', async () => {
    const editable: string[] = [];
    for (const project of ['p1', 'p2', 'p3']) {
      for (const name of ['cp1', 'cp2', 'cp4', 'cp5', 'cp6']) {
        const res = await request(app())
          .put(`${inProject(project)}/${name}`)
          .set(u1)
          .send({ ...profile(name), description: 'edited by U1' });
        if (res.status === 200) editable.push(`${project}/${name}`);
        else expect(res.status, `${project}/${name}`).toBeOneOf([403, 404]);
      }
    }
    expect(editable).toEqual(['p1/cp4', 'p2/cp5']);
    // The same profile again changes nothing: no new revision.
    const edited = { ...profile('cp4'), description: 'edited by U1' };
    const before = await request(app())
      .get(`${inProject('p1')}/cp4`)
      .set(u1)
      .expect(200);
    const again = await request(app())
      .put(`${inProject('p1')}/cp4`)
      .set(u1)
      .send(edited)
      .expect(200);
    expect(again.body).toMatchObject({ revision: before.body.revision, updatedAt: before.body.updatedAt });
    // A change keeps the revision it replaces: both can be read, by number.
    const kept = before.body.revision as number;
    await request(app())
      .put(`${inProject('p1')}/cp4`)
      .set(u1)
      .send({ ...edited, description: 'edited again' })
      .expect(200);
    const earlier = await request(app())
      .get(`${inProject('p1')}/cp4/revisions/${kept}`)
      .set(u1)
      .expect(200);
    expect(earlier.body).toMatchObject({ revision: kept, profile: { description: 'edited by U1' } });
    const latest = await request(app())
      .get(`${inProject('p1')}/cp4/revisions/${kept + 1}`)
      .set(u1)
      .expect(200);
    expect(latest.body).toMatchObject({ revision: kept + 1, profile: { description: 'edited again' } });
    const future = await request(app())
      .get(`${inProject('p1')}/cp4/revisions/${kept + 2}`)
      .set(u1)
      .expect(404);
    expect(future.body.error.code).toBe('PROFILE_NOT_FOUND');
    await request(app())
      .get(`${inProject('p1')}/cp4/revisions/0`)
      .set(u1)
      .expect(400);
    // CP1 and CP2 cannot be edited in their own scopes either.
    await request(app()).put('/v1/cluster-profiles/cp1').set(u1).send(profile('cp1')).expect(403);
    await request(app()).put('/v1/tenants/t1/cluster-profiles/cp2').set(u1).send(profile('cp2')).expect(403);
    const inherited = await request(app())
      .put(`${inProject('p1')}/cp2`)
      .set(u1)
      .send(profile('cp2'));
    expect(inherited.body.error.code).toBe('PROFILE_INHERITED');
  });

  it('Deletable: under P1 CP4 only', async () => {
    for (const [project, name] of [
      ['p1', 'cp1'],
      ['p1', 'cp2'],
      ['p2', 'cp5'],
      ['p2', 'cp1'],
      ['p3', 'cp6'],
    ]) {
      expect(
        (
          await request(app())
            .delete(`${inProject(project ?? '')}/${name}`)
            .set(u1)
        ).status,
      ).toBe(403);
    }
    await request(app())
      .delete(`${inProject('p1')}/cp4`)
      .set(u1)
      .expect(204);
  });

  it('Not visible to U1: CP3 (another tenant) and CP6 (a project U1 is not associated with)', async () => {
    const cp3 = await request(app()).get('/v1/tenants/t2/cluster-profiles/cp3').set(u1);
    expect(cp3.status).toBe(404);
    expect(cp3.body.error.code).toBe('TENANT_NOT_FOUND');
    expect(
      (
        await request(app())
          .get(`${inProject('p3')}/cp6`)
          .set(u1)
      ).status,
    ).toBe(403);
    const everything = [];
    for (const url of [inProject('p1'), inProject('p2'), '/v1/cluster-profiles']) {
      const res = await request(app()).get(url).set(u1).expect(200);
      everything.push(...res.body.items.map((p: { name: string }) => p.name));
    }
    expect(everything).not.toContain('cp3');
    expect(everything).not.toContain('cp6');
  });
});
