/**
 * The /v2 token protocol end to end through the app: credentials (Basic password, API key, admin
 * token, none, wrong ones), what the token grants on each scope, and how the tokens are checked
 * afterwards (expired, another signing key, another kind of token, on /v1).
 */
import { createHash, createSecretKey, randomBytes } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken, type TokenClaims } from '../identity/secrets.js';
import { REGISTRY_TOKEN_PREFIX, signRegistryToken, type ResourceAccess } from '../oci/registry-token.js';
import { createApp } from '../app.js';
import { resolveConfig } from '../config/config.js';
import { createLogger } from '../logger.js';
import { closeServices, createServices } from '../services.js';
import { createStore } from '../storage/create-store.js';
import {
  ADMIN_TOKEN,
  AUTH,
  startTestRegistry,
  SUPER_ADMIN,
  tempDir,
  TEST_PASSWORD_HASH_COST,
  type TestRegistry,
} from '../test-support/test-registry.js';

const PASSWORD = 'oci token test password';

function basic(username: string, password: string) {
  return { Authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
}

function accessOf(token: string): ResourceAccess[] {
  expect(token.startsWith(REGISTRY_TOKEN_PREFIX)).toBe(true);
  return decodeJwt(token.slice(REGISTRY_TOKEN_PREFIX.length))['access'] as ResourceAccess[];
}

describe('the /v2 token endpoint (Docker token protocol)', () => {
  let registry: TestRegistry;
  let apiKey: string;
  const app = () => registry.app;
  const token = (query: string, headers: Record<string, string> = {}) =>
    request(app()).get(`/v2/token?service=packyard&${query}`).set(headers);

  beforeAll(async () => {
    registry = await startTestRegistry('fs', { config: { auth: { maxFailedLogins: 3 } } });
    for (const tenant of ['acme', 'beta']) {
      await request(app()).post('/v1/tenants').set(AUTH).send({ name: tenant }).expect(201);
      await request(app())
        .post('/v1/registries')
        .set(AUTH)
        .send({ name: `${tenant}-packs`, scope: 'tenant', tenant })
        .expect(201);
    }
    const users = { alice: 'Tenant Admin', vera: 'Tenant Viewer', limited: 'Tenant Viewer' };
    for (const [username, role] of Object.entries(users)) {
      await request(app()).post('/v1/tenants/acme/users').set(AUTH).send({ username, password: PASSWORD }).expect(201);
      await request(app())
        .post('/v1/tenants/acme/bindings')
        .set(AUTH)
        .send({ role, subject: { kind: 'user', name: username } })
        .expect(201);
    }
    const key = await request(app()).post('/v1/tenants/acme/users/alice/api-keys').set(AUTH).send({ name: 'ci' });
    expect(key.status, JSON.stringify(key.body)).toBe(201);
    apiKey = key.body.key as string;
  });
  afterAll(async () => {
    await registry.close();
  });

  it('gives a Tenant Admin (Basic username + password) every action in their tenant, reads elsewhere only', async () => {
    const scopes = [
      'scope=repository:acme/acme-packs/app:pull,push,delete',
      'scope=repository:public/app:pull,push',
      'scope=repository:beta/beta-packs/app:pull,push',
      'scope=repository:nowhere/app:pull',
    ].join('&');
    const res = await token(scopes, basic('alice', PASSWORD));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.access_token).toBe(res.body.token);
    expect(res.body.expires_in).toBe(300);
    expect(Date.parse(res.body.issued_at as string)).toBeLessThanOrEqual(Date.now());
    expect(accessOf(res.body.token as string)).toEqual([
      { type: 'repository', name: 'acme/acme-packs/app', actions: ['pull', 'push', 'delete'] },
      { type: 'repository', name: 'public/app', actions: ['pull'] },
      // Another tenant's registry grants nothing, as if it did not exist; so does no registry.
      { type: 'repository', name: 'beta/beta-packs/app', actions: [] },
      { type: 'repository', name: 'nowhere/app', actions: [] },
    ]);
    const header = decodeProtectedHeader((res.body.token as string).slice(REGISTRY_TOKEN_PREFIX.length));
    expect(header).toMatchObject({ alg: 'HS256', typ: 'oci+jwt' });
  });

  it('narrows the scope to what the role allows: a Tenant Viewer asking to push gets pull', async () => {
    const res = await token('scope=repository:acme/acme-packs/app:pull,push', basic('vera', PASSWORD));
    expect(accessOf(res.body.token as string)).toEqual([
      { type: 'repository', name: 'acme/acme-packs/app', actions: ['pull'] },
    ]);
    const star = await token('scope=repository:acme/acme-packs/app:*', basic('alice', PASSWORD));
    expect(accessOf(star.body.token as string)[0]?.actions).toEqual(['pull', 'push', 'delete']);
  });

  it('accepts an API key or the admin token as the password, whatever the username', async () => {
    const byKey = await token('scope=repository:acme/acme-packs/app:push', basic('anything', apiKey));
    expect(byKey.status).toBe(200);
    expect(accessOf(byKey.body.token as string)[0]?.actions).toEqual(['push']);
    const byAdmin = await token('scope=repository:beta/beta-packs/app:pull,push,delete', basic('x', ADMIN_TOKEN));
    expect(accessOf(byAdmin.body.token as string)[0]?.actions).toEqual(['pull', 'push', 'delete']);
  });

  it('gives anonymous callers a token for what anonymous reads allow, and the catalog scope', async () => {
    const res = await token(
      'scope=repository:public/app:pull,push&scope=repository:acme/acme-packs/app:pull&scope=registry:catalog:*',
    );
    expect(res.status).toBe(200);
    expect(accessOf(res.body.token as string)).toEqual([
      { type: 'repository', name: 'public/app', actions: ['pull'] },
      { type: 'repository', name: 'acme/acme-packs/app', actions: [] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
  });

  it('refuses wrong credentials with 401, and malformed scopes with 400', async () => {
    const wrong = await token('scope=repository:public/app:pull', basic('alice', 'not the password'));
    expect(wrong.status).toBe(401);
    expect(wrong.body.errors[0].code).toBe('UNAUTHORIZED');
    expect(wrong.headers['www-authenticate']).toBe('Basic realm="packyard"');
    const unknownKey = await token('', basic('x', `pyk_${'0'.repeat(16)}_${'A'.repeat(43)}`));
    expect(unknownKey.status).toBe(401);
    const malformed = await token('scope=repository-without-actions');
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors[0].code).toBe('UNSUPPORTED');
    const many = Array.from({ length: 17 }, (_, i) => `scope=repository:public/a${i}:pull`).join('&');
    expect((await token(many)).status).toBe(400);
  });

  it('applies the failed-login limits through the token endpoint', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await token('', basic('limited', 'wrong password'))).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    // The right password is refused too while the failures count: the limit is the username's.
    const right = await token('', basic('limited', PASSWORD));
    expect(right.status).toBe(429);
    expect(right.body.errors[0].code).toBe('TOOMANYREQUESTS');
    // Basic straight on a /v2 route goes through the same limits.
    const direct = await request(app()).get('/v2/').set(basic('limited', PASSWORD));
    expect(direct.status).toBe(429);
    expect(right.headers['retry-after']).toBeDefined();
  });

  it('issues tokens through the OAuth2 password grant (POST, form-encoded)', async () => {
    const res = await request(app()).post('/v2/token').type('form').send({
      grant_type: 'password',
      username: 'alice',
      password: PASSWORD,
      scope: 'repository:acme/acme-packs/app:pull',
      service: 'packyard',
      client_id: 'test',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(accessOf(res.body.token as string)[0]?.actions).toEqual(['pull']);
    const refresh = await request(app())
      .post('/v2/token')
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: 'x' });
    expect(refresh.status).toBe(400);
    const wrong = await request(app())
      .post('/v2/token')
      .type('form')
      .send({ grant_type: 'password', username: 'alice', password: 'wrong' });
    expect(wrong.status).toBe(401);
  });

  it('never exchanges a registry token for a wider one', async () => {
    const narrow = await token('scope=repository:acme/acme-packs/app:pull', basic('alice', PASSWORD));
    const wider = await token(
      'scope=repository:acme/acme-packs/app:pull,push&scope=repository:acme/acme-packs/other:pull',
      {
        Authorization: `Bearer ${narrow.body.token as string}`,
      },
    );
    expect(wider.status).toBe(200);
    expect(accessOf(wider.body.token as string)).toEqual([
      { type: 'repository', name: 'acme/acme-packs/app', actions: ['pull'] },
      { type: 'repository', name: 'acme/acme-packs/other', actions: [] },
    ]);
  });

  it('refuses expired registry tokens, tokens of another key and forged kinds', async () => {
    const now = Math.floor(Date.now() / 1000);
    const holder = { kind: 'admin-token' as const, fingerprint: registry.services.adminToken.fingerprint };
    /** A registry token of the admin token, valid for 5 minutes, with `claims` changed. */
    const signed = (claims: Partial<Parameters<typeof signRegistryToken>[0]>) =>
      signRegistryToken(
        { sub: 'admin', aud: 'packyard', who: holder, access: [], iat: now, exp: now + 300, ...claims },
        registry.services.sessions.keys,
      );
    const expired = await signed({ iat: now - 600, exp: now - 300 });
    expect((await token('', { Authorization: `Bearer ${expired}` })).status).toBe(401);
    const otherService = await signed({ aud: 'elsewhere' });
    expect((await token('', { Authorization: `Bearer ${otherService}` })).status).toBe(401);
    const otherKey = await new SignJWT({ who: holder, access: [] })
      .setProtectedHeader({ alg: 'HS256', typ: 'oci+jwt', kid: (await registry.services.sessions.keys.current()).kid })
      .setSubject('admin')
      .setAudience('packyard')
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(createSecretKey(randomBytes(32)));
    expect((await token('', { Authorization: `Bearer ${REGISTRY_TOKEN_PREFIX}${otherKey}` })).status).toBe(401);
    // Issued to an admin token that has since changed (another fingerprint), or to one unnamed.
    for (const who of [{ kind: 'admin-token', fingerprint: '0'.repeat(32) }, { kind: 'admin-token' }]) {
      const stale = await signed({ who: who as typeof holder });
      expect((await token('', { Authorization: `Bearer ${stale}` })).status).toBe(401);
    }
    expect((await token('', { Authorization: `Bearer ${await signed({})}` })).status).toBe(200);
  });

  it('keeps /v1 to its own credentials: no Basic, no registry tokens, not even re-prefixed', async () => {
    const me = (headers: Record<string, string>) => request(app()).get('/v1/auth/me').set(headers);
    const bearer = (credential: string) => ({ Authorization: `Bearer ${credential}` });
    expect((await me(basic('alice', PASSWORD))).status).toBe(401);
    expect((await me(basic('x', apiKey))).status).toBe(401);
    const issued = await token('scope=repository:acme/acme-packs/app:pull', basic('alice', PASSWORD));
    const scoped = issued.body.token as string;
    expect((await me(bearer(scoped))).status).toBe(401);
    expect((await me(bearer(`pya_${scoped.slice(REGISTRY_TOKEN_PREFIX.length)}`))).status).toBe(401);
    // The credentials themselves work on /v1 as Bearer, as before.
    expect((await me(bearer(apiKey))).status).toBe(200);
  });

  it('never renews a credential: a token obtained with another ends no later than it', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expOf = (issued: string) => decodeJwt(issued.slice(issued.indexOf('_') + 1))['exp'] as number;
    const exchange = async (credential: string) => {
      const res = await token('scope=repository:acme/acme-packs/app:pull', { Authorization: `Bearer ${credential}` });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      // Counted from the second the server issued it (the test's own clock may have moved on).
      const issuedAt = Math.floor(Date.parse(res.body.issued_at as string) / 1000);
      expect(res.body.expires_in).toBe(expOf(res.body.token as string) - issuedAt);
      return res.body.token as string;
    };
    // A registry token, of the admin token or of a session, presented for the next one.
    const admin = await signRegistryToken(
      {
        sub: 'admin',
        aud: 'packyard',
        who: { kind: 'admin-token', fingerprint: registry.services.adminToken.fingerprint },
        access: [],
        iat: now,
        exp: now + 20,
      },
      registry.services.sessions.keys,
    );
    expect(expOf(await exchange(await exchange(admin)))).toBeLessThanOrEqual(now + 20);
    // An access token (the same session, signed to end sooner) and an API key expiring soon.
    const signedIn = await request(app()).post('/v1/auth/login').send({ username: 'alice', password: PASSWORD });
    const claims = decodeJwt((signedIn.body.token as string).slice('pya_'.length)) as unknown as TokenClaims;
    const short = await signToken({ ...claims, exp: now + 30 }, await registry.services.sessions.keys.current());
    expect(expOf(await exchange(short))).toBeLessThanOrEqual(now + 30);
    const expiresAt = new Date((now + 40) * 1000).toISOString();
    const key = await request(app())
      .post('/v1/tenants/acme/users/alice/api-keys')
      .set(AUTH)
      .send({ name: 'soon', expiresAt });
    expect(expOf(await exchange(key.body.key as string))).toBeLessThanOrEqual(now + 40);
    const basicKey = await token('', basic('ci', key.body.key as string));
    expect(expOf(basicKey.body.token as string)).toBeLessThanOrEqual(now + 40);
    const grant = await request(app())
      .post('/v2/token')
      .type('form')
      .send({ grant_type: 'password', username: 'ci', password: key.body.key as string, service: 'packyard' });
    expect(expOf(grant.body.token as string)).toBeLessThanOrEqual(now + 40);
  });

  it("holds every token of a session to the session's end, on every use", async () => {
    const now = Math.floor(Date.now() / 1000);
    const signedIn = await request(app()).post('/v1/auth/login').send({ username: 'alice', password: PASSWORD });
    const claims = decodeJwt((signedIn.body.token as string).slice('pya_'.length)) as unknown as TokenClaims;
    const session = { userId: claims.uid, tenantId: claims.tid, via: claims.via, since: claims.auth };
    const sign = (until: number) =>
      signRegistryToken(
        {
          sub: 'acme/alice',
          aud: 'packyard',
          who: { kind: 'session', session: { ...session, until } },
          access: [{ type: 'repository', name: 'acme/acme-packs/app', actions: ['pull'] }],
          iat: now,
          exp: now + 300,
        },
        registry.services.sessions.keys,
      );
    // Issued (as it once was) to outlive its session: refused once the session has ended.
    const ended = { Authorization: `Bearer ${await sign(now - 1)}` };
    expect((await token('', ended)).status).toBe(401);
    expect((await request(app()).get('/v2/acme/acme-packs/app/tags/list').set(ended)).status).toBe(401);
    // One whose session ends soon: what it is exchanged for ends with the session.
    const ending = await token('', { Authorization: `Bearer ${await sign(now + 10)}` });
    expect(ending.status).toBe(200);
    expect(decodeJwt((ending.body.token as string).slice(REGISTRY_TOKEN_PREFIX.length))['exp']).toBeLessThanOrEqual(
      now + 10,
    );
  });

  it('ends a registry token with the credential it came from', async () => {
    const key = await request(app()).post('/v1/tenants/acme/users/alice/api-keys').set(AUTH).send({ name: 'short' });
    const issued = await token('scope=repository:acme/acme-packs/app:pull', basic('alice', key.body.key as string));
    const bearer = { Authorization: `Bearer ${issued.body.token as string}` };
    expect((await token('', bearer)).status).toBe(200);
    await request(app())
      .delete(`/v1/tenants/acme/users/alice/api-keys/${key.body.id as string}`)
      .set(AUTH)
      .expect(200);
    expect((await token('', bearer)).status).toBe(401);
  });

  describe('on the /v2 routes', () => {
    const v2 = (method: 'get' | 'post', url: string, headers: Record<string, string> = {}) => {
      const agent = request(app());
      return (method === 'get' ? agent.get(url) : agent.post(url)).set({ Host: 'registry.example:5000', ...headers });
    };
    const tokenFor = async (scope: string, headers: Record<string, string>) => ({
      Authorization: `Bearer ${(await token(scope, headers)).body.token as string}`,
    });

    it('challenges anonymous callers with the token endpoint as the client reaches it', async () => {
      const res = await v2('get', '/v2/', { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'evil.example' });
      expect(res.status).toBe(401);
      expect(res.body.errors[0].code).toBe('UNAUTHORIZED');
      // Forwarded headers count only behind a trusted proxy (server.trustProxy is off here).
      expect(res.headers['www-authenticate']).toBe(
        'Bearer realm="http://registry.example:5000/v2/token",service="packyard"',
      );
      const push = await v2('post', '/v2/acme/acme-packs/app/blobs/uploads/');
      expect(push.status).toBe(401);
      expect(push.headers['www-authenticate']).toBe(
        'Bearer realm="http://registry.example:5000/v2/token",service="packyard",scope="repository:acme/acme-packs/app:pull,push"',
      );
    });

    it('accepts Basic (password, API key, admin token) and /v1 bearer credentials on every route', async () => {
      for (const headers of [
        basic('alice', PASSWORD),
        basic('whoever', apiKey),
        basic('whoever', ADMIN_TOKEN),
        { Authorization: `Bearer ${apiKey}` },
      ]) {
        expect((await v2('get', '/v2/', headers)).status).toBe(200);
        expect((await v2('post', '/v2/acme/acme-packs/app/blobs/uploads/', headers)).status).toBe(202);
      }
      const wrong = await v2('get', '/v2/', basic('alice', 'wrong'));
      expect(wrong.status).toBe(401);
      expect(wrong.body.errors[0].code).toBe('UNAUTHORIZED');
      expect(wrong.headers['www-authenticate']).toContain('error="invalid_token"');
      // The permissions still decide: a viewer cannot push, another tenant does not exist.
      expect((await v2('post', '/v2/acme/acme-packs/app/blobs/uploads/', basic('vera', PASSWORD))).status).toBe(403);
      const hidden = await v2('get', '/v2/beta/beta-packs/app/tags/list', basic('alice', PASSWORD));
      expect(hidden.status).toBe(404);
      expect(hidden.body.errors[0].code).toBe('NAME_UNKNOWN');
    });

    it('limits a registry token to its scope, and names the scope it lacked', async () => {
      const pullOnly = await tokenFor('scope=repository:acme/acme-packs/app:pull', basic('alice', PASSWORD));
      const tags = await v2('get', '/v2/acme/acme-packs/app/tags/list', pullOnly);
      // Past authorization: the repository is simply empty.
      expect(tags.body.errors?.[0]?.code).toBe('NAME_UNKNOWN');
      const push = await v2('post', '/v2/acme/acme-packs/app/blobs/uploads/', pullOnly);
      expect(push.status).toBe(401);
      expect(push.headers['www-authenticate']).toBe(
        'Bearer realm="http://registry.example:5000/v2/token",service="packyard",scope="repository:acme/acme-packs/app:pull,push"',
      );
      const elsewhere = await v2('get', '/v2/acme/acme-packs/other/tags/list', pullOnly);
      expect(elsewhere.status).toBe(401);
      const catalog = await v2('get', '/v2/_catalog', pullOnly);
      expect(catalog.status).toBe(401);
      expect(catalog.headers['www-authenticate']).toContain('scope="registry:catalog:*",error="insufficient_scope"');

      const pushing = await tokenFor(
        'scope=repository:acme/acme-packs/app:pull,push&scope=registry:catalog:*',
        basic('alice', PASSWORD),
      );
      expect((await v2('post', '/v2/acme/acme-packs/app/blobs/uploads/', pushing)).status).toBe(202);
      expect((await v2('get', '/v2/_catalog', pushing)).status).toBe(200);
      // A token never goes past its holder: a viewer's token asking for push holds pull only.
      const viewer = await tokenFor('scope=repository:acme/acme-packs/app:pull,push', basic('vera', PASSWORD));
      expect((await v2('post', '/v2/acme/acme-packs/app/blobs/uploads/', viewer)).status).toBe(403);
    });

    it('checks a password once for parallel requests, and lets an anonymous token through GET /v2/', async () => {
      const fresh = await request(app())
        .post('/v1/tenants/acme/users')
        .set(AUTH)
        .send({ username: 'parallel', password: PASSWORD });
      expect(fresh.status).toBe(201);
      // More than one address may have password checks waiting (auth.passwordHashQueuePerClient, 4).
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => v2('get', '/v2/', basic('parallel', PASSWORD))),
      );
      expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 8 }, () => 200));
      const anonymous = await tokenFor('scope=repository:public/app:pull', {});
      expect((await v2('get', '/v2/', anonymous)).status).toBe(200);
      expect((await v2('get', '/v2/')).status).toBe(401);
    });

    it('refuses expired registry tokens on the routes, sending the client for a new one', async () => {
      const now = Math.floor(Date.now() / 1000);
      const expired = await signRegistryToken(
        {
          sub: 'admin',
          aud: 'packyard',
          who: { kind: 'admin-token', fingerprint: registry.services.adminToken.fingerprint },
          access: [{ type: 'repository', name: 'public/app', actions: ['pull'] }],
          iat: now - 600,
          exp: now - 1,
        },
        registry.services.sessions.keys,
      );
      const res = await v2('get', '/v2/public/app/tags/list', { Authorization: `Bearer ${expired}` });
      expect(res.status).toBe(401);
      expect(res.body.errors[0].code).toBe('UNAUTHORIZED');
      expect(res.headers['www-authenticate']).toBe(
        'Bearer realm="http://registry.example:5000/v2/token",service="packyard",error="invalid_token"',
      );
    });

    it('takes the realm from X-Forwarded-* behind a trusted proxy', async () => {
      const proxied = await startTestRegistry('fs', { config: { server: { trustProxy: true } } });
      try {
        const res = await request(proxied.app)
          .get('/v2/')
          .set({ Host: 'internal:5080', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'packs.example.com' });
        expect(res.headers['www-authenticate']).toBe(
          'Bearer realm="https://packs.example.com/v2/token",service="packyard"',
        );
      } finally {
        await proxied.close();
      }
    });

    it('names the configured public URL and service in the challenge', async () => {
      const other = await startTestRegistry('fs', {
        config: {
          server: { publicUrl: 'https://packs.example.com/base/' },
          auth: { registryService: 'packs.example.com' },
        },
      });
      try {
        const res = await request(other.app).get('/v2/');
        expect(res.headers['www-authenticate']).toBe(
          'Bearer realm="https://packs.example.com/base/v2/token",service="packs.example.com"',
        );
        const issued = await request(other.app).get('/v2/token?scope=repository:public/app:pull');
        const claims = decodeJwt((issued.body.token as string).slice(REGISTRY_TOKEN_PREFIX.length));
        expect(claims['aud']).toBe('packs.example.com');
        // A token of another service (this suite's registry) is not accepted here.
        const foreign = await token('', basic('x', ADMIN_TOKEN));
        expect(
          (
            await request(other.app)
              .get('/v2/')
              .set({ Authorization: `Bearer ${foreign.body.token as string}` })
          ).status,
        ).toBe(401);
      } finally {
        await other.close();
      }
    });
  });

  it('mounts across repositories only within the token scope, an upload otherwise', async () => {
    const blob = Buffer.from('mounted across repositories');
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    await request(app())
      .post(`/v2/acme/acme-packs/source/blobs/uploads/?digest=${digest}`)
      .set(AUTH)
      .set('Content-Type', 'application/octet-stream')
      .send(blob)
      .expect(201);
    const mount = (headers: Record<string, string>) =>
      request(app())
        .post(`/v2/acme/acme-packs/target/blobs/uploads/?mount=${digest}&from=acme/acme-packs/source`)
        .set(headers);
    const bearer = async (scope: string) => ({
      Authorization: `Bearer ${(await token(scope, basic('alice', PASSWORD))).body.token as string}`,
    });
    // An anonymous attempt is challenged for both repositories, so that one token covers the mount.
    const challenged = await request(app()).post(
      `/v2/acme/acme-packs/target/blobs/uploads/?mount=${digest}&from=acme/acme-packs/source`,
    );
    expect(challenged.status).toBe(401);
    expect(challenged.headers['www-authenticate']).toContain(
      'scope="repository:acme/acme-packs/target:pull,push repository:acme/acme-packs/source:pull"',
    );
    // The token grants push on the target but nothing on the source: an ordinary upload starts.
    expect((await mount(await bearer('scope=repository:acme/acme-packs/target:pull,push'))).status).toBe(202);
    const both = await bearer(
      'scope=' +
        encodeURIComponent('repository:acme/acme-packs/target:pull,push repository:acme/acme-packs/source:pull'),
    );
    expect((await mount(both)).status).toBe(201);
  });

  it('writes no password, API key or token into the log', async () => {
    const lines: string[] = [];
    const logger = createLogger('trace', { write: (line: string) => void lines.push(line) });
    const { dir, cleanup } = await tempDir();
    const config = resolveConfig({
      dataDir: dir,
      auth: { adminToken: ADMIN_TOKEN, superAdmin: SUPER_ADMIN, passwordHashCost: TEST_PASSWORD_HASH_COST },
    });
    const services = await createServices({ config, store: await createStore(config.storage, { logger }), logger });
    const logged = createApp(services);
    const secrets = [SUPER_ADMIN.password, 'a wrong password', ADMIN_TOKEN];
    try {
      const issued = await request(logged)
        .get('/v2/token?scope=registry:catalog:*')
        .set(basic('root', SUPER_ADMIN.password));
      expect(issued.status).toBe(200);
      secrets.push(issued.body.token as string);
      await request(logged).get('/v2/token').set(basic('root', 'a wrong password')).expect(401);
      await request(logged)
        .post('/v2/token')
        .type('form')
        .send({ grant_type: 'password', username: 'root', password: SUPER_ADMIN.password })
        .expect(200);
      await request(logged).get('/v2/_catalog').set(basic('x', ADMIN_TOKEN)).expect(200);
      await request(logged)
        .get('/v2/_catalog')
        .set({ Authorization: `Bearer ${issued.body.token as string}` })
        .expect(200);
      await request(logged).get('/v1/auth/me').set(basic('root', SUPER_ADMIN.password)).expect(401);
    } finally {
      await closeServices(services);
      await cleanup();
    }
    const text = lines.join('');
    // The requests were logged, with their status; the credentials were not, in any encoding.
    expect(text).toContain('/v2/token');
    for (const secret of secrets) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(Buffer.from(`root:${secret}`).toString('base64'));
      expect(text).not.toContain(encodeURIComponent(secret));
    }
  });
});
