/**
 * What the audit log records, where, and what it refuses to record: changes are pending before
 * they run and in their scope's log before the answer; a crash leaves an entry settled as
 * interrupted; unauthenticated callers write only to the system log, sparingly, and only for a
 * while; a user's request never lands in another tenant's log; no change without its record.
 */
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJson } from '../storage/json-documents.js';
import type { ObjectStore } from '../storage/object-store.js';
import { tenantAuditStream, ungroupedAuditEntryKey } from '../storage/layout.js';
import { HOST } from '../storage/temp-files.js';
import { createFsStore } from '../storage/fs-store.js';
import { AUTH, buildTestPack, startTestRegistry, tempDir, type TestRegistry } from '../test-support/test-registry.js';
import { AuditLog, parseStoredEntry, type AuditEntry, type PendingEntry } from './audit-log.js';
import { AnonymousLimiter } from './audit-requests.js';

const PASSWORD = 'a-long-enough-password';

/** Whether a write is a pending audit entry (the record a change waits for). */
function isPending(key: string, body: Buffer | string): boolean {
  return key.startsWith('audit/') && body.toString().includes('"outcome":"pending"');
}

async function objects(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.list(prefix)) keys.push(object.key);
  return keys;
}

describe('audit log: refused credentials', () => {
  it('records a request whose credentials are refused as an unauthenticated failure, on /v1 and /v2', async () => {
    const registry = await startTestRegistry('fs');
    try {
      const app = registry.app;
      const attempts = [
        request(app).delete('/v1/tenants/acme').set({ Authorization: 'Bearer pya_forged.token.here' }),
        request(app).post('/v1/registries').set({ Authorization: 'Bearer pyk_revoked0000000000' }).send({}),
        request(app)
          .post('/v2/public/app/blobs/uploads/')
          .set({ Authorization: `Basic ${Buffer.from('admin:wrong password').toString('base64')}` }),
      ];
      for (const res of await Promise.all(attempts)) expect(res.status).toBe(401);
      await registry.services.audit.drain();
      const system = await request(app).get('/v1/audit?limit=500').set(AUTH);
      const refused = (system.body.items as AuditEntry[])
        .filter((e) => e.actor.kind === 'anonymous')
        .map((e) => `${e.method} ${e.path} ${e.status}`)
        .sort();
      expect(refused).toEqual([
        'DELETE /v1/tenants/acme 401',
        'POST /v1/registries 401',
        'POST /v2/public/app/blobs/uploads/ 401',
      ]);
    } finally {
      await registry.close();
    }
  });
});

