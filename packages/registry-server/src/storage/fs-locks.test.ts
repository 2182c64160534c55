import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyLocks, type WithLock } from './fs-locks.js';

let root: string;
let locksDir: string;
let withLock: WithLock;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'packyard-locks-'));
  locksDir = path.join(root, 'locks');
  await mkdir(locksDir);
  await mkdir(path.join(root, 'tmp'));
  withLock = keyLocks({ locksDir, tmpDir: path.join(root, 'tmp'), description: 'test store' });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const lockFiles = async () => readdir(locksDir);
/** Makes every lock file look 60 s old: left by a crashed process. */
const age = async () => {
  const past = new Date(Date.now() - 60_000);
  for (const name of await lockFiles()) await utimes(path.join(locksDir, name), past, past);
};

describe('fs key locks', () => {
  it('lets one holder of a key in at a time, and leaves no lock file behind', async () => {
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 6 }, () =>
        withLock('records/a.json', async () => {
          most = Math.max(most, ++inside);
          await new Promise((resolve) => setTimeout(resolve, 5));
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(await lockFiles()).toEqual([]);
  });

  it('breaks a lock left by a crashed process', async () => {
    const key = 'records/b.json';
    await writeFile(path.join(locksDir, `${createHash('sha256').update(key).digest('hex').slice(0, 40)}.lock`), '');
    await age();
    await expect(withLock(key, () => Promise.resolve('got it'))).resolves.toBe('got it');
    expect(await lockFiles()).toEqual([]);
  });

  it('does not remove, on release, the lock of the holder that broke it', async () => {
    let releaseFirst!: () => void;
    const first = withLock('records/c.json', async () => {
      // Held past the stale age: the next caller takes the lock over.
      await age();
      await new Promise<void>((resolve) => (releaseFirst = resolve));
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    let whileSecondHeld: string[] = [];
    const second = withLock('records/c.json', async () => {
      releaseFirst();
      await first;
      whileSecondHeld = await lockFiles();
    });
    await second;
    expect(whileSecondHeld).toHaveLength(1);
    expect(await lockFiles()).toEqual([]);
  });
});
