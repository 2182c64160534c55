/**
 * Every function of pack-core that reads text from a pack, a profile or a request, run on 1 MiB
 * inputs built to make regular expressions backtrack (runs of `{{`, `{{}}` repeated, whitespace
 * runs, `1.` repeated, operators, unterminated quotes...). A linear function handles each in a few
 * milliseconds; a quadratic or exponential one takes seconds to hours (the old template pattern
 * took 10-18 s on a single 679-byte line of `{{}}`).
 *
 * Bounds: 50 ms per call for string functions, so that a loaded two-core CI box does not flake;
 * the yaml library itself costs up to ~100 ms per MiB of plain text on such a box, so functions
 * that parse YAML get a second per MiB parsed. A call bound at 50 ms is timed as the best of
 * three, as a garbage collection can pause any single one, and a call over its bound is timed
 * again (twice): a super-linear call is slow every time, a busy neighbour on the box only sometimes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lintPack } from './lint/lint-pack.js';
import { parseManifestText, validateManifest } from './manifest.js';
import { isPackName, isPackVersion, isVersionSelector } from './names.js';
import { packIgnore } from './packignore.js';
import { readmeExcerpt } from './readme.js';
import { validateProfile } from './profile.js';
import { mergeValues, resolveProfile, type PackSource } from './resolve-profile.js';
import { tempDir, writeValidPack } from './test-support/valid-pack.js';
import {
  boundsOrdered,
  compareVersions,
  isLineTag,
  isStrictSemver,
  lineTags,
  parseBound,
  parseRange,
  parseVersion,
  resolveVersion,
  selectorKind,
  sortVersions,
  withinBounds,
} from './versions.js';
import { hasTemplates, neutraliseTemplates, parseYaml } from './yaml.js';

const MiB = 1024 * 1024;
const FAST_MS = 50;
const PARSE_MS_PER_MIB = 1000;

function fill(unit: string, size = MiB): string {
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

const INPUTS: Record<string, string> = {
  'runs of {{': fill('{{'),
  '{{}} repeated': fill('{{}}'),
  '{{}} repeated, then a rejecting suffix': `${fill('{{}}', MiB - 1)}x`,
  'lines of 29 {{}} and a suffix': fill(`${'{{}}'.repeat(29)}x\n`),
  'runs of {{ "': fill('{{ "'),
  'runs of }}': fill('}}'),
  'spaces, then a rejecting suffix': `${fill(' ', MiB - 1)}x`,
  'tabs and spaces': fill(' \t'),
  'no-break spaces': fill('\u00a0'),
  '1. repeated': fill('1.'),
  'v1. repeated': `v${fill('1.', MiB - 1)}`,
  digits: fill('9'),
  '1.x. repeated': fill('1.x.'),
  '>=1 repeated': fill('>=1 '),
  '>= 1 repeated': fill('>= 1 '),
  '|| repeated': fill('||'),
  '1 - repeated': fill('1 - '),
  hyphens: fill('-'),
  'pre-release identifiers': `1.0.0-${fill('a.', MiB - 6)}`,
  'pre-release hyphens, then +': `1.0.0-${fill('-', MiB - 7)}+`,
  'unterminated double quote': `"${fill('a', MiB - 1)}`,
  'unterminated single quote': `'${fill('a', MiB - 1)}`,
  'escaped double quotes': `"${fill('\\"', MiB - 1)}`,
  'colon-space runs': fill(': '),
  'key: runs': fill('a: '),
  'comment runs': fill('#'),
  'JSON position texts': fill(' in JSON at position 1 (line 1 column 1)'),
  'open brackets': fill('['),
  'open JSON objects': fill('{"a":'),
  'anchors and aliases': fill('&a *a '),
};

/** Markdown shapes for readmeExcerpt (many-line inputs cost other parsers a constant per line). */
const MARKDOWN_INPUTS: Record<string, string> = {
  'image openings': fill('!['),
  'unclosed links': fill('[a]('),
  'link middles': fill(']('),
  'unclosed tags': fill('<a '),
  'fence lines': fill('```\n'),
  'comment openings': fill('<!--\n'),
  'list items': fill('- a\n'),
  'setext underlines': fill('a\n=\n'),
};

