/**
 * Per-key lock files of the fs driver, for compare-and-swap across processes sharing the store's
 * directory (several registry processes on one host, or on NFS).
 */
import { createHash } from 'node:crypto';
import { link, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PRIVATE_FILE_MODE } from './file-modes.js';
import { pooledCalls, type FsCalls, type WritableFile } from './fs-calls.js';
import { errorCode, removeFile } from './fs-files.js';
import { storageUnavailable } from './object-store.js';
import { tempName } from './temp-files.js';

/** A lock older than this was left by a crashed process: no holder keeps one for more than a rename. */
const LOCK_STALE_MS = 30_000;
/** Waiting longer than this for a lock means something is wrong with the directory. */
const LOCK_WAIT_MS = 60_000;

/** Runs a function holding the lock of a key. */
export type WithLock = <T>(key: string, fn: () => Promise<T>) => Promise<T>;

/**
 * The locks of one store: lock files in `locksDir`, stale ones moved away through `tmpDir`;
 * `description` names the store in errors; `calls` are the store's (./fs-calls.ts).
 */
export function keyLocks({
  locksDir,
  tmpDir,
  description,
  calls = pooledCalls,
}: {
  locksDir: string;
  tmpDir: string;
  description: string;
  calls?: FsCalls;
}): WithLock {
  /**
   * Runs `fn` holding the lock file of `key`. The lock is an `O_EXCL` file, which every process
   * sharing the directory respects; in-process callers queue on it too, so two store instances on
   * one root behave like two processes.
   */
  async function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const lockFile = path.join(locksDir, `${createHash('sha256').update(key).digest('hex').slice(0, 40)}.lock`);
    const started = Date.now();
    let held: { handle: WritableFile; ino: number };
    for (let attempt = 0; ; attempt++) {
      try {
        // Kept open while held: its inode cannot be freed, so no later lock file can have its number.
        const handle = await calls.open(lockFile, 'wx', PRIVATE_FILE_MODE);
        try {
          held = { handle, ino: (await handle.stat()).ino };
        } catch (err) {
          await handle.close();
          await removeFile(lockFile, calls);
          throw err;
        }
        break;
      } catch (err) {
        if (errorCode(err) !== 'EEXIST') throw err;
      }
      await breakStaleLock(lockFile);
      if (Date.now() - started > LOCK_WAIT_MS) {
        throw storageUnavailable(description, new Error(`timed out waiting for the lock ${lockFile} of ${key}`));
      }
      // Jittered, growing waits so that many waiters do not retry in step.
      await sleep(1 + Math.random() * Math.min(50, 2 ** attempt));
    }
    try {
      return await fn();
    } finally {
      // Only our own lock: if we had held it past LOCK_STALE_MS, a neighbour may have taken it over.
      const current = await calls.stat(lockFile).catch(() => null);
      if (current?.ino === held.ino) await removeFile(lockFile, calls);
      await held.handle.close();
    }
  }

  /**
   * Removes a lock left by a crashed process. It is moved away first and checked to be the same
   * file that was seen stale, so that a waiter that lost the race does not remove the fresh lock
   * the winner has just taken (it puts that one back).
   */
  async function breakStaleLock(lockFile: string): Promise<void> {
    const seen = await calls.stat(lockFile).catch(() => null);
    if (!seen || Date.now() - seen.mtimeMs < LOCK_STALE_MS) return;
    const moved = path.join(tmpDir, tempName('.lock'));
    try {
      await calls.rename(lockFile, moved);
    } catch {
      return; // another waiter broke it first
    }
    const taken = await calls.stat(moved);
    if (taken.ino !== seen.ino) await link(moved, lockFile).catch(() => undefined);
    await rm(moved, { force: true });
  }

  return withLock;
}
