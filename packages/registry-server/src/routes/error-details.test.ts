/**
 * Failures below the routes never reach a client with their details (issue 11): a read or a
 * write that fails in storage answers a 5xx in general terms (503, 507 or 500), never a 4xx that
 * blames the client, and never a path, key, endpoint or driver message. The log keeps them.
 */
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AUTH, buildTestPack, startTestRegistry, tempDir, type TestRegistry } from '../test-support/test-registry.js';

/** A failed system call as Node reports it, path and all. */
function systemError(code: string, syscall: string, file: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: failure, ${syscall} '${file}'`), { code, syscall, path: file });
}

const SECRET_PATH = '/srv/secret-store/objects/blobs/sha256/ab/abcdef';

describe('storage failures as answers (fs)', () => {
  let registry: TestRegistry;
  let work: Awaited<ReturnType<typeof tempDir>>;
  const url = '/v1/registries/public/packs/detailed/1.0.0';

  beforeAll(async () => {
    registry = await startTestRegistry('fs');
    work = await tempDir();
    const pack = await buildTestPack(work.dir, { name: 'detailed', version: '1.0.0' });
    expect((await request(registry.app).post('/v1/registries/public/packs').set(AUTH).send(pack.bytes)).status).toBe(
      201,
    );
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    await registry.close();
    await work.cleanup();
  });

  function expectNoDetail(res: request.Response): void {
    const text = JSON.stringify(res.body);
    for (const detail of [SECRET_PATH, 'secret-store', 'EMFILE', 'EIO', 'ENOSPC', registry.dataDir]) {
      expect(text).not.toContain(detail);
    }
    expect(typeof res.body.error.hint).toBe('string');
  }

  it('answers 503, not an unreadable archive (422), when a file cannot be read out of storage', async () => {
    vi.spyOn(registry.services.store, 'get').mockRejectedValue(systemError('EMFILE', 'open', SECRET_PATH));
    // A pack not read before, so that its directory is read now.
    const res = await request(registry.app).get(`${url}/files/pack.json`).set(AUTH);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: { code: 'STORAGE_UNAVAILABLE' } });
    expectNoDetail(res);
  });

  it('answers 500 in general terms when an archive download fails in storage', async () => {
    // The fs store's archives are sent from the opened file (openLocal), not streamed by get.
    expect('openLocal' in registry.services.store).toBe(true);
    vi.spyOn(registry.services.store, 'openLocal').mockRejectedValue(systemError('EIO', 'read', SECRET_PATH));
    const res = await request(registry.app).get(`${url}/archive`).set(AUTH);
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ error: { code: 'INTERNAL_ERROR' } });
    expectNoDetail(res);
  });

  it('answers 507 when storage reports a full disk, whichever layer saw it', async () => {
    vi.spyOn(registry.services.store, 'put').mockRejectedValue(systemError('ENOSPC', 'write', SECRET_PATH));
    const other = await buildTestPack(work.dir, {
      name: 'detailed',
      version: '2.0.0',
      readme: randomBytes(8).toString('hex'),
    });
    const res = await request(registry.app).post('/v1/registries/public/packs').set(AUTH).send(other.bytes);
    expect(res.status).toBe(507);
    expect(res.body).toMatchObject({ error: { code: 'STORAGE_FULL' } });
    expectNoDetail(res);
  });

  it('answers 503 when the disk refuses the registry (read-only, its modes changed), not 500', async () => {
    for (const [code, syscall] of [
      ['EROFS', 'open'],
      ['EACCES', 'mkdir'],
      ['EPERM', 'rename'],
    ] as const) {
      vi.spyOn(registry.services.store, 'put').mockRejectedValue(systemError(code, syscall, SECRET_PATH));
      const other = await buildTestPack(work.dir, {
        name: 'detailed',
        version: '3.0.0',
        readme: randomBytes(8).toString('hex'),
      });
      const res = await request(registry.app).post('/v1/registries/public/packs').set(AUTH).send(other.bytes);
      expect(res.status, code).toBe(503);
      expect(res.body).toMatchObject({ error: { code: 'STORAGE_UNAVAILABLE' } });
      expect(JSON.stringify(res.body)).not.toContain(code);
      expectNoDetail(res);
      vi.restoreAllMocks();
    }
    expect((await request(registry.app).get('/v1/registries/public/packs/detailed/3.0.0').set(AUTH)).status).toBe(404);
  });
});
