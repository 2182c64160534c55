import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PackManifest } from '@packyard/pack-core';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, SAMPLE_PACKS, runPackctlJson } from './helpers.js';

const packs = readdirSync(SAMPLE_PACKS, { withFileTypes: true })
  .filter((e) => e.isDirectory() && !e.name.startsWith('_'))
  .map((e) => e.name)
  .sort();
const manifests = new Map(
  packs.map((name) => [
    name,
    JSON.parse(readFileSync(path.join(SAMPLE_PACKS, name, 'pack.json'), 'utf8')) as Record<string, unknown>,
  ]),
);
const work = mkdtempSync(path.join(tmpdir(), 'packyard-samples-'));
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('sample packs', () => {
  it('cover every layer and every kind of content', () => {
    const all = [...manifests.values()];
    for (const layer of ['os', 'k8s', 'cni', 'csi'])
      expect(
        all.some((m) => m['layer'] === layer),
        layer,
      ).toBe(true);
    const addons = all.filter((m) => m['layer'] === 'addon');
    expect(addons.some((m) => Array.isArray(m['charts']) && m['charts'].length > 0)).toBe(true);
    expect(addons.some((m) => Array.isArray(m['kubeManifests']) && m['kubeManifests'].length > 0)).toBe(true);
    const withConstraints = packs.filter((name) => {
      const deps = (
        manifests.get(name)?.['constraints'] as { dependencies?: Array<{ layer: string; type: string }> } | undefined
      )?.dependencies;
      const files = readdirSync(path.join(SAMPLE_PACKS, name));
      return (
        deps?.some((d) => d.layer === 'k8s' && d.type === 'required') === true &&
        files.includes('presets.yaml') &&
        files.includes('schema.yaml')
      );
    });
    expect(withConstraints.length).toBeGreaterThan(0);
  });

  it.each(packs)('%s lints clean (no errors, no warnings) and builds to the same sha256 twice', async (name) => {
    const dir = path.join(SAMPLE_PACKS, name);
    const lint = await runPackctlJson<{ errors: number; warnings: number; findings: unknown[] }>([
      'lint',
      dir,
      '--strict',
    ]);
    expect(lint.findings).toEqual([]);
    expect(lint.status).toBe(0);
    const first = await runPackctlJson<{ digest: string }>(['build', dir, '-o', path.join(work, `${name}-1`)]);
    const second = await runPackctlJson<{ digest: string }>(['build', dir, '-o', path.join(work, `${name}-2`)]);
    expect(first.status).toBe(0);
    expect(second.digest).toBe(first.digest);
  });

  it('have chart archives and logos up to date with their sources', () => {
    expect(() =>
      execFileSync('node', ['scripts/build-sample-assets.mjs', '--check'], { cwd: REPO, stdio: 'pipe' }),
    ).not.toThrow();
  });
});

describe('generated code', () => {
  it('the pack-core types and embedded schema match schemas/*.json', () => {
    expect(() =>
      execFileSync('node', ['scripts/gen-schema-types.mjs', '--check'], { cwd: REPO, stdio: 'pipe' }),
    ).not.toThrow();
  });
});

describe('the sample profile', () => {
  it('is a valid profile that resolves against the sample packs without a problem', async () => {
    const { parseYaml, resolveProfile, validateProfile } = await import('@packyard/pack-core');
    const text = readFileSync(path.join(REPO, 'sample-profiles', 'prod-aws.yaml'), 'utf8');
    const { profile, errors } = validateProfile(parseYaml(text).documents[0]);
    expect(errors).toEqual([]);
    if (!profile) return;
    const manifest = (name: string) => manifests.get(name) as unknown as PackManifest;
    const result = await resolveProfile(profile, {
      versions: (_registry, name) =>
        Promise.resolve(manifests.has(name) ? [{ version: manifest(name).version, deprecated: false }] : null),
      details: (_registry, name) => {
        const m = manifest(name);
        return Promise.resolve({
          digest: `sha256:${name}`,
          layer: m.layer,
          cloudTypes: m.cloudTypes ?? [],
          dependencies: m.constraints?.dependencies ?? [],
          values: readFileSync(path.join(SAMPLE_PACKS, name, 'values.yaml'), 'utf8'),
        });
      },
    });
    expect(result.problems).toEqual([]);
    expect(result.layers.map((l) => l.layer)).toEqual(['os', 'k8s', 'cni', 'csi', 'addon', 'addon']);
  });
});
