import { describe, expect, it } from 'vitest';
import type { ClusterProfile } from './generated/cluster-profile.js';
import type { PackDependency, PackLayer } from './generated/pack-manifest.js';
import { MAX_PROFILE_PROBLEMS, mergeValues, resolveProfile, type PackSource } from './resolve-profile.js';

interface FakeVersion {
  version: string;
  layer?: PackLayer;
  deprecated?: string;
  cloudTypes?: string[];
  dependencies?: PackDependency[];
  values?: string;
}

/** registry -> pack -> versions, as a registry would list them. */
type World = Record<string, Record<string, FakeVersion[]>>;

const LAYER_OF: Record<string, PackLayer> = {
  ubuntu: 'os',
  kubernetes: 'k8s',
  calico: 'cni',
  cilium: 'cni',
  ebs: 'csi',
};

function source(world: World): PackSource {
  const find = (registry: string, name: string) => world[registry]?.[name] ?? null;
  return {
    versions: (registry, name) =>
      Promise.resolve(
        find(registry, name)?.map((v) => ({
          version: v.version,
          deprecated: v.deprecated !== undefined,
          deprecation: v.deprecated ?? null,
        })) ?? null,
      ),
    details: (registry, name, version) => {
      const v = find(registry, name)?.find((x) => x.version === version);
      if (!v) throw new Error(`no ${name}@${version} in ${registry}`);
      return Promise.resolve({
        digest: `sha256:${registry}-${name}-${version}`,
        layer: v.layer ?? LAYER_OF[name] ?? 'addon',
        cloudTypes: v.cloudTypes ?? ['all'],
        dependencies: v.dependencies ?? [],
        values: v.values ?? null,
      });
    },
  };
}

const versions = (...list: string[]): FakeVersion[] => list.map((version) => ({ version }));

/** A world with every core layer, for profiles that only vary the add-ons. */
const CORE: Record<string, FakeVersion[]> = {
  ubuntu: versions('20.04', '22.04', '22.04.3', '24.04'),
  kubernetes: versions('1.27.4', '1.28.9', '1.29.2', '1.29.6', '1.30.1'),
  calico: versions('3.26.4', '3.27.2'),
  ebs: versions('1.25.0', '1.26.1'),
};
const CORE_PACKS = [
  { name: 'ubuntu', version: '22.04.x' },
  { name: 'kubernetes', version: '1.29.x' },
  { name: 'calico', version: '3.27.x' },
  { name: 'ebs', version: '1.x' },
];

function profile(packs: ClusterProfile['packs'], extra: Partial<ClusterProfile> = {}): ClusterProfile {
  return { name: 'test', version: '1.0.0', packs, ...extra };
}

const picked = (r: Awaited<ReturnType<typeof resolveProfile>>) => r.layers.map((l) => `${l.name}@${l.version}`);
const messages = (r: Awaited<ReturnType<typeof resolveProfile>>) =>
  r.problems.map((p) => `${p.pack ?? '-'}: ${p.message}`);

