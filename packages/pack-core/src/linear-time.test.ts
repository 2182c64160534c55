/**
 * Every function of pack-core that reads text from a pack, a profile or a request, run on 1 MiB
 * inputs built to make regular expressions backtrack (runs of `{{`, `{{}}` repeated, whitespace
 * runs, `1.` repeated, operators, unterminated quotes...). A linear function handles each in a few
 * milliseconds; a quadratic or exponential one takes seconds to hours (the old template pattern
 * took 10-18 s on a single 679-byte line of `{{}}`).
 *
 * Bounds: 50 ms per call for string functions (best of three); the yaml library itself costs up to
 * ~100 ms per MiB of plain text on a loaded two-core box, so functions that parse YAML get a second
 * per MiB parsed. A call over its bound fails only when it is super-linear: when its time grows more
 * than 8-fold from a quarter of the input to all of it (linear: 4-fold, quadratic: 16-fold), or
 * stays over ten times the bound (test-support/linear-time.ts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lintPack } from './lint/lint-pack.js';
import { parseManifestText, validateManifest } from './manifest.js';
import { isPackName, isPackVersion, isVersionSelector } from './names.js';
import { packIgnore } from './packignore.js';
import { isPackError } from './errors.js';
import { readmeExcerpt } from './readme.js';
import { validateProfile } from './profile.js';
import { mergeValues, resolveProfile, type PackSource } from './resolve-profile.js';
import { bestOfThree, fill, MiB, once, superLinearity } from './test-support/linear-time.js';
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

const FAST_MS = 50;
const PARSE_MS_PER_MIB = 1000;

const INPUTS: Record<string, (size: number) => string> = {
  'runs of {{': (size) => fill('{{', size),
  '{{}} repeated': (size) => fill('{{}}', size),
  '{{}} repeated, then a rejecting suffix': (size) => `${fill('{{}}', size - 1)}x`,
  'lines of 29 {{}} and a suffix': (size) => fill(`${'{{}}'.repeat(29)}x\n`, size),
  'runs of {{ "': (size) => fill('{{ "', size),
  'runs of }}': (size) => fill('}}', size),
  'spaces, then a rejecting suffix': (size) => `${fill(' ', size - 1)}x`,
  'tabs and spaces': (size) => fill(' \t', size),
  'no-break spaces': (size) => fill('\u00a0', size),
  '1. repeated': (size) => fill('1.', size),
  'v1. repeated': (size) => `v${fill('1.', size - 1)}`,
  digits: (size) => fill('9', size),
  '1.x. repeated': (size) => fill('1.x.', size),
  '>=1 repeated': (size) => fill('>=1 ', size),
  '>= 1 repeated': (size) => fill('>= 1 ', size),
  '|| repeated': (size) => fill('||', size),
  '1 - repeated': (size) => fill('1 - ', size),
  hyphens: (size) => fill('-', size),
  'pre-release identifiers': (size) => `1.0.0-${fill('a.', size - 6)}`,
  'pre-release hyphens, then +': (size) => `1.0.0-${fill('-', size - 7)}+`,
  'unterminated double quote': (size) => `"${fill('a', size - 1)}`,
  'unterminated single quote': (size) => `'${fill('a', size - 1)}`,
  'escaped double quotes': (size) => `"${fill('\\"', size - 1)}`,
  'colon-space runs': (size) => fill(': ', size),
  'key: runs': (size) => fill('a: ', size),
  'comment runs': (size) => fill('#', size),
  'JSON position texts': (size) => fill(' in JSON at position 1 (line 1 column 1)', size),
  'open brackets': (size) => fill('[', size),
  'open JSON objects': (size) => fill('{"a":', size),
  'anchors and aliases': (size) => fill('&a *a ', size),
};

/** Markdown shapes for readmeExcerpt (many-line inputs cost other parsers a constant per line). */
const MARKDOWN_INPUTS: Record<string, (size: number) => string> = {
  'image openings': (size) => fill('![', size),
  'unclosed links': (size) => fill('[a](', size),
  'link middles': (size) => fill('](', size),
  'unclosed tags': (size) => fill('<a ', size),
  'fence lines': (size) => fill('```\n', size),
  'comment openings': (size) => fill('<!--\n', size),
  'list items': (size) => fill('- a\n', size),
  'setext underlines': (size) => fill('a\n=\n', size),
};

/**
 * Milliseconds of `run` on an input of `size`: calls bound in tens of milliseconds are timed best of
 * three; a pause is small beside a bound of seconds for the others.
 */
function timer(run: (input: string) => unknown, build: (size: number) => string, bound: number) {
  return (size: number): Promise<number> => {
    const input = build(size);
    return bound > FAST_MS ? once(() => run(input)) : bestOfThree(() => run(input));
  };
}

/** The inputs on which `run` is super-linear, with what was measured. */
async function slowInputs(
  run: (input: string) => unknown,
  bound: number,
  inputs: Record<string, (size: number) => string> = INPUTS,
): Promise<string[]> {
  await run('1.0.0'); // compile schemas and warm the JIT outside the measurement
  const slow: string[] = [];
  for (const [name, build] of Object.entries(inputs)) {
    const fault = await superLinearity(timer(run, build, bound), bound);
    if (fault) slow.push(`${name}: ${fault}`);
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
  // A matcher refuses more than 1,000 patterns, or more than its budget of steps: refused in time.
  'packIgnore patterns': (s) => unlessTooLarge(() => packIgnore().add(s).ignores('a/b/c.txt')),
  // Paths come from readdir: no longer than PATH_MAX.
  'packIgnore paths': (s) =>
    unlessTooLarge(() => packIgnore().add(['*a*a*a*a*a*a*a*a*c', '**/x/**/y', '[a-z]*.tmp']).ignores(s.slice(0, 4096))),
};

/** `run`'s answer, or null when it refuses its input as PACKIGNORE_TOO_LARGE. */
function unlessTooLarge(run: () => unknown): unknown {
  try {
    return run();
  } catch (err) {
    if (isPackError(err) && err.code === 'PACKIGNORE_TOO_LARGE') return null;
    throw err;
  }
}

describe('pack-core functions run in linear time on adversarial 1 MiB inputs', () => {
  it.each(Object.keys(STRING_FUNCTIONS))('%s', async (name) => {
    const run = STRING_FUNCTIONS[name];
    if (!run) throw new Error(name);
    expect(await slowInputs(run, FAST_MS)).toEqual([]);
  });

  it('readmeExcerpt, on markdown shapes', async () => {
    expect(await slowInputs(readmeExcerpt, FAST_MS, MARKDOWN_INPUTS)).toEqual([]);
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
      for (const [name, build] of Object.entries(INPUTS)) {
        const time = async (size: number) => {
          await lintWith(build(size)); // the files are written before the timed run
          return once(() => lintPack(dir));
        };
        const fault = await superLinearity(time, 4 * PARSE_MS_PER_MIB);
        if (fault) slow.push(`${name}: ${fault}`);
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
