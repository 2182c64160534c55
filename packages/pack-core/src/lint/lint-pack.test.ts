import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BROKEN_FIXTURES } from '../test-support/broken-fixtures.js';
import { tempDir, VALID_MANIFEST, VALID_VALUES, writeValidPack } from '../test-support/valid-pack.js';
import { lintPack, lintPackFiles, MAX_FINDINGS_PER_RULE, MAX_PACK_YAML_TOKENS } from './lint-pack.js';
import { directoryPackFiles } from './pack-files.js';
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
    await rm(path.join(dir, 'charts'), { recursive: true });
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

  it('never waits on a FIFO where a file it reads should be (values.yaml, a manifest, .packignore)', async () => {
    const manifest = JSON.parse(await readFile(path.join(dir, 'pack.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(path.join(dir, 'pack.json'), JSON.stringify({ ...manifest, kubeManifests: ['manifests/x.yaml'] }));
    await mkdir(path.join(dir, 'manifests'), { recursive: true });
    for (const file of ['values.yaml', 'manifests/x.yaml']) {
      await rm(path.join(dir, file), { force: true });
      execFileSync('mkfifo', [path.join(dir, file)]);
    }
    // Without a writer, opening a FIFO to read waits forever: the test's timeout would end it.
    const rules = (await lintPack(dir)).findings
      .filter((f) => f.severity === 'error')
      .map((f) => `${f.file} ${f.rule}`);
    expect(rules).toEqual(
      expect.arrayContaining([
        'values.yaml special-file',
        'values.yaml values-missing',
        'manifests/x.yaml special-file',
      ]),
    );
    execFileSync('mkfifo', [path.join(dir, '.packignore')]);
    await expect(lintPack(dir)).rejects.toMatchObject({
      code: 'NOT_A_REGULAR_FILE',
      message: '.packignore is not a regular file',
    });
  }, 10_000);

  it('leaves files listed in .packignore out of the tree checks', async () => {
    await BROKEN_FIXTURES['special-file'](dir);
    await writeFile(path.join(dir, '.packignore'), 'pipe\n');
    expect((await lintPack(dir)).findings).toEqual([]);
  });

  it('accepts real-world pack.json quirks: singular cloudType, null and partial bounds, ./ paths', async () => {
    await writeFile(
      path.join(dir, 'pack.json'),
      JSON.stringify({
        name: 'demo-addon',
        displayName: 'Demo',
        version: '0.30.0-5.5.2026',
        layer: 'addon',
        cloudType: 'all',
        eol: '',
        charts: ['./charts/demo-1.4.2.tgz'],
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

  it("accepts every cloud type Palette names, and a custom cloud's with a warning only", async () => {
    await editManifest((m) => {
      m['cloudTypes'] = ['gke', 'nested', 'apache-cloudstack', 'generic', 'edge-native'];
    });
    expect(await findings()).toEqual([]);
    await editManifest((m) => {
      m['cloudTypes'] = ['aws', 'nutanix'];
    });
    const found = (await lintPack(dir)).findings;
    expect(found.map((f) => [f.rule, f.severity, f.pointer])).toEqual([
      ['cloud-type-unknown', 'warning', '/cloudTypes/1'],
    ]);
    expect(found[0]?.message).toContain('"nutanix"');
    await editManifest((m) => {
      m['cloudTypes'] = ['aws', 'two words'];
    });
    expect(await findings()).toEqual(['schema-violation pack.json']);
  });
});

/** The findings of the pack as rule ids, file and line: what the tests below compare. */
async function findings(): Promise<string[]> {
  return (await lintPack(dir)).findings.map((f) => `${f.rule} ${f.file}${f.line === undefined ? '' : `:${f.line}`}`);
}

async function editManifest(edit: (manifest: Record<string, unknown>) => void): Promise<void> {
  const manifest = JSON.parse(await readFile(path.join(dir, 'pack.json'), 'utf8')) as Record<string, unknown>;
  edit(manifest);
  await writeFile(path.join(dir, 'pack.json'), JSON.stringify(manifest));
}

const MANIFEST = 'manifests/demo-config.yaml';
const CONFIG_MAP = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n';

describe('lintPack accepts what Helm, kubectl and Palette accept', () => {
  it.each([
    ['two separators in a row', `${CONFIG_MAP}---\n---\n${CONFIG_MAP}`],
    ['a trailing separator', `${CONFIG_MAP}---\n`],
    ['a leading separator', `---\n${CONFIG_MAP}`],
    ['a document of comments only', `${CONFIG_MAP}---\n# nothing here\n---\n${CONFIG_MAP}`],
    ['a null document', `${CONFIG_MAP}---\n~\n`],
    ['a List', 'apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n'],
    [
      'a document whose header a template writes',
      `{{ include "demo.header" . }}\nmetadata:\n  name: x\n---\n${CONFIG_MAP}`,
    ],
    [
      'templated keys set twice in two branches',
      `${CONFIG_MAP}data:\n{{- if .x }}\n  a: "1"\n{{- else }}\n  a: "2"\n{{- end }}\n`,
    ],
  ])('manifests with %s (kubectl skips empty documents)', async (_, text) => {
    await writeFile(path.join(dir, MANIFEST), text);
    expect(await findings()).toEqual([]);
  });

  it('still refuses objects kubectl refuses: no kind, a kind that is not a string, a list, a key given twice', async () => {
    await writeFile(
      path.join(dir, MANIFEST),
      `${CONFIG_MAP}---\nmetadata: {}\n---\napiVersion: 1\nkind: ConfigMap\n---\n- a\n`,
    );
    expect(await findings()).toEqual([
      `manifest-kind-missing ${MANIFEST}:6`,
      `manifest-kind-missing ${MANIFEST}:8`,
      `manifest-kind-missing ${MANIFEST}:11`,
    ]);
    await writeFile(path.join(dir, MANIFEST), `${CONFIG_MAP}metadata:\n  name: y\n`);
    expect(await findings()).toEqual([`manifest-invalid ${MANIFEST}:5`]);
  });

  it.each([
    ['empty', ''],
    ['comments only', '# defaults live in the chart\n'],
    ['a lone separator', '---\n'],
    ['a null top level', '~\n'],
  ])('a values.yaml that is %s (an empty mapping to Helm)', async (_, text) => {
    await writeFile(path.join(dir, 'values.yaml'), text);
    expect(await findings()).toEqual(['values-no-images values.yaml']);
  });

  it('refuses a values.yaml whose top level is a list, as Helm does', async () => {
    await writeFile(path.join(dir, 'values.yaml'), '- a\n- b\n');
    expect(await findings()).toEqual(['values-invalid values.yaml:1']);
  });

  it('warns, and no more, about a key given twice in values.yaml (Helm keeps the last)', async () => {
    await writeFile(path.join(dir, 'values.yaml'), `${VALID_VALUES}charts:\n  demo: {}\n`);
    const result = await lintPack(dir);
    expect(result.errors).toBe(0);
    expect(result.findings.map((f) => `${f.rule}:${f.line}`)).toEqual(['yaml-duplicate-key:9']);
  });

  it('resolves more than 100 aliases (the yaml library threw past 100)', async () => {
    const aliases = Array.from({ length: 150 }, (_, i) => `  c${i}: *image`).join('\n');
    await writeFile(
      path.join(dir, 'values.yaml'),
      `${VALID_VALUES}shared: &image registry.example.com/x:1\nmore:\n${aliases}\n`,
    );
    expect(await findings()).toEqual([]);
  });

  it.each([
    ['empty', ''],
    ['comments only', '# no presets yet\n'],
    ['a lone separator', '---\n'],
  ])('an optional presets.yaml and schema.yaml that are %s', async (_, text) => {
    await writeFile(path.join(dir, 'presets.yaml'), text);
    await writeFile(path.join(dir, 'schema.yaml'), text);
    expect(await findings()).toEqual([]);
    await writeFile(path.join(dir, 'presets.yaml'), 'presets:\n');
    expect(await findings()).toEqual([]);
  });

  it('only warns about presets or schemas of another shape', async () => {
    await writeFile(path.join(dir, 'presets.yaml'), '- name: ha\n');
    await writeFile(path.join(dir, 'schema.yaml'), '- charts.demo.replicaCount\n');
    const result = await lintPack(dir);
    expect(result.errors).toBe(0);
    expect(result.findings.map((f) => f.rule)).toEqual(['presets-unrecognised', 'schema-yaml-unrecognised']);
  });

  it('accepts a dependency without a type (pack-central has one) and wildcard bounds', async () => {
    await editManifest((m) => {
      m['constraints'] = {
        dependencies: [
          { packName: 'kubernetes', layer: 'k8s', minVersion: '1.34', maxVersion: '' },
          { packName: 'cilium', layer: 'cni', minVersion: '1.14.x', maxVersion: '1.x', type: 'optional' },
        ],
      };
    });
    expect(await findings()).toEqual([]);
  });

  it('only warns about bounds that are not versions or that exclude every version', async () => {
    await editManifest((m) => {
      m['constraints'] = {
        dependencies: [
          { packName: 'kubernetes', layer: 'k8s', minVersion: 'latest', type: 'required' },
          { packName: 'cilium', layer: 'cni', minVersion: '1.30', maxVersion: '1.27', type: 'optional' },
        ],
      };
    });
    const result = await lintPack(dir);
    expect(result.errors).toBe(0);
    expect(result.findings.map((f) => f.rule)).toEqual(['constraint-version-invalid', 'constraint-range-inverted']);
  });
});

describe('lintPack keeps pack.json within the grammar the registry checks paths with', () => {
  it.each([
    ['longer than 128 characters', `1.0.0+${'a'.repeat(123)}`],
    ['with a numeric segment past the safe integers', '99999999999999999999.0.0'],
    ['with a slash', '1.0.0/../x'],
    ['empty', ''],
  ])('reports one version-invalid for a version %s', async (_, version) => {
    await editManifest((m) => {
      m['version'] = version;
    });
    expect(await findings()).toEqual(['version-invalid pack.json']);
  });

  it('accepts a version of exactly 128 characters', async () => {
    await editManifest((m) => {
      m['version'] = `1.0.0+${'a'.repeat(122)}`;
    });
    expect(await findings()).toEqual([]);
  });

  it('refuses a pack.json nested deeper than 64 levels (JSON.stringify overflowed on 10,000)', async () => {
    const text = JSON.stringify(VALID_MANIFEST);
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    await writeFile(path.join(dir, 'pack.json'), `${text.slice(0, -1)},"extra":${deep}}`);
    expect(await findings()).toEqual(['pack-json-syntax pack.json:1']);
  });

  it(`lists at most ${MAX_FINDINGS_PER_RULE} findings of a rule in a file, then how many more`, async () => {
    await editManifest((m) => {
      for (let i = 0; i < 1000; i++) m[`field${i}`] = i;
    });
    const result = await lintPack(dir);
    expect(result.findings).toHaveLength(MAX_FINDINGS_PER_RULE + 1);
    expect(result.findings.at(-1)?.message).toBe(`and ${1000 - MAX_FINDINGS_PER_RULE} more like these`);
  });
});

describe('lintPack bounds its work and never throws', () => {
  it('reports a chart whose bytes cannot be read instead of throwing', async () => {
    const files = directoryPackFiles(dir);
    const failing = { ...files, stream: () => Promise.reject(new Error('EIO: i/o error')) };
    const result = await lintPackFiles(failing);
    expect(result.findings.map((f) => `${f.rule}: ${f.message}`)).toEqual([
      'chart-not-tgz: charts/demo-1.4.2.tgz cannot be read as a chart archive (EIO: i/o error)',
    ]);
  });

  it(`stops reading YAML once the pack's files together pass ${MAX_PACK_YAML_TOKENS} tokens`, async () => {
    // Five manifests of 400,000 tokens each: every file is within its own limit, the pack is not.
    const manifests = ['a', 'b', 'c', 'd', 'e'].map((n) => `manifests/${n}.yaml`);
    const big = `${CONFIG_MAP}${'#\n'.repeat(200_000)}`;
    for (const file of manifests) await writeFile(path.join(dir, file), big);
    await editManifest((m) => {
      m['kubeManifests'] = manifests;
    });
    expect(await findings()).toEqual([
      expect.stringMatching(/^yaml-too-large manifests\/e\.yaml:\d+$/),
      'yaml-too-large presets.yaml:1',
      'yaml-too-large schema.yaml:1',
      'yaml-too-large values.yaml:1',
    ]);
  }, 60_000);

  it('uses the valid manifest fixture unchanged', () => {
    expect(VALID_MANIFEST.kubeManifests).toEqual([MANIFEST]);
  });
});
