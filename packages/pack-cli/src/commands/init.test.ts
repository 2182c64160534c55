/**
 * `packctl init` and `packctl profile pull` write several files: a failure half-way (a full disk, a
 * refused archive) leaves nothing of the run, so a second run starts from where the first did.
 * A full disk cannot be made on demand: writeFile is replaced by one that fails as a full disk
 * does, after creating the file (test/cli-hostile-server.test.ts covers profile pull).
 */
import type * as fsPromises from 'node:fs/promises';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runInProcess } from '../test-support/run-in-process.js';

/** When set, writing logo.png fails as on a full disk, once the file is made. */
const disk = vi.hoisted(() => ({ full: false }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof fsPromises>();
  const writeFile = async (...args: Parameters<typeof fs.writeFile>): Promise<void> => {
    const [file] = args;
    if (!disk.full || typeof file !== 'string' || !file.endsWith('logo.png')) return fs.writeFile(...args);
    await fs.writeFile(file, '', { flag: 'wx' });
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', path: file });
  };
  return { ...fs, default: { ...fs, writeFile }, writeFile };
});

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'packctl-init-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function init(dir: string): Promise<{ status: number; stderr: string }> {
  return runInProcess(['init', 'demo', '--layer', 'addon', '--dir', dir], {
    env: { PATH: process.env['PATH'], HOME: work },
    cwd: work,
  });
}

describe('packctl init on a full disk', () => {
  it.each([
    ['a directory it makes', 'fresh/demo'],
    ['an empty directory that was there', 'empty'],
  ])('leaves nothing in %s, and a second run succeeds', async (_label, name) => {
    const dir = path.join(work, name);
    if (name === 'empty') await mkdir(dir);
    const parent = path.dirname(dir);
    const before = await readdir(work, { recursive: true });
    disk.full = true;
    const failed = await init(dir).finally(() => (disk.full = false));
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain('no space left on the device');
    // No pack.json, values.yaml, README.md or 0-byte logo.png; no staging directory either.
    expect(await readdir(work, { recursive: true })).toEqual(before);
    const again = await init(dir);
    expect(again.status, again.stderr).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(['.packignore', 'README.md', 'logo.png', 'pack.json', 'values.yaml']);
    expect((await readdir(parent)).filter((entry) => entry.includes('.partial'))).toEqual([]);
  });
});
