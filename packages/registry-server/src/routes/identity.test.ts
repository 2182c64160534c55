import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword, newApiKey, sha256Hex } from '../identity/secrets.js';
import { MAX_API_KEYS_PER_USER } from '../identity/bounds.js';
import { MAX_REGISTRIES_PER_TENANT } from '../registries/registry-service.js';
import {
  AUTH,
  buildTestPack,
  DRIVERS,
  faultyStore,
  startTestRegistry,
  SUPER_ADMIN,
  tempDir,
  type FaultPlan,
  type TestRegistry,
} from '../test-support/test-registry.js';

const PASSWORD = 'correct horse battery staple';

function bearer(token: string) {
  return { Authorization: `Bearer ${token}` };
}

async function login(registry: TestRegistry, username: string, password = PASSWORD): Promise<string> {
  const res = await request(registry.app).post('/v1/auth/login').send({ username, password });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.token as string;
}

/** A tenant with one user per listed tenant role, each signed in; returns their tokens. */
async function seedTenant(registry: TestRegistry, tenant: string, users: Record<string, string | null>) {
  const app = registry.app;
  expect((await request(app).post('/v1/tenants').set(AUTH).send({ name: tenant })).status).toBe(201);
  const tokens: Record<string, string> = {};
  for (const [username, role] of Object.entries(users)) {
    const created = await request(app)
      .post(`/v1/tenants/${tenant}/users`)
      .set(AUTH)
      .send({ username, password: PASSWORD });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    if (role) {
      const bound = await request(app)
        .post(`/v1/tenants/${tenant}/bindings`)
        .set(AUTH)
        .send({ role, subject: { kind: 'user', name: username } });
      expect(bound.status, JSON.stringify(bound.body)).toBe(201);
    }
    tokens[username] = await login(registry, username);
  }
  return tokens;
}

