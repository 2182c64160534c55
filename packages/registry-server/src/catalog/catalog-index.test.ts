import { describe, expect, it } from 'vitest';
import { CatalogIndex } from './catalog-index.js';
import { InvalidQueryError, MAX_QUERY_CHARS, MAX_QUERY_TERMS } from './query-engine.js';
import type { RegistryRecord, VersionSummary } from './records.js';

function registry(name: string, fields: Partial<RegistryRecord> = {}): RegistryRecord {
  return {
    name,
    scope: 'system',
    tenant: null,
    project: null,
    description: '',
    public: true,
    allowOverwrite: false,
    createdAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'admin',
    revision: 1,
    ...fields,
  };
}

let clock = 0;
function version(name: string, v: string, fields: Partial<VersionSummary> = {}): VersionSummary {
  clock++;
  return {
    registry: 'public',
    name,
    version: v,
    layer: 'addon',
    displayName: name,
    addonType: null,
    cloudTypes: ['all'],
    annotations: {},
    description: null,
    dependencies: [],
    digest: `sha256:${'0'.repeat(63)}${clock % 10}`,
    size: 100,
    publishedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, clock)).toISOString(),
    publisher: 'admin',
    deprecated: null,
    deleted: false,
    revision: 1,
    etag: null,
    ...fields,
  };
}

function world(): CatalogIndex {
  const index = new CatalogIndex();
  index.applyRegistry(registry('public'));
  index.applyRegistry(registry('acme', { public: false, scope: 'tenant', tenant: 'acme' }));
  for (const v of ['1.27.1', '1.27.4', '1.28.0', '1.29.2']) {
    index.applyVersion(version('kubernetes', v, { layer: 'k8s', displayName: 'Kubernetes' }));
  }
  index.applyVersion(version('ubuntu-aws', '22.04', { layer: 'os', cloudTypes: ['aws'] }));
  index.applyVersion(version('ubuntu-aws', '24.04', { layer: 'os', cloudTypes: ['aws'] }));
  index.applyVersion(
    version('prometheus-operator', '45.1.0', {
      addonType: 'monitoring',
      displayName: 'Prometheus Operator',
      annotations: { source: 'community', docsURL: 'https://prometheus.io' },
    }),
  );
  index.applyVersion(version('cni-calico', '3.26.1', { layer: 'cni' }));
  index.applyVersion(version('cni-calico', '3.27.2', { layer: 'cni', deprecated: 'broken on 1.29' }));
  index.applyVersion(version('csi-private', '1.0.0', { registry: 'acme', layer: 'csi', cloudTypes: ['vsphere'] }));
  return index;
}

const everyone = () => true;
const names = (page: { items: Array<{ name: string }> }) => page.items.map((row) => row.name);

