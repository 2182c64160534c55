import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeDir, makeDirSync } from './make-dir.js';
import { tempDir } from './test-support/valid-pack.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

const both = [
  { kind: 'makeDir', make: (target: string, mode?: number) => makeDir(target, mode) },
  {
    kind: 'makeDirSync',
    make: (target: string, mode?: number) => Promise.resolve().then(() => makeDirSync(target, mode)),
  },
] as const;

describe.each(both)('$kind', ({ make }) => {
  it('makes the missing parents, each with the mode, and returns the first it made', async () => {
    await expect(make(path.join(dir, 'a/b/c'), 0o700)).resolves.toBe(path.join(dir, 'a'));
    for (const made of ['a', 'a/b', 'a/b/c']) expect(statSync(path.join(dir, made)).mode & 0o777).toBe(0o700);
    await expect(make(path.join(dir, 'a/b/c'))).resolves.toBeUndefined();
    await expect(make(path.join(dir, 'a/b/d'))).resolves.toBe(path.join(dir, 'a/b/d'));
    // Through a symbolic link to a directory, as mkdir -p goes.
    await symlink(path.join(dir, 'a'), path.join(dir, 'link'));
    await expect(make(path.join(dir, 'link/e'))).resolves.toBe(path.join(dir, 'link/e'));
  });

  it('fails on a file in the way: at the path (EEXIST) or above it (ENOTDIR)', async () => {
    await writeFile(path.join(dir, 'file'), 'x');
    await expect(make(path.join(dir, 'file'))).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(make(path.join(dir, 'file/below'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  // Node's own recursive mkdir spins for ever on both (the test's timeout would end it).
  it('fails where a parent exists but cannot hold the directory: /proc, a link to nowhere', async () => {
    if (existsSync('/proc/self')) {
      await expect(make('/proc/self/packyard-test/x')).rejects.toMatchObject({ code: 'ENOENT' });
    }
    await symlink(path.join(dir, 'unmounted'), path.join(dir, 'volume'));
    await expect(make(path.join(dir, 'volume/packs'))).rejects.toMatchObject({
      code: 'ENOENT',
      path: path.join(dir, 'volume'),
      message: expect.stringContaining('is a symbolic link to nothing') as unknown,
    });
    await mkdir(path.join(dir, 'unmounted'));
    await expect(make(path.join(dir, 'volume/packs'))).resolves.toBe(path.join(dir, 'volume/packs'));
  }, 10_000);
});

describe('directory making in the sources', () => {
  it('goes through make-dir.ts: no recursive mkdir elsewhere', () => {
    const packages = fileURLToPath(new URL('../../', import.meta.url));
    const offenders: string[] = [];
    const visit = (folder: string): void => {
      for (const entry of readdirSync(folder, { withFileTypes: true })) {
        const full = path.join(folder, entry.name);
        if (entry.isDirectory()) {
          if (!['node_modules', 'dist', 'bundle', 'test-support'].includes(entry.name)) visit(full);
        } else if (
          /\.(ts|tsx|mjs|js)$/.test(entry.name) &&
          !/\.test\.tsx?$/.test(entry.name) &&
          entry.name !== 'make-dir.ts'
        ) {
          if (/mkdir(Sync)?\([^)]*recursive:\s*true/.test(readFileSync(full, 'utf8'))) offenders.push(full);
        }
      }
    };
    for (const name of readdirSync(packages)) {
      const src = path.join(packages, name, 'src');
      if (existsSync(src)) visit(src);
    }
    expect(offenders.map((file) => path.relative(packages, file))).toEqual([]);
  });
});
