/**
 * `packctl init`: the files of a new pack that lints clean and builds, with comments telling the
 * author what to fill in. Pure: returns the files; the CLI writes them.
 */
import { createHash } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import { writeTarGz } from './chart-archive.js';
import type { PackLayer } from './manifest.js';

export type ScaffoldContent = 'chart' | 'manifest' | 'values';

export interface ScaffoldOptions {
  name: string;
  layer: PackLayer;
  /** What deploys the workload: a Helm chart, Kubernetes manifests, or values only (os, k8s). */
  content: ScaffoldContent;
  version?: string;
  displayName?: string;
}

export interface ScaffoldFile {
  path: string;
  content: Buffer | string;
}

const SCHEMA_URL = 'https://packyard.dev/schemas/pack.schema.json';
const CHART_VERSION = '0.1.0';

function titleCase(name: string): string {
  return name
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A 128x128 placeholder logo: a rounded square in a colour derived from the pack name, so that
 * a new pack passes lint and authors see at once where their logo goes.
 */
export function placeholderLogo(name: string): Buffer {
  const size = 128;
  const [r = 0, g = 0, b = 0] = createHash('sha256').update(name).digest();
  const rows: Buffer[] = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4); // leading 0: PNG filter type "none"
    for (let x = 0; x < size; x++) {
      // Distance outside a square inset by the corner radius: > radius means transparent.
      const radius = 24;
      const dx = Math.max(radius + 8 - x, 0, x - (size - 9 - radius));
      const dy = Math.max(radius + 8 - y, 0, y - (size - 9 - radius));
      const inside = x >= 8 && y >= 8 && x < size - 8 && y < size - 8 && dx * dx + dy * dy <= radius * radius;
      row.set(inside ? [64 + (r >> 2), 64 + (g >> 2), 96 + (b >> 2), 255] : [0, 0, 0, 0], 1 + x * 4);
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, deflate, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(Buffer.concat(rows), { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function valuesYaml(options: ScaffoldOptions): string {
  const { name, layer, content } = options;
  if (layer === 'os') {
    return `# Default values of the ${name} pack (layer: os).
# Profile builders can override any of them in a cluster profile.
kubeadmconfig:
  # Commands run on every node before kubeadm init/join: install agents, tune the kernel.
  preKubeadmCommands:
    - echo "Executing pre kubeadm commands"
  # Commands run after the node joined the cluster.
  postKubeadmCommands:
    - echo "Executing post kubeadm commands"
  # Files written onto every node before kubeadm runs.
  files: []
`;
  }
  if (layer === 'k8s') {
    return `# Default values of the ${name} pack (layer: k8s).
pack:
  # Pod and service networks: they must not overlap the node network.
  podCIDR: "192.168.0.0/16"
  serviceClusterIpRange: "10.96.0.0/12"
kubeadmconfig:
  apiServer:
    extraArgs:
      # TODO: add the API server flags your clusters need.
      profiling: "false"
  kubeletExtraArgs:
    read-only-port: "0"
`;
  }
  const workload =
    content === 'chart'
      ? `# Values for the Helm chart, under its chart name; they are merged over the chart's own values.yaml.
charts:
  ${name}:
    replicaCount: 1
    image:
      repository: registry.example.com/${name}   # TODO: the real image
      tag: "1.0.0"
`
      : content === 'manifest'
        ? `# Values for the manifests, under the manifest file's base name. Manifests read them as
# {{ .spectro.pack.${name}.<key> }} template expressions.
manifests:
  ${name}:
    replicas: 1
`
        : '';
  return `# Default values of the ${name} pack (layer: ${layer}).
# Profile builders can override any of them in a cluster profile.
pack:
  # Every container image the pack deploys, so that air-gapped sites can mirror them.
  content:
    images:
      - image: registry.example.com/${name}:1.0.0   # TODO: replace with the real image(s)
  # The namespace the pack installs into.
  namespace: ${name}
  # Add-ons install in dependency order, then by this priority (lower first).
  # spectrocloud.com/install-priority: "0"
${workload}`;
}

function readme(options: ScaffoldOptions, displayName: string): string {
  const contentLine =
    options.content === 'chart'
      ? `- \`charts/${options.name}-${CHART_VERSION}.tgz\`: a starter Helm chart. Replace it with your chart
  (\`helm pull REPO/CHART --version X -d charts/\`) and update \`charts\` in pack.json.`
      : options.content === 'manifest'
        ? `- \`manifests/${options.name}.yaml\`: the Kubernetes manifests the pack applies. List every manifest
  file in \`kubeManifests\` in pack.json.`
        : '- No chart or manifests: this pack is configured through values.yaml alone.';
  return `# ${displayName}

TODO: one paragraph on what this pack installs and why a cluster profile would include it.

## Files

- \`pack.json\`: the manifest (name, version, layer, supported clouds). Bump \`version\` for every change.
- \`values.yaml\`: the defaults profile builders can override.
${contentLine}
- \`logo.png\`: a placeholder; replace it with the project's square logo.
- \`.packignore\`: files to leave out of the archive (gitignore syntax).

## Parameters

| Parameter | Description | Default |
| --- | --- | --- |
| TODO | TODO | TODO |

## Usage

\`\`\`sh
packctl lint .
packctl build . -o dist/
\`\`\`

## References

- TODO: link the upstream project's documentation.
`;
}

function packJson(options: ScaffoldOptions, displayName: string): string {
  const manifest: Record<string, unknown> = {
    $schema: SCHEMA_URL,
    name: options.name,
    displayName,
    version: options.version ?? '1.0.0',
    layer: options.layer,
    cloudTypes: ['all'],
  };
  if (options.layer === 'addon') manifest['addonType'] = 'system app';
  if (options.content === 'chart') manifest['charts'] = [`charts/${options.name}-${CHART_VERSION}.tgz`];
  if (options.content === 'manifest') manifest['kubeManifests'] = [`manifests/${options.name}.yaml`];
  manifest['annotations'] = { source: 'community', contributor: 'TODO: your team', docsURL: 'TODO: upstream docs URL' };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

async function starterChart(name: string): Promise<Buffer> {
  return writeTarGz([
    {
      name: `${name}/Chart.yaml`,
      content: `apiVersion: v2\nname: ${name}\ndescription: Starter chart for the ${name} pack\ntype: application\nversion: ${CHART_VERSION}\nappVersion: "1.0.0"\n`,
    },
    {
      name: `${name}/values.yaml`,
      content: `replicaCount: 1\nimage:\n  repository: registry.example.com/${name}\n  tag: "1.0.0"\n`,
    },
    {
      name: `${name}/templates/deployment.yaml`,
      content: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    app.kubernetes.io/name: ${name}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      app.kubernetes.io/name: ${name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ${name}
    spec:
      containers:
        - name: ${name}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
`,
    },
  ]);
}

function starterManifest(name: string): string {
  return `# Kubernetes manifests applied by the ${name} pack. Go-template expressions such as
# {{ .spectro.system.cluster.name }} are rendered by the platform at deploy time.
apiVersion: v1
kind: Namespace
metadata:
  name: ${name}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${name}
  labels:
    app.kubernetes.io/name: ${name}
    cluster: "{{ .spectro.system.cluster.name }}"
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: ${name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ${name}
    spec:
      containers:
        - name: ${name}
          image: registry.example.com/${name}:1.0.0   # TODO: the real image, also listed in values.yaml
`;
}

/**
 * The files of a new pack.
 *
 * @example
 * const files = await scaffoldPack({ name: 'my-addon', layer: 'addon', content: 'chart' });
 * files.map((f) => f.path); // ['pack.json', 'values.yaml', 'README.md', 'logo.png', '.packignore', 'charts/my-addon-0.1.0.tgz']
 */
export async function scaffoldPack(options: ScaffoldOptions): Promise<ScaffoldFile[]> {
  const displayName = options.displayName ?? titleCase(options.name);
  const files: ScaffoldFile[] = [
    { path: 'pack.json', content: packJson(options, displayName) },
    { path: 'values.yaml', content: valuesYaml(options) },
    { path: 'README.md', content: readme(options, displayName) },
    { path: 'logo.png', content: placeholderLogo(options.name) },
    {
      path: '.packignore',
      content:
        '# Files left out of the pack archive (gitignore syntax). .git/ and node_modules/ always are.\ndist/\n*.zip\n',
    },
  ];
  if (options.content === 'chart') {
    files.push({ path: `charts/${options.name}-${CHART_VERSION}.tgz`, content: await starterChart(options.name) });
  }
  if (options.content === 'manifest')
    files.push({ path: `manifests/${options.name}.yaml`, content: starterManifest(options.name) });
  return files;
}
