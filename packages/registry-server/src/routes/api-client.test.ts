/**
 * The contract's typed client (@packyard/registry-api) against this server: each operation packctl
 * uses, through a transport over the test app, answers what the client's schemas expect.
 */
import { RegistryApiClient, Token, type ApiTransport } from '@packyard/registry-api';
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

describe('the registry-api client against the server', () => {
  let registry: TestRegistry;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let credential = AUTH.Authorization;

  /** The transport packctl and the web catalog bring, here over supertest: JSON in, 2xx JSON out. */
  const transport: ApiTransport = {
    async request({ method, path, body, what, expect: expected }) {
      const verb = method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
      const agent = request(registry.app);
      const res = await agent[verb](path)
        .set('Authorization', credential)
        .send(body as object | undefined);
      const tolerated = expected === 'errors' ? res.status >= 400 : expected?.includes(res.status) === true;
      if (tolerated) return { status: res.status, body: undefined };
      if (res.status >= 300) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
      return { status: res.status, body: res.status === 204 ? undefined : (res.body as unknown) };
    },
  };
  const api = new RegistryApiClient(transport);

  beforeAll(async () => {
    work = await tempDir();
    registry = await startTestRegistry('fs');
    const pack = await buildTestPack(work.dir, { name: 'client-demo', version: '1.2.0' });
    const published = await request(registry.app)
      .post(api.publishPath('public'))
      .set(AUTH)
      .set('Content-Type', 'application/zip')
      .send(pack.bytes);
    expect(published.status).toBe(201);
  });
  afterAll(async () => {
    await registry.close();
    await work.cleanup();
  });

  it('signs in, says who the caller is and refreshes, typed', async () => {
    const token = await api.login(SUPER_ADMIN, 'signing in');
    expect(token.tokenType).toBe('Bearer');
    credential = `Bearer ${token.token}`;
    const me = await api.me('asking');
    expect(me).toMatchObject({ kind: 'operator', username: SUPER_ADMIN.username, tenant: null });
    expect((await api.refreshIfAllowed('refreshing'))?.tokenType).toBe('Bearer');
    credential = AUTH.Authorization;
  });

  it('lists registries, searches, reads a pack and a version, deprecates and deletes it', async () => {
    expect((await api.registries('listing')).items.map((r) => r.name)).toContain('public');
    const page = await api.searchPacks({ q: 'client-demo', limit: 5 }, 'searching');
    expect(page.items.map((row) => `${row.name}@${row.latest}`)).toEqual(['client-demo@1.2.0']);
    expect((await api.searchPacks({}, 'searching', 'public')).total).toBeGreaterThan(0);
    const detail = await api.pack('public', 'client-demo', 'looking up');
    expect(detail.versions.map((v) => v.version)).toEqual(['1.2.0']);
    expect(await api.packIfAny('public', 'no-such-pack', 'looking up')).toBeNull();
    const record = await api.version('public', 'client-demo', '1.x', 'looking up');
    expect(record.manifest.name).toBe('client-demo');
    const ref = { registry: 'public', name: 'client-demo', version: '1.2.0' };
    const deprecated = await api.changeVersion(ref, { deprecated: true, message: 'use 2' }, 'deprecating');
    expect(deprecated.deprecated?.message).toBe('use 2');
    expect((await api.deleteVersion(ref, 'gone', 'removing')).deleted?.message).toBe('gone');
  });

  it('creates a cluster profile, refuses a second of the same name with null, and replaces it', async () => {
    const packs = [{ name: 'client-demo', version: '1.x' }];
    const profile = { name: 'edge', version: '1.0.0', type: 'add-on', cloudType: 'aws', registries: ['public'], packs };
    const created = await api.createProfile({}, profile, 'pushing');
    expect(created?.scope).toBe('system');
    expect(await api.createProfile({}, profile, 'pushing')).toBeNull();
    const replaced = await api.replaceProfile({}, 'edge', { ...profile, version: '1.0.1' }, 'pushing');
    expect(replaced.version).toBe('1.0.1');
    expect((await api.profiles({}, {}, 'listing')).items.map((p) => p.name)).toEqual(['edge']);
  });

  it('refuses an answer off the contract, naming the problem', () => {
    expect(() => api.check(Token, { token: 't' }, 'signing in')).toThrow(
      /signing in: the server's answer does not match the API: the body needs "tokenType"/,
    );
  });
});
