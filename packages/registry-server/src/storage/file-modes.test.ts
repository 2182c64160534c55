/**
 * What the registry writes on local disk is owner-only whatever the umask (issue 11): the token
 * signing key, password hashes and private packs on the fs store, temporary uploads, the blob
 * cache. A store found group- or world-accessible at start-up is fixed, with a warning.
 */
import { chmod, lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, buildTestPack, startTestRegistry, tempDir } from '../test-support/test-registry.js';
import { createFsStore } from './fs-store.js';

/** Every file and directory under `root` whose mode lets the group or others in. */
async function shared(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (at: string): Promise<void> => {
    const info = await lstat(at);
    if ((info.mode & 0o077) !== 0) found.push(`${path.relative(root, at) || '.'} ${(info.mode & 0o777).toString(8)}`);
    if (info.isDirectory()) for (const name of await readdir(at)) await walk(path.join(at, name));
  };
  await walk(root);
  return found;
}

let work: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  work = await tempDir();
});
afterAll(() => work.cleanup());

describe.each([
  { umask: 0o000, driver: 'fs' as const },
  { umask: 0o022, driver: 'fs' as const },
  { umask: 0o000, driver: 's3rver' as const },
])('files the registry writes under umask $umask ($driver)', ({ umask, driver }) => {
  it('are all owner-only: the store, the signing key, users, packs, uploads, the blob cache', async () => {
    const pack = await buildTestPack(work.dir, { name: 'private-bits', version: '1.0.0' });
    const previous = process.umask(umask);
    try {
      // Everything below is written under the umask: start-up (signing key), a publish, a user.
      const registry = await startTestRegistry(driver);
      try {
        expect(
          (await request(registry.app).post('/v1/registries/public/packs').set(AUTH).send(pack.bytes)).status,
        ).toBe(201);
        expect((await request(registry.app).post('/v1/tenants').set(AUTH).send({ name: 'acme' })).status).toBe(201);
        const user = { username: 'dev@acme.test', password: 'a long enough password' };
        expect((await request(registry.app).post('/v1/tenants/acme/users').set(AUTH).send(user)).status).toBe(201);
        if (driver === 'fs') {
          const key = path.join(registry.dataDir, 'store', 'objects', 'identity', 'signing-key.json');
          expect((await stat(key)).mode & 0o777).toBe(0o600);
        } else {
          // The upload was kept in the blob cache.
          expect(registry.services.blobCache?.bytes).toBeGreaterThan(0);
        }
        expect(await shared(registry.dataDir)).toEqual([]);
      } finally {
        await registry.close();
      }
    } finally {
      process.umask(previous);
    }
  });
});

describe('an fs store found accessible to others at start-up', () => {
  it('is made owner-only, with a warning', async () => {
    const root = path.join(work.dir, 'loose-store');
    const store = await createFsStore({ root });
    await store.put('identity/signing-key.json', '{"key":"secret"}');
    await store.put('packs/public/demo/1.0.0.json', '{}');
    // As an older version left it under the default umask.
    const loosen = async (at: string): Promise<void> => {
      const info = await lstat(at);
      await chmod(at, info.isDirectory() ? 0o755 : 0o644);
      if (info.isDirectory()) for (const name of await readdir(at)) await loosen(path.join(at, name));
    };
    await loosen(root);
    expect((await shared(root)).length).toBeGreaterThan(5);

    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as never) });
    const reopened = await createFsStore({ root, logger });
    expect(await shared(root)).toEqual([]);
    expect((await stat(path.join(root, 'objects', 'identity', 'signing-key.json'))).mode & 0o777).toBe(0o600);
    expect(lines.filter((line) => line.level === 40).map((line) => line.msg)).toEqual([
      expect.stringMatching(
        /the fs store at .* was accessible to other local users; made \d+ files and directories owner-only/,
      ),
    ]);
    // And it still reads what it holds.
    expect((await reopened.getBuffer('identity/signing-key.json'))?.body.toString()).toBe('{"key":"secret"}');

    // A healthy store starts without a word.
    lines.length = 0;
    await createFsStore({ root, logger });
    expect(lines.filter((line) => line.level >= 40)).toEqual([]);
  });
});
