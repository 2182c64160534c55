import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeFile, syncDir } from './fs-files.js';

const root = await mkdtemp(path.join(tmpdir(), 'packyard-fs-files-'));
afterAll(() => rm(root, { recursive: true, force: true }));

describe('syncDir', () => {
  it('serves callers that arrive together, and every one of them after a later call too', async () => {
    const dir = path.join(root, 'shared');
    await mkdir(dir);
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => syncDir(dir)));
    expect(results.every((result) => result.status === 'fulfilled')).toBe(true);
    await expect(syncDir(dir)).resolves.toBeUndefined();
  });

  it('fails every caller sharing a failed fsync, and tries afresh for the next one', async () => {
    const dir = path.join(root, 'later');
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => syncDir(dir)));
    expect(results.map((result) => result.status)).toEqual(Array(5).fill('rejected'));
    await mkdir(dir);
    await expect(syncDir(dir)).resolves.toBeUndefined();
  });
});

describe('removeFile', () => {
  it('removes a file, and takes a missing one as removed', async () => {
    const file = path.join(root, 'file');
    await writeFile(file, 'x');
    await removeFile(file);
    await expect(removeFile(file)).resolves.toBeUndefined();
    await expect(removeFile(path.join(root, 'no-such-dir', 'file'))).resolves.toBeUndefined();
  });
});
