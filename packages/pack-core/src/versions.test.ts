import semver from 'semver';
import { describe, expect, it } from 'vitest';
import {
  boundsOrdered,
  compareVersions,
  isStrictSemver,
  lineTags,
  MAX_LINE_TAG_DEPTH,
  MAX_SELECTOR_LENGTH,
  MAX_VERSION_LENGTH,
  parseBound,
  parseRange,
  parseVersion,
  resolveVersion,
  selectorKind,
  sortVersions,
  withinBounds,
} from './versions.js';

describe('parseVersion', () => {
  it.each([
    ['1.9.0', [1, 9, 0], []],
    ['22.04', [22, 4], []],
    ['26.04.4', [26, 4, 4], []],
    ['1.5', [1, 5], []],
    ['v1.8.7', [1, 8, 7], []],
    ['1.2.3-rc.1+build.7', [1, 2, 3], ['rc', 1]],
    ['1.2.3.4', [1, 2, 3, 4], []],
  ])('reads %s', (raw, segments, prerelease) => {
    expect(parseVersion(raw)).toMatchObject({ raw, segments, prerelease, suffix: [] });
  });

  it.each([
    ['2.0.2-up.4', [2, 0, 2], ['up', 4]],
    ['1.26.3-spectro', [1, 26, 3], ['spectro']],
    ['0.30.0-5.5.2026', [0, 30, 0], [5, 5, 2026]],
  ])("reads %s as a vendor's build of a release", (raw, segments, suffix) => {
    expect(parseVersion(raw)).toMatchObject({ raw, segments, prerelease: [], suffix });
  });

  it.each(['1.0.0-alpha', '1.0.0-rc1', '1.0.0-beta-2', '1.0.0-RC.3', '1.0.0-dev.20260101', '1.0.0-m3', '1.0.0-pre'])(
    'reads %s as a pre-release',
    (raw) => {
      expect(parseVersion(raw)?.prerelease.length).toBeGreaterThan(0);
      expect(parseVersion(raw)?.suffix).toEqual([]);
    },
  );

  it.each(['latest', 'abc', '', 'v', '.1', '1..2', '1.2.', 'x1.2', ' 1.2', '1.2 ', '1.2.3-', '1.2.3+'])(
    'rejects %j',
    (raw) => {
      expect(parseVersion(raw)).toBeNull();
    },
  );

  it('shares one frozen parsed form per version string (a catalog holds one per version)', () => {
    const parsed = parseVersion('3.27.2-rc.1');
    expect(parseVersion(['3', '27', '2'].join('.') + '-rc.1')).toBe(parsed);
    expect(Object.isFrozen(parsed) && Object.isFrozen(parsed?.segments) && Object.isFrozen(parsed?.prerelease)).toBe(
      true,
    );
    expect(() => parsed?.segments.push(1)).toThrow(TypeError);
    expect(parseVersion('3.27.2-rc.1')?.segments).toEqual([3, 27, 2]);
  });
});

describe('isStrictSemver', () => {
  it.each([
    ['1.9.0', true],
    ['0.30.0-5.5.2026', true],
    ['1.2.3+build', true],
    ['22.04', false],
    ['1.5', false],
    ['v1.8.7', false],
    ['01.2.3', false],
    ['1.2.3.4', false],
  ])('%s -> %s', (raw, strict) => {
    expect(isStrictSemver(raw)).toBe(strict);
  });
});