/** Milliseconds of the fastest of three calls. */
async function bestOfThree(run: () => unknown): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    await run();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

/** Milliseconds of one call. */
async function once(run: () => unknown): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/**
 * Milliseconds of `run` against `bound`: calls bound in tens of milliseconds are timed best of
 * three, a pause being small beside a bound of seconds for the others; a call over its bound is
 * timed twice more and keeps its best time, as a super-linear call is slow every time while a
 * loaded box (a CI neighbour, a collection) slows only some.
 */
async function boundedTime(run: () => unknown, bound: number): Promise<number> {
  const time = () => (bound > FAST_MS ? once(run) : bestOfThree(run));
  let ms = await time();
  for (let retry = 0; retry < 2 && ms > bound; retry++) ms = Math.min(ms, await time());
  return ms;
}

/** The inputs on which `run` takes longer than `bound` milliseconds, with their times. */
async function slowInputs(run: (input: string) => unknown, bound: number): Promise<string[]> {
  await run('1.0.0'); // compile schemas and warm the JIT outside the measurement
  const slow: string[] = [];
  for (const [name, input] of Object.entries(INPUTS)) {
    const ms = await boundedTime(() => run(input), bound);
    if (ms > bound) slow.push(`${name}: ${Math.round(ms)} ms`);
  }
  return slow;
}

const AVAILABLE = Array.from({ length: 200 }, (_, i) => `1.${i % 20}.${i}`);

const STRING_FUNCTIONS: Record<string, (input: string) => unknown> = {
  hasTemplates,
  neutraliseTemplates,
  parseVersion,
  isStrictSemver,
  parseRange: (s) => parseRange(s)?.test('1.2.3'),
  selectorKind,
  isLineTag,
  resolveVersion: (s) => resolveVersion(AVAILABLE, s),
  compareVersions: (s) => compareVersions(s, `${s}1`),
  sortVersions: (s) => sortVersions([s, '1.0.0', s, '22.04']),
  lineTags: (s) => lineTags([s, '1.2.3']),
  parseBound,
  withinBounds: (s) => withinBounds('1.2.3', s, s),
  boundsOrdered: (s) => boundsOrdered(s, s),
  isPackName,
  isPackVersion,
  readmeExcerpt,
  isVersionSelector,
  // A pack.json is at most 1 MiB: its fields share the input.
  validateManifest: (input) => {
    const s = input.slice(0, MiB / 8);
    return validateManifest({
      name: s,
      displayName: s,
      version: s,
      layer: s,
      charts: [s],
      constraints: { dependencies: [{ packName: s, layer: 'k8s', minVersion: s, maxVersion: s }] },
    });
  },
  validateProfile: (input) => {
    const s = input.slice(0, MiB / 8);
    return validateProfile({
      name: s,
      version: s,
      registries: [s, `${s}2`],
      packs: [
        { name: 'a', version: s },
        { name: s, version: '1.x', values: s },
      ],
    });
  },
  'packIgnore patterns': (s) => packIgnore().add(s).ignores('a/b/c.txt'),
  // Paths come from readdir: no longer than PATH_MAX.
  'packIgnore paths': (s) =>
    packIgnore().add(['*a*a*a*a*a*a*a*a*c', '**/x/**/y', '[a-z]*.tmp']).ignores(s.slice(0, 4096)),
};