describe('audit log', () => {
  let registry: TestRegistry;
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    registry = await startTestRegistry('fs', {
      config: { audit: { unauthenticatedPerMinute: 1000, unauthenticatedPerAddressPerMinute: 5 } },
    });
    const app = registry.app;
    for (const tenant of ['acme', 'beta']) {
      await request(app).post('/v1/tenants').set(AUTH).send({ name: tenant }).expect(201);
      const user = `${tenant}-admin`;
      await request(app)
        .post(`/v1/tenants/${tenant}/users`)
        .set(AUTH)
        .send({ username: user, password: PASSWORD })
        .expect(201);
      await request(app)
        .post(`/v1/tenants/${tenant}/bindings`)
        .set(AUTH)
        .send({ role: 'Tenant Admin', subject: { kind: 'user', name: user } })
        .expect(201);
      const login = await request(app).post('/v1/auth/login').send({ username: user, password: PASSWORD }).expect(200);
      tokens[tenant] = login.body.token as string;
    }
  });
  afterAll(async () => {
    await registry.close();
  });

  it('has the final entry of a change in its log the moment the answer arrives', async () => {
    const created = await request(registry.app)
      .post('/v1/tenants/acme/teams')
      .set(bearer(tokens['acme'] ?? ''))
      .send({ name: 'ops' });
    expect(created.status).toBe(201);
    const log = await request(registry.app)
      .get('/v1/tenants/acme/audit?limit=5')
      .set(bearer(tokens['acme'] ?? ''));
    expect(log.body.items[0]).toMatchObject({
      method: 'POST',
      path: '/v1/tenants/acme/teams',
      status: 201,
      outcome: 'success',
    });
    await registry.services.audit.drain();
    const stored = await objects(registry.services.store, 'audit/');
    for (const key of stored) {
      const body = (await registry.services.store.getBuffer(key))?.body ?? Buffer.alloc(0);
      expect(parseStoredEntry(body).outcome, key).not.toBe('pending');
    }
  });

  it("records a user's request in their own tenant's log, never in the tenant its path names", async () => {
    const probe = await request(registry.app)
      .post('/v1/tenants/acme/teams')
      .set(bearer(tokens['beta'] ?? ''))
      .send({ name: 'intruders' });
    expect(probe.status).toBe(404);
    const acme = await request(registry.app).get('/v1/tenants/acme/audit?limit=500').set(AUTH);
    expect(JSON.stringify(acme.body.items)).not.toContain('beta-admin');
    const beta = await request(registry.app).get('/v1/tenants/beta/audit?limit=500').set(AUTH);
    expect(beta.body.items).toContainEqual(
      expect.objectContaining({
        path: '/v1/tenants/acme/teams',
        status: 404,
        actor: expect.objectContaining({ name: 'beta-admin' }),
      }),
    );
  });

  it('writes unauthenticated failures to the system log only, a few per address, and no tenant log at all', async () => {
    const store = registry.services.store;
    const before = await objects(store, 'audit/tenants/');
    // The limit counts per minute of the clock: the requests must not straddle a new minute.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 45_000) await sleep(60_000 - intoMinute + 50);
    const statuses = new Set<number>();
    for (let i = 0; i < 30; i++) {
      // A tenant that does not exist, one that does, and a login: none may reach a tenant's log.
      const target = ['/v1/tenants/ghost/teams', '/v1/tenants/acme/teams', '/v1/auth/login'][i % 3] ?? '';
      const res = await request(registry.app)
        .post(target)
        .send(target === '/v1/auth/login' ? { username: 'acme-admin', password: 'wrong' } : { name: 'x' });
      statuses.add(res.status);
    }
    expect([...statuses].every((s) => s === 401)).toBe(true);
    await registry.services.audit.drain();
    expect(await objects(store, 'audit/tenants/')).toEqual(before);
    expect(await objects(store, 'audit/tenants/ghost/')).toEqual([]);
    const anonymous = await objects(store, 'audit/anonymous/');
    expect(anonymous).toHaveLength(5);
    const system = await request(registry.app).get('/v1/audit?limit=500').set(AUTH);
    const failures = (system.body.items as AuditEntry[]).filter((e) => e.actor.kind === 'anonymous');
    expect(failures).toHaveLength(5);
    expect(failures.every((e) => e.scope.scope === 'system')).toBe(true);
    expect(failures.some((e) => e.username === 'acme-admin')).toBe(true);
  });

  it('records a successful login in the tenant of the user who signed in', async () => {
    await request(registry.app).post('/v1/auth/login').send({ username: 'beta-admin', password: PASSWORD }).expect(200);
    await registry.services.audit.drain();
    const beta = await request(registry.app).get('/v1/tenants/beta/audit?limit=5').set(AUTH);
    expect(beta.body.items).toContainEqual(
      expect.objectContaining({ path: '/v1/auth/login', status: 200, username: 'beta-admin' }),
    );
  });

  it('starts a tenant re-created under an old name with an empty log', async () => {
    const app = registry.app;
    await request(app).post('/v1/tenants').set(AUTH).send({ name: 'gamma' }).expect(201);
    await request(app).post('/v1/tenants/gamma/teams').set(AUTH).send({ name: 'old-team' }).expect(201);
    const old = await request(app).get('/v1/tenants/gamma/audit').set(AUTH);
    expect(old.body.items).toHaveLength(1);
    await request(app).delete('/v1/tenants/gamma').set(AUTH).expect(204);
    await request(app).post('/v1/tenants').set(AUTH).send({ name: 'gamma' }).expect(201);
    const fresh = await request(app).get('/v1/tenants/gamma/audit').set(AUTH);
    expect(fresh.status).toBe(200);
    expect(fresh.body.items).toEqual([]);
    const lost = await request(app)
      .get(`/v1/tenants/gamma/audit/${old.body.items[0].id as string}`)
      .set(AUTH);
    expect(lost.status).toBe(404);
  });

  it('reads the pending entry of a process that stopped as interrupted, and never shows who wrote it', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const at = new Date().toISOString();
    const id = AuditLog.newId(at);
    const tenantId = registry.services.directory.tenantId('acme') ?? '';
    const pending = {
      id,
      at,
      actor: { kind: 'operator', name: 'admin', tenant: null },
      client: '127.0.0.1',
      method: 'DELETE',
      path: '/v1/tenants/acme/teams/ops',
      scope: { scope: 'tenant', tenant: 'acme' },
      requestId: 'r-1',
      status: 0,
      outcome: 'pending',
      recorder: { host: HOST, pid: dead },
    };
    await createJson(registry.services.store, `audit/tenants/${tenantId}/${id}.json`, pending);
    const entry = await request(registry.app).get(`/v1/tenants/acme/audit/${id}`).set(AUTH);
    expect(entry.body).toMatchObject({ id, status: 0, outcome: 'interrupted', path: '/v1/tenants/acme/teams/ops' });
    expect(entry.body.recorder).toBeUndefined();
    // Still pending while its process runs.
    const live = AuditLog.newId(at);
    await createJson(registry.services.store, `audit/tenants/${tenantId}/${live}.json`, {
      ...pending,
      id: live,
      recorder: { host: HOST, pid: process.pid },
    });
    const running = await request(registry.app).get(`/v1/tenants/acme/audit/${live}`).set(AUTH);
    expect(running.body.outcome).toBe('pending');
  });

  it('prunes unauthenticated entries past their retention, and only those', async () => {
    const audit = registry.services.audit;
    const old = new Date(Date.now() - 40 * 24 * 60 * 60 * 1000).toISOString();
    const entry = (at: string): AuditEntry => ({
      id: AuditLog.newId(at),
      at,
      actor: { kind: 'anonymous', name: '', tenant: null },
      client: '192.0.2.1',
      method: 'POST',
      path: '/v1/auth/login',
      scope: { scope: 'system' },
      status: 401,
      outcome: 'denied',
      requestId: '',
    });
    const stale = await audit.recordAnonymous(entry(old));
    const fresh = await audit.recordAnonymous(entry(new Date().toISOString()));
    expect(await audit.prune(30 * 24 * 60 * 60 * 1000)).toBe(1);
    expect(await audit.get({ scope: 'system' }, stale.id)).toBeNull();
    expect(await audit.get({ scope: 'system' }, fresh.id)).not.toBeNull();
  });
});