describe('compareVersions', () => {
  it.each([
    ['1.10.0', '1.9.0', 1],
    ['1.9.0', '1.10.0', -1],
    ['22.04', '22.4.0', -1], // equal precedence: the text breaks the tie, deterministically
    ['22.04.1', '22.04', 1],
    ['26.04.4', '22.04.5', 1],
    ['1.5', '1.5.1', -1],
    ['v1.8.7', '1.8.6', 1],
    ['1.0.0-rc.1', '1.0.0', -1],
    ['1.0.0-alpha', '1.0.0-alpha.1', -1],
    ['1.0.0-alpha.1', '1.0.0-alpha.beta', -1],
    ['1.0.0-beta.2', '1.0.0-beta.11', -1],
    ['1.0.0-rc.1', '1.0.0-beta.11', 1],
    ['1.2.3.4', '1.2.3', 1],
    ['1.2.3', '1.2.3', 0],
    ['2.0.2-up.4', '2.0.2', 1], // a vendor's build of 2.0.2 comes after it...
    ['2.0.2-up.4', '2.0.3', -1], // ...and before the next release
    ['2.0.2-up.4', '2.0.2-up.5', -1],
    ['2.0.2-up.10', '2.0.2-up.9', 1],
    ['2.0.2-rc.1', '2.0.2-up.1', -1],
    ['latest', '0.0.1', -1],
  ])('%s vs %s -> %d', (a, b, expected) => {
    expect(Math.sign(compareVersions(a, b))).toBe(expected);
    expect(Math.sign(compareVersions(b, a))).toBe(-expected || 0);
  });

  it('sorts a mixed list into one total order', () => {
    expect(sortVersions(['1.10.0', 'v1.8.7', '22.04', '1.9.0', '1.9.0-rc.1', '1.5', '0.30.0-5.5.2026'])).toEqual([
      '0.30.0-5.5.2026',
      '1.5',
      'v1.8.7',
      '1.9.0-rc.1',
      '1.9.0',
      '1.10.0',
      '22.04',
    ]);
  });
});

describe('ranges', () => {
  it.each([
    ['>=1.29 <1.30', '1.29.4', true],
    ['>=1.29 <1.30', '1.30.0', false],
    ['>=1.29 <1.30', '1.28.9', false],
    ['>= 1.29 < 1.30', '1.29.0', true],
    ['<=1.29', '1.29.9', true],
    ['<1.29', '1.29.0', false],
    ['>1.29', '1.29.9', false],
    ['>1.29', '1.30.0', true],
    ['^45.0.0', '45.25.0', true],
    ['^45.0.0', '46.0.0', false],
    ['^0.2.3', '0.2.9', true],
    ['^0.2.3', '0.3.0', false],
    ['^0.0.3', '0.0.4', false],
    ['~1.2.3', '1.2.9', true],
    ['~1.2.3', '1.3.0', false],
    ['~22.04', '22.04.3', true],
    ['~22.04', '22.10', false],
    ['1.26 - 1.29', '1.29.7', true],
    ['1.26 - 1.29', '1.30.0', false],
    ['1.27', '1.27.3', true],
    ['22.04.x', '22.4.1', true],
    ['1.x', '1.99.0', true],
    ['1.x || 3.x', '3.1.0', true],
    ['1.x || 3.x', '2.1.0', false],
    ['*', '5.0.0', true],
    ['>=1.0.0', '2.0.0-rc.1', false], // pre-releases only when the range names one
    ['>=2.0.0-rc.0', '2.0.0-rc.1', true],
    ['>=2.0.0-rc.0', '2.0.1-rc.1', false],
    // A vendor's build of a release is a release: ranges and tags take it.
    ['2.x', '2.0.2-up.4', true],
    ['>=2.0.0', '2.0.2-up.4', true],
    ['~2.0.2', '2.0.2-up.4', true],
    ['<2.0.3', '2.0.2-up.4', true],
    ['^1.0.0', '2.0.2-up.4', false],
    ['=1.2.3', '1.2.3', true],
    ['>=1.2.3.4', '1.2.3.5', true],
  ])('%s admits %s: %s', (range, version, expected) => {
    expect(parseRange(range)?.test(version)).toBe(expected);
  });

  it('admits pre-releases with includePrerelease', () => {
    expect(parseRange('>=1.0.0')?.test('2.0.0-rc.1', { includePrerelease: true })).toBe(true);
  });

  it.each(['>=abc', '1.x.3', '^', '>=1.2 <', 'foo bar', '1.2 - ', '- 1.2', '1 - 2 - 3'])('rejects %j', (range) => {
    expect(parseRange(range)).toBeNull();
  });

  it.each([
    ['> = 1.2', '1.2.0', true],
    ['~> 1.2.3', '1.2.9', true],
    ['~> 1.2.3', '1.3.0', false],
    ['>=1.2\t\t<1.4', '1.3.0', true],
    ['  >=  1.2    <  1.4  ', '1.4.0', false],
    ['1.2\t-\t1.4', '1.4.9', true],
  ])('reads operators and versions apart: %j admits %s: %s', (range, version, expected) => {
    expect(parseRange(range)?.test(version)).toBe(expected);
  });

  it('caps what it reads: versions at 128 characters, selectors at 256', () => {
    const version = `1.0.0+${'a'.repeat(MAX_VERSION_LENGTH - 6)}`;
    expect(parseVersion(version)).not.toBeNull();
    expect(parseVersion(`${version}a`)).toBeNull();
    const range = `>=1.0.0${' <2.0.0'.repeat(35)}`.padEnd(MAX_SELECTOR_LENGTH);
    expect(parseRange(range)).not.toBeNull();
    expect(parseRange(`${range} `)).toBeNull();
    expect(selectorKind('>=1 '.repeat(100))).toBeNull();
  });
});

