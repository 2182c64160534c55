/**
 * A write is authorized for its caller as they stand once its body is in (access/authenticate.ts
 * callerNow): a user disabled, a key revoked or a role taken away while a slow body arrives does
 * not publish, push or change anything with it.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { request as httpRequest, type ClientRequest, type IncomingMessage, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUTH,
  buildTestPack,
  DRIVERS,
  startTestRegistry,
  tempDir,
  type TestRegistry,
} from '../test-support/test-registry.js';

const PASSWORD = 'correct horse battery staple';

interface Answer {
  status: number;
  body: { error?: { code: string } };
}

/**
 * A request whose body is sent in two halves: the first now, the rest when `finish` is called
 * (by then the test has changed who the caller is).
 */
function halfSent(
  port: number,
  options: { method: string; path: string; headers: Record<string, string>; body: Buffer },
): { finish: () => Promise<Answer> } {
  let req: ClientRequest | undefined;
  const answered = new Promise<Answer>((resolve, reject) => {
    req = httpRequest(
      `http://127.0.0.1:${String(port)}${options.path}`,
      { method: options.method, headers: { ...options.headers, 'Content-Length': String(options.body.length) } },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Answer['body']) : {} });
        });
      },
    );
    req.on('error', reject);
  });
  const half = Math.floor(options.body.length / 2);
  req?.write(options.body.subarray(0, half));
  return {
    finish: async () => {
      await sleep(200);
      req?.end(options.body.subarray(half));
      return answered;
    },
  };
}

describe.each(DRIVERS)('a write is authorized for its caller as they stand once its body is in (%s)', (driver) => {
  let registry: TestRegistry;
  let server: Server;
  let port: number;
  let work: Awaited<ReturnType<typeof tempDir>>;

  /** A user of tenant `acme` holding Tenant Admin (through a binding whose id is returned), signed in. */
  async function tenantAdmin(username: string): Promise<{ token: string; binding: string }> {
    const app = registry.app;
    expect(
      (await request(app).post('/v1/tenants/acme/users').set(AUTH).send({ username, password: PASSWORD })).status,
    ).toBe(201);
    const bound = await request(app)
      .post('/v1/tenants/acme/bindings')
      .set(AUTH)
      .send({ role: 'Tenant Admin', subject: { kind: 'user', name: username } });
    expect(bound.status, JSON.stringify(bound.body)).toBe(201);
    const login = await request(app).post('/v1/auth/login').send({ username, password: PASSWORD });
    return { token: login.body.token as string, binding: bound.body.id as string };
  }

  beforeAll(async () => {
    registry = await startTestRegistry(driver);
    work = await tempDir();
    expect((await request(registry.app).post('/v1/tenants').set(AUTH).send({ name: 'acme' })).status).toBe(201);
    const created = await request(registry.app)
      .post('/v1/registries')
      .set(AUTH)
      .send({ name: 'acme-packs', scope: 'tenant', tenant: 'acme' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    server = registry.app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.close();
    await registry.close();
    await work.cleanup();
  });

  it('does not publish a pack for a user disabled while its archive arrived', async () => {
    const { token } = await tenantAdmin('slow-publisher');
    const pack = await buildTestPack(work.dir, { name: 'late-pack', version: '1.0.0' });
    const publish = halfSent(port, {
      method: 'POST',
      path: '/v1/registries/acme-packs/packs',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/zip' },
      body: pack.bytes,
    });
    await sleep(200);
    const disabled = await request(registry.app)
      .patch('/v1/tenants/acme/users/slow-publisher')
      .set(AUTH)
      .send({ disabled: true });
    expect(disabled.status).toBe(200);
    const answer = await publish.finish();
    expect(answer.status).toBe(401);
    expect(answer.body.error?.code).toBe('AUTH_INVALID');
    expect((await request(registry.app).get('/v1/registries/acme-packs/packs/late-pack/1.0.0').set(AUTH)).status).toBe(
      404,
    );
  });

  it('does not create a user for a user admin whose role went while the JSON body arrived', async () => {
    const { token, binding } = await tenantAdmin('slow-admin');
    const create = halfSent(port, {
      method: 'POST',
      path: '/v1/tenants/acme/users',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: Buffer.from(JSON.stringify({ username: 'made-too-late', displayName: 'x'.repeat(200) })),
    });
    await sleep(200);
    expect((await request(registry.app).delete(`/v1/tenants/acme/bindings/${binding}`).set(AUTH)).status).toBe(204);
    const answer = await create.finish();
    expect(answer.status).toBeGreaterThanOrEqual(403);
    expect(answer.status).toBeLessThan(405);
    expect((await request(registry.app).get('/v1/tenants/acme/users/made-too-late').set(AUTH)).status).toBe(404);
  });

  it('does not create a user with an API key revoked while the JSON body arrived', async () => {
    await tenantAdmin('key-admin');
    const minted = await request(registry.app)
      .post('/v1/tenants/acme/users/key-admin/api-keys')
      .set(AUTH)
      .send({ name: 'ci' });
    expect(minted.status).toBe(201);
    const create = halfSent(port, {
      method: 'POST',
      path: '/v1/tenants/acme/users',
      headers: { Authorization: `Bearer ${minted.body.key as string}`, 'Content-Type': 'application/json' },
      body: Buffer.from(JSON.stringify({ username: 'made-by-a-dead-key', displayName: 'x'.repeat(200) })),
    });
    await sleep(200);
    const revoked = await request(registry.app)
      .delete(`/v1/tenants/acme/users/key-admin/api-keys/${minted.body.id as string}`)
      .set(AUTH);
    expect(revoked.status).toBe(200);
    const answer = await create.finish();
    expect(answer.status).toBe(401);
    expect(answer.body.error?.code).toBe('AUTH_INVALID');
    expect((await request(registry.app).get('/v1/tenants/acme/users/made-by-a-dead-key').set(AUTH)).status).toBe(404);
  });

  it('does not push an OCI manifest for a user whose password changed while it arrived', async () => {
    const { token } = await tenantAdmin('slow-pusher');
    const config = Buffer.from('{}');
    const digest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
    const pushed = await request(registry.app)
      .post(`/v2/acme/acme-packs/app/blobs/uploads/?digest=${digest}`)
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'application/octet-stream')
      .send(config);
    expect(pushed.status, JSON.stringify(pushed.body)).toBe(201);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest, size: config.length },
        layers: [],
        annotations: { padding: 'x'.repeat(4096) },
      }),
    );
    const push = halfSent(port, {
      method: 'PUT',
      path: '/v2/acme/acme-packs/app/manifests/v1',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
      body: manifest,
    });
    await sleep(200);
    const reset = await request(registry.app)
      .patch('/v1/tenants/acme/users/slow-pusher')
      .set(AUTH)
      .send({ password: 'another long passphrase' });
    expect(reset.status).toBe(200);
    const answer = await push.finish();
    expect(answer.status).toBe(401);
    expect((await request(registry.app).get('/v2/acme/acme-packs/app/manifests/v1').set(AUTH)).status).toBe(404);
  });
});