describe('a long audit log', () => {
  it('pages through entries of both layouts newest first, and prunes a stream past its retention', async () => {
    const registry = await startTestRegistry('fs');
    try {
      const { audit, store } = registry.services;
      await request(registry.app).post('/v1/tenants').set(AUTH).send({ name: 'long' }).expect(201);
      const tenantId = registry.services.directory.tenantId('long') ?? '';
      const stream = tenantAuditStream(tenantId);
      const day = 24 * 60 * 60 * 1000;
      const entry = (at: number): AuditEntry => ({
        id: AuditLog.newId(new Date(at).toISOString()),
        at: new Date(at).toISOString(),
        actor: { kind: 'operator', name: 'root', tenant: null },
        client: '192.0.2.1',
        method: 'POST',
        path: '/v1/tenants/long/teams',
        scope: { scope: 'tenant', tenant: 'long' },
        status: 201,
        outcome: 'success',
        requestId: '',
      });
      // 40 entries an earlier release wrote (directly in the stream) over the last 40 days, then
      // 60 as this one writes them, spread over the last 2 hours.
      const now = Date.now();
      const written: AuditEntry[] = [];
      for (let i = 0; i < 40; i++) {
        const old = entry(now - 3 * 60 * 60 * 1000 - i * day);
        await createJson(store, ungroupedAuditEntryKey(stream, old.id), old);
        written.push(old);
      }
      for (let i = 0; i < 60; i++) written.push(await audit.record(entry(now - i * 2 * 60 * 1000)));
      const keys = await objects(store, stream);
      expect(keys.filter((key) => key.split('/').length === 6)).toHaveLength(60);
      const ids: string[] = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await audit.list({ scope: 'tenant', tenant: 'long' }, { limit: 7, ...(cursor ? { cursor } : {}) });
        ids.push(...page.items.map((item) => item.id));
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      const expected = [...written.map((w) => w.id)].sort();
      expect(ids.filter((id) => expected.includes(id))).toEqual(expected);
      expect(new Set(ids).size).toBe(ids.length);
      expect(await audit.get({ scope: 'tenant', tenant: 'long' }, written[5]?.id ?? '')).not.toBeNull();
      // A retention of 10 days removes the 30 older entries of the earlier layout, and nothing else.
      expect(await audit.prune(10 * day, stream)).toBe(30);
      const left = await objects(store, stream);
      expect(left).toHaveLength(keys.length - 30);
      expect(await audit.get({ scope: 'tenant', tenant: 'long' }, written[39]?.id ?? '')).toBeNull();
    } finally {
      await registry.close();
    }
  });
});