describe('resolveProfile: versions', () => {
  const cases: Array<[string, string, string, string | null]> = [
    ['a .x tag takes the highest of its line', 'kubernetes', '1.29.x', '1.29.6'],
    ['a range takes the highest satisfying version', 'kubernetes', '>=1.28 <1.30', '1.29.6'],
    ['a caret range', 'kubernetes', '^1.27.0', '1.30.1'],
    ['an exact version', 'kubernetes', '1.28.9', '1.28.9'],
    ['a partial version means its line', 'kubernetes', '1.27', '1.27.4'],
    ['a calendar version, exactly', 'ubuntu', '22.04', '22.04'],
    ['a calendar .x tag', 'ubuntu', '22.04.x', '22.04.3'],
    ['nothing satisfies', 'kubernetes', '1.31.x', null],
  ];
  it.each(cases)('%s (%s %s)', async (_title, name, selector, expected) => {
    const packs = CORE_PACKS.map((p) => (p.name === name ? { name, version: selector } : p));
    const result = await resolveProfile(profile(packs), source({ public: CORE }));
    const layer = result.layers.find((l) => l.name === name);
    if (expected === null) {
      expect(layer).toBeUndefined();
      expect(messages(result).join('\n')).toContain(`no version of ${name} in public satisfies ${selector}`);
    } else {
      expect(layer?.version).toBe(expected);
      expect(result.problems).toEqual([]);
    }
  });

  it('skips deprecated versions unless pinned exactly', async () => {
    const world = {
      public: { ...CORE, kubernetes: [...versions('1.29.2'), { version: '1.29.6', deprecated: 'CVE-2024-0001' }] },
    };
    const tagged = await resolveProfile(profile(CORE_PACKS), source(world));
    expect(picked(tagged)).toContain('kubernetes@1.29.2');
    expect(tagged.warnings).toEqual([]);
    const pinned = CORE_PACKS.map((p) => (p.name === 'kubernetes' ? { name: 'kubernetes', version: '1.29.6' } : p));
    const chosen = await resolveProfile(profile(pinned), source(world));
    expect(picked(chosen)).toContain('kubernetes@1.29.6');
    // A pin resolves, and says what it pins.
    expect(chosen.problems).toEqual([]);
    expect(chosen.warnings).toEqual([
      { pack: 'kubernetes', message: 'kubernetes@1.29.6 is deprecated: CVE-2024-0001' },
    ]);
  });

  it('says so when only deprecated versions satisfy a selector', async () => {
    const world = {
      public: { ...CORE, kubernetes: [...versions('1.28.9'), { version: '1.29.6', deprecated: 'use 1.30' }] },
    };
    const line = CORE_PACKS.map((p) => (p.name === 'kubernetes' ? { name: 'kubernetes', version: '1.29.x' } : p));
    const result = await resolveProfile(profile(line), source(world));
    expect(messages(result)).toContain(
      'kubernetes: no version of kubernetes in public satisfies 1.29.x but deprecated ones: 1.29.6 is deprecated: use 1.30; ' +
        'choose another version, or pin 1.29.6 to use it anyway',
    );
    const none = CORE_PACKS.map((p) => (p.name === 'kubernetes' ? { name: 'kubernetes', version: '1.31.x' } : p));
    expect(messages(await resolveProfile(profile(none), source(world)))).toContain(
      'kubernetes: no version of kubernetes in public satisfies 1.31.x (it has 1.28.9, 1.29.6)',
    );
  });

  it('takes each pack from the first registry, in the profile order, that has it', async () => {
    const world = {
      private: { calico: versions('3.27.0') },
      public: CORE,
    };
    const result = await resolveProfile(profile(CORE_PACKS, { registries: ['private', 'public'] }), source(world));
    expect(result.layers.find((l) => l.name === 'calico')).toMatchObject({ version: '3.27.0', registry: 'private' });
    expect(result.layers.find((l) => l.name === 'kubernetes')).toMatchObject({ registry: 'public' });
    // The first registry with the pack decides, even when a later one has a better match.
    const strict = CORE_PACKS.map((p) => (p.name === 'calico' ? { name: 'calico', version: '3.27.2' } : p));
    const miss = await resolveProfile(profile(strict, { registries: ['private', 'public'] }), source(world));
    expect(messages(miss)).toContainEqual(expect.stringContaining('no version of calico in private satisfies 3.27.2'));
    // An entry's own registry overrides the profile's order.
    const own = CORE_PACKS.map((p) =>
      p.name === 'calico' ? { name: 'calico', version: '3.27.x', registry: 'public' } : p,
    );
    const pinnedRegistry = await resolveProfile(profile(own, { registries: ['private', 'public'] }), source(world));
    expect(pinnedRegistry.layers.find((l) => l.name === 'calico')).toMatchObject({
      version: '3.27.2',
      registry: 'public',
    });
  });

  it('reports packs that no registry has, and selectors that are not selectors', async () => {
    const result = await resolveProfile(
      profile([...CORE_PACKS, { name: 'ghost', version: '1.x' }, { name: 'calico', version: 'latest!' }]),
      source({ public: CORE }),
    );
    expect(messages(result)).toContainEqual('ghost: ghost is in none of the registries public');
    expect(messages(result)).toContainEqual(expect.stringContaining('calico: latest! is not a version'));
  });
});