describe('CatalogIndex', () => {
  it('lists packs by name with their latest version and versions in ascending order', () => {
    const page = world().query({}, everyone);
    expect(page.total).toBe(5);
    expect(names(page)).toEqual(['cni-calico', 'csi-private', 'kubernetes', 'prometheus-operator', 'ubuntu-aws']);
    const k8s = page.items.find((row) => row.name === 'kubernetes');
    expect(k8s).toMatchObject({ latest: '1.29.2', versions: ['1.27.1', '1.27.4', '1.28.0', '1.29.2'], layer: 'k8s' });
  });

  it('picks the highest non-deprecated version as latest', () => {
    const calico = world().query({ name: 'cni-calico' }, everyone).items.at(0);
    expect(calico).toMatchObject({ latest: '3.26.1', versions: ['3.26.1', '3.27.2'], deprecated: false });
  });

  it.each([
    [{ layer: 'os' }, ['ubuntu-aws']],
    [{ cloudType: 'aws' }, ['cni-calico', 'kubernetes', 'prometheus-operator', 'ubuntu-aws']],
    [{ cloudType: 'vsphere' }, ['cni-calico', 'csi-private', 'kubernetes', 'prometheus-operator']],
    [{ addonType: 'MONITORING' }, ['prometheus-operator']],
    [{ q: 'prometheus community' }, ['prometheus-operator']],
    [{ q: 'prometheus.io' }, ['prometheus-operator']],
    [{ q: 'nothing-like-this' }, []],
    [{ registry: 'acme' }, ['csi-private']],
    [{ version: '1.27.x' }, ['kubernetes']],
    [{ version: '>=22 <23' }, ['ubuntu-aws']],
  ])('filters %j', (query, expected) => {
    expect(names(world().query(query, everyone))).toEqual(expected);
  });

  it("filters by a custom cloud's name: its packs and those for all clouds, never another custom cloud's", () => {
    const index = world();
    index.applyVersion(version('nutanix-csi', '1.0.0', { layer: 'csi', cloudTypes: ['nutanix'] }));
    index.applyVersion(version('oracle-csi', '1.0.0', { layer: 'csi', cloudTypes: ['oracle', 'aws'] }));
    const all = ['cni-calico', 'kubernetes', 'prometheus-operator'];
    const sorted = (...more: string[]) => [...all, ...more].sort();
    expect(names(index.query({ cloudType: 'nutanix' }, everyone))).toEqual(sorted('nutanix-csi'));
    expect(names(index.query({ cloudType: 'oracle' }, everyone))).toEqual(sorted('oracle-csi'));
    expect(names(index.query({ cloudType: 'aws' }, everyone))).toEqual(sorted('oracle-csi', 'ubuntu-aws'));
    expect(names(index.query({ cloudType: 'gke' }, everyone))).toEqual(all);
    expect(index.query({ layer: 'csi', facets: true }, everyone).facets?.cloudType).toMatchObject({
      nutanix: 1,
      oracle: 1,
    });
  });

  it('narrows the versions a row shows with version and deprecated filters', () => {
    const index = world();
    expect(index.query({ name: 'kubernetes', version: '1.27.x' }, everyone).items[0]).toMatchObject({
      latest: '1.27.4',
      versions: ['1.27.1', '1.27.4'],
    });
    expect(index.query({ name: 'cni-calico', deprecated: true }, everyone).items[0]).toMatchObject({
      versions: ['3.27.2'],
      deprecated: true,
    });
    expect(index.query({ name: 'cni-calico', deprecated: false }, everyone).items[0]?.versions).toEqual(['3.26.1']);
  });

  it('shows only registries the caller may read', () => {
    expect(names(world().query({}, (name) => name === 'public'))).not.toContain('csi-private');
  });

  it('pages with a cursor, in every sort order, without repeats or gaps', () => {
    const index = world();
    for (const sort of ['name', '-name', 'published', '-published'] as const) {
      const all = names(index.query({ sort, limit: 500 }, everyone));
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = index.query({ sort, limit: 2, ...(cursor ? { cursor } : {}) }, everyone);
        expect(page.total).toBe(5);
        seen.push(...names(page));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(all);
    }
    expect(names(index.query({ sort: '-published', limit: 1 }, everyone))).toEqual(['csi-private']);
  });

  it('matches annotation values but not their keys, and ranks exact and prefix name matches first', () => {
    const index = new CatalogIndex();
    index.applyRegistry(registry('public'));
    const addon = (name: string, fields: Partial<VersionSummary> = {}) => {
      index.applyVersion(version(name, '1.0.0', { annotations: { ingressSupported: 'false' }, ...fields }));
    };
    addon('nginx-ingress', { displayName: 'NGINX Ingress Controller', addonType: 'ingress' });
    addon('ingress');
    addon('aws-load-balancer', { description: 'Serves Kubernetes ingress with an ALB.' });
    addon('contour', { displayName: 'Contour ingress' });
    addon('traefik-ingress-controller');
    addon('cert-manager');
    addon('my-addon', { annotations: { category: 'ingress' } });
    // cert-manager says ingressSupported: "false" and nothing else about ingress: not a match.
    expect(names(index.query({ q: 'ingress' }, everyone))).toEqual([
      'ingress', // the name
      'nginx-ingress', // names holding the word, by name
      'traefik-ingress-controller',
      'contour', // the display name
      'aws-load-balancer', // elsewhere: description, add-on type, annotation values
      'my-addon',
    ]);
    expect(names(index.query({ q: 'traefik ingress' }, everyone))).toEqual(['traefik-ingress-controller']);
    expect(names(index.query({ q: 'ingress', sort: 'name' }, everyone))).toEqual([
      'aws-load-balancer',
      'contour',
      'ingress',
      'my-addon',
      'nginx-ingress',
      'traefik-ingress-controller',
    ]);
    // Relevance pages like the other orders.
    const all = names(index.query({ q: 'ingress', limit: 500 }, everyone));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = index.query({ q: 'ingress', limit: 2, ...(cursor ? { cursor } : {}) }, everyone);
      seen.push(...names(page));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(all);
  });

  it('rejects a foreign cursor, an invalid version selector and a full-text query past its bounds', () => {
    const index = world();
    expect(() => index.query({ cursor: 'garbage' }, everyone)).toThrow(InvalidQueryError);
    const cursor = index.query({ limit: 1 }, everyone).nextCursor ?? '';
    expect(() => index.query({ cursor, sort: 'published' }, everyone)).toThrow(InvalidQueryError);
    expect(() => index.query({ version: 'not a version!' }, everyone)).toThrow(InvalidQueryError);
    const words = (count: number) => Array.from({ length: count }, (_, i) => `w${String(i)}`).join(' ');
    expect(() => index.query({ q: words(MAX_QUERY_TERMS + 1) }, everyone)).toThrow(InvalidQueryError);
    expect(() => index.query({ q: 'x'.repeat(MAX_QUERY_CHARS + 1) }, everyone)).toThrow(InvalidQueryError);
    // Words said again count once: 64 times "a b" is two words.
    const twice = Array.from({ length: 64 }, () => 'a b').join(' ');
    expect(index.query({ q: twice }, everyone).total).toBe(index.query({ q: 'a b' }, everyone).total);
    expect(index.query({ q: words(MAX_QUERY_TERMS) }, everyone).total).toBe(0);
  });

  it('keeps the highest revision of a version whatever order changes arrive in', () => {
    const index = world();
    const newer = version('kubernetes', '1.29.2', { layer: 'k8s', deprecated: 'CVE', revision: 3 });
    const older = version('kubernetes', '1.29.2', { layer: 'k8s', revision: 2 });
    expect(index.applyVersion(newer)).toBe(true);
    expect(index.applyVersion(older)).toBe(false);
    expect(index.version('public', 'kubernetes', '1.29.2')?.deprecated).toBe('CVE');
  });

  it('hides deleted versions and resolves tags and ranges to live, non-deprecated ones', () => {
    const index = world();
    index.applyVersion(version('kubernetes', '1.29.2', { layer: 'k8s', deleted: true, revision: 2 }));
    expect(index.pack('public', 'kubernetes')).toMatchObject({
      latest: '1.28.0',
      tags: { '1.x': '1.28.0', '1.27.x': '1.27.4', '1.28.x': '1.28.0' },
    });
    expect(index.resolve('public', 'kubernetes', '1.27.x')?.version).toBe('1.27.4');
    expect(index.resolve('public', 'kubernetes', '>=1.28')?.version).toBe('1.28.0');
    expect(index.resolve('public', 'cni-calico', '3.x')?.version).toBe('3.26.1');
    // An exact version is found even when deprecated.
    expect(index.resolve('public', 'cni-calico', '3.27.2')?.version).toBe('3.27.2');
    expect(index.stats()).toEqual({ registries: 2, packs: 5, versions: 10 });
  });

  it("works a pack's line tags out once per change of the pack, and tells a pack exists without them", () => {
    const index = world();
    const tags = index.pack('public', 'kubernetes')?.tags;
    expect(index.pack('public', 'kubernetes')?.tags).toBe(tags);
    expect(index.hasPack('public', 'kubernetes')).toBe(true);
    expect(index.hasPack('public', 'nope')).toBe(false);
    index.applyVersion(version('kubernetes', '1.30.1', { layer: 'k8s' }));
    const after = index.pack('public', 'kubernetes')?.tags;
    expect(after).not.toBe(tags);
    expect(after).toMatchObject({ '1.x': '1.30.1', '1.30.x': '1.30.1' });
    // A pack whose versions are all deleted is not there.
    for (const deleted of ['1.0.0', '1.0.1']) index.applyVersion(version('gone', deleted, { deleted: true }));
    expect(index.hasPack('public', 'gone')).toBe(false);
    expect(index.pack('public', 'gone')).toBeNull();
  });

  it('answers queryJson exactly as query, from a cache that every change invalidates', () => {
    const index = world();
    for (const query of [{}, { layer: 'k8s', version: '1.27.x' }, { sort: '-published' as const, limit: 2 }]) {
      expect(JSON.parse(index.queryJson(query, everyone))).toEqual(index.query(query, everyone));
    }
    const before = index.queryJson({ layer: 'cni' }, everyone);
    expect(index.queryJson({ layer: 'cni' }, everyone)).toBe(before);
    // The cache key includes what the caller may read.
    expect(JSON.parse(index.queryJson({ layer: 'cni' }, () => false)).total).toBe(0);
    index.applyVersion(version('cni-cilium', '1.15.0', { layer: 'cni' }));
    expect(JSON.parse(index.queryJson({ layer: 'cni' }, everyone)).total).toBe(2);
    index.applyVersion(version('cni-cilium', '1.15.0', { layer: 'cni', deprecated: 'x', revision: 2 }));
    const row = JSON.parse(index.queryJson({ layer: 'cni', name: 'cni-cilium' }, everyone)).items[0];
    expect(row.deprecated).toBe(true);
  });

  it("counts facets with each facet's own filter left out, among the registries the caller may read", () => {
    const index = world();
    const page = index.query({ layer: 'cni', facets: true }, everyone);
    expect(names(page)).toEqual(['cni-calico']);
    // Every layer is counted (the layer filter is left out of its own facet); the others obey it.
    expect(page.facets).toEqual({
      layer: { k8s: 1, os: 1, addon: 1, cni: 1, csi: 1 },
      cloudType: { all: 1 },
      addonType: {},
      registry: { public: 1 },
      deprecated: 1,
    });
    const publicOnly = index.query({ facets: true, q: 'u' }, (name) => name === 'public');
    expect(publicOnly.facets?.registry).toEqual({ public: publicOnly.total });
    expect(publicOnly.facets?.layer['csi']).toBeUndefined();
    // Hiding deprecated versions keeps the pack (its other version) and counts it as deprecated.
    const hidden = index.query({ layer: 'cni', deprecated: false, facets: true }, everyone);
    expect(hidden.items[0]?.versions).toEqual(['3.26.1']);
    expect(hidden.facets?.deprecated).toBe(1);
    expect(index.query({}, everyone).facets).toBeUndefined();
    expect(JSON.parse(index.queryJson({ layer: 'cni', facets: true }, everyone))).toEqual(page);
  });

  it('finds every word of every pack by full-text search (the trigram prefilter drops no match)', () => {
    const index = new CatalogIndex(0);
    index.applyRegistry(registry('public'));
    const words: string[] = [];
    for (let i = 0; i < 300; i++) {
      const word = `w${(i * 7919).toString(36)}x${(i * 104729).toString(36)}`;
      words.push(word);
      index.applyVersion(
        version(`pack-${i}`, '1.0.0', { annotations: { note: `Text with ${word.toUpperCase()} inside` } }),
      );
    }
    for (const [i, word] of words.entries()) {
      const found = names(index.query({ q: word.slice(1, -1) }, everyone));
      expect(found, word).toContain(`pack-${i}`);
    }
    expect(index.query({ q: 'zzzqqq' }, everyone).total).toBe(0);
  });

  it('answers the same without its query cache', () => {
    const cached = world();
    const uncached = new CatalogIndex(0);
    const { registries, versions } = cached.contents();
    for (const r of registries) uncached.applyRegistry(r);
    uncached.applyVersions(versions);
    const query = { layer: 'k8s', version: '1.27.x' };
    expect(uncached.queryJson(query, everyone)).toBe(cached.queryJson(query, everyone));
  });

  it('reads summaries written before descriptions and dependencies were kept', () => {
    const index = world();
    const old = version('legacy', '1.0.0') as Partial<VersionSummary>;
    delete old.description;
    delete old.dependencies;
    index.applyVersions([old as VersionSummary]);
    expect(index.pack('public', 'legacy')?.description).toBeNull();
    expect(index.dependents('legacy')).toEqual([]);
    expect(names(index.query({ q: 'legacy' }, everyone))).toEqual(['legacy']);
  });

  it('finds the packs whose constraints name a pack, each by its latest live version that does', () => {
    const index = world();
    const needs = (min: string) => [
      { packName: 'kubernetes', layer: 'k8s', minVersion: min, type: 'required' as const },
    ];
    index.applyVersion(version('cilium', '1.0.0', { layer: 'cni', dependencies: needs('1.27') }));
    index.applyVersion(version('cilium', '1.1.0', { layer: 'cni', dependencies: needs('1.28') }));
    index.applyVersion(version('cilium', '1.2.0', { layer: 'cni', dependencies: needs('1.29'), deleted: true }));
    index.applyVersion(version('agent', '2.0.0', { registry: 'acme', dependencies: needs('1.26') }));
    const found = index.dependents('kubernetes').map((v) => `${v.registry}/${v.name}@${v.version}`);
    expect(found).toEqual(['acme/agent@2.0.0', 'public/cilium@1.1.0']);
    expect(index.dependents('cilium')).toEqual([]);
  });

  it('bulk-applies a snapshot with the same result as one version at a time', () => {
    const one = world();
    const bulk = new CatalogIndex();
    const { registries, versions } = one.contents();
    for (const r of registries) bulk.applyRegistry(r);
    bulk.applyVersions(versions);
    expect(bulk.query({ limit: 500 }, everyone)).toEqual(one.query({ limit: 500 }, everyone));
    expect(bulk.stats()).toEqual(one.stats());
  });
});