describe('a settled entry as stored', () => {
  const scope = { scope: 'tenant', tenant: 't' } as const;
  const begun = (at: Date): PendingEntry => ({
    id: AuditLog.newId(at.toISOString()),
    at: at.toISOString(),
    actor: { kind: 'operator', name: 'root', tenant: null },
    client: '192.0.2.1',
    method: 'POST',
    path: '/v1/tenants/t/teams',
    scope,
    requestId: '',
  });

  it('is the pending line with the final one appended on the fs store, and only the final one elsewhere', async () => {
    const work = await tempDir();
    const store = await createFsStore({ root: work.dir, logger: pino({ level: 'silent' }) });
    const puts: string[] = [];
    // A store whose objects cannot grow in place (as S3): the final entry replaces the pending one.
    const immutable: ObjectStore = {
      ...store,
      append: undefined,
      put: (key, body, options) => {
        puts.push(options?.ifMatch === undefined ? 'create' : 'replace');
        return store.put(key, body, options);
      },
    };
    try {
      for (const [target, lines] of [
        [store, 2],
        [immutable, 1],
      ] as const) {
        const audit = new AuditLog(target, () => ({ tenant: lines === 2 ? 'tn_fs' : 'tn_s3' }));
        const pending = begun(new Date());
        const { settle } = await audit.begin(pending);
        await settle({ ...pending, status: 201, outcome: 'success' });
        const [key = ''] = await objects(store, `audit/tenants/${lines === 2 ? 'tn_fs' : 'tn_s3'}/`);
        const body = (await store.getBuffer(key))?.body.toString() ?? '';
        const stored = body
          .trimEnd()
          .split('\n')
          .map((line) => JSON.parse(line) as AuditEntry);
        expect(stored.map((entry) => entry.outcome)).toEqual(lines === 2 ? ['pending', 'success'] : ['success']);
        // Another process reads the final entry.
        const other = new AuditLog(store, () => ({ tenant: lines === 2 ? 'tn_fs' : 'tn_s3' }));
        expect(await other.get(scope, pending.id)).toMatchObject({ status: 201, outcome: 'success' });
      }
      expect(puts).toEqual(['create', 'replace']);
    } finally {
      await store.close();
      await work.cleanup();
    }
  });

  it('reads as interrupted when its process died while appending the final line', async () => {
    const work = await tempDir();
    const store = await createFsStore({ root: work.dir, logger: pino({ level: 'silent' }) });
    try {
      const dead = spawnSync(process.execPath, ['-e', '']).pid;
      const pending = { ...begun(new Date()), status: 0, outcome: 'pending', recorder: { host: HOST, pid: dead } };
      const final = JSON.stringify({ ...pending, status: 201, outcome: 'success', recorder: undefined });
      const audit = new AuditLog(store, () => ({ tenant: 'tn_1' }));
      // A final line cut short, and one whose bytes never reached the disk (zeros).
      for (const torn of [final.slice(0, 40), '\0'.repeat(final.length)]) {
        const id = AuditLog.newId(new Date().toISOString());
        const body = `${JSON.stringify({ ...pending, id })}\n${torn}`;
        await store.put(`audit/tenants/tn_1/${id}.json`, body, { ifNoneMatch: '*' });
        expect(await audit.get(scope, id)).toMatchObject({ id, status: 0, outcome: 'interrupted' });
      }
    } finally {
      await store.close();
      await work.cleanup();
    }
  });
});