describe('resolveVersion', () => {
  const available = ['1.27.1', '1.27.4', '1.28.0', '1.29.2', '1.30.0-rc.1', '22.04', '22.04.4', 'v2.0.0'];
  it.each([
    ['1.27.x', '1.27.4'],
    ['1.x', '1.29.2'],
    ['22.04.x', '22.04.4'],
    ['22.04', '22.04'], // exact identity wins over the line
    ['1.27', '1.27.4'], // a short version that is not published means its line
    ['1.28.0', '1.28.0'],
    ['2.0.0', 'v2.0.0'], // equal precedence finds the spelling that exists
    ['>=1.27 <1.29', '1.28.0'],
    ['^1.27.0', '1.29.2'],
    ['1.30.0-rc.1', '1.30.0-rc.1'],
    ['>=1.30.0-rc.0 <1.31', '1.30.0-rc.1'],
    ['3.x', null],
    ['nonsense!', null],
  ])('%s -> %s', (selector, expected) => {
    expect(resolveVersion(available, selector)).toBe(expected);
  });

  it('classifies selectors', () => {
    expect(selectorKind('1.27.x')).toBe('tag');
    expect(selectorKind('1.27.4')).toBe('exact');
    expect(selectorKind('^1.0.0')).toBe('range');
    expect(selectorKind('what?')).toBeNull();
  });
});

describe('lineTags', () => {
  it('maps each line to its highest release, spelled like it', () => {
    expect(lineTags(['1.27.1', '1.27.4', '1.29.2', '1.30.0-rc.1', '22.04.4', '22.04.1'])).toEqual({
      '1.x': '1.29.2',
      '1.27.x': '1.27.4',
      '1.29.x': '1.29.2',
      '22.x': '22.04.4',
      '22.04.x': '22.04.4',
    });
  });

  it('lists lines down to MAX_LINE_TAG_DEPTH, deeper ones resolving all the same', () => {
    const version = Array.from({ length: 40 }, (_, i) => String(i % 10)).join('.');
    expect(lineTags([version, '1.2.3.4'])).toEqual({
      '0.x': version,
      '0.1.x': version,
      '0.1.2.x': version,
      '1.x': '1.2.3.4',
      '1.2.x': '1.2.3.4',
      '1.2.3.x': '1.2.3.4',
    });
    expect(MAX_LINE_TAG_DEPTH).toBe(3);
    expect(resolveVersion([version], `${version.split('.').slice(0, 10).join('.')}.x`)).toBe(version);
  });
});