describe('pack-core functions run in linear time on adversarial 1 MiB inputs', () => {
  it.each(Object.keys(STRING_FUNCTIONS))('%s', async (name) => {
    const run = STRING_FUNCTIONS[name];
    if (!run) throw new Error(name);
    expect(await slowInputs(run, FAST_MS)).toEqual([]);
  });

  it('readmeExcerpt, on markdown shapes', async () => {
    const slow: string[] = [];
    for (const [name, input] of Object.entries(MARKDOWN_INPUTS)) {
      const ms = await boundedTime(() => readmeExcerpt(input), FAST_MS);
      if (ms > FAST_MS) slow.push(`${name}: ${Math.round(ms)} ms`);
    }
    expect(slow).toEqual([]);
  });

  // JSON.parse, V8's own linear parser, costs some 50 ms for 1 MiB of nesting on a loaded box.
  it('parseManifestText', async () => {
    expect(await slowInputs(parseManifestText, PARSE_MS_PER_MIB)).toEqual([]);
    const quoting = (s: string) => parseManifestText(JSON.stringify({ name: s, version: s, note: s }));
    expect(await slowInputs(quoting, 3 * PARSE_MS_PER_MIB)).toEqual([]);
  });

  it('parseYaml', async () => {
    expect(await slowInputs(parseYaml, PARSE_MS_PER_MIB)).toEqual([]);
  });

  it('mergeValues of parsed values', async () => {
    const run = (s: string) => mergeValues(parseYaml(s).documents[0] ?? {}, parseYaml(`a: ${s}`).documents[0] ?? {});
    expect(await slowInputs(run, 2 * PARSE_MS_PER_MIB)).toEqual([]);
  });

  it('resolveProfile, with the input as a pack values.yaml and as profile values', async () => {
    const source = (values: string): PackSource => ({
      versions: () => Promise.resolve([{ version: '1.0.0', deprecated: false }]),
      details: () => Promise.resolve({ digest: 'sha256:x', layer: 'addon', cloudTypes: [], dependencies: [], values }),
    });
    const run = (s: string) =>
      resolveProfile(
        { name: 'p', version: '1.0.0', type: 'add-on', packs: [{ name: 'a', version: '1.x', values: s }] },
        source(s),
      );
    expect(await slowInputs(run, 2 * PARSE_MS_PER_MIB)).toEqual([]);
  });

  describe('lintPack, with the input in every YAML file and in pack.json fields', () => {
    let dir: string;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ dir, cleanup } = await tempDir());
      await writeValidPack(dir);
    });
    afterAll(() => cleanup());

    async function lintWith(input: string): Promise<unknown> {
      // pack.json is read up to 1 MiB: its fields get a slice of the input each.
      const field = input.slice(0, 150 * 1024);
      const manifest = {
        name: field,
        displayName: 'Adversarial',
        version: field,
        layer: 'addon',
        kubeManifests: ['manifests/adversarial.yaml'],
        constraints: { dependencies: [{ packName: field, layer: 'k8s', minVersion: field, maxVersion: field }] },
        [field]: 'unknown',
      };
      await writeFile(path.join(dir, 'pack.json'), JSON.stringify(manifest));
      await mkdir(path.join(dir, 'manifests'), { recursive: true });
      for (const file of ['values.yaml', 'presets.yaml', 'schema.yaml', 'manifests/adversarial.yaml']) {
        await writeFile(path.join(dir, file), input);
      }
      return lintPack(dir);
    }

    it('stays within a second per MiB of YAML', async () => {
      const slow: string[] = [];
      await lintWith('a: 1\n');
      for (const [name, input] of Object.entries(INPUTS)) {
        await lintWith(input); // the files are written before the timed run
        const ms = await boundedTime(() => lintPack(dir), 4 * PARSE_MS_PER_MIB);
        if (ms > 4 * PARSE_MS_PER_MIB) slow.push(`${name}: ${Math.round(ms)} ms`);
      }
      expect(slow).toEqual([]);
    }, 180_000);

    it('reads a .packignore with many stars next to a long file name at once', async () => {
      // The ignore package's regular expression took 20 s for 40 characters, and grows as n^10.
      await writeValidPack(dir);
      await writeFile(path.join(dir, '.packignore'), `a${'*a'.repeat(20)}*c\n`);
      await writeFile(path.join(dir, 'a'.repeat(200)), '');
      expect(await bestOfThree(() => lintPack(dir))).toBeLessThan(500);
    });
  });
});