describe('audit pages', () => {
  it('read settled entries from memory once written or read, and pending ones from storage', async () => {
    const work = await tempDir();
    const store = await createFsStore({ root: work.dir, logger: pino({ level: 'silent' }) });
    const reads: string[] = [];
    const counting: ObjectStore = {
      ...store,
      getBuffer: (key) => {
        reads.push(key);
        return store.getBuffer(key);
      },
    };
    try {
      const scope = { scope: 'tenant', tenant: 't' } as const;
      const audit = new AuditLog(counting, () => ({ tenant: 'tn_1' }));
      const entry = (i: number): AuditEntry => ({
        id: AuditLog.newId(new Date(Date.now() - i * 1000).toISOString()),
        at: new Date(Date.now() - i * 1000).toISOString(),
        actor: { kind: 'operator', name: 'root', tenant: null },
        client: '192.0.2.1',
        method: 'POST',
        path: '/v1/tenants/t/teams',
        scope,
        status: 201,
        outcome: 'success',
        requestId: '',
      });
      for (let i = 0; i < 5; i++) await audit.record(entry(i));
      const pending = entry(10);
      const { settle } = await audit.begin(pending);
      expect((await audit.list(scope, { limit: 10 })).items).toHaveLength(6);
      // Only the pending entry was read; the settled ones this process wrote were in memory.
      expect(reads).toHaveLength(1);
      await settle({ ...pending, status: 201, outcome: 'success' });
      reads.length = 0;
      const page = await audit.list(scope, { limit: 10 });
      expect(page.items.map((item) => item.outcome)).toEqual(Array(6).fill('success'));
      expect(reads).toEqual([]);
      // Another process's reader has none in memory: it reads each once, then keeps them.
      const other = new AuditLog(counting, () => ({ tenant: 'tn_1' }));
      await other.list(scope, { limit: 10 });
      expect(reads).toHaveLength(6);
      await other.list(scope, { limit: 10 });
      expect(reads).toHaveLength(6);
    } finally {
      await store.close();
      await work.cleanup();
    }
  });
});

describe('a change whose pending record cannot be written', () => {
  it('is refused, and nothing changes', async () => {
    const registry = await startTestRegistry('fs', {
      wrapStore: (real) => ({
        ...real,
        put: (key, body, options) =>
          isPending(key, body) ? Promise.reject(new Error('disk on fire')) : real.put(key, body, options),
      }),
    });
    try {
      const res = await request(registry.app).post('/v1/tenants').set(AUTH).send({ name: 'never' });
      expect(res.status).toBeGreaterThanOrEqual(500);
      expect(registry.services.identity.listTenants().map((t) => t.name)).not.toContain('never');
    } finally {
      await registry.close();
    }
  });
});

describe("a change's audit record", () => {
  it('is durable before the change is stored, while the request works meanwhile (JSON, raw and multipart bodies)', async () => {
    const events: string[] = [];
    const isAudit = (key: string) => key.startsWith('audit/');
    // Pending records are slow to write: a change that did not wait for one would come first.
    const slow = (real: ObjectStore): ObjectStore => ({
      ...real,
      put: async (key, body, options) => {
        if (isPending(key, body)) {
          await new Promise((resolve) => setTimeout(resolve, 150));
          const done = await real.put(key, body, options);
          events.push('recorded');
          return done;
        }
        if (!isAudit(key)) events.push(`change ${key}`);
        return real.put(key, body, options);
      },
      putFile: (key, file, options) => {
        events.push(`change ${key}`);
        return real.putFile(key, file, options);
      },
      stage: (key, options) => {
        const staged = real.stage(key, options);
        return {
          stream: staged.stream,
          commit: () => {
            events.push(`change ${key}`);
            return staged.commit();
          },
          abort: () => staged.abort(),
        };
      },
    });
    const registry = await startTestRegistry('fs', { wrapStore: slow });
    const work = await tempDir();
    try {
      const app = registry.app;
      const requests = [
        () => request(app).post('/v1/tenants').set(AUTH).send({ name: 'gated' }),
        async () => {
          const pack = await buildTestPack(work.dir, { name: 'gated-raw' });
          return request(app).post('/v1/registries/public/packs').set(AUTH).type('application/zip').send(pack.bytes);
        },
        async () => {
          const pack = await buildTestPack(work.dir, { name: 'gated-multipart' });
          return request(app).post('/v1/registries/public/packs').set(AUTH).attach('file', pack.file);
        },
      ];
      for (const send of requests) {
        events.length = 0;
        const res = await send();
        expect(res.status).toBe(201);
        const first = events.findIndex((e) => e.startsWith('change '));
        expect(first, events.join(', ')).toBeGreaterThan(-1);
        expect(events.slice(0, first), events.join(', ')).toContain('recorded');
      }
    } finally {
      await registry.close();
      await work.cleanup();
    }
  });
});

describe('the unauthenticated-failure limiter', () => {
  it('admits a few per address and overall per minute, and counts the rest', () => {
    const limiter = new AnonymousLimiter(3, 2);
    const t = 1_000_000_000;
    expect(limiter.admit('a', t)).toBe(0);
    expect(limiter.admit('a', t)).toBe(0);
    expect(limiter.admit('a', t)).toBeNull();
    expect(limiter.admit('b', t)).toBe(0);
    expect(limiter.admit('c', t)).toBeNull();
    // The next minute: the address's next entry says how many were left out.
    expect(limiter.admit('a', t + 60_000)).toBe(1);
  });
});