describe('resolveProfile: constraints', () => {
  const addon = (name: string, dependencies: PackDependency[], extra: Partial<FakeVersion> = {}): FakeVersion[] => [
    { version: '1.0.0', layer: 'addon', dependencies, ...extra },
  ];
  const dep = (packName: string, type: PackDependency['type'], min?: string, max?: string): PackDependency => ({
    packName,
    layer: LAYER_OF[packName] ?? 'addon',
    type,
    ...(min ? { minVersion: min } : {}),
    ...(max ? { maxVersion: max } : {}),
  });

  const cases: Array<[string, FakeVersion[], ClusterProfile['packs'], string[]]> = [
    ['required present within bounds', addon('mon', [dep('kubernetes', 'required', '1.28', '1.29')]), [], []],
    [
      'required present out of bounds',
      addon('mon', [dep('kubernetes', 'required', '1.30', '1.31')]),
      [],
      ['mon: mon@1.0.0 requires kubernetes 1.30 to 1.31, and the profile has 1.29.6'],
    ],
    [
      'required missing',
      addon('mon', [dep('istio', 'required', '1.20')]),
      [],
      ['mon: mon@1.0.0 requires istio 1.20 or later, which the profile lacks'],
    ],
    ['optional absent is fine', addon('mon', [dep('istio', 'optional', '1.20')]), [], []],
    [
      'optional present out of bounds',
      addon('mon', [dep('calico', 'optional', undefined, '3.26')]),
      [],
      ['mon: mon@1.0.0 works with calico up to 3.26 only, and the profile has 3.27.2'],
    ],
    [
      'notSupported within its range',
      addon('mon', [dep('calico', 'notSupported', '3.27', '3.27')]),
      [],
      ['mon: mon@1.0.0 does not support calico 3.27 to 3.27, and the profile has 3.27.2'],
    ],
    ['notSupported outside its range', addon('mon', [dep('calico', 'notSupported', '3.20', '3.26')]), [], []],
    [
      'cloudTypes without the profile cloud',
      addon('mon', [], { cloudTypes: ['azure', 'gcp'] }),
      [],
      ['mon: mon@1.0.0 supports azure, gcp, not aws'],
    ],
    [
      'conflicting constraints from two packs',
      addon('mon', [dep('kubernetes', 'required', '1.30')]),
      [{ name: 'old', version: '1.x' }],
      [
        'mon: mon@1.0.0 requires kubernetes 1.30 or later, and the profile has 1.29.6',
        'old: old@1.0.0 requires kubernetes up to 1.28, and the profile has 1.29.6',
      ],
    ],
  ];
  it.each(cases)('%s', async (_title, mon, more, expected) => {
    const world = {
      public: { ...CORE, mon, old: addon('old', [dep('kubernetes', 'required', undefined, '1.28')]) },
    };
    const result = await resolveProfile(
      profile([...CORE_PACKS, { name: 'mon', version: '1.x' }, ...more], { cloudType: 'aws' }),
      source(world),
    );
    expect(messages(result)).toEqual(expected);
  });

  it('needs exactly one pack of each core layer in a cluster profile, and none in an add-on profile', async () => {
    const world = { public: { ...CORE, cilium: versions('1.15.0'), mon: addon('mon', []) } };
    const missing = await resolveProfile(profile(CORE_PACKS.filter((p) => p.name !== 'ebs')), source(world));
    expect(messages(missing)).toEqual(['-: a cluster profile needs one csi pack, and none resolved']);
    const twice = await resolveProfile(profile([...CORE_PACKS, { name: 'cilium', version: '1.x' }]), source(world));
    expect(messages(twice)).toEqual(['cilium: a cluster profile has one cni pack, not 2 (calico, cilium)']);
    const addOnProfile = await resolveProfile(
      profile(
        [
          { name: 'mon', version: '1.x' },
          { name: 'calico', version: '3.x' },
        ],
        { type: 'add-on' },
      ),
      source(world),
    );
    expect(messages(addOnProfile)).toEqual(['calico: an add-on profile cannot hold the cni pack calico']);
  });

  it('orders layers os, k8s, cni, csi, then add-ons by dependency, install priority, and as written', async () => {
    const priority = (n: number) => `pack:\n  spectrocloud.com/install-priority: ${n}\n`;
    const world = {
      public: {
        ...CORE,
        a: addon('a', [dep('b', 'required')], { values: priority(-10) }),
        b: addon('b', [], { values: priority(20) }),
        c: addon('c', [], { values: priority(10) }),
        d: addon('d', []),
        e: addon('e', []),
      },
    };
    const packs = [
      { name: 'e', version: '1.x' },
      { name: 'a', version: '1.x' },
      { name: 'kubernetes', version: '1.29.x' },
      { name: 'b', version: '1.x' },
      { name: 'c', version: '1.x' },
      { name: 'ebs', version: '1.x' },
      { name: 'd', version: '1.x' },
      { name: 'calico', version: '3.x' },
      { name: 'ubuntu', version: '22.04.x' },
    ];
    const result = await resolveProfile(profile(packs), source(world));
    expect(result.problems).toEqual([]);
    // e and d have no priority (0) and come first, as written; then c (10); b (20) comes before a,
    // which depends on it, although a asks for -10.
    expect(result.layers.map((l) => l.name)).toEqual([
      'ubuntu',
      'kubernetes',
      'calico',
      'ebs',
      'e',
      'd',
      'c',
      'b',
      'a',
    ]);
  });

  it('reports a dependency cycle with the packs in it', async () => {
    const world = {
      public: { ...CORE, x: addon('x', [dep('y', 'required')]), y: addon('y', [dep('x', 'required')]) },
    };
    const result = await resolveProfile(
      profile([...CORE_PACKS, { name: 'x', version: '1.x' }, { name: 'y', version: '1.x' }]),
      source(world),
    );
    expect(messages(result)).toEqual(['x: dependency cycle among x, y']);
    expect(result.layers.map((l) => l.name)).toContain('y');
  });
});

