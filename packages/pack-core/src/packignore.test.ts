import ignore from 'ignore';
import { describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { listPackFiles } from './pack-dir.js';
import { packIgnore } from './packignore.js';
import { tempDir } from './test-support/valid-pack.js';
import { bestOfThree, superLinearity } from './test-support/linear-time.js';

const PATTERNS = [
  '*.tmp',
  'scratch/',
  '/scratch',
  'a/b',
  'a/*/c',
  '**/x',
  'a/**',
  'a/**/b',
  '**',
  '*',
  '?.md',
  '[ab].txt',
  '[a-c]*',
  '\\#file',
  '\\!file',
  'foo ',
  'foo\\ ',
  'docs/*.md',
  '/docs/',
  'node_modules/',
  '.DS_Store',
  'a**b',
  '/*.zip',
  '/demo-*.zip',
  '*/b',
  'b/c/',
];
const PATHS = [
  'a',
  'a/b',
  'a/b/c',
  'a/x/c',
  'a/x/y/b',
  'x',
  'b/x/y',
  'foo',
  'foo ',
  '#file',
  '!file',
  'scratch',
  'scratch/x',
  'x/scratch/y',
  'd/r.tmp',
  'a.md',
  'ab.md',
  'a.txt',
  'c.txt',
  'docs/a.md',
  'docs/x/a.md',
  'z/docs/a.md',
  'q/node_modules/y',
  'sub/.DS_Store',
  'aXXb',
  'demo-1.zip',
  'x/demo-1.zip',
  'q/b',
  'q/r/b',
  'b/c/d',
];

describe('packIgnore', () => {
  it('decides as the ignore package (gitignore syntax) does', () => {
    const differences: string[] = [];
    for (const pattern of PATTERNS) {
      for (const file of PATHS) {
        for (const isDirectory of [false, true]) {
          const expected = ignore()
            .add(pattern)
            .ignores(isDirectory ? `${file}/` : file);
          if (packIgnore().add(pattern).ignores(file, isDirectory) !== expected) {
            differences.push(`${pattern} ${file}${isDirectory ? '/' : ''}`);
          }
        }
      }
    }
    expect(differences).toEqual([]);
  });

  it('re-includes with !, but nothing inside an ignored directory', () => {
    const matcher = packIgnore().add('*.tmp\n!keep.tmp\nscratch/\n!scratch/keep\n# a comment\n\n');
    expect(matcher.ignores('a.tmp')).toBe(true);
    expect(matcher.ignores('keep.tmp')).toBe(false);
    expect(matcher.ignores('scratch/keep')).toBe(true);
    expect(matcher.ignores('scratch', true)).toBe(true);
    expect(matcher.ignores('scratch')).toBe(false);
  });

  it('negates a class with ! as git does', () => {
    expect(packIgnore().add('[!ab].txt').ignores('c.txt')).toBe(true);
    expect(packIgnore().add('[!ab].txt').ignores('a.txt')).toBe(false);
  });

  it('matches many stars against a long name in linear time (the ignore package took 20 s for 40 characters)', async () => {
    const matcher = packIgnore().add(`a${'*a'.repeat(20)}*c`);
    expect(matcher.ignores('a'.repeat(255))).toBe(false);
    expect(matcher.ignores(`${'a'.repeat(254)}c`)).toBe(true);
    // Paths come from readdir: no longer than PATH_MAX (4096).
    const time = (size: number) => bestOfThree(() => matcher.ignores('a'.repeat(size)));
    expect(await superLinearity(time, 50, 4096)).toBeNull();
  });

  it('refuses more than 1,000 patterns in one .packignore, and checks that cost more than their budget', () => {
    const patterns = Array.from({ length: 1001 }, (_, i) => `file-${String(i)}.tmp`);
    expect(() => packIgnore().add(patterns.slice(0, 1000)).add(['more.tmp'])).not.toThrow();
    expect(() => packIgnore().add(patterns)).toThrow(expect.objectContaining({ code: 'PACKIGNORE_TOO_LARGE' }));
    const costly = packIgnore({ budget: 10_000 }).add(`a${'*a'.repeat(20)}*c`);
    expect(() => {
      for (let i = 0; i < 100; i++) costly.ignores('a'.repeat(255));
    }).toThrow(expect.objectContaining({ code: 'PACKIGNORE_TOO_LARGE' }));
  });

  it('decides each folder once, however many files lie in it (a registry held two minutes before)', () => {
    // 1,000 patterns and files 60 folders deep: deciding the 59 folders above each file again for
    // every file took three times the steps this budget allows.
    const patterns = Array.from({ length: 1000 }, (_, i) => `**/x${String(i)}*y*z`);
    const deep = ['docs', ...Array.from({ length: 58 }, () => 'd')].join('/');
    const matcher = packIgnore({ budget: 6_000_000 }).add(patterns);
    for (let i = 0; i < 5; i++) expect(matcher.ignores(`${deep}/f${String(i)}.md`)).toBe(false);
    // What a folder's decision is does not change: an ignored folder's files are ignored.
    const folders = packIgnore().add(['build/', '!build/keep']);
    expect(folders.ignores('build/keep')).toBe(true);
    expect(folders.ignores('src/build/x/y.txt')).toBe(true);
    expect(folders.ignores('src/builds/y.txt')).toBe(false);
  });

  it('refuses a .packignore larger than 64 KiB when a pack directory is listed, reading no more of it', async () => {
    const work = await tempDir();
    try {
      await writeFile(path.join(work.dir, 'pack.json'), '{}');
      await writeFile(path.join(work.dir, '.packignore'), `${'# a comment line\n'.repeat(4096)}*.tmp\n`);
      await expect(listPackFiles(work.dir)).rejects.toMatchObject({ code: 'PACKIGNORE_TOO_LARGE' });
      await writeFile(path.join(work.dir, '.packignore'), '*.tmp\n');
      await writeFile(path.join(work.dir, 'x.tmp'), '');
      expect((await listPackFiles(work.dir)).ignored.sort()).toEqual(['.packignore', 'x.tmp']);
    } finally {
      await work.cleanup();
    }
  });
});
