/**
 * Access tokens are HS256 JWTs naming their key (`kid`); rotating the signing key signs nobody out:
 * tokens of the key replaced keep working on every replica until they expire, new ones are signed
 * with the new key, and a key rotated out twice verifies nothing any more.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeProtectedHeader, UnsecuredJWT } from 'jose';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeJson } from '../storage/json-documents.js';
import { startTestRegistry, SUPER_ADMIN, type TestRegistry } from '../test-support/test-registry.js';
import { signingKeyKey } from '../storage/layout.js';
import { rotateSigningKey } from './signing-keys.js';

const registries: TestRegistry[] = [];

async function start(share?: TestRegistry): Promise<TestRegistry> {
  const registry = await startTestRegistry('fs', share ? { share } : {});
  registries.push(registry);
  return registry;
}

async function login(registry: TestRegistry): Promise<string> {
  const answer = await request(registry.app).post('/v1/auth/login').send(SUPER_ADMIN).expect(200);
  return (answer.body as { token: string }).token;
}

function me(registry: TestRegistry, token: string) {
  return request(registry.app).get('/v1/auth/me').set('Authorization', `Bearer ${token}`);
}

function kidOf(token: string): string | undefined {
  return decodeProtectedHeader(token.slice('pya_'.length)).kid;
}

/** Past the test registries' poll interval (100 ms): signing looks for a newer key. */
const pastPoll = () => sleep(150);

afterEach(async () => {
  // Replicas first: the first registry owns the storage directory.
  for (const registry of registries.splice(0).reverse()) await registry.close();
});

describe('access tokens', () => {
  it('are HS256 JWTs naming their key, and a changed or unsigned one names nobody', async () => {
    const registry = await start();
    const token = await login(registry);
    const header = decodeProtectedHeader(token.slice('pya_'.length));
    expect(header).toMatchObject({ alg: 'HS256', typ: 'JWT' });
    expect(header.kid).toMatch(/^[\w-]{16}$/);
    await me(registry, token).expect(200);

    const [head, payload, signature] = token.slice('pya_'.length).split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, exp: Number(claims['exp']) + 3600 })).toString('base64url');
    const refused = await me(registry, `pya_${head}.${forged}.${signature}`).expect(401);
    expect(refused.body.error.code).toBe('AUTH_INVALID');
    const unsigned = new UnsecuredJWT(claims).encode();
    expect((await me(registry, `pya_${unsigned}`).expect(401)).body.error.code).toBe('AUTH_INVALID');
  });

  it('survive a rotation of the signing key on every replica; two rotations end them', async () => {
    const first = await start();
    const second = await start(first);
    const before = await login(first);
    const oldKid = kidOf(before);

    await rotateSigningKey(first.services.store);
    // The token of the key replaced still works, on the replica that knew that key and on the other.
    await me(first, before).expect(200);
    await me(second, before).expect(200);

    await pastPoll();
    const after = await login(second);
    expect(kidOf(after)).not.toBe(oldKid);
    // The other replica learns the new key from the token naming it.
    await me(first, after).expect(200);
    // A refresh re-signs with the current key, keeping the session.
    const refreshed = await request(first.app)
      .post('/v1/auth/refresh')
      .set('Authorization', `Bearer ${before}`)
      .expect(200);
    expect(kidOf((refreshed.body as { token: string }).token)).toBe(kidOf(after));

    await rotateSigningKey(first.services.store);
    await pastPoll();
    // Two rotations later, the first key verifies nothing; the second one still does.
    for (const registry of [first, second]) {
      expect((await me(registry, before).expect(401)).body.error.code).toBe('AUTH_INVALID');
      await me(registry, after).expect(200);
    }
  });

  it('are signed with the key of a document written before keys rotated, until it is rotated', async () => {
    const first = await start();
    await first.services.store.put(
      signingKeyKey(),
      encodeJson({ key: Buffer.alloc(32, 7).toString('base64'), createdAt: '2024-01-01T00:00:00.000Z' }),
    );
    const replica = await start(first);
    const legacy = await login(replica);
    await me(replica, legacy).expect(200);
    await rotateSigningKey(first.services.store);
    await pastPoll();
    await me(first, legacy).expect(200);
    expect(kidOf(await login(first))).not.toBe(kidOf(legacy));
  });
});