describe('constraint bounds', () => {
  it.each([
    ['1.27.9', '1.26', '1.27', true],
    ['1.28.0', '1.26', '1.27', false],
    ['1.25.9', '1.26', '1.27', false],
    ['1.26.0', '1.26', '', true],
    ['1.99.0', null, null, true],
    ['1.29.4', '1.26.0', '1.30', true],
  ])('%s within [%s, %s]: %s', (version, min, max, expected) => {
    expect(withinBounds(version, min, max)).toBe(expected);
  });

  it.each([
    ['1.26', '1.30', true],
    ['1.27.4', '1.27', true],
    ['1.30', '1.27', false],
    ['1.28.0', '1.27', false],
    ['', '1.27', true],
  ])('[%s, %s] ordered: %s', (min, max, expected) => {
    expect(boundsOrdered(min, max)).toBe(expected);
  });

  it('reads a trailing wildcard as the line before it, and a bare one as no bound', () => {
    expect(parseBound('1.27.x')).toMatchObject({ segments: [1, 27] });
    expect(parseBound(' 1.x.* ')).toMatchObject({ segments: [1] });
    expect(parseBound('x')).toBeNull();
    expect(parseBound('')).toBeNull();
    expect(parseBound('one.two')).toBe('invalid');
    expect(withinBounds('1.27.9', '1.26.x', '1.27.x')).toBe(true);
    expect(withinBounds('1.28.0', null, '1.27.x')).toBe(false);
  });
});

describe('compareVersions against node-semver', () => {
  // Suffixes that do not start with a pre-release word ("1", "up.4") are vendors' builds of a
  // release here, where semver calls them pre-releases: they are left out on purpose.
  it('orders every pair of strict semver versions with pre-release words as semver does', () => {
    const numbers = [0, 1, 2, 10, 11];
    const prereleases = [
      '',
      'alpha',
      'alpha.1',
      'alpha.beta',
      'alpha.1.x-y',
      'beta',
      'beta.2',
      'beta.11',
      'rc.1',
      'rc.1.2-x',
    ];
    const builds = ['', 'build.5', '001'];
    const all: string[] = [];
    for (const major of numbers)
      for (const minor of numbers)
        for (const patch of numbers)
          for (const pre of prereleases)
            for (const build of builds) {
              all.push(`${major}.${minor}.${patch}${pre ? `-${pre}` : ''}${build ? `+${build}` : ''}`);
            }
    // A deterministic sample of about 400 versions: every pair of them, both ways.
    let seed = 42;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648);
    const sample = Array.from({ length: 400 }, () => all[next() % all.length] ?? '0.0.0');
    const disagreements: string[] = [];
    for (const a of sample) {
      for (const b of sample) {
        expect(isStrictSemver(a)).toBe(true);
        const want = Math.sign(semver.compare(a, b));
        const got = Math.sign(compareVersions(a, b));
        // semver calls versions that differ only in build metadata equal; we then order them by text.
        if (want !== 0 && got !== want) disagreements.push(`${a} vs ${b}: ${got}, semver ${want}`);
      }
    }
    expect(disagreements.slice(0, 10)).toEqual([]);
  });
});

describe("vendors' builds of a release (2.0.2-up.4)", () => {
  const available = ['2.0.1', '2.0.2-up.3', '2.0.2-up.4', '2.1.0-rc.1'];

  it('are selected by line tags and ranges, the highest build winning', () => {
    expect(resolveVersion(available, '2.x')).toBe('2.0.2-up.4');
    expect(resolveVersion(available, '>=2.0.0')).toBe('2.0.2-up.4');
    expect(resolveVersion(available, '2.0.x')).toBe('2.0.2-up.4');
    expect(resolveVersion(available, '2.0.2-up.3')).toBe('2.0.2-up.3');
  });

  it('get line tags', () => {
    expect(lineTags(available)).toEqual({ '2.x': '2.0.2-up.4', '2.0.x': '2.0.2-up.4' });
  });
});
