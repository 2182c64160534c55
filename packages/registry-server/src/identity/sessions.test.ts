/**
 * Password checks as an amplifier (issue 11): attempts are counted in storage before any hash
 * starts, shared by replicas, and hashes are bounded per process with a fair share per address.
 * verifyPassword is wrapped to count (and, where a test needs it, slow down) the hashes really made.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AUTH, startTestRegistry, type TestRegistry } from '../test-support/test-registry.js';
import type * as Secrets from './secrets.js';

const hashes = vi.hoisted(() => ({ passwords: [] as string[], delayMs: 0 }));

vi.mock('./secrets.js', async (importOriginal) => {
  const actual = await importOriginal<typeof Secrets>();
  return {
    ...actual,
    verifyPassword: async (password: string, stored: string) => {
      hashes.passwords.push(password);
      if (hashes.delayMs > 0) await sleep(hashes.delayMs);
      return actual.verifyPassword(password, stored);
    },
  };
});

const PASSWORD = 'the right password, for once';

async function createUser(registry: TestRegistry, username: string): Promise<void> {
  await request(registry.app).post('/v1/tenants').set(AUTH).send({ name: 'acme' });
  await request(registry.app)
    .post('/v1/tenants/acme/users')
    .set(AUTH)
    .send({ username, password: PASSWORD })
    .expect(201);
}

function login(registry: TestRegistry, username: string, password: string, from?: string) {
  const call = request(registry.app).post('/v1/auth/login').send({ username, password });
  return from === undefined ? call : call.set('X-Forwarded-For', from);
}

describe('password checks', () => {
  const registries: TestRegistry[] = [];
  const start = async (...args: Parameters<typeof startTestRegistry>) => {
    const registry = await startTestRegistry(...args);
    registries.push(registry);
    return registry;
  };

  beforeEach(() => {
    hashes.passwords = [];
    hashes.delayMs = 0;
  });
  afterEach(async () => {
    // Replicas first: the first registry owns the storage directory.
    for (const registry of registries.splice(0).reverse()) await registry.close();
  });

  it('refuses concurrent wrong passwords beyond the limit with 429, without hashing them', async () => {
    const registry = await start('fs', {
      config: { auth: { maxFailedLogins: 10 } },
      identity: { hashQueue: { maxWaiting: 100, maxPerClient: 100 } },
    });
    await createUser(registry, 'vic');
    hashes.passwords = [];
    hashes.delayMs = 20;
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => login(registry, 'vic', `wrong ${i}`)));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(30);
    expect(hashes.passwords).toHaveLength(10);
    const limited = answers.find((a) => a.status === 429);
    expect(limited?.body.error.code).toBe('LOGIN_RATE_LIMITED');
    expect(Number(limited?.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('refuses the right password sent within a burst of wrong ones, while the burst counts', async () => {
    const registry = await start('fs', {
      config: { auth: { maxFailedLogins: 3 } },
      identity: { hashQueue: { maxWaiting: 100, maxPerClient: 100 } },
    });
    await createUser(registry, 'wanda');
    hashes.passwords = [];
    // Slow hashes, as at the production cost: the burst is still being hashed when the right one
    // comes, once three of its hashes have started (so three of its attempts are counted).
    hashes.delayMs = 1000;
    const burst = Array.from({ length: 30 }, (_, i) => login(registry, 'wanda', `guess ${i}`).then((r) => r));
    for (const start = Date.now(); hashes.passwords.length < 3 && Date.now() - start < 5000;) await sleep(10);
    const right = await login(registry, 'wanda', PASSWORD);
    expect(right.status).toBe(429);
    const answers = await Promise.all(burst);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(0);
    expect(hashes.passwords).toHaveLength(3);
  });

  it('shares the limit between replicas on one store', async () => {
    const first = await start('fs', { config: { auth: { maxFailedLogins: 3 } } });
    const second = await start('fs', { config: { auth: { maxFailedLogins: 3 } }, share: first });
    await createUser(first, 'xena');
    const statuses: number[] = [];
    for (const registry of [first, second, first, second]) {
      statuses.push((await login(registry, 'xena', 'not it')).status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    // The right password too, on either replica, until the window passes.
    expect((await login(second, 'xena', PASSWORD)).status).toBe(429);
  });

  it('answers 429 LOGIN_BUSY with Retry-After past the bound of the hash queue', async () => {
    const registry = await start('fs', {
      config: { auth: { maxFailedLogins: 100 } },
      identity: { hashQueue: { concurrency: 1, maxWaiting: 2, maxPerClient: 2 } },
    });
    hashes.delayMs = 1000;
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => login(registry, `nobody-${i}`, 'whatever')));
    const busy = answers.filter((a) => a.status === 429);
    expect(busy.length).toBeGreaterThanOrEqual(6);
    expect(busy[0]?.body.error.code).toBe('LOGIN_BUSY');
    expect(Number(busy[0]?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Unknown users are hashed too (a decoy), but only those let in.
    expect(hashes.passwords).toHaveLength(answers.filter((a) => a.status === 401).length);
  });

  it("lets another address's login through while one address floods", async () => {
    const registry = await start('fs', {
      config: { server: { trustProxy: true }, auth: { maxFailedLogins: 100 } },
      identity: { hashQueue: { concurrency: 1, maxWaiting: 8, maxPerClient: 2 } },
    });
    await createUser(registry, 'yuri');
    hashes.passwords = [];
    hashes.delayMs = 300;
    const flood = Array.from({ length: 20 }, (_, i) =>
      login(registry, `flood-${i}`, `flood ${i}`, '203.0.113.7').then((r) => r),
    );
    await sleep(50);
    const legit = await login(registry, 'yuri', PASSWORD, '198.51.100.2');
    expect(legit.status).toBe(200);
    // Its hash came within the first few: the flood did not get ahead of it.
    expect(hashes.passwords.indexOf(PASSWORD)).toBeLessThan(3);
    const floodStatuses = (await Promise.all(flood)).map((r) => r.status);
    expect(floodStatuses.filter((s) => s === 429).length).toBeGreaterThan(10);
  });

  it('counts wrong current passwords of POST /v1/auth/password against the same limits', async () => {
    const registry = await start('fs', {
      config: { auth: { maxFailedLogins: 3 } },
      identity: { hashQueue: { maxWaiting: 100, maxPerClient: 100 } },
    });
    await createUser(registry, 'zoe');
    const token = (await login(registry, 'zoe', PASSWORD).expect(200)).body.token as string;
    hashes.passwords = [];
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        request(registry.app)
          .post('/v1/auth/password')
          .set('Authorization', `Bearer ${token}`)
          .send({ currentPassword: `stolen-token guess ${i}`, newPassword: 'the attacker password' }),
      ),
    );
    expect(answers.filter((a) => a.status === 403)).toHaveLength(3);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(9);
    expect(hashes.passwords).toHaveLength(3);
  });
});
