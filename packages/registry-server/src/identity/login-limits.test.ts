/**
 * The failed sign-in ledger does not keep a document for every name ever tried: those whose
 * attempts have all left the window are swept away, the others stay.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createFsStore } from '../storage/fs-store.js';
import { loginAttemptsKey } from '../storage/layout.js';
import type { ObjectStore } from '../storage/object-store.js';
import { tempDir } from '../test-support/test-registry.js';
import { listKeys } from '../storage/test-support/conformance.js';
import { AttemptLedger } from './login-limits.js';

describe('the failed sign-in ledger', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let store: ObjectStore;

  beforeAll(async () => {
    work = await tempDir();
    store = await createFsStore({ root: work.dir, logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await store.close();
    await work.cleanup();
  });

  it('sweeps the documents of names whose attempts have all left the window', async () => {
    const windowMs = 60_000;
    const ledger = new AttemptLedger(store, windowMs);
    const ghosts = ['ghost-1', 'ghost-2', 'ghost-3'].map((name) => loginAttemptsKey('user', name.padEnd(64, '0')));
    for (const key of ghosts) expect(await ledger.reserve(key, 5)).toMatchObject({ key });
    expect(await listKeys(store, 'identity/attempts/')).toHaveLength(3);
    // Within the window nothing goes; once the window has passed, every one of them.
    expect(await ledger.sweep(Date.now() + windowMs / 2)).toBe(0);
    const fresh = loginAttemptsKey('user', 'fresh'.padEnd(64, '0'));
    expect(await ledger.sweep(Date.now() + windowMs + 1000)).toBe(3);
    await ledger.reserve(fresh, 5);
    expect(await listKeys(store, 'identity/attempts/')).toEqual([fresh]);
  });

  it('counts attempts in memory, with those stored, while storage takes no writes (a full disk)', async () => {
    const ledger = new AttemptLedger(store, 60_000);
    const key = loginAttemptsKey('user', 'full'.padEnd(64, '0'));
    // Two attempts stored before the disk filled up.
    expect(await ledger.reserve(key, 4)).toMatchObject({ key });
    const stored = await ledger.reserve(key, 4);
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
      syscall: 'write',
    });
    const puts = vi.spyOn(store, 'put').mockRejectedValue(full);
    const deletes = vi.spyOn(store, 'delete').mockRejectedValue(Object.assign(new Error('EROFS'), { code: 'EROFS' }));
    try {
      const third = await ledger.reserve(key, 4);
      const fourth = await ledger.reserve(key, 4);
      expect([third, fourth]).toEqual([
        { key, id: expect.any(String) },
        { key, id: expect.any(String) },
      ]);
      expect(await ledger.reserve(key, 4)).toEqual({ retryAfterMs: expect.any(Number) });
      // A reservation taken back frees its place, whether memory or storage held it.
      if (!('id' in fourth) || !('id' in stored)) throw new Error('reserved');
      await ledger.release(key, fourth.id);
      expect(await ledger.reserve(key, 4)).toMatchObject({ key });
      // One storage holds stays counted (it leaves the window on its own).
      await ledger.release(key, stored.id);
      expect(await ledger.reserve(key, 4)).toEqual({ retryAfterMs: expect.any(Number) });
      // A sign-in that succeeds forgets those memory holds; storage keeps its two meanwhile.
      await ledger.clear(key);
      expect(await ledger.reserve(key, 4)).toMatchObject({ key });
    } finally {
      puts.mockRestore();
      deletes.mockRestore();
    }
    // Once storage takes writes again, the attempt memory holds still counts, with the stored ones.
    expect(await ledger.reserve(key, 4)).toMatchObject({ key });
    expect(await ledger.reserve(key, 4)).toEqual({ retryAfterMs: expect.any(Number) });
  });
});