describe('resolveProfile: values', () => {
  it("merges the profile's override over values.yaml: maps deeply, lists replaced", async () => {
    const world = {
      public: {
        ...CORE,
        mon: [
          {
            version: '1.0.0',
            layer: 'addon' as const,
            values: 'charts:\n  stack:\n    grafana: { enabled: true, replicas: 1 }\n    rules: [a, b]\n',
          },
        ],
      },
    };
    const result = await resolveProfile(
      profile([
        ...CORE_PACKS,
        { name: 'mon', version: '1.x', values: 'charts:\n  stack:\n    grafana: { enabled: false }\n    rules: [c]\n' },
      ]),
      source(world),
    );
    const values = result.layers.find((l) => l.name === 'mon')?.values ?? '';
    expect(values).toContain('enabled: false');
    expect(values).toContain('replicas: 1');
    expect(values).toMatch(/rules:\n\s+- c\n/);
    expect(values).not.toContain('- a');
  });

  it('reports values past the YAML limits as problems of their pack, and keeps resolving', async () => {
    const deep = `a: ${'['.repeat(200)}${']'.repeat(200)}\n`;
    const world = { public: { ...CORE, mon: [{ version: '1.0.0', layer: 'addon' as const, values: deep }] } };
    const result = await resolveProfile(
      profile([...CORE_PACKS, { name: 'mon', version: '1.x', values: 'a: [1\n' }]),
      source(world),
    );
    expect(messages(result)).toEqual([
      'mon: values.yaml of mon@1.0.0 nests deeper than 128 levels',
      "mon: the profile's values for mon is not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]",
    ]);
    expect(result.layers.map((l) => l.name)).toContain('mon');
  });

  it('mergeValues replaces scalars and lists, and keeps what the override leaves out', () => {
    expect(mergeValues({ a: 1, b: { c: [1, 2], d: 'x' } }, { b: { c: [3] }, e: true })).toEqual({
      a: 1,
      b: { c: [3], d: 'x' },
      e: true,
    });
  });
});

describe('resolveProfile bounds what it keeps from hostile records', () => {
  it('lists at most MAX_PROFILE_PROBLEMS problems and counts the rest, whatever the records list', async () => {
    // Twenty add-ons whose records each list 20,000 required packs the profile lacks (a hostile
    // registry's: a line each would be 400,000 problems), and the same one 1,000 times again.
    const missing = Array.from({ length: 20_000 }, (_, i) => ({
      packName: `missing-${i}`,
      layer: 'addon',
      type: 'required' as const,
    }));
    const repeated = Array.from({ length: 1000 }, () => missing[0] as PackDependency);
    const addons = Array.from({ length: 20 }, (_, i) => `addon-${i}`);
    const world: World = {
      public: Object.fromEntries(
        addons.map((name) => [name, [{ version: '1.0.0', dependencies: [...repeated, ...missing] }]]),
      ),
    };
    const profile: ClusterProfile = {
      name: 'p',
      version: '1.0.0',
      type: 'add-on',
      packs: addons.map((name) => ({ name, version: '1.0.0' })),
    };
    const { problems, layers } = await resolveProfile(profile, source(world));
    expect(layers).toHaveLength(20);
    expect(problems).toHaveLength(MAX_PROFILE_PROBLEMS + 1);
    expect(problems.at(-1)).toEqual({
      pack: null,
      message: `and ${20 * 20_000 - MAX_PROFILE_PROBLEMS} more problems, not listed`,
    });
    expect(problems[0]?.message).toBe('addon-0@1.0.0 requires missing-0, which the profile lacks');
    expect(problems[1]?.message).toBe('addon-0@1.0.0 requires missing-1, which the profile lacks');
  });
});
