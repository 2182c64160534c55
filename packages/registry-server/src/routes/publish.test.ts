import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { MAX_HISTORY } from '../publish/publish-service.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUTH,
  buildTestPack,
  DRIVERS,
  getBytes,
  startTestRegistry,
  tempDir,
  type TestPack,
  type TestRegistry,
} from '../test-support/test-registry.js';
import { blobKey, versionKey } from '../storage/layout.js';
import { storageUnavailable } from '../storage/object-store.js';

interface ErrorBody {
  error: { code: string; message: string; hint?: string };
}

function publish(registry: TestRegistry, pack: TestPack, query = '', target = 'public') {
  return request(registry.app)
    .post(`/v1/registries/${target}/packs${query}`)
    .set(AUTH)
    .set('Content-Type', 'application/zip')
    .send(pack.bytes);
}

const blobless = versionKey('public', 'blobless', '1.0.0');

describe.each(DRIVERS)('publish (%s)', (driver) => {
  let registry: TestRegistry;
  let work: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    registry = await startTestRegistry(driver);
    work = await tempDir();
  });
  afterAll(async () => {
    await registry.close();
    await work.cleanup();
  });

  it('publishes a pack: 201 with the version record, then serves it', async () => {
    const pack = await buildTestPack(work.dir, { name: 'first', version: '1.2.3' });
    const res = await publish(registry, pack);
    expect(res.status).toBe(201);
    expect(res.headers['location']).toBe('/v1/registries/public/packs/first/1.2.3');
    expect(res.body).toMatchObject({
      registry: 'public',
      name: 'first',
      version: '1.2.3',
      layer: 'addon',
      digest: pack.digest,
      size: pack.bytes.length,
      publisher: 'admin',
      message: null,
      outcome: 'created',
      manifest: { name: 'first', version: '1.2.3' },
    });
    // Subresource Integrity of the same sha256 as the digest.
    expect(res.body.integrity).toBe(
      `sha256-${Buffer.from(pack.digest.slice('sha256:'.length), 'hex').toString('base64')}`,
    );
    expect(Date.parse(res.body.publishedAt as string)).toBeGreaterThan(Date.now() - 60_000);

    const record = await request(registry.app).get('/v1/registries/public/packs/first/1.2.3');
    expect(record.status).toBe(200);
    expect(record.body.digest).toBe(pack.digest);
  });

  it('answers 200 and writes nothing when the same bytes are pushed again', async () => {
    const pack = await buildTestPack(work.dir, { name: 'again', version: '1.0.0' });
    const first = await publish(registry, pack);
    expect(first.status).toBe(201);
    const second = await publish(registry, pack);
    expect(second.status).toBe(200);
    expect(second.body.outcome).toBe('unchanged');
    expect(second.body.publishedAt).toBe(first.body.publishedAt);
    expect(second.body.revision).toBe(1);
  });

  it('puts back an archive storage lost when the same bytes are published again, as BLOB_MISSING says', async () => {
    const pack = await buildTestPack(work.dir, { name: 'lost', version: '1.0.0' });
    expect((await publish(registry, pack)).status).toBe(201);
    // Lost outside the registry (or removed by a gc racing a commit that reused it).
    const { store } = registry.services;
    await store.delete(blobKey(pack.digest));
    expect(await store.head(blobKey(pack.digest))).toBeNull();
    if (driver === 'fs') {
      // (On S3 the local blob cache may still serve it.)
      const missing = await request(registry.app).get('/v1/registries/public/packs/lost/1.0.0/archive').set(AUTH);
      expect(missing.status).toBe(500);
      expect((missing.body as ErrorBody).error.code).toBe('BLOB_MISSING');
    }
    const again = await publish(registry, pack);
    expect(again.status).toBe(200);
    expect(again.body.outcome).toBe('unchanged');
    expect((await store.head(blobKey(pack.digest)))?.size).toBe(pack.bytes.length);
    const archive = await getBytes(registry.app, '/v1/registries/public/packs/lost/1.0.0/archive', AUTH);
    expect(archive.status).toBe(200);
    expect(archive.bytes.equals(pack.bytes)).toBe(true);
  });

  it('refuses other bytes for a published version with 409 PACK_VERSION_EXISTS', async () => {
    const a = await buildTestPack(work.dir, { name: 'conflict', version: '2.0.0', readme: '# A\n' });
    const b = await buildTestPack(work.dir, { name: 'conflict', version: '2.0.0', readme: '# B\n' });
    expect((await publish(registry, a)).status).toBe(201);
    const res = await publish(registry, b);
    expect(res.status).toBe(409);
    expect((res.body as ErrorBody).error.code).toBe('PACK_VERSION_EXISTS');
    expect((res.body as ErrorBody).error.hint).toContain('bump the version');
    const forced = await publish(registry, b, '?force=true&message=fix');
    expect(forced.status).toBe(409);
    expect((forced.body as ErrorBody).error.code).toBe('OVERWRITE_NOT_ALLOWED');
    const record = await request(registry.app).get('/v1/registries/public/packs/conflict/2.0.0');
    expect(record.body.digest).toBe(a.digest);
  });

  it('reads no version record to publish a version its catalog does not know', async () => {
    const reads: string[] = [];
    const counted = await startTestRegistry(driver, {
      share: registry,
      wrapStore: (store) => ({
        ...store,
        getBuffer: (key) => {
          reads.push(key);
          return store.getBuffer(key);
        },
      }),
    });
    try {
      const pack = await buildTestPack(work.dir, { name: 'unread', version: '1.0.0' });
      reads.length = 0;
      expect((await publish(counted, pack)).status).toBe(201);
      expect(reads.filter((key) => key.startsWith('packs/'))).toEqual([]);
    } finally {
      await counted.close();
    }
  });

  it('decides a version another replica published, before its catalog heard of it, as an existing one', async () => {
    // A replica that reads the change log once an hour: the versions published through `registry`
    // from now on are in storage but not in its catalog.
    const replica = await startTestRegistry(driver, {
      share: registry,
      config: { catalog: { pollIntervalMs: 3_600_000 } },
    });
    try {
      const a = await buildTestPack(work.dir, { name: 'unheard', version: '1.0.0', readme: '# A\n' });
      const b = await buildTestPack(work.dir, { name: 'unheard', version: '1.0.0', readme: '# B\n' });
      const c = await buildTestPack(work.dir, { name: 'unheard', version: '1.0.1', readme: '# C\n' });
      const d = await buildTestPack(work.dir, { name: 'unheard', version: '1.0.1', readme: '# D\n' });
      expect((await publish(registry, a)).status).toBe(201);
      expect((await publish(registry, c)).status).toBe(201);
      const other = await publish(replica, b);
      expect(other.status).toBe(409);
      expect((other.body as ErrorBody).error.code).toBe('PACK_VERSION_EXISTS');
      const same = await publish(replica, a);
      expect(same.status).toBe(200);
      expect(same.body).toMatchObject({ outcome: 'unchanged', digest: a.digest, revision: 1 });
      await request(registry.app)
        .delete('/v1/registries/public/packs/unheard/1.0.1?message=oops')
        .set(AUTH)
        .expect(200);
      const deleted = await publish(replica, d);
      expect(deleted.status).toBe(409);
      expect((deleted.body as ErrorBody).error.code).toBe('PACK_VERSION_DELETED');
      const kept = await request(registry.app).get('/v1/registries/public/packs/unheard/1.0.0');
      expect(kept.body.digest).toBe(a.digest);
      expect((await request(registry.app).get('/v1/registries/public/packs/unheard/1.0.1')).status).toBe(410);
    } finally {
      await replica.close();
    }
  });

  it('overwrites with force and a message where the registry allows it, keeping history', async () => {
    const created = await request(registry.app)
      .post('/v1/registries')
      .set(AUTH)
      .send({ name: 'scratch', scope: 'system', allowOverwrite: true });
    expect(created.status).toBe(201);
    const a = await buildTestPack(work.dir, { name: 'mutable', version: '0.1.0', readme: '# one\n' });
    const b = await buildTestPack(work.dir, { name: 'mutable', version: '0.1.0', readme: '# two\n' });
    expect((await publish(registry, a, '', 'scratch')).status).toBe(201);
    const noMessage = await publish(registry, b, '?force=true', 'scratch');
    expect(noMessage.status).toBe(400);
    expect((noMessage.body as ErrorBody).error.code).toBe('MESSAGE_REQUIRED');
    const res = await publish(registry, b, '?force=true&message=rebuilt%20with%20the%20right%20chart', 'scratch');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      outcome: 'overwritten',
      digest: b.digest,
      message: 'rebuilt with the right chart',
    });
    expect(res.body.history).toEqual([expect.objectContaining({ digest: a.digest, replacedBy: 'admin' })]);
    const archive = await getBytes(registry.app, '/v1/registries/scratch/packs/mutable/0.1.0/archive', AUTH);
    expect(archive.status).toBe(200);
    expect(archive.bytes.length).toBe(b.bytes.length);
    expect(archive.bytes.equals(b.bytes)).toBe(true);
    // The record remembers the last MAX_HISTORY overwrites (the audit log has every one).
    let last = res;
    for (let i = 0; i < MAX_HISTORY + 1; i++) {
      last = await publish(registry, i % 2 === 0 ? a : b, `?force=true&message=again%20${String(i)}`, 'scratch');
      expect(last.status).toBe(200);
    }
    const history = last.body.history as Array<{ message: string }>;
    expect(history).toHaveLength(MAX_HISTORY);
    expect(history.at(-1)?.message).toBe(`again ${String(MAX_HISTORY - 1)}`);
  }, 120_000);

  it('streams the archive to storage during the upload when the client announces its digest', async () => {
    const pack = await buildTestPack(work.dir, { name: 'announced', version: '1.0.0' });
    const b64 = Buffer.from(pack.digest.slice('sha256:'.length), 'hex').toString('base64');
    const res = await request(registry.app)
      .post('/v1/registries/public/packs')
      .set(AUTH)
      .set('Content-Digest', `sha-256=:${b64}:`)
      .send(pack.bytes);
    expect(res.status).toBe(201);
    expect(res.body.digest).toBe(pack.digest);
    const archive = await getBytes(registry.app, '/v1/registries/public/packs/announced/1.0.0/archive');
    expect(archive.bytes.equals(pack.bytes)).toBe(true);

    const other = await buildTestPack(work.dir, { name: 'announced', version: '1.0.1' });
    const byQuery = await publish(registry, other, `?digest=${other.digest}`);
    expect(byQuery.status).toBe(201);
  });

  it('refuses a body whose digest is not the one announced, and stores nothing of it', async () => {
    const pack = await buildTestPack(work.dir, { name: 'liar', version: '1.0.0' });
    const claimed = `sha256:${'ab'.repeat(32)}`;
    const res = await publish(registry, pack, `?digest=${claimed}`);
    expect(res.status).toBe(400);
    expect((res.body as ErrorBody).error.code).toBe('DIGEST_MISMATCH');
    expect(await registry.services.store.head(`blobs/sha256/ab/${'ab'.repeat(32)}`)).toBeNull();
    const malformed = await request(registry.app)
      .post('/v1/registries/public/packs')
      .set(AUTH)
      .set('Content-Digest', 'md5=:abc:')
      .send(pack.bytes);
    expect(malformed.status).toBe(400);
    expect((malformed.body as ErrorBody).error.code).toBe('INVALID_DIGEST');
    expect((await request(registry.app).get('/v1/registries/public/packs/liar/1.0.0')).status).toBe(404);
  });

  it('leaves nothing behind when the client goes away in the middle of an announced upload', async () => {
    const pack = await buildTestPack(work.dir, {
      name: 'gone',
      version: '1.0.0',
      files: { 'data/payload.bin': randomBytes(12 * 1024 * 1024) },
    });
    const server = registry.app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const b64 = Buffer.from(pack.digest.slice('sha256:'.length), 'hex').toString('base64');
      const req = httpRequest(`http://127.0.0.1:${port}/v1/registries/public/packs`, {
        method: 'POST',
        headers: {
          ...AUTH,
          'Content-Type': 'application/zip',
          'Content-Length': String(pack.bytes.length),
          'Content-Digest': `sha-256=:${b64}:`,
        },
      });
      req.on('error', () => undefined);
      await new Promise<void>((resolve) => {
        req.write(pack.bytes.subarray(0, 10 * 1024 * 1024), () => {
          resolve();
        });
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      req.destroy();
      const hex = pack.digest.slice('sha256:'.length);
      const empty = async () => {
        const { storage } = registry.config;
        const staging = storage.driver === 'fs' ? await readdir(path.join(storage.fs.root, 'tmp')) : [];
        const blob = await registry.services.store.head(`blobs/sha256/${hex.slice(0, 2)}/${hex}`);
        return blob === null && staging.length === 0 && (await readdir(registry.services.uploadDir)).length === 0;
      };
      for (let i = 0; i < 50 && !(await empty()); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await empty()).toBe(true);
      expect((await request(registry.app).get('/v1/registries/public/packs/gone/1.0.0')).status).toBe(404);
    } finally {
      server.close();
    }
  });

  it('accepts multipart/form-data with a message field', async () => {
    const pack = await buildTestPack(work.dir, { name: 'multipart', version: '1.0.0' });
    const res = await request(registry.app)
      .post('/v1/registries/public/packs')
      .set(AUTH)
      .field('message', 'first release')
      .attach('file', pack.bytes, 'multipart-1.0.0.zip');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ digest: pack.digest, message: 'first release' });
  });

  it('deletes a version as a tombstone: 410, never republished with other bytes, restorable as it was', async () => {
    const a = await buildTestPack(work.dir, { name: 'tomb', version: '1.0.0', readme: '# a\n' });
    const b = await buildTestPack(work.dir, { name: 'tomb', version: '1.0.0', readme: '# b\n' });
    expect((await publish(registry, a)).status).toBe(201);
    const deleted = await request(registry.app).delete('/v1/registries/public/packs/tomb/1.0.0?message=oops').set(AUTH);
    expect(deleted.status).toBe(200);
    expect(deleted.body.deleted).toMatchObject({ by: 'admin', message: 'oops' });
    const gone = await request(registry.app).get('/v1/registries/public/packs/tomb/1.0.0');
    expect(gone.status).toBe(410);
    expect((gone.body as ErrorBody).error.code).toBe('PACK_VERSION_GONE');
    const other = await publish(registry, b);
    expect(other.status).toBe(409);
    expect((other.body as ErrorBody).error.code).toBe('PACK_VERSION_DELETED');
    const restored = await publish(registry, a);
    expect(restored.status).toBe(201);
    expect(restored.body.outcome).toBe('restored');
  });

  it('deprecates and un-deprecates a version', async () => {
    const pack = await buildTestPack(work.dir, { name: 'old', version: '1.0.0' });
    expect((await publish(registry, pack)).status).toBe(201);
    const noMessage = await request(registry.app)
      .patch('/v1/registries/public/packs/old/1.0.0')
      .set(AUTH)
      .send({ deprecated: true });
    expect(noMessage.status).toBe(400);
    const res = await request(registry.app)
      .patch('/v1/registries/public/packs/old/1.0.0')
      .set(AUTH)
      .send({ deprecated: true, message: 'use 2.x' });
    expect(res.status).toBe(200);
    expect(res.body.deprecated).toMatchObject({ message: 'use 2.x', by: 'admin' });
    const cleared = await request(registry.app)
      .patch('/v1/registries/public/packs/old/1.0.0')
      .set(AUTH)
      .send({ deprecated: false });
    expect(cleared.body.deprecated).toBeNull();
  });

  it("records Palette's system_state annotation as the version's deprecation", async () => {
    const pack = await buildTestPack(work.dir, {
      name: 'retired',
      version: '1.0.0',
      manifest: { annotations: { system_state: 'deprecated' } },
    });
    const res = await publish(registry, pack);
    expect(res.status).toBe(201);
    expect(res.body.deprecated).toMatchObject({ message: 'pack.json: system_state deprecated', by: 'admin' });
    const detail = await request(registry.app).get('/v1/registries/public/packs/retired').set(AUTH);
    expect(detail.body.versions).toMatchObject([
      { version: '1.0.0', deprecated: 'pack.json: system_state deprecated' },
    ]);
  });

  it('gives exactly one 201 to 32 concurrent publishes of one name@version', async () => {
    const packs = await Promise.all(
      Array.from({ length: 32 }, (_, i) =>
        buildTestPack(work.dir, { name: 'race', version: '1.0.0', readme: `# contender ${i}\n` }),
      ),
    );
    const responses = await Promise.all(packs.map((pack) => publish(registry, pack)));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(31);
    const winner = responses.find((r) => r.status === 201);
    const stored = await request(registry.app).get('/v1/registries/public/packs/race/1.0.0');
    expect(stored.body.digest).toBe(winner?.body.digest);
  });

  it('writes no version record before its archive is stored, nor when the archive cannot be', async () => {
    const record = blobless;
    let seenMeanwhile: unknown = 'not looked';
    const failing = await startTestRegistry(driver, {
      share: registry,
      wrapStore: (store) => {
        const refuse = async (): Promise<never> => {
          // Long enough for a record written alongside the archive to land, were it not held back.
          await sleep(200);
          seenMeanwhile = await store.head(record);
          throw storageUnavailable(store.description, new Error('injected fault: the archive is not stored'));
        };
        const isBlob = (key: string) => key.startsWith('blobs/');
        return {
          ...store,
          putFile: (key, file, options) => (isBlob(key) ? refuse() : store.putFile(key, file, options)),
          stage: (key, options) => {
            const staged = store.stage(key, options);
            if (!isBlob(key)) return staged;
            return {
              ...staged,
              commit: async () => {
                await staged.abort();
                return refuse();
              },
            };
          },
        };
      },
    });
    try {
      const pack = await buildTestPack(work.dir, { name: 'blobless', version: '1.0.0' });
      const res = await publish(failing, pack);
      expect(res.status).toBe(503);
      expect((res.body as ErrorBody).error.code).toBe('STORAGE_UNAVAILABLE');
      expect(seenMeanwhile).toBeNull();
      expect(await registry.services.store.head(record)).toBeNull();
      expect((await request(registry.app).get('/v1/registries/public/packs/blobless/1.0.0')).status).toBe(404);
      // Nothing half-done stands in the way of the next attempt.
      expect((await publish(registry, pack)).status).toBe(201);
    } finally {
      await failing.close();
    }
  });

  it('writes its change-log entry alongside its final audit entry, not after it, and before the answer', async () => {
    let finalStarted = (): void => undefined;
    const finalWrite = new Promise<'final entry first'>((resolve) => {
      finalStarted = () => {
        resolve('final entry first');
      };
    });
    let order: string | null = null;
    const watched = await startTestRegistry(driver, {
      share: registry,
      wrapStore: (real) => {
        const append = real.append?.bind(real);
        return {
          ...real,
          put: async (key, body, options) => {
            if (key.startsWith('changes/')) {
              // Waits for the final entry's write to begin: it never would, were it to come after.
              order = await Promise.race([finalWrite, sleep(5_000).then(() => 'change-log entry first')]);
            }
            // The final entry replaces the pending one where the store cannot append (S3).
            if (key.startsWith('audit/') && options?.ifMatch !== undefined) finalStarted();
            return real.put(key, body, options);
          },
          ...(append
            ? {
                append: (key: string, body: Buffer, options: { ifMatch: string }) => {
                  finalStarted();
                  return append(key, body, options);
                },
              }
            : {}),
        };
      },
    });
    try {
      const pack = await buildTestPack(work.dir, { name: 'logged-alongside' });
      expect((await publish(watched, pack)).status).toBe(201);
      expect(order).toBe('final entry first');
      // Stored before the answer left: other replicas can read it now.
      const logged: string[] = [];
      for await (const { key } of registry.services.store.list('changes/')) {
        const body = (await registry.services.store.getBuffer(key))?.body.toString() ?? '';
        if (body.includes('"logged-alongside"')) logged.push(key);
      }
      expect(logged).toHaveLength(1);
    } finally {
      await watched.close();
    }
  });

  it('needs authentication to publish, and refuses a wrong token', async () => {
    const pack = await buildTestPack(work.dir, { name: 'anon', version: '1.0.0' });
    const anonymous = await request(registry.app)
      .post('/v1/registries/public/packs')
      .set('Content-Type', 'application/zip')
      .send(pack.bytes);
    expect(anonymous.status).toBe(401);
    expect((anonymous.body as ErrorBody).error.code).toBe('AUTH_REQUIRED');
    const wrong = await request(registry.app)
      .post('/v1/registries/public/packs')
      .set('Authorization', 'Bearer nope')
      .send(pack.bytes);
    expect(wrong.status).toBe(401);
    expect((wrong.body as ErrorBody).error.code).toBe('AUTH_INVALID');
    const missing = await request(registry.app).get('/v1/registries/public/packs/anon/1.0.0');
    expect(missing.status).toBe(404);
  });

  it('refuses an upload over the size limit with 413 and stores nothing', async () => {
    const small = await startTestRegistry(driver, { config: { limits: { maxUploadBytes: 4096 } } });
    try {
      const pack = await buildTestPack(work.dir, {
        name: 'big',
        version: '1.0.0',
        files: { 'data/blob.bin': randomBytes(64 * 1024) },
      });
      const res = await publish(small, pack);
      expect(res.status).toBe(413);
      expect((res.body as ErrorBody).error.code).toBe('UPLOAD_TOO_LARGE');
      const keys: string[] = [];
      for await (const object of small.services.store.list('blobs/')) keys.push(object.key);
      expect(keys).toEqual([]);
    } finally {
      await small.close();
    }
  });
});
