/**
 * One broken fixture per lint rule: each takes a valid pack (./valid-pack.ts) and breaks exactly
 * the thing its rule checks. The lint unit tests and the CLI end-to-end tests both run them, and a
 * test fails if a rule of LINT_RULES has no fixture here.
 */
import { execFileSync } from 'node:child_process';
import { readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeTarGz } from '../chart-archive.js';
import type { LintRuleId } from '../lint/rules.js';
import { YAML_LIMITS } from '../yaml.js';
import { VALID_VALUES } from './valid-pack.js';

type Fixture = (dir: string) => Promise<void>;

async function editManifest(dir: string, edit: (manifest: Record<string, unknown>) => void): Promise<void> {
  const file = path.join(dir, 'pack.json');
  const manifest = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  edit(manifest);
  await writeFile(file, JSON.stringify(manifest, null, 2));
}

function dependency(fields: Record<string, unknown>): (manifest: Record<string, unknown>) => void {
  return (manifest) => {
    manifest['constraints'] = {
      dependencies: [
        { packName: 'kubernetes', layer: 'k8s', minVersion: '1.26', maxVersion: '1.30', type: 'required', ...fields },
      ],
    };
  };
}

export const BROKEN_FIXTURES: Record<LintRuleId, Fixture> = {
  'pack-json-missing': (dir) => rm(path.join(dir, 'pack.json')),
  'pack-json-syntax': (dir) => writeFile(path.join(dir, 'pack.json'), '{\n  "name": "demo-addon",\n}\n'),
  'schema-violation': (dir) =>
    editManifest(dir, (m) => {
      m['layer'] = 'database';
    }),
  'name-invalid': (dir) =>
    editManifest(dir, (m) => {
      m['name'] = 'Demo_Addon';
    }),
  'version-invalid': (dir) =>
    editManifest(dir, (m) => {
      m['version'] = 'latest';
    }),
  'version-not-semver': (dir) =>
    editManifest(dir, (m) => {
      m['version'] = '22.04';
    }),
  'unknown-field': (dir) =>
    editManifest(dir, (m) => {
      m['commit_msg'] = 'bump chart';
    }),
  'cloud-type-unknown': (dir) =>
    editManifest(dir, (m) => {
      m['cloudTypes'] = ['vshpere'];
    }),
  'chart-missing': (dir) => rm(path.join(dir, 'charts/demo-1.4.2.tgz')),
  'chart-not-tgz': (dir) => writeFile(path.join(dir, 'charts/demo-1.4.2.tgz'), 'this is not a tarball\n'),
  'chart-unlisted': (dir) =>
    editManifest(dir, (m) => {
      m['charts'] = [];
    }),
  'chart-yaml-invalid': async (dir) =>
    writeFile(
      path.join(dir, 'charts/demo-1.4.2.tgz'),
      await writeTarGz([{ name: 'demo/values.yaml', content: 'a: 1\n' }]),
    ),
  'manifest-missing': (dir) => rm(path.join(dir, 'manifests/demo-config.yaml')),
  'manifest-invalid': (dir) =>
    writeFile(path.join(dir, 'manifests/demo-config.yaml'), 'apiVersion: v1\nkind: [ConfigMap\n'),
  'manifest-kind-missing': (dir) =>
    writeFile(
      path.join(dir, 'manifests/demo-config.yaml'),
      'apiVersion: v1\nkind: ConfigMap\n---\nmetadata:\n  name: x\n',
    ),
  'template-unparseable': (dir) =>
    writeFile(path.join(dir, 'manifests/demo-config.yaml'), 'apiVersion: v1\nkind: ConfigMap\ndata: [{{ .x }}\n'),
  'values-missing': (dir) => rm(path.join(dir, 'values.yaml')),
  'values-invalid': (dir) => writeFile(path.join(dir, 'values.yaml'), 'pack:\n  content: [unclosed\n'),
  'values-no-images': (dir) => writeFile(path.join(dir, 'values.yaml'), 'pack:\n  namespace: demo\n'),
  'placeholder-left': (dir) =>
    editManifest(dir, (m) => {
      m['annotations'] = { source: 'community', contributor: 'TODO: your team' };
    }),
  'readme-missing': (dir) => rm(path.join(dir, 'README.md')),
  'logo-missing': (dir) => rm(path.join(dir, 'logo.png')),
  'logo-not-png': (dir) => writeFile(path.join(dir, 'logo.png'), '<svg xmlns="http://www.w3.org/2000/svg"/>'),
  'presets-invalid': (dir) => writeFile(path.join(dir, 'presets.yaml'), 'presets:\n  - name: [unclosed\n'),
  'presets-unrecognised': (dir) => writeFile(path.join(dir, 'presets.yaml'), 'presets: enable-everything\n'),
  'schema-yaml-invalid': (dir) => writeFile(path.join(dir, 'schema.yaml'), 'charts.demo.replicaCount: [\n'),
  'schema-yaml-unrecognised': (dir) => writeFile(path.join(dir, 'schema.yaml'), '- charts.demo.replicaCount\n'),
  'yaml-duplicate-key': (dir) =>
    writeFile(path.join(dir, 'values.yaml'), `${VALID_VALUES}charts:\n  demo:\n    replicaCount: 3\n`),
  'yaml-too-large': (dir) =>
    writeFile(path.join(dir, 'values.yaml'), `${VALID_VALUES}#${' '.repeat(YAML_LIMITS.maxBytes)}\n`),
  'yaml-too-deep': (dir) =>
    writeFile(path.join(dir, 'values.yaml'), `${VALID_VALUES}deep: ${'['.repeat(200)}${']'.repeat(200)}\n`),
  'yaml-alias-expansion': (dir) => {
    // The billion laughs: ten levels of ten aliases each, 10^10 nodes once expanded.
    const levels = Array.from({ length: 10 }, (_, i) =>
      i === 0
        ? 'l0: &l0 [a, a, a, a, a, a, a, a, a, a]'
        : `l${i}: &l${i} [${Array(10)
            .fill(`*l${i - 1}`)
            .join(', ')}]`,
    );
    return writeFile(path.join(dir, 'values.yaml'), `${VALID_VALUES}${levels.join('\n')}\n`);
  },
  'constraint-layer-invalid': (dir) => editManifest(dir, dependency({ layer: 'database' })),
  'constraint-version-invalid': (dir) => editManifest(dir, dependency({ minVersion: 'one.two' })),
  'constraint-range-inverted': (dir) => editManifest(dir, dependency({ minVersion: '1.30', maxVersion: '1.27' })),
  'path-escapes': async (dir) => {
    await rm(path.join(dir, 'README.md'));
    await symlink('/etc/hostname', path.join(dir, 'README.md'));
  },
  'special-file': (dir) => {
    execFileSync('mkfifo', [path.join(dir, 'pipe')]);
    return Promise.resolve();
  },
  // archiver would write it as "values.yaml": a second entry of that name.
  'entry-name-unsafe': (dir) => writeFile(path.join(dir, '..\\values.yaml'), 'replicas: 1\n'),
  'credentials-file': async (dir) => {
    const auths = { 'https://packs.example.com': { token: 'pya_secret', expiresAt: '2099-01-01T00:00:00Z' } };
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ auths }, null, 2));
  },
};