describe.each(DRIVERS)('identity and access (%s)', (driver) => {
  let registry: TestRegistry;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let acme: Record<string, string>;
  let beta: Record<string, string>;

  beforeAll(async () => {
    registry = await startTestRegistry(driver, { config: { auth: { maxFailedLogins: 3 } } });
    work = await tempDir();
    acme = await seedTenant(registry, 'acme', {
      alice: 'Tenant Admin',
      bob: null,
      vera: 'Tenant Viewer',
      uma: 'Tenant User Admin',
    });
    beta = await seedTenant(registry, 'beta', { carol: 'Tenant Admin' });
  });
  afterAll(async () => {
    await registry.close();
    await work.cleanup();
  });

  it('signs the SuperAdmin in, and refuses wrong passwords with LOGIN_FAILED', async () => {
    const token = await login(registry, SUPER_ADMIN.username, SUPER_ADMIN.password);
    const me = await request(registry.app).get('/v1/auth/me').set(bearer(token));
    expect(me.body).toMatchObject({ kind: 'operator', username: SUPER_ADMIN.username });
    const wrong = await request(registry.app).post('/v1/auth/login').send({ username: 'alice', password: 'nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('LOGIN_FAILED');
    const unknown = await request(registry.app).post('/v1/auth/login').send({ username: 'nobody', password: 'x' });
    expect(unknown.body.error.code).toBe('LOGIN_FAILED');
  });

  it('answers identity lists a page at a time, by name, and carries on after a record deleted meanwhile', async () => {
    const app = registry.app;
    expect((await request(app).post('/v1/tenants').set(AUTH).send({ name: 'paged' })).status).toBe(201);
    const names = ['u-e', 'u-a', 'u-d', 'u-c', 'u-b'];
    for (const username of names) {
      expect((await request(app).post('/v1/tenants/paged/users').set(AUTH).send({ username })).status).toBe(201);
    }
    const first = await request(app).get('/v1/tenants/paged/users?limit=2').set(AUTH);
    expect(first.status).toBe(200);
    expect(first.body.items.map((u: { username: string }) => u.username)).toEqual(['u-a', 'u-b']);
    expect(first.body.nextCursor).toBe('u-b');
    // The page's last record goes: the next page starts after it all the same.
    expect((await request(app).delete('/v1/tenants/paged/users/u-b').set(AUTH)).status).toBe(204);
    const second = await request(app).get('/v1/tenants/paged/users?limit=2&cursor=u-b').set(AUTH);
    expect(second.body).toEqual({
      items: [expect.objectContaining({ username: 'u-c' }), expect.anything()],
      nextCursor: 'u-d',
    });
    const last = await request(app).get('/v1/tenants/paged/users?limit=2&cursor=u-d').set(AUTH);
    expect(last.body.items.map((u: { username: string }) => u.username)).toEqual(['u-e']);
    expect(last.body.nextCursor).toBeNull();
    // Without a limit: 100 per page; a limit or cursor out of bounds is a 400.
    const all = await request(app).get('/v1/tenants/paged/users').set(AUTH);
    expect(all.body.items.map((u: { username: string }) => u.username)).toEqual(['u-a', 'u-c', 'u-d', 'u-e']);
    for (const query of [
      'limit=0',
      'limit=501',
      'limit=x',
      'cursor=',
      `cursor=${'x'.repeat(257)}`,
      'cursor=a&cursor=b',
    ]) {
      const refused = await request(app).get(`/v1/tenants/paged/users?${query}`).set(AUTH);
      expect(refused.status, query).toBe(400);
      expect(refused.body.error.code).toBe('INVALID_PARAMETER');
    }
    // Every identity collection pages the same way.
    const tenants = await request(app).get('/v1/tenants?limit=1&cursor=acme').set(AUTH);
    expect(tenants.body).toEqual({ items: [expect.objectContaining({ name: 'beta' })], nextCursor: 'beta' });
    for (const team of ['t-b', 't-a']) {
      expect((await request(app).post('/v1/tenants/paged/teams').set(AUTH).send({ name: team })).status).toBe(201);
    }
    const teams = await request(app).get('/v1/tenants/paged/teams?limit=1').set(AUTH);
    expect(teams.body).toEqual({ items: [expect.objectContaining({ name: 't-a' })], nextCursor: 't-a' });
    const bindings = await request(app).get('/v1/tenants/acme/bindings?limit=2').set(AUTH);
    const ids = bindings.body.items.map((b: { id: string }) => b.id);
    expect(ids).toEqual([...ids].sort());
    expect(bindings.body.nextCursor).toBe(ids[1]);
    const rest = await request(app).get(`/v1/tenants/acme/bindings?cursor=${ids[1]}`).set(AUTH);
    expect(rest.body.items).toHaveLength(1);
    expect(rest.body.nextCursor).toBeNull();
  });

  it('lists to a user of the tenant the projects they may see, a page of them at a time', async () => {
    const app = registry.app;
    for (const name of ['p-c', 'p-a', 'p-b']) {
      expect((await request(app).post('/v1/tenants/acme/projects').set(AUTH).send({ name })).status).toBe(201);
    }
    const bound = await request(app)
      .post('/v1/tenants/acme/bindings')
      .set(AUTH)
      .send({ role: 'ProjectViewer', subject: { kind: 'user', name: 'bob' }, project: 'p-c' });
    expect(bound.status, JSON.stringify(bound.body)).toBe(201);
    // bob sees p-c only: projects he may not see neither fill a page nor make another one follow.
    const bobs = await request(app)
      .get('/v1/tenants/acme/projects?limit=1')
      .set(bearer(acme['bob'] ?? ''));
    expect(bobs.body).toEqual({ items: [expect.objectContaining({ name: 'p-c' })], nextCursor: null });
    const admins = await request(app)
      .get('/v1/tenants/acme/projects?limit=2')
      .set(bearer(acme['alice'] ?? ''));
    expect(admins.body.items.map((p: { name: string }) => p.name)).toEqual(['p-a', 'p-b']);
    expect(admins.body.nextCursor).toBe('p-b');
  });

  it('bounds the API keys a user holds: spent ones make room, working ones are never dropped', async () => {
    // bob holds no role: creating keys for himself needs no permission, so it needs a bound.
    const bob = bearer(acme['bob'] ?? '');
    const create = (name: string) =>
      request(registry.app).post('/v1/tenants/acme/users/bob/api-keys').set(bob).send({ name });
    const ids: string[] = [];
    for (let i = 0; i < MAX_API_KEYS_PER_USER; i++) {
      const created = await create(`ci-${String(i)}`);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      ids.push(created.body.id as string);
    }
    const refused = await create('one-too-many');
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'IDENTITY_LIMIT_REACHED',
      details: { limit: MAX_API_KEYS_PER_USER },
    });
    expect(refused.body.error.hint).toContain('packctl apikey rm');
    // A revoked key makes room: the next create drops it.
    await request(registry.app)
      .delete(`/v1/tenants/acme/users/bob/api-keys/${ids[5] ?? ''}`)
      .set(bob)
      .expect(200);
    expect((await create('after-a-revoke')).status).toBe(201);
    const listed = await request(registry.app).get('/v1/tenants/acme/users/bob/api-keys').set(bob).expect(200);
    const names = (listed.body.items as Array<{ id: string; name: string }>).map((k) => k.id);
    expect(names).toHaveLength(MAX_API_KEYS_PER_USER);
    expect(names).not.toContain(ids[5]);
    expect((await create('still-full')).status).toBe(409);
    for (const id of ids) await request(registry.app).delete(`/v1/tenants/acme/users/bob/api-keys/${id}`).set(bob);
  });

  it('rate-limits failed logins per username', async () => {
    const attempt = () => request(registry.app).post('/v1/auth/login').send({ username: 'vera', password: 'wrong' });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await attempt()).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const limited = await attempt();
    expect(limited.body.error.code).toBe('LOGIN_RATE_LIMITED');
  });

  it('lets users and operators change their own password only with the current one', async () => {
    const app = registry.app;
    expect(
      (await request(app).post('/v1/tenants/acme/users').set(AUTH).send({ username: 'pat', password: PASSWORD }))
        .status,
    ).toBe(201);
    const pat = await login(registry, 'pat');
    const change = (token: string, currentPassword: string, newPassword: string) =>
      request(app).post('/v1/auth/password').set(bearer(token)).send({ currentPassword, newPassword });

    const wrong = await change(pat, 'not my password', 'a brand new passphrase');
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe('CURRENT_PASSWORD_INCORRECT');
    // A token alone cannot set a password through PATCH either.
    const patched = await request(app)
      .patch('/v1/tenants/acme/users/pat')
      .set(bearer(pat))
      .send({ password: 'x'.repeat(20) });
    expect(patched.status).toBe(400);
    expect(patched.body.error).toMatchObject({
      code: 'CURRENT_PASSWORD_REQUIRED',
      hint: expect.stringMatching(/packctl passwd/),
    });
    expect(
      (await request(app).patch('/v1/tenants/acme/users/pat').set(bearer(pat)).send({ displayName: 'Pat' })).status,
    ).toBe(200);

    expect((await change(pat, PASSWORD, 'a brand new passphrase')).status).toBe(204);
    expect((await request(app).post('/v1/auth/login').send({ username: 'pat', password: PASSWORD })).status).toBe(401);
    await login(registry, 'pat', 'a brand new passphrase');
    // A user admin still resets another user's password without knowing it.
    expect(
      (
        await request(app)
          .patch('/v1/tenants/acme/users/pat')
          .set(bearer(acme['uma'] ?? ''))
          .send({ password: PASSWORD })
      ).status,
    ).toBe(200);
    await login(registry, 'pat');

    // The SuperAdmin (an operator) refreshes its token and changes its password the same way.
    const root = await login(registry, SUPER_ADMIN.username, SUPER_ADMIN.password);
    const refreshed = await request(app).post('/v1/auth/refresh').set(bearer(root));
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    expect((await change(root, SUPER_ADMIN.password, 'another long passphrase')).status).toBe(204);
    // The new password ends the sessions of the old one, the caller's own included (issue 11).
    expect((await request(app).get('/v1/auth/me').set(bearer(root))).status).toBe(401);
    const again = await login(registry, SUPER_ADMIN.username, 'another long passphrase');
    expect((await change(again, 'another long passphrase', SUPER_ADMIN.password)).status).toBe(204);

    const token = await request(app)
      .post('/v1/auth/password')
      .set(AUTH)
      .send({ currentPassword: 'x', newPassword: 'y'.repeat(12) });
    expect(token.body.error.code).toBe('PASSWORD_NOT_APPLICABLE');
    expect(
      (
        await request(app)
          .post('/v1/auth/password')
          .send({ currentPassword: 'x', newPassword: 'y'.repeat(12) })
      ).status,
    ).toBe(401);
  });

  it("bounds a tenant's registries (every process holds them all)", async () => {
    const { index } = registry.services.catalog;
    const at = new Date().toISOString();
    // The tenant's registries as the catalog holds them (made in memory: a thousand creates take long).
    const held = index.listRegistries().filter((r) => r.tenant === 'beta').length;
    for (let i = held; i < MAX_REGISTRIES_PER_TENANT; i++) {
      index.applyRegistry({
        name: `beta-filler-${String(i)}`,
        scope: 'tenant',
        tenant: 'beta',
        project: null,
        description: '',
        public: false,
        allowOverwrite: false,
        createdAt: at,
        createdBy: 'test',
        revision: 1,
      });
    }
    const refused = await request(registry.app)
      .post('/v1/registries')
      .set(bearer(beta['carol'] ?? ''))
      .send({ name: 'beta-one-more', scope: 'tenant', tenant: 'beta' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'REGISTRY_LIMIT_REACHED',
      details: { limit: MAX_REGISTRIES_PER_TENANT },
    });
    // Another tenant is not held back by it.
    const other = await request(registry.app)
      .post('/v1/registries')
      .set(bearer(acme['alice'] ?? ''))
      .send({ name: 'acme-not-full', scope: 'tenant', tenant: 'acme' });
    expect(other.status, JSON.stringify(other.body)).toBe(201);
  });

  it('lets a Tenant Admin create a tenant registry that the rest of the tenant reads by role', async () => {
    const app = registry.app;
    const created = await request(app)
      .post('/v1/registries')
      .set(bearer(acme['alice'] ?? ''))
      .send({ name: 'acme-packs', scope: 'tenant', tenant: 'acme' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);

    const pack = await buildTestPack(work.dir, { name: 'acme-addon', version: '1.0.0' });
    const publish = (token: string) =>
      request(app)
        .post('/v1/registries/acme-packs/packs')
        .set(bearer(token))
        .set('Content-Type', 'application/zip')
        .send(pack.bytes);
    // A Tenant Viewer reads but cannot publish; a user without roles cannot even read.
    expect((await publish(acme['vera'] ?? '')).status).toBe(403);
    expect((await publish(acme['alice'] ?? '')).status).toBe(201);
    expect(
      (
        await request(app)
          .get('/v1/registries/acme-packs/packs')
          .set(bearer(acme['vera'] ?? ''))
      ).status,
    ).toBe(200);
    const bob = await request(app)
      .get('/v1/registries/acme-packs/packs')
      .set(bearer(acme['bob'] ?? ''));
    expect(bob.status).toBe(403);
    expect(bob.body.error.code).toBe('FORBIDDEN');
    // Another tenant's Tenant Admin does not learn that it exists.
    const carol = await request(app)
      .get('/v1/registries/acme-packs')
      .set(bearer(beta['carol'] ?? ''));
    expect(carol.status).toBe(404);
    expect(carol.body.error.code).toBe('REGISTRY_NOT_FOUND');
    const search = await request(app)
      .get('/v1/packs?q=acme')
      .set(bearer(beta['carol'] ?? ''));
    expect(search.body.items).toEqual([]);
    // Every signed-in user reads the public registry; only the operator writes to it.
    expect(
      (
        await request(app)
          .get('/v1/registries/public')
          .set(bearer(acme['bob'] ?? ''))
      ).status,
    ).toBe(200);
    expect(
      (
        await request(app)
          .post('/v1/registries/public/packs')
          .set(bearer(acme['alice'] ?? ''))
          .set('Content-Type', 'application/zip')
          .send(pack.bytes)
      ).status,
    ).toBe(403);
  });

  it('answers 404 for every resource of another tenant, whatever the route', async () => {
    const token = bearer(beta['carol'] ?? '');
    for (const path of [
      '/v1/tenants/acme/users',
      '/v1/tenants/acme/users/alice',
      '/v1/tenants/acme/projects',
      '/v1/tenants/acme/teams',
      '/v1/tenants/acme/roles',
      '/v1/tenants/acme/bindings',
      '/v1/tenants/acme/users/alice/api-keys',
      '/v1/tenants/guessed-name/users',
    ]) {
      const res = await request(registry.app).get(path).set(token);
      expect(res.status, path).toBe(404);
      expect(res.body.error.code, path).toBe('TENANT_NOT_FOUND');
    }
  });

  it('lists the built-in roles as the seeds name them, and refuses to change them', async () => {
    const res = await request(registry.app)
      .get('/v1/roles')
      .set(bearer(acme['bob'] ?? ''));
    const names = (res.body.items as Array<{ name: string; builtIn: boolean }>).map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(['Tenant Admin', 'Tenant Viewer', 'ProjectViewer', 'SuperAdmin']));
    const viewer = (res.body.items as Array<{ name: string; scope: string; permissions: string[] }>).find(
      (r) => r.name === 'ProjectViewer',
    );
    expect(viewer).toMatchObject({ scope: 'project', builtIn: true });
    expect(viewer?.permissions).toContain('clusterProfile.get');
    const patch = await request(registry.app)
      .patch('/v1/tenants/acme/roles/Tenant%20Viewer')
      .set(bearer(acme['alice'] ?? ''))
      .send({ permissions: ['user.get'] });
    expect(patch.status).toBe(409);
    expect(patch.body.error.code).toBe('ROLE_BUILT_IN');
    const permissions = await request(registry.app)
      .get('/v1/permissions')
      .set(bearer(acme['bob'] ?? ''));
    expect(permissions.body.items).toContainEqual(
      expect.objectContaining({ component: 'packRegistry', scopes: ['system', 'tenant', 'project'] }),
    );
  });

  it("lists a tenant's own roles through GET /v1/roles only to callers who may list them", async () => {
    const app = registry.app;
    await request(app)
      .post('/v1/tenants/acme/roles')
      .set(bearer(acme['alice'] ?? ''))
      .send({ name: 'Quiet Role', scope: 'project', permissions: ['packRegistry.list'] })
      .expect(201);
    const names = async (url: string, token: Record<string, string>) => {
      const res = await request(app).get(url).set(token);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return (res.body.items as Array<{ name: string }>).map((r) => r.name);
    };
    // bob holds no role: the tenant's route refuses him, and the other one tells him no more.
    expect(
      (
        await request(app)
          .get('/v1/tenants/acme/roles')
          .set(bearer(acme['bob'] ?? ''))
      ).status,
    ).toBe(403);
    const seenByBob = await names('/v1/roles', bearer(acme['bob'] ?? ''));
    expect(seenByBob).toContain('Tenant Admin');
    expect(seenByBob).not.toContain('Quiet Role');
    expect(await names('/v1/roles', bearer(acme['alice'] ?? ''))).toContain('Quiet Role');
    expect(await names('/v1/roles?tenant=acme', AUTH)).toContain('Quiet Role');
    expect(await names('/v1/roles', bearer(beta['carol'] ?? ''))).not.toContain('Quiet Role');
  });

  it('creates custom roles with unique case-insensitive names and permissions of their scope only', async () => {
    const app = registry.app;
    const token = bearer(acme['alice'] ?? '');
    const role = { name: 'Pack_Publisher', scope: 'tenant', permissions: ['packRegistry.get', 'packRegistry.update'] };
    expect((await request(app).post('/v1/tenants/acme/roles').set(token).send(role)).status).toBe(201);
    const again = await request(app)
      .post('/v1/tenants/acme/roles')
      .set(token)
      .send({ ...role, name: 'PACK_PUBLISHER' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('ROLE_EXISTS');
    const builtInName = await request(app)
      .post('/v1/tenants/acme/roles')
      .set(token)
      .send({ ...role, name: 'tenant admin' });
    expect(builtInName.body.error.code).toBe('ROLE_EXISTS');
    const misplaced = await request(app)
      .post('/v1/tenants/acme/roles')
      .set(token)
      .send({ name: 'project-users', scope: 'project', permissions: ['user.create'] });
    expect(misplaced.status).toBe(400);
    expect(misplaced.body.error.code).toBe('ROLE_INVALID');
    const unknown = await request(app)
      .post('/v1/tenants/acme/roles')
      .set(token)
      .send({ name: 'odd', scope: 'tenant', permissions: ['pack.fly'] });
    expect(unknown.body.error.code).toBe('ROLE_INVALID');
  });

  it('does not let a Tenant User Admin grant a role holding more than they hold', async () => {
    const res = await request(registry.app)
      .post('/v1/tenants/acme/bindings')
      .set(bearer(acme['uma'] ?? ''))
      .send({ role: 'Tenant Admin', subject: { kind: 'user', name: 'bob' } });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('ROLE_ESCALATION');
  });

  it('issues API keys shown once and stored hashed; revoked and expired keys are refused', async () => {
    const app = registry.app;
    const token = bearer(acme['bob'] ?? '');
    const created = await request(app).post('/v1/tenants/acme/users/bob/api-keys').set(token).send({ name: 'ci' });
    expect(created.status).toBe(201);
    const key = created.body.key as string;
    expect(key).toMatch(/^pyk_/);
    expect((await request(app).get('/v1/auth/me').set(bearer(key))).body).toMatchObject({
      username: 'bob',
      tenant: 'acme',
    });
    const listed = await request(app).get('/v1/tenants/acme/users/bob/api-keys').set(token);
    expect(JSON.stringify(listed.body)).not.toContain(key.slice(-20));
    expect(JSON.stringify(listed.body)).not.toContain('secret');
    // Nothing identity stores (snapshots, journal entries, markers, sign-in index) holds a secret.
    let stored = '';
    for await (const object of registry.services.store.list('identity/')) {
      stored += (await registry.services.store.getBuffer(object.key))?.body.toString() ?? '';
    }
    expect(stored).toContain('"secretSha256"');
    expect(stored).not.toContain(key.slice(-20));
    expect(stored).not.toContain(PASSWORD);

    const revoked = await request(app).delete(`/v1/tenants/acme/users/bob/api-keys/${created.body.id}`).set(token);
    expect(revoked.status).toBe(200);
    const refused = await request(app).get('/v1/auth/me').set(bearer(key));
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('AUTH_INVALID');

    const past = await request(app)
      .post('/v1/tenants/acme/users/bob/api-keys')
      .set(token)
      .send({ name: 'old', expiresAt: '2001-01-01T00:00:00Z' });
    expect(past.body.error.code).toBe('API_KEY_INVALID');
    const soon = await request(app)
      .post('/v1/tenants/acme/users/bob/api-keys')
      .set(token)
      .send({ name: 'short', expiresAt: new Date(Date.now() + 1500).toISOString() });
    expect(
      (
        await request(app)
          .get('/v1/auth/me')
          .set(bearer(soon.body.key as string))
      ).status,
    ).toBe(200);
    await sleep(1600);
    expect(
      (
        await request(app)
          .get('/v1/auth/me')
          .set(bearer(soon.body.key as string))
      ).status,
    ).toBe(401);
    // Another user's keys are not self-service.
    const other = await request(app).post('/v1/tenants/acme/users/alice/api-keys').set(token).send({ name: 'x' });
    expect(other.status).toBe(403);
  });

  it('never returns password hashes', async () => {
    const res = await request(registry.app)
      .get('/v1/tenants/acme/users')
      .set(bearer(acme['alice'] ?? ''));
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body)).not.toContain('scrypt');
    expect(res.body.items[0]).toHaveProperty('hasPassword', true);
  });

  it('applies a role change made through one process in another within 2 seconds', async () => {
    const replica = await startTestRegistry(driver, { share: registry });
    try {
      const bobToken = bearer(acme['bob'] ?? '');
      expect((await request(replica.app).get('/v1/registries/acme-packs').set(bobToken)).status).toBe(403);
      const bound = await request(registry.app)
        .post('/v1/tenants/acme/bindings')
        .set(bearer(acme['alice'] ?? ''))
        .send({ role: 'Tenant Viewer', subject: { kind: 'user', name: 'bob' } });
      expect(bound.status).toBe(201);
      const start = Date.now();
      let status = 0;
      while (Date.now() - start < 2000) {
        status = (await request(replica.app).get('/v1/registries/acme-packs').set(bobToken)).status;
        if (status === 200) break;
        await sleep(25);
      }
      expect(status).toBe(200);
      await request(registry.app)
        .delete(`/v1/tenants/acme/bindings/${bound.body.id}`)
        .set(bearer(acme['alice'] ?? ''))
        .expect(204);
    } finally {
      await replica.close();
    }
  });

  it('records every mutating request in the audit log of its scope, readable with audit.list there', async () => {
    const app = registry.app;
    interface Entry {
      method: string;
      path: string;
      status: number;
      outcome: string;
      actor: { name: string };
      username?: string;
    }
    // The entry of a change is written before its answer goes out: no waiting needed.
    const res = await request(app)
      .get('/v1/tenants/acme/audit?limit=500')
      .set(bearer(acme['vera'] ?? ''));
    expect(res.status).toBe(200);
    const entries = res.body.items as Entry[];
    expect(entries).toContainEqual(
      expect.objectContaining({
        method: 'POST',
        path: '/v1/registries/acme-packs/packs',
        status: 201,
        outcome: 'success',
        actor: expect.objectContaining({ name: 'alice' }),
      }),
    );
    expect(entries).toContainEqual(
      expect.objectContaining({
        path: '/v1/registries/acme-packs/packs',
        status: 403,
        outcome: 'denied',
        actor: expect.objectContaining({ name: 'vera' }),
      }),
    );
    // A failed login is an unauthenticated failure: the system log has it, the tenant's does not.
    expect(entries.some((e) => e.path === '/v1/auth/login' && e.status === 401)).toBe(false);
    expect(JSON.stringify(entries)).not.toContain(PASSWORD);
    // Newest first, and paged.
    const first = await request(app)
      .get('/v1/tenants/acme/audit?limit=2')
      .set(bearer(acme['vera'] ?? ''));
    expect(first.body.items).toHaveLength(2);
    expect(first.body.items[0].at >= first.body.items[1].at).toBe(true);
    const next = await request(app)
      .get(`/v1/tenants/acme/audit?limit=2&cursor=${first.body.nextCursor as string}`)
      .set(bearer(acme['vera'] ?? ''));
    expect(next.status, JSON.stringify([first.body, next.body])).toBe(200);
    expect(next.body.items[0].id).not.toBe(first.body.items[1].id);

    expect(
      (
        await request(app)
          .get('/v1/tenants/acme/audit')
          .set(bearer(acme['bob'] ?? ''))
      ).status,
    ).toBe(403);
    expect(
      (
        await request(app)
          .get('/v1/tenants/acme/audit')
          .set(bearer(beta['carol'] ?? ''))
      ).status,
    ).toBe(404);
    expect(
      (
        await request(app)
          .get('/v1/audit')
          .set(bearer(acme['alice'] ?? ''))
      ).status,
    ).toBe(403);
    const system = await request(app).get('/v1/audit?limit=500').set(AUTH);
    expect(system.body.items).toContainEqual(
      expect.objectContaining({ method: 'POST', path: '/v1/tenants', status: 201 }),
    );
    await registry.services.audit.drain();
    const withFailures = await request(app).get('/v1/audit?limit=500').set(AUTH);
    expect(withFailures.body.items).toContainEqual(
      expect.objectContaining({ path: '/v1/auth/login', status: 401, outcome: 'denied', username: 'vera' }),
    );
  });
});

