/**
 * A complete, lint-clean pack written into a temporary directory, which the broken fixtures
 * then damage one rule at a time. It exercises every optional part: a chart, a templated
 * manifest, presets, schema.yaml and constraints.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { writeTarGz } from '../chart-archive.js';
import { placeholderLogo } from '../scaffold.js';

export const VALID_MANIFEST = {
  name: 'demo-addon',
  displayName: 'Demo add-on',
  version: '1.4.2',
  layer: 'addon',
  addonType: 'monitoring',
  cloudTypes: ['all'],
  charts: ['charts/demo-1.4.2.tgz'],
  kubeManifests: ['manifests/demo-config.yaml'],
  annotations: { source: 'community', contributor: 'packyard' },
  constraints: {
    dependencies: [{ packName: 'kubernetes', layer: 'k8s', minVersion: '1.26', maxVersion: '1.30', type: 'required' }],
  },
} as const;

export function chartTgz(name = 'demo', version = '1.4.2'): Promise<Buffer> {
  return writeTarGz([
    {
      name: `${name}/Chart.yaml`,
      content: `apiVersion: v2\nname: ${name}\nversion: ${version}\nappVersion: "${version}"\n`,
    },
    { name: `${name}/values.yaml`, content: 'replicaCount: 1\n' },
    { name: `${name}/templates/deployment.yaml`, content: 'kind: Deployment\nreplicas: {{ .Values.replicaCount }}\n' },
  ]);
}

export const VALID_VALUES = `pack:
  content:
    images:
      - image: registry.example.com/demo:1.4.2
  namespace: demo
charts:
  demo:
    replicaCount: 2
`;

export const TEMPLATED_MANIFEST = `apiVersion: v1
kind: ConfigMap
metadata:
  name: demo-config
  namespace: {{ .spectro.pack.demo-addon.namespace | default "demo" }}
data:
  cluster: "{{ .spectro.system.cluster.name }}"
{{- if .spectro.pack.demo-addon.extra }}
  extra: {{ .spectro.pack.demo-addon.extra }}
{{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: demo
spec:
  ports:
    - port: 80
`;

export async function writeValidPack(dir: string): Promise<void> {
  await mkdir(path.join(dir, 'charts'), { recursive: true });
  await mkdir(path.join(dir, 'manifests'), { recursive: true });
  await writeFile(path.join(dir, 'pack.json'), `${JSON.stringify(VALID_MANIFEST, null, 2)}\n`);
  await writeFile(path.join(dir, 'values.yaml'), VALID_VALUES);
  await writeFile(path.join(dir, 'README.md'), '# Demo add-on\n\nA pack used by the tests.\n');
  await writeFile(path.join(dir, 'logo.png'), placeholderLogo('demo-addon'));
  await writeFile(path.join(dir, 'charts/demo-1.4.2.tgz'), await chartTgz());
  await writeFile(path.join(dir, 'manifests/demo-config.yaml'), TEMPLATED_MANIFEST);
  await writeFile(
    path.join(dir, 'presets.yaml'),
    'presets:\n  - name: ha\n    displayName: High availability\n    group: Replicas\n    remove: []\n    add: |\n      charts:\n        demo:\n          replicaCount: 3\n',
  );
  await writeFile(
    path.join(dir, 'schema.yaml'),
    `charts.demo.replicaCount:\n  schema: '{{ required | format "\${number}" }}'\n`,
  );
}

/** A fresh temporary directory, removed by the returned cleanup function. */
export async function tempDir(prefix = 'packyard-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A fresh temporary directory for each test of the calling file, removed after it; call at the
 * top of a test file and read the directory through the returned function.
 */
export function useTempDir(prefix?: string): () => string {
  const state: { dir: string | null; cleanup: () => Promise<void> } = { dir: null, cleanup: () => Promise.resolve() };
  beforeEach(async () => {
    const made = await tempDir(prefix);
    state.dir = made.dir;
    state.cleanup = made.cleanup;
  });
  afterEach(() => state.cleanup());
  return () => {
    if (state.dir === null) throw new Error('useTempDir: read the directory inside a test');
    return state.dir;
  };
}
