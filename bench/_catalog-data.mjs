// @ts-check
/**
 * Synthetic catalog contents for the catalog and cold-start benches: version records shaped like
 * the ones the registry writes on publish (packages/registry-server/src/catalog/records.ts), for
 * many packs with several versions each. Names, layers, clouds, add-on types, annotations and
 * versions come from a seeded PRNG, so every run sees the same catalog.
 *
 * Layers are mostly add-ons (as in real pack registries), then os, csi, cni and k8s; about a third
 * of the packs support `all` clouds; versions go 1.x.y upwards (some 0.x and 2.x lines); a few
 * versions are deprecated or deleted.
 */
import { createHash } from 'node:crypto';
import {
  CatalogSync,
  createLogger,
  createStore,
  registryKey,
  resolveConfig,
  summarise,
} from '@packyard/registry-server';
import { mulberry32 } from './_pack-tree.mjs';

export const REGISTRY = 'public';

const LAYERS = /** @type {const} */ ([
  ['addon', 0.72],
  ['os', 0.1],
  ['csi', 0.07],
  ['cni', 0.06],
  ['k8s', 0.05],
]);
const CLOUDS = ['aws', 'azure', 'gcp', 'vsphere', 'openstack', 'maas', 'eks', 'aks', 'edge-native', 'baremetal'];
const ADDON_TYPES = [
  'system app',
  'monitoring',
  'logging',
  'security',
  'ingress',
  'load balancer',
  'servicemesh',
  'registry',
  'authentication',
  'app services',
  'ai',
];
const PRODUCT_WORDS = (
  'prometheus grafana loki tempo fluent vector jaeger kiali istio linkerd traefik nginx envoy contour ' +
  'harbor zot keycloak dex vault external-secrets cert-manager kyverno falco trivy velero longhorn ' +
  'rook ceph minio postgres redis kafka rabbitmq argo flux tekton knative keda karpenter metallb ' +
  'calico cilium flannel antrea ebs efs azure-disk gce-pd vsphere-csi ubuntu rhel rocky flatcar ' +
  'kubernetes rke2 k3s eks-d opentelemetry thanos mimir alertmanager node-exporter kube-state-metrics'
).split(' ');
const VARIANTS = ['operator', 'stack', 'agent', 'controller', 'gateway', 'server', 'driver', 'exporter', 'lite', 'ha'];
const PUBLISHERS = ['admin', 'ci-release-bot', 'platform-team', 'partner-sync'];

/**
 * @typedef {import('@packyard/registry-server').VersionRecord} VersionRecord
 * @typedef {import('@packyard/registry-server').RegistryRecord} RegistryRecord
 */

/** The `public` registry's record, as the registry creates it at first start. */
export function publicRegistryRecord() {
  /** @type {RegistryRecord} */
  const record = {
    name: REGISTRY,
    scope: 'system',
    tenant: null,
    project: null,
    description: 'The public system registry: packs every user can read.',
    public: true,
    allowOverwrite: false,
    createdAt: '2024-01-01T00:00:00.000Z',
    createdBy: 'system',
    revision: 1,
  };
  return record;
}

/**
 * Ascending versions for one pack: a starting 1.x.0 (sometimes 0.x or 2.x), then patch and minor
 * bumps, now and then a new major.
 * @param {() => number} rand
 * @param {number} count
 */
function versionLine(rand, count) {
  const r = rand();
  let major = r < 0.1 ? 0 : r < 0.85 ? 1 : 2;
  let minor = Math.floor(rand() * 6);
  let patch = 0;
  const versions = [];
  for (let i = 0; i < count; i++) {
    versions.push(`${major}.${minor}.${patch}`);
    const step = rand();
    if (step < 0.55) patch++;
    else if (step < 0.95) {
      minor++;
      patch = 0;
    } else {
      major++;
      minor = 0;
      patch = 0;
    }
  }
  return versions;
}

/**
 * What one pack is: name, layer, clouds and so on, shared by all of its versions.
 * @param {() => number} rand
 * @param {number} index
 */
function packIdentity(rand, index) {
  const pick = (/** @type {readonly string[]} */ list) => list[Math.floor(rand() * list.length)];
  let roll = rand();
  let layer = 'addon';
  for (const [name, share] of LAYERS) {
    if (roll < share) {
      layer = name;
      break;
    }
    roll -= share;
  }
  const product = pick(PRODUCT_WORDS);
  // A numeric suffix keeps 10,000 names distinct; real registries have forks and vendor builds too.
  const name = `${product}-${pick(VARIANTS)}-${index.toString(36)}`;
  const cloudRoll = rand();
  /** @type {string[]} */
  const cloudTypes =
    cloudRoll < 0.35
      ? ['all']
      : cloudRoll < 0.8
        ? [pick(CLOUDS)]
        : [...new Set([pick(CLOUDS), pick(CLOUDS), pick(CLOUDS)])];
  const addonType = layer === 'addon' ? pick(ADDON_TYPES) : undefined;
  const displayName = name
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
  const annotations = {
    source: rand() < 0.7 ? 'community' : 'partner',
    contributor: pick(['packyard', 'spectrocloud', 'acme-platform', 'upstream']),
    docsURL: `https://docs.example.com/${product}/`,
    ...(rand() < 0.3 ? { category: addonType ?? layer } : {}),
  };
  return { name, layer, cloudTypes, addonType, displayName, annotations, product };
}