// On the fs store only: run in the project whose drivers include fs (vitest.config.ts), once.
describe.runIf(DRIVERS.includes('fs'))('a SuperAdmin named "admin" (the default name)', () => {
  it('refreshes its token, which the bootstrap admin token cannot', async () => {
    const registry = await startTestRegistry('fs', {
      config: { auth: { superAdmin: { username: 'admin', password: PASSWORD } } },
    });
    try {
      const token = await login(registry, 'admin');
      const refreshed = await request(registry.app).post('/v1/auth/refresh').set(bearer(token));
      expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
      const bootstrap = await request(registry.app).post('/v1/auth/refresh').set(AUTH);
      expect(bootstrap.body.error.code).toBe('TOKEN_NOT_REFRESHABLE');
    } finally {
      await registry.close();
    }
  });
});

describe.each(DRIVERS)('no escalation through teams, bindings or stronger users (%s)', (driver) => {
  let registry: TestRegistry;
  let corp: Record<string, string>;
  const as = (name: string) => bearer(corp[name] ?? '');

  beforeAll(async () => {
    registry = await startTestRegistry(driver);
    corp = await seedTenant(registry, 'corp', {
      ada: 'Tenant Admin',
      tim: 'Tenant Team Admin',
      ulf: 'Tenant User Admin',
      rho: 'Tenant Role Admin',
      wes: null,
    });
    const app = registry.app;
    await request(app)
      .post('/v1/tenants/corp/teams')
      .set(AUTH)
      .send({ name: 'admins', members: ['ada'] })
      .expect(201);
    await request(app)
      .post('/v1/tenants/corp/bindings')
      .set(AUTH)
      .send({ role: 'Tenant Admin', subject: { kind: 'team', name: 'admins' } })
      .expect(201);
    await request(app)
      .post('/v1/tenants/corp/teams')
      .set(AUTH)
      .send({ name: 'plain', members: ['ada'] })
      .expect(201);
  });
  afterAll(async () => {
    await registry.close();
  });

  it("does not let a Tenant Team Admin take a team's role from a member who outranks them, binding by binding", async () => {
    const app = registry.app;
    // yan, not wes: the teams here give their members roles the later tests do not expect wes to hold.
    await request(app).post('/v1/tenants/corp/users').set(AUTH).send({ username: 'yan' }).expect(201);
    await request(app)
      .post('/v1/tenants/corp/teams')
      .set(AUTH)
      .send({ name: 'ops', members: ['ada', 'yan'] })
      .expect(201);
    const bound = await request(app)
      .post('/v1/tenants/corp/bindings')
      .set(AUTH)
      .send({ role: 'Tenant Team Admin', subject: { kind: 'team', name: 'ops' } })
      .expect(201);
    // tim holds the role itself, but ada holds more than tim: deleting the team is refused, and so
    // is taking its binding away (the same loss for ada), or binding it again.
    expect((await request(app).delete('/v1/tenants/corp/teams/ops').set(as('tim'))).body.error.code).toBe(
      'USER_OUTRANKS_CALLER',
    );
    const unbound = await request(app)
      .delete(`/v1/tenants/corp/bindings/${bound.body.id as string}`)
      .set(as('tim'));
    expect(unbound.status).toBe(403);
    expect(unbound.body.error.code).toBe('USER_OUTRANKS_CALLER');
    expect(unbound.body.error.message).toContain('ada holds it through team ops');
    // A team of weaker members only: tim binds and unbinds it.
    await request(app)
      .post('/v1/tenants/corp/teams')
      .set(AUTH)
      .send({ name: 'juniors', members: ['yan'] })
      .expect(201);
    const own = await request(app)
      .post('/v1/tenants/corp/bindings')
      .set(as('tim'))
      .send({ role: 'Tenant Team Admin', subject: { kind: 'team', name: 'juniors' } });
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    expect(
      (
        await request(app)
          .delete(`/v1/tenants/corp/bindings/${own.body.id as string}`)
          .set(as('tim'))
      ).status,
    ).toBe(204);
  });

  it('makes a credential one user made for another worth no more than its maker, whatever the owner is given later', async () => {
    const app = registry.app;
    const me = (auth: Record<string, string>) => request(app).get('/v1/auth/me').set(auth);
    // ulf (Tenant User Admin) makes a user with a password of his choosing, and mints them a key.
    await request(app)
      .post('/v1/tenants/corp/users')
      .set(as('ulf'))
      .send({ username: 'hire', password: PASSWORD })
      .expect(201);
    const minted = await request(app).post('/v1/tenants/corp/users/hire/api-keys').set(as('ulf')).send({ name: 'k' });
    expect(minted.status).toBe(201);
    const key = bearer(minted.body.key as string);
    const token = bearer(await login(registry, 'hire'));
    expect((await me(key)).status).toBe(200);
    // The operator makes hire a Tenant Admin: what ulf made is worth nothing now, the key, the
    // token of the password and the password itself (said as such), while hire outranks ulf.
    const promoted = await request(app)
      .post('/v1/tenants/corp/bindings')
      .set(AUTH)
      .send({ role: 'Tenant Admin', subject: { kind: 'user', name: 'hire' } })
      .expect(201);
    expect((await me(key)).status).toBe(401);
    expect((await me(token)).status).toBe(401);
    const refused = await request(app).post('/v1/auth/login').send({ username: 'hire', password: PASSWORD });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('PASSWORD_RESET_REQUIRED');
    // A key hire makes for themselves, and a password the operator sets, are theirs.
    await request(app).patch('/v1/tenants/corp/users/hire').set(AUTH).send({ password: PASSWORD }).expect(200);
    const own = bearer(await login(registry, 'hire'));
    expect((await me(own)).body.tenantPermissions).toContain('user.delete');
    const ownKey = await request(app).post('/v1/tenants/corp/users/hire/api-keys').set(own).send({ name: 'mine' });
    expect((await me(bearer(ownKey.body.key as string))).status).toBe(200);
    // Back to holding nothing ulf lacks: ulf's key works again (it is checked on every use).
    await request(app)
      .delete(`/v1/tenants/corp/bindings/${promoted.body.id as string}`)
      .set(AUTH)
      .expect(204);
    expect((await me(key)).status).toBe(200);
  });

  it('makes what a limited credential makes limited alike: its own password, keys, and credentials for others', async () => {
    const app = registry.app;
    const me = (auth: Record<string, string>) => request(app).get('/v1/auth/me').set(auth);
    const bind = (role: string, name: string) =>
      request(app)
        .post('/v1/tenants/corp/bindings')
        .set(AUTH)
        .send({ role, subject: { kind: 'user', name } });
    // ulf (Tenant User Admin) gives hire2 a password, and hire3 a key. Whoever holds those (ulf
    // knows them) changes hire2's password and makes each a key of their own, as the owner.
    await request(app)
      .post('/v1/tenants/corp/users')
      .set(as('ulf'))
      .send({ username: 'hire2', password: PASSWORD })
      .expect(201);
    await request(app).post('/v1/tenants/corp/users').set(AUTH).send({ username: 'hire3' }).expect(201);
    const hire2 = bearer(await login(registry, 'hire2'));
    await request(app)
      .post('/v1/auth/password')
      .set(hire2)
      .send({ currentPassword: PASSWORD, newPassword: 'a password of my own' })
      .expect(204);
    const changed = bearer(await login(registry, 'hire2', 'a password of my own'));
    const key2 = await request(app).post('/v1/tenants/corp/users/hire2/api-keys').set(changed).send({ name: 'k' });
    const minted = await request(app).post('/v1/tenants/corp/users/hire3/api-keys').set(as('ulf')).send({ name: 'k' });
    const key3 = await request(app)
      .post('/v1/tenants/corp/users/hire3/api-keys')
      .set(bearer(minted.body.key as string))
      .send({ name: 'own' });
    expect([key2.status, key3.status]).toEqual([201, 201]);
    for (const key of [key2, key3]) expect((await me(bearer(key.body.key as string))).status).toBe(200);
    // Promoted past ulf, none of it works: each came through ulf's hands.
    await bind('Tenant Admin', 'hire2').expect(201);
    await bind('Tenant Admin', 'hire3').expect(201);
    for (const key of [key2, key3]) expect((await me(bearer(key.body.key as string))).status).toBe(401);
    const refused = await request(app)
      .post('/v1/auth/login')
      .send({ username: 'hire2', password: 'a password of my own' });
    expect(refused.body.error.code).toBe('PASSWORD_RESET_REQUIRED');
    // Made for another user, a credential carries the hands the maker's came through too. tad
    // gives uma a password; uma, from it, makes hire4 a key. uma and hire4 hold the same role, so
    // uma outranks hire4 all along: once tad holds nothing, only tad's hand stops the key.
    for (const name of ['tad', 'uma', 'hire4']) {
      const body = name === 'uma' ? { username: name } : { username: name, password: PASSWORD };
      await request(app).post('/v1/tenants/corp/users').set(AUTH).send(body).expect(201);
    }
    const tadBinding = await bind('Tenant User Admin', 'tad').expect(201);
    const tad = bearer(await login(registry, 'tad'));
    await request(app).patch('/v1/tenants/corp/users/uma').set(tad).send({ password: PASSWORD }).expect(200);
    await bind('Tenant User Admin', 'uma').expect(201);
    await bind('Tenant User Admin', 'hire4').expect(201);
    const uma = bearer(await login(registry, 'uma'));
    const key4 = await request(app).post('/v1/tenants/corp/users/hire4/api-keys').set(uma).send({ name: 'k' });
    expect(key4.status, JSON.stringify(key4.body)).toBe(201);
    expect((await me(bearer(key4.body.key as string))).status).toBe(200);
    await request(app)
      .delete(`/v1/tenants/corp/bindings/${tadBinding.body.id as string}`)
      .set(AUTH)
      .expect(204);
    expect((await me(bearer(key4.body.key as string))).status).toBe(401);
    // A password the operator sets is the owner's own again.
    await request(app).patch('/v1/tenants/corp/users/hire2').set(AUTH).send({ password: PASSWORD }).expect(200);
    const own = bearer(await login(registry, 'hire2'));
    const ownKey = await request(app).post('/v1/tenants/corp/users/hire2/api-keys').set(own).send({ name: 'mine' });
    expect((await me(bearer(ownKey.body.key as string))).body.tenantPermissions).toContain('user.delete');
  });

  it("does not let a project's deletion take away bindings its deleter could not take away one by one", async () => {
    const app = registry.app;
    await request(app).post('/v1/tenants/corp/projects').set(AUTH).send({ name: 'p3' }).expect(201);
    await request(app)
      .post('/v1/tenants/corp/users')
      .set(AUTH)
      .send({ username: 'pam', password: PASSWORD })
      .expect(201);
    await request(app)
      .post('/v1/tenants/corp/bindings')
      .set(AUTH)
      .send({ role: 'Tenant Project Admin', subject: { kind: 'user', name: 'pam' } })
      .expect(201);
    const pam = bearer(await login(registry, 'pam'));
    // ada (Tenant Admin) holds more than pam: her binding in p3 keeps p3 from pam.
    const binding = await request(app)
      .post('/v1/tenants/corp/bindings')
      .set(AUTH)
      .send({ role: 'ProjectViewer', subject: { kind: 'user', name: 'ada' }, project: 'p3' })
      .expect(201);
    const refused = await request(app).delete('/v1/tenants/corp/projects/p3').set(pam);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('USER_OUTRANKS_CALLER');
    expect((await request(app).get('/v1/tenants/corp/projects/p3').set(AUTH)).status).toBe(200);
    // Without it, pam deletes the project.
    await request(app)
      .delete(`/v1/tenants/corp/bindings/${binding.body.id as string}`)
      .set(AUTH)
      .expect(204);
    expect((await request(app).delete('/v1/tenants/corp/projects/p3').set(pam)).status).toBe(204);
  });

  it('does not let a Tenant Team Admin join, empty or delete a team holding Tenant Admin', async () => {
    const app = registry.app;
    const join = await request(app)
      .patch('/v1/tenants/corp/teams/admins')
      .set(as('tim'))
      .send({ members: ['ada', 'tim'] });
    expect(join.status).toBe(403);
    expect(join.body.error.code).toBe('ROLE_ESCALATION');
    const me = await request(app).get('/v1/auth/me').set(as('tim'));
    expect(me.body.tenantPermissions).not.toContain('user.delete');
    const created = await request(app)
      .post('/v1/tenants/corp/teams')
      .set(as('tim'))
      .send({ name: 'mine', members: ['tim'] });
    expect(created.status).toBe(201);
    for (const res of [
      await request(app).patch('/v1/tenants/corp/teams/admins').set(as('tim')).send({ members: [] }),
      await request(app).delete('/v1/tenants/corp/teams/admins').set(as('tim')),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('ROLE_ESCALATION');
    }
    const bindings = await request(app).get('/v1/tenants/corp/bindings').set(AUTH);
    const teamAdmin = (bindings.body.items as Array<{ id: string; subject: { name: string } }>).find(
      (b) => b.subject.name === 'admins',
    );
    const unbound = await request(app)
      .delete(`/v1/tenants/corp/bindings/${teamAdmin?.id ?? ''}`)
      .set(as('tim'));
    expect(unbound.status).toBe(403);
    expect(unbound.body.error.code).toBe('ROLE_ESCALATION');
    expect((await request(app).get('/v1/tenants/corp/teams/admins').set(AUTH)).body.members).toEqual(['ada']);
    // A Tenant Admin holds what the team gives: they change its members.
    await request(app)
      .patch('/v1/tenants/corp/teams/admins')
      .set(as('ada'))
      .send({ members: ['ada', 'wes'] })
      .expect(200);
    await request(app)
      .patch('/v1/tenants/corp/teams/admins')
      .set(as('ada'))
      .send({ members: ['ada'] })
      .expect(200);
  });

  it('does not let a Tenant Role Admin take out of a role a permission they do not hold', async () => {
    const app = registry.app;
    await request(app)
      .post('/v1/tenants/corp/roles')
      .set(AUTH)
      .send({ name: 'ops', scope: 'tenant', permissions: ['role.get', 'user.delete'] })
      .expect(201);
    await request(app).post('/v1/tenants/corp/users').set(AUTH).send({ username: 'opal' }).expect(201);
    await request(app)
      .post('/v1/tenants/corp/bindings')
      .set(AUTH)
      .send({ role: 'ops', subject: { kind: 'user', name: 'opal' } })
      .expect(201);
    const stripped = await request(app)
      .patch('/v1/tenants/corp/roles/ops')
      .set(as('rho'))
      .send({ permissions: ['role.get'] });
    expect(stripped.status).toBe(403);
    expect(stripped.body.error.code).toBe('ROLE_ESCALATION');
    await request(app).patch('/v1/tenants/corp/roles/ops').set(as('rho')).send({ description: 'on call' }).expect(200);
    await request(app)
      .patch('/v1/tenants/corp/roles/ops')
      .set(as('ada'))
      .send({ permissions: ['role.get'] })
      .expect(200);
  });

  it('refuses without naming a project or role the admin cannot see', async () => {
    const app = registry.app;
    await request(app).post('/v1/tenants/corp/projects').set(AUTH).send({ name: 'merger-x' }).expect(201);
    await request(app).post('/v1/tenants/corp/users').set(AUTH).send({ username: 'pia' }).expect(201);
    await request(app).post('/v1/tenants/corp/teams').set(AUTH).send({ name: 'deal', members: [] }).expect(201);
    for (const subject of [
      { kind: 'user', name: 'pia' },
      { kind: 'team', name: 'deal' },
    ]) {
      await request(app)
        .post('/v1/tenants/corp/bindings')
        .set(AUTH)
        .send({ role: 'ProjectEditor', project: 'merger-x', subject })
        .expect(201);
    }
    // Neither the user admin nor the team admin may list projects, roles or bindings.
    expect((await request(app).get('/v1/tenants/corp/projects').set(as('ulf'))).body.items).toEqual([]);
    for (const res of [
      await request(app).patch('/v1/tenants/corp/users/pia').set(as('ulf')).send({ displayName: 'P' }),
      await request(app).delete('/v1/tenants/corp/teams/deal').set(as('tim')),
    ]) {
      expect(res.status, JSON.stringify(res.body)).toBe(403);
      expect(res.body.error.message).toContain('in a project');
      expect(JSON.stringify(res.body)).not.toContain('merger-x');
      expect(JSON.stringify(res.body)).not.toContain('ProjectEditor');
    }
  });

  it('does not let a user or team admin act on a Tenant Admin in any way', async () => {
    const app = registry.app;
    const attempts = [
      () => request(app).patch('/v1/tenants/corp/users/ada').set(as('ulf')).send({ password: 'the attacker password' }),
      () => request(app).post('/v1/tenants/corp/users/ada/api-keys').set(as('ulf')).send({ name: 'mine' }),
      () => request(app).get('/v1/tenants/corp/users/ada/api-keys').set(as('ulf')),
      () => request(app).patch('/v1/tenants/corp/users/ada').set(as('ulf')).send({ disabled: true }),
      () => request(app).patch('/v1/tenants/corp/users/ada').set(as('ulf')).send({ displayName: 'Mallory' }),
      () =>
        request(app)
          .post('/v1/tenants/corp/bindings')
          .set(as('ulf'))
          .send({ role: 'Tenant Viewer', subject: { kind: 'user', name: 'ada' } }),
      () => request(app).patch('/v1/tenants/corp/teams/plain').set(as('tim')).send({ members: [] }),
      () => request(app).delete('/v1/tenants/corp/teams/plain').set(as('tim')),
      () => request(app).delete('/v1/tenants/corp/users/ada').set(as('ulf')),
    ];
    for (const attempt of attempts) {
      const res = await attempt();
      expect(res.status, JSON.stringify(res.body)).toBe(403);
      expect(['USER_OUTRANKS_CALLER', 'ROLE_ESCALATION']).toContain(res.body.error.code);
    }
    const ada = await request(app).get('/v1/tenants/corp/users/ada').set(AUTH);
    expect(ada.body).toMatchObject({ disabled: false, displayName: 'ada' });
    expect((await request(app).get('/v1/tenants/corp/users/ada/api-keys').set(AUTH)).body.items).toEqual([]);
    await login(registry, 'ada');
    // A user holding nothing the admin lacks is theirs to manage.
    await request(app).patch('/v1/tenants/corp/users/wes').set(as('ulf')).send({ password: PASSWORD }).expect(200);
    await request(app).post('/v1/tenants/corp/users/wes/api-keys').set(as('ulf')).send({ name: 'ci' }).expect(201);
  });
});

describe.each(DRIVERS)('tokens end with their credential (%s)', (driver) => {
  let registry: TestRegistry;
  let admin: { Authorization: string };
  const me = (token: string) => request(registry.app).get('/v1/auth/me').set(bearer(token));
  const refresh = (token: string) => request(registry.app).post('/v1/auth/refresh').set(bearer(token));

  async function user(username: string): Promise<string> {
    await request(registry.app)
      .post('/v1/tenants/keys/users')
      .set(AUTH)
      .send({ username, password: PASSWORD })
      .expect(201);
    return login(registry, username);
  }

  beforeAll(async () => {
    registry = await startTestRegistry(driver);
    const seeded = await seedTenant(registry, 'keys', { kim: 'Tenant Admin' });
    admin = bearer(seeded['kim'] ?? '');
  });
  afterAll(async () => {
    await registry.close();
  });

  it('ends the tokens refreshed from an API key when the key is revoked', async () => {
    const app = registry.app;
    await user('kai');
    const key = await request(app).post('/v1/tenants/keys/users/kai/api-keys').set(admin).send({ name: 'ci' });
    const first = await refresh(key.body.key as string);
    expect(first.status).toBe(200);
    const second = await refresh(first.body.token as string);
    expect(second.status).toBe(200);
    await request(app)
      .delete(`/v1/tenants/keys/users/kai/api-keys/${key.body.id as string}`)
      .set(admin)
      .expect(200);
    for (const token of [first.body.token as string, second.body.token as string]) {
      expect((await me(token)).status).toBe(401);
      expect((await refresh(token)).status).toBe(401);
    }
  });

  it("never refreshes past an API key's expiry", async () => {
    await user('kit');
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    const key = await request(registry.app)
      .post('/v1/tenants/keys/users/kit/api-keys')
      .set(admin)
      .send({ name: 'short', expiresAt });
    const token = await refresh(key.body.key as string);
    expect(Date.parse(token.body.expiresAt as string)).toBeLessThanOrEqual(Date.parse(expiresAt));
    const again = await refresh(token.body.token as string);
    expect(Date.parse(again.body.expiresAt as string)).toBeLessThanOrEqual(Date.parse(expiresAt));
  });

  it('ends the tokens of a password when it is reset or changed', async () => {
    const before = await user('lea');
    const refreshed = (await refresh(before)).body.token as string;
    await request(registry.app).patch('/v1/tenants/keys/users/lea').set(admin).send({ password: 'a reset password' });
    for (const token of [before, refreshed]) {
      expect((await me(token)).status).toBe(401);
      expect((await refresh(token)).status).toBe(401);
    }
    const after = await login(registry, 'lea', 'a reset password');
    await request(registry.app)
      .post('/v1/auth/password')
      .set(bearer(after))
      .send({ currentPassword: 'a reset password', newPassword: PASSWORD })
      .expect(204);
    expect((await me(after)).status).toBe(401);
  });

  it('ends the tokens of a disabled user for good, and of a deleted one even when the name comes back', async () => {
    const app = registry.app;
    const disabled = await user('max');
    // An API key, a token refreshed from it and a registry token of it end with the rest: the key
    // is revoked, so that enabling the user again brings none of them back.
    const maxKey = await request(app).post('/v1/tenants/keys/users/max/api-keys').set(admin).send({ name: 'ci' });
    const apiKey = maxKey.body.key as string;
    const fromKey = (await refresh(apiKey)).body.token as string;
    const registryToken = await request(app)
      .get('/v2/token?service=packyard')
      .set('Authorization', `Basic ${Buffer.from(`ci:${apiKey}`).toString('base64')}`);
    expect(registryToken.status, JSON.stringify(registryToken.body)).toBe(200);
    const v2 = () =>
      request(app)
        .get('/v2/')
        .set(bearer(registryToken.body.token as string));
    expect((await v2()).status).toBe(200);
    await request(app).patch('/v1/tenants/keys/users/max').set(admin).send({ disabled: true }).expect(200);
    expect((await me(disabled)).status).toBe(401);
    await request(app).patch('/v1/tenants/keys/users/max').set(admin).send({ disabled: false }).expect(200);
    for (const token of [disabled, apiKey, fromKey]) expect((await me(token)).status).toBe(401);
    expect((await refresh(fromKey)).status).toBe(401);
    expect((await v2()).status).toBe(401);
    const keys = await request(app).get('/v1/tenants/keys/users/max/api-keys').set(admin);
    expect(keys.body.items).toEqual([expect.objectContaining({ id: maxKey.body.id, revokedAt: expect.any(String) })]);
    await login(registry, 'max');

    const deleted = await user('ned');
    const key = await request(app).post('/v1/tenants/keys/users/ned/api-keys').set(admin).send({ name: 'ci' });
    await request(app).delete('/v1/tenants/keys/users/ned').set(admin).expect(204);
    await request(app)
      .post('/v1/tenants/keys/users')
      .set(AUTH)
      .send({ username: 'ned', password: PASSWORD })
      .expect(201);
    expect((await me(deleted)).status).toBe(401);
    expect((await me(key.body.key as string)).status).toBe(401);
    expect((await me(await login(registry, 'ned'))).status).toBe(200);
  });
});

describe.runIf(DRIVERS.includes('fs'))('a session signed in with a password', () => {
  it('ends sessionMaxSeconds after the sign-in, however often it is refreshed', async () => {
    const registry = await startTestRegistry('fs', { identity: { sessionMaxSeconds: 3 } });
    try {
      await seedTenant(registry, 'short', { sam: null });
      const signedIn = Date.now();
      let token = await login(registry, 'sam');
      const refreshed = await request(registry.app).post('/v1/auth/refresh').set(bearer(token));
      expect(refreshed.status).toBe(200);
      expect(Date.parse(refreshed.body.expiresAt as string)).toBeLessThanOrEqual(signedIn + 4000);
      token = refreshed.body.token as string;
      await sleep(Math.max(0, signedIn + 4100 - Date.now()));
      expect((await request(registry.app).post('/v1/auth/refresh').set(bearer(token))).status).toBe(401);
    } finally {
      await registry.close();
    }
  });
});

describe.each(DRIVERS)('a tenant or project deleted half-way (%s)', (driver) => {
  const faults: { plan: FaultPlan } = { plan: () => false };
  let registry: TestRegistry;
  const profile = (name: string) => ({ name, version: '1.0.0', packs: [{ name: 'kubernetes', version: '1.29.x' }] });
  const profileNames = async (url: string) =>
    ((await request(registry.app).get(url).set(AUTH)).body.items as Array<{ name: string }>).map((p) => p.name);
  const keysUnder = async (prefix: string) => {
    const keys: string[] = [];
    for await (const object of registry.services.store.list(prefix)) keys.push(object.key);
    return keys;
  };

  beforeAll(async () => {
    registry = await startTestRegistry(driver, { wrapStore: (store) => faultyStore(store, faults) });
  });
  afterAll(async () => {
    faults.plan = () => false;
    await registry.close();
  });

  it('gives a new tenant of the same name nothing of the old one, and the sweep finishes the deletion', async () => {
    const app = registry.app;
    const old = await seedTenant(registry, 'gone', { gil: 'Tenant Admin' });
    const key = await request(app).post('/v1/tenants/gone/users/gil/api-keys').set(AUTH).send({ name: 'ci' });
    await request(app).post('/v1/tenants/gone/projects').set(AUTH).send({ name: 'p1' }).expect(201);
    await request(app).post('/v1/tenants/gone/cluster-profiles').set(AUTH).send(profile('tp')).expect(201);
    await request(app).post('/v1/tenants/gone/projects/p1/cluster-profiles').set(AUTH).send(profile('pp')).expect(201);
    const oldId = registry.services.directory.tenantRef('gone')?.id ?? '';

    // Storage fails every delete: the deletion stops after its first step.
    faults.plan = (operation) => operation === 'delete';
    const deleted = await request(app).delete('/v1/tenants/gone').set(AUTH);
    faults.plan = () => false;
    expect(deleted.status).toBeGreaterThanOrEqual(500);
    expect((await request(app).get('/v1/tenants/gone').set(AUTH)).status).toBe(404);

    const created = await request(app).post('/v1/tenants').set(AUTH).send({ name: 'gone' });
    expect(created.status).toBe(201);
    expect((await request(app).get('/v1/tenants/gone/users').set(AUTH)).body.items).toEqual([]);
    expect(
      (
        await request(app)
          .get('/v1/auth/me')
          .set(bearer(old['gil'] ?? ''))
      ).status,
    ).toBe(401);
    expect(
      (
        await request(app)
          .get('/v1/auth/me')
          .set(bearer(key.body.key as string))
      ).status,
    ).toBe(401);
    expect((await request(app).post('/v1/auth/login').send({ username: 'gil', password: PASSWORD })).status).toBe(401);
    expect(await profileNames('/v1/tenants/gone/cluster-profiles')).toEqual([]);
    await request(app).post('/v1/tenants/gone/projects').set(AUTH).send({ name: 'p1' }).expect(201);
    expect(await profileNames('/v1/tenants/gone/projects/p1/cluster-profiles')).toEqual([]);
    expect(created.body.id).not.toBe(oldId);
    // The old username is free again.
    await request(app)
      .post('/v1/tenants/gone/users')
      .set(AUTH)
      .send({ username: 'gil', password: 'a new gil password' })
      .expect(201);
    expect(await keysUnder(`profiles/tenant/${oldId}/`)).toHaveLength(1);

    // A replica starting on the same storage sweeps what the failed deletion left.
    const replica = await startTestRegistry(driver, { share: registry });
    await replica.close();
    expect(await keysUnder(`profiles/tenant/${oldId}/`)).toEqual([]);
    expect(await keysUnder(`profiles/project/${oldId}/`)).toEqual([]);
    expect(await registry.services.store.head(`identity/tenants/${oldId}.json`)).toBeNull();
    await registry.services.directory.refresh();
    expect(registry.services.directory.systemDirectory().tenants.some((t) => t.id === oldId)).toBe(false);
    await login(registry, 'gil', 'a new gil password');
  });

  it('gives a new project of the same name nothing of the old one, and the next deletion finishes it', async () => {
    const app = registry.app;
    await seedTenant(registry, 'kept', {});
    await request(app).post('/v1/tenants/kept/projects').set(AUTH).send({ name: 'p2' }).expect(201);
    await request(app).post('/v1/tenants/kept/users').set(AUTH).send({ username: 'pam', password: PASSWORD });
    await request(app)
      .post('/v1/tenants/kept/bindings')
      .set(AUTH)
      .send({ role: 'ProjectAdmin', subject: { kind: 'user', name: 'pam' }, project: 'p2' })
      .expect(201);
    const pam = bearer(await login(registry, 'pam'));
    await request(app).post('/v1/tenants/kept/projects/p2/cluster-profiles').set(pam).send(profile('pp2')).expect(201);
    const projectOf = () => registry.services.directory.tenant('kept')?.index.projects.get('p2');
    const oldProject = projectOf()?.id ?? '';
    const tenantId = registry.services.directory.tenantRef('kept')?.id ?? '';

    faults.plan = (operation, key) => operation === 'delete' && key.startsWith('profiles/');
    const deleted = await request(app).delete('/v1/tenants/kept/projects/p2').set(AUTH);
    faults.plan = () => false;

    await request(app).post('/v1/tenants/kept/projects').set(AUTH).send({ name: 'p2' }).expect(201);
    expect(await profileNames('/v1/tenants/kept/projects/p2/cluster-profiles')).toEqual([]);
    expect((await request(app).get('/v1/tenants/kept/projects/p2/cluster-profiles').set(pam)).status).toBe(403);
    expect((await request(app).get('/v1/auth/me').set(pam)).body.projects).toEqual([]);
    expect(deleted.status).toBeGreaterThanOrEqual(500);
    expect(registry.services.directory.projectId('kept', 'p2')).not.toBe(oldProject);
    expect(await keysUnder(`profiles/project/${tenantId}/${oldProject}/`)).toHaveLength(1);

    await request(app).post('/v1/tenants/kept/projects').set(AUTH).send({ name: 'p3' }).expect(201);
    await request(app).delete('/v1/tenants/kept/projects/p3').set(AUTH).expect(204);
    expect(await keysUnder(`profiles/project/${tenantId}/${oldProject}/`)).toEqual([]);
    const stored = registry.services.directory.tenant('kept');
    expect([...(stored?.projects.values() ?? [])].map((p) => p.name)).toEqual(['p2']);
  });
});

describe.runIf(DRIVERS.includes('fs'))('identity documents written before ids existed', () => {
  it('keep working, and get their ids on the next change', async () => {
    const registry = await startTestRegistry('fs');
    const store = registry.services.store;
    const createdAt = '2024-01-01T00:00:00.000Z';
    const apiKey = newApiKey();
    const system = await store.getBuffer('identity/system.json');
    const systemDoc = JSON.parse(system?.body.toString() ?? '{}') as { tenants: unknown[]; revision: number };
    systemDoc.tenants.push({ name: 'old', displayName: 'old', createdAt });
    systemDoc.revision += 1;
    await store.put('identity/system.json', JSON.stringify(systemDoc));
    await store.put(
      'identity/tenants/old.json',
      JSON.stringify({
        tenant: { name: 'old', displayName: 'old', createdAt },
        projects: [{ name: 'legacy-project', description: '', createdAt, createdBy: 'admin' }],
        users: [
          {
            username: 'olga',
            displayName: 'olga',
            passwordHash: await hashPassword(PASSWORD, 10),
            disabled: false,
            createdAt,
            createdBy: 'admin',
          },
        ],
        teams: [],
        roles: [],
        bindings: [
          {
            id: 'b1',
            role: 'Tenant Admin',
            subject: { kind: 'user', name: 'olga' },
            project: null,
            createdAt,
            createdBy: 'admin',
          },
        ],
        apiKeys: [
          {
            id: apiKey.id,
            username: 'olga',
            name: 'ci',
            secretSha256: apiKey.secretSha256,
            createdAt,
            expiresAt: null,
            revokedAt: null,
          },
        ],
        revision: 3,
      }),
    );
    await store.put(`identity/logins/${sha256Hex('olga')}.json`, JSON.stringify({ username: 'olga', tenant: 'old' }));
    await store.put(
      'profiles/tenant/old/cp-old.json',
      JSON.stringify({
        scope: 'tenant',
        tenant: 'old',
        project: null,
        profile: { name: 'cp-old', version: '1.0.0', packs: [{ name: 'kubernetes', version: '1.29.x' }] },
        published: null,
        createdAt,
        createdBy: 'admin',
        updatedAt: createdAt,
        updatedBy: 'admin',
        revision: 1,
      }),
    );
    const replica = await startTestRegistry('fs', { share: registry });
    try {
      const app = replica.app;
      const token = bearer(await login(replica, 'olga'));
      expect((await request(app).get('/v1/auth/me').set(bearer(apiKey.key))).body.username).toBe('olga');
      expect(await request(app).get('/v1/tenants/old/cluster-profiles').set(token)).toMatchObject({
        status: 200,
        body: { items: [expect.objectContaining({ name: 'cp-old' })] },
      });
      expect((await request(app).get('/v1/tenants/old/projects/legacy-project').set(token)).status).toBe(200);
      // The username stays taken across tenants.
      await request(app).post('/v1/tenants').set(AUTH).send({ name: 'new' }).expect(201);
      expect(
        (await request(app).post('/v1/tenants/new/users').set(AUTH).send({ username: 'olga' })).body.error.code,
      ).toBe('USER_EXISTS');
      // A change is the document's next revision in the tenant's journal; the ids derived on
      // reading are the same in every process, and the tokens issued before stay valid.
      await request(app).post('/v1/tenants/old/projects').set(token).send({ name: 'another' }).expect(201);
      const entry = JSON.parse(
        (await store.getBuffer('identity/journal/old/000000000004.json'))?.body.toString() ?? '{}',
      ) as { revision: number; changes: Array<{ c: string; v: { name?: string } | null }> };
      expect(entry.revision).toBe(4);
      expect(entry.changes).toEqual([
        expect.objectContaining({ c: 'projects', v: expect.objectContaining({ name: 'another' }) }),
      ]);
      const user = replica.services.directory.tenant('old')?.users.get('olga');
      expect(user?.id).toMatch(/^us_/);
      expect(replica.services.directory.tenant('old')?.apiKeys.get(apiKey.id)?.userId).toBe(user?.id);
      expect((await request(app).get('/v1/auth/me').set(token)).status).toBe(200);
      // The first process derives the same ids, and reads the new revision at its next poll.
      let status = 0;
      const start = Date.now();
      while (status !== 200 && Date.now() - start < 3000) {
        status = (await request(registry.app).get('/v1/auth/me').set(token)).status;
        if (status !== 200) await sleep(50);
      }
      expect(status).toBe(200);
    } finally {
      await replica.close();
      await registry.close();
    }
  });
});
