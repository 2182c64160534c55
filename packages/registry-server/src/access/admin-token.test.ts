import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminTokenKey } from '../storage/layout.js';
import { createFsStore } from '../storage/fs-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import { tempDir } from '../test-support/test-registry.js';
import { setupAdminToken } from './admin-token.js';

const logger = pino({ level: 'silent' });

describe('the bootstrap admin token', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let store: ObjectStore;
  beforeAll(async () => {
    work = await tempDir();
    store = await createFsStore({ root: path.join(work.dir, 'store') });
  });
  afterAll(async () => {
    await store.close();
    await work.cleanup();
  });

  it('is generated once, written with mode 0600, and only its hash is stored', async () => {
    const dataDir = path.join(work.dir, 'replica-a');
    const check = await setupAdminToken({ configured: undefined, dataDir, store, logger });
    expect(check.file).toBe(path.join(dataDir, 'admin-token'));
    const info = await stat(path.join(dataDir, 'admin-token'));
    expect(info.mode & 0o777).toBe(0o600);
    const token = (await readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
    expect(token).toMatch(/^pky_[A-Za-z0-9_-]{43}$/);
    expect(check.matches(token)).toBe(true);
    expect(check.matches(`${token}x`)).toBe(false);
    const stored = await store.getBuffer(adminTokenKey());
    expect(stored?.body.toString()).not.toContain(token);

    // A second replica on the same storage accepts it and generates nothing.
    const other = await setupAdminToken({ configured: undefined, dataDir: path.join(work.dir, 'b'), store, logger });
    expect(other.file).toBeNull();
    expect(other.matches(token)).toBe(true);
    // A restart of the first keeps the same token.
    const again = await setupAdminToken({ configured: undefined, dataDir, store, logger });
    expect(again.matches(token)).toBe(true);
  });

  it('uses the configured token instead, and no other', async () => {
    const check = await setupAdminToken({
      configured: 'configured-token-0123456789abcdef',
      dataDir: path.join(work.dir, 'c'),
      store,
      logger,
    });
    expect(check.matches('configured-token-0123456789abcdef')).toBe(true);
    expect(check.matches('')).toBe(false);
  });
});