/**
 * Version records for `packs` packs with `versionsPerPack` versions each, pack by pack, versions
 * ascending. A generator, so that 100,000 records need not be in memory at once.
 * @param {{ packs: number, versionsPerPack: number, seed?: number, publishedFrom?: number }} options
 * @returns {Generator<VersionRecord>}
 */
export function* versionRecords({ packs, versionsPerPack, seed = 20240917, publishedFrom = Date.UTC(2023, 0, 1) }) {
  const rand = mulberry32(seed);
  const span = Date.UTC(2025, 0, 1) - publishedFrom;
  for (let p = 0; p < packs; p++) {
    const pack = packIdentity(rand, p);
    const versions = versionLine(rand, versionsPerPack);
    let time = publishedFrom + Math.floor(rand() * span * 0.5);
    for (const version of versions) {
      time += Math.floor(rand() * (span / (2 * versionsPerPack)));
      const hex = createHash('sha256').update(`${pack.name}@${version}`).digest('hex');
      const size = 20_000 + Math.floor(rand() * 5_000_000);
      const publishedAt = new Date(time).toISOString();
      const publisher = PUBLISHERS[Math.floor(rand() * PUBLISHERS.length)];
      const chart = `charts/${pack.product}-${version}.tgz`;
      const content = pack.layer === 'addon' || pack.layer === 'cni' || pack.layer === 'csi';
      const deprecatedRoll = rand();
      /** @type {VersionRecord} */
      const record = {
        registry: REGISTRY,
        name: pack.name,
        version,
        layer: pack.layer,
        digest: `sha256:${hex}`,
        integrity: `sha512-${createHash('sha512').update(hex).digest('base64')}`,
        size,
        publishedAt,
        publisher,
        message: null,
        manifest: /** @type {VersionRecord['manifest']} */ ({
          name: pack.name,
          displayName: pack.displayName,
          version,
          layer: /** @type {VersionRecord['manifest']['layer']} */ (pack.layer),
          ...(pack.addonType === undefined ? {} : { addonType: pack.addonType }),
          cloudTypes: /** @type {VersionRecord['manifest']['cloudTypes']} */ (pack.cloudTypes),
          ...(content ? { charts: [chart] } : {}),
          annotations: pack.annotations,
          ...(pack.layer === 'k8s' || pack.layer === 'os'
            ? {}
            : {
                constraints: {
                  dependencies: [{ packName: 'kubernetes', layer: 'k8s', minVersion: '1.26', type: 'required' }],
                },
              }),
        }),
        // What a README's first paragraph gives (no extra random draw: the data stays as it was).
        description: `${pack.displayName} ${version} for Kubernetes clusters${pack.addonType === undefined ? '' : ` (${pack.addonType})`}: installs ${pack.product} with the ${pack.annotations.contributor} defaults, on ${pack.cloudTypes.join(', ')}.`,
        files: [
          { path: 'README.md', size: 1_500 + Math.floor(rand() * 6_000) },
          ...(content ? [{ path: chart, size: size - 12_000 }] : []),
          { path: 'logo.png', size: 3_000 + Math.floor(rand() * 20_000) },
          { path: 'pack.json', size: 600 + Math.floor(rand() * 900) },
          { path: 'values.yaml', size: 800 + Math.floor(rand() * 30_000) },
        ],
        deprecated:
          deprecatedRoll < 0.04
            ? { message: 'superseded: use a newer patch release', at: publishedAt, by: 'admin' }
            : null,
        deleted: deprecatedRoll > 0.995 ? { at: publishedAt, by: 'admin', message: 'published by mistake' } : null,
        history: [],
        revision: deprecatedRoll < 0.04 || deprecatedRoll > 0.995 ? 2 : 1,
      };
      yield record;
    }
  }
}

/** Encodes a record exactly as the registry stores it (storage/json-documents.ts). */
export const encodeRecord = (/** @type {unknown} */ value) => Buffer.from(`${JSON.stringify(value, null, 1)}\n`);

/**
 * A record's catalog summary as a registry that stored it on S3 would hold it: with the ETag S3
 * gives a single-part PUT (the MD5 of the body), for a bench that keeps no record objects.
 * @param {VersionRecord} record
 */
export const summaryOf = (record) => summarise(record, createHash('md5').update(encodeRecord(record)).digest('hex'));

/**
 * Writes the catalog snapshot (and the public registry's record) into the fs store under
 * `dataDir`, with the registry's CatalogSync, exactly as a running registry writes one.
 * @param {string} dataDir
 * @param {{ packs: number, versions: number }} size
 */
export async function seedSnapshot(dataDir, size) {
  const config = resolveConfig({ dataDir });
  const logger = createLogger('silent');
  const store = await createStore(config.storage, { logger });
  try {
    const sync = new CatalogSync(store, { logger, pollIntervalMs: 3_600_000, snapshotEveryChanges: Infinity });
    // On an empty store this loads nothing and sets the change-log cursor to now, so the snapshot
    // says it covers every change up to its writing, as a live registry's would.
    await sync.start();
    const registry = publicRegistryRecord();
    await store.put(registryKey(registry.name), encodeRecord(registry), { contentType: 'application/json' });
    sync.index.applyRegistry(registry);
    for (const record of versionRecords({ packs: size.packs, versionsPerPack: size.versions })) {
      sync.index.applyVersion(summaryOf(record));
    }
    const key = await sync.writeSnapshot();
    await sync.stop();
    return { key, ...sync.index.stats() };
  } finally {
    await store.close();
  }
}
