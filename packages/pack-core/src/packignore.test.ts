import ignore from 'ignore';
import { describe, expect, it } from 'vitest';
import { packIgnore } from './packignore.js';
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
});
