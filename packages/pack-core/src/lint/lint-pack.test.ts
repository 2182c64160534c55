import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BROKEN_FIXTURES } from '../test-support/broken-fixtures.js';
import { tempDir, writeValidPack } from '../test-support/valid-pack.js';
import { lintPack } from './lint-pack.js';
import { LINT_RULE_IDS, LINT_RULES } from './rules.js';

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  await writeValidPack(dir);
});
afterEach(() => cleanup());

describe('lintPack', () => {
  it('finds nothing in the valid base pack, and reports its chart', async () => {
    const result = await lintPack(dir);
    expect(result.findings).toEqual([]);
    expect(result.pack).toEqual({ name: 'demo-addon', version: '1.4.2', layer: 'addon' });
    expect(result.charts).toEqual([
      { file: 'charts/demo-1.4.2.tgz', name: 'demo', version: '1.4.2', appVersion: '1.4.2', apiVersion: 'v2' },
    ]);
  });

  it('has a broken fixture for every rule', () => {
    expect(Object.keys(BROKEN_FIXTURES).sort()).toEqual([...LINT_RULE_IDS].sort());
  });

  describe.each(LINT_RULE_IDS)('rule %s', (rule) => {
    it('fires on its broken fixture, with its severity, file and hint', async () => {
      await BROKEN_FIXTURES[rule](dir);
      const result = await lintPack(dir);
      const finding = result.findings.find((f) => f.rule === rule);
      expect(finding, JSON.stringify(result.findings, null, 2)).toBeDefined();
      expect(finding?.severity).toBe(LINT_RULES[rule].severity);
      expect(finding?.file).toBeTruthy();
      expect(finding?.hint).toBeTruthy();
      if (LINT_RULES[rule].severity === 'error') expect(result.errors).toBeGreaterThan(0);
      else expect(result.warnings).toBeGreaterThan(0);
    });
  });

  it('gives line and column for JSON syntax errors', async () => {
    await BROKEN_FIXTURES['pack-json-syntax'](dir);
    const [finding] = (await lintPack(dir)).findings;
    expect(finding).toMatchObject({ rule: 'pack-json-syntax', file: 'pack.json', line: 3, column: 1 });
  });

  it('gives the JSON pointer of schema violations', async () => {
    await BROKEN_FIXTURES['schema-violation'](dir);
    const finding = (await lintPack(dir)).findings.find((f) => f.rule === 'schema-violation');
    expect(finding?.pointer).toBe('/layer');
    expect(finding?.message).toContain('kernel, os, k8s, cni, csi, addon');
  });

  it('gives line and column for YAML syntax errors', async () => {
    await BROKEN_FIXTURES['values-invalid'](dir);
    const finding = (await lintPack(dir)).findings.find((f) => f.rule === 'values-invalid');
    expect(finding?.line).toBe(3);
  });

  it('accepts Go templates in manifests and values, including control blocks', async () => {
    await writeFile(
      path.join(dir, 'values.yaml'),
      `pack:\n  content:\n    images:\n      - image: "{{ .spectro.pack.registry }}/demo:1.4.2"\n  namespace: {{ .Values.ns | default "demo" }}\n{{- if .spectro.system.cluster.ha }}\ncharts:\n  demo:\n    replicaCount: 3\n{{- else }}\ncharts:\n  demo:\n    replicaCount: 1\n{{- end }}\n`,
    );
    expect((await lintPack(dir)).findings).toEqual([]);
  });

  it('warns (not errors) when a templated file still does not parse', async () => {
    await BROKEN_FIXTURES['template-unparseable'](dir);
    const result = await lintPack(dir);
    expect(result.errors).toBe(0);
    expect(result.findings.map((f) => f.rule)).toEqual(['template-unparseable']);
  });

  it('skips the image check for os and k8s packs', async () => {
    await BROKEN_FIXTURES['values-no-images'](dir);
    await writeFile(
      path.join(dir, 'pack.json'),
      JSON.stringify({ name: 'kubernetes', displayName: 'Kubernetes', version: '1.29.4', layer: 'k8s' }),
    );
    expect((await lintPack(dir)).findings).toEqual([]);
  });

  it('reports paths in pack.json that leave the pack, lexically or through a symlink', async () => {
    const { dir: outside, cleanup: cleanOutside } = await tempDir();
    try {
      await writeFile(path.join(outside, 'secret.yaml'), 'apiVersion: v1\nkind: Secret\n');
      await symlink(outside, path.join(dir, 'linked'));
      await writeFile(
        path.join(dir, 'pack.json'),
        JSON.stringify({
          name: 'demo-addon',
          displayName: 'Demo',
          version: '1.0.0',
          layer: 'addon',
          charts: ['../demo.tgz', '/etc/passwd'],
          kubeManifests: ['linked/secret.yaml'],
        }),
      );
      const escapes = (await lintPack(dir)).findings.filter((f) => f.rule === 'path-escapes');
      expect(escapes.map((f) => f.pointer)).toEqual(
        expect.arrayContaining(['/charts/0', '/charts/1', '/kubeManifests/0']),
      );
    } finally {
      await cleanOutside();
    }
  });

  it('follows symlinks that stay inside the pack', async () => {
    await mkdir(path.join(dir, 'docs'));
    await writeFile(path.join(dir, 'docs/README.md'), '# Demo\n');
    await rm(path.join(dir, 'README.md'));
    await symlink('docs/README.md', path.join(dir, 'README.md'));
    expect((await lintPack(dir)).findings).toEqual([]);
  });

  it('leaves files listed in .packignore out of the tree checks', async () => {
    await BROKEN_FIXTURES['special-file'](dir);
    await writeFile(path.join(dir, '.packignore'), 'pipe\n');
    expect((await lintPack(dir)).findings).toEqual([]);
  });

  it('accepts real-world pack.json quirks: singular cloudType, null and partial bounds', async () => {
    await writeFile(
      path.join(dir, 'pack.json'),
      JSON.stringify({
        name: 'demo-addon',
        displayName: 'Demo',
        version: '0.30.0-5.5.2026',
        layer: 'addon',
        cloudType: 'all',
        eol: '',
        constraints: {
          dependencies: [
            { packName: 'kubernetes', layer: 'k8s', minVersion: '1.27', maxVersion: null, type: 'optional' },
          ],
          resources: [
            {
              type: 'cpu',
              minLimit: 2,
              components: [{ scheduleType: 'worker', resourceRequestParamRef: 'x', replicaCountParamRef: 'y' }],
            },
          ],
        },
      }),
    );
    expect((await lintPack(dir)).findings).toEqual([]);
  });
});
