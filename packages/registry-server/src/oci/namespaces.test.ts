import { describe, expect, it } from 'vitest';
import type { RegistryRecord } from '../catalog/records.js';
import { checkNamespaceFree, namespaceOf, ociName, resolveNamespace, type NamespaceClaim } from './namespaces.js';
import { bestOfThree, superLinearity } from '../../../pack-core/src/test-support/linear-time.js';
import { isRepositoryName, MAX_NAME_LENGTH, parseDigest, parseReference } from './oci-names.js';

function registry(name: string, tenant: string | null = null, project: string | null = null): RegistryRecord {
  return {
    name,
    scope: project ? 'project' : tenant ? 'tenant' : 'system',
    tenant,
    project,
    description: '',
    public: tenant === null,
    allowOverwrite: false,
    createdAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'admin',
    revision: 1,
  };
}

const REGISTRIES = new Map(
  [
    registry('public'),
    registry('acme', 'acme'),
    registry('tools', 'acme'),
    registry('edge', 'acme', 'factory'),
    registry('factory', null),
  ].map((r) => [r.name, r]),
);
const lookup = (name: string) => REGISTRIES.get(name);

function expectResolves(name: string, find: typeof lookup, registryName: string, repository: string): void {
  expect(resolveNamespace(name, find), name).toMatchObject({ registry: { name: registryName }, repository });
}

describe('OCI namespaces', () => {
  it('maps system, tenant and project registries by their scope path', () => {
    expectResolves('public/library/alpine', lookup, 'public', 'library/alpine');
    expectResolves('acme/tools/app', lookup, 'tools', 'app');
    expectResolves('acme/factory/edge/spectro-packs/archive/nginx', lookup, 'edge', 'spectro-packs/archive/nginx');
  });

  it('prefers the shortest match, so a lower scope never takes over the names of one above', () => {
    // "acme/acme/x": the tenant registry acme of tenant acme (no system registry can be named acme).
    expectResolves('acme/acme/x', lookup, 'acme', 'x');
    expectResolves('factory/x', lookup, 'factory', 'x');
    // Names that meet all the same (made before the rule): a tenant named like the system registry
    // "factory" and its registry "reg"; a tenant registry "tools" of acme and a project "tools"
    // with a registry "charts".
    const clashing = new Map(
      [...REGISTRIES.values(), registry('reg', 'factory'), registry('charts', 'acme', 'tools')].map((r) => [r.name, r]),
    );
    const find = (name: string) => clashing.get(name);
    expectResolves('factory/reg/x', find, 'factory', 'reg/x');
    expectResolves('acme/tools/charts/app', find, 'tools', 'charts/app');
  });

  it('refuses a tenant, project or registry whose name is held at its level', () => {
    const holders = {
      registry: lookup,
      tenantExists: (name: string) => ['acme', 'globex'].includes(name),
      projectExists: (tenant: string, name: string) => tenant === 'acme' && name === 'factory',
    };
    const system = { scope: 'system' } as const;
    const cases: Array<[NamespaceClaim, 'taken' | 'free']> = [
      [{ kind: 'tenant', name: 'public' }, 'taken'],
      [{ kind: 'tenant', name: 'factory' }, 'taken'],
      // A tenant or project registry holds no first segment.
      [{ kind: 'tenant', name: 'tools' }, 'free'],
      [{ kind: 'project', tenant: 'acme', name: 'tools' }, 'taken'],
      [{ kind: 'project', tenant: 'globex', name: 'tools' }, 'free'],
      [{ kind: 'project', tenant: 'acme', name: 'public' }, 'free'],
      [{ kind: 'registry', name: 'globex', target: system }, 'taken'],
      [{ kind: 'registry', name: 'new', target: system }, 'free'],
      [{ kind: 'registry', name: 'factory', target: { scope: 'tenant', tenant: 'acme' } }, 'taken'],
      [{ kind: 'registry', name: 'factory', target: { scope: 'tenant', tenant: 'globex' } }, 'free'],
      [{ kind: 'registry', name: 'acme', target: { scope: 'project', tenant: 'acme', project: 'factory' } }, 'free'],
    ];
    for (const [claim, expected] of cases) {
      let code: string | undefined;
      try {
        checkNamespaceFree(claim, holders);
      } catch (err) {
        code = (err as { code?: string }).code;
      }
      expect(code, JSON.stringify(claim)).toBe(expected === 'taken' ? 'NAMESPACE_TAKEN' : undefined);
    }
  });

  it('maps nothing without a repository, or under the wrong scope path', () => {
    for (const name of ['public', 'acme/tools', 'tools/app', 'other/tools/app', 'acme/other/edge/x', 'nope/x']) {
      expect(resolveNamespace(name, lookup), name).toBeNull();
    }
  });

  it('names repositories back the same way', () => {
    for (const name of ['public/a', 'acme/tools/b/c', 'acme/factory/edge/d']) {
      const found = resolveNamespace(name, lookup);
      expect(found && ociName(found.registry, found.repository)).toBe(name);
    }
    expect(namespaceOf(registry('edge', 'acme', 'factory'))).toEqual(['acme', 'factory', 'edge']);
  });
});

describe('OCI grammars', () => {
  it('accepts the spec names and refuses the rest in linear time', async () => {
    for (const good of ['a', 'library/alpine', 'a.b_c__d---e/f', 'x0/y1/z2'])
      expect(isRepositoryName(good), good).toBe(true);
    for (const bad of [
      '',
      'A',
      'a//b',
      '/a',
      'a/',
      'a..b',
      'a___b',
      '-a',
      'a-',
      'a/.b',
      'a b',
      'a'.repeat(MAX_NAME_LENGTH + 1),
    ]) {
      expect(isRepositoryName(bad), bad).toBe(false);
    }
    expect(isRepositoryName(`${'a'.repeat(100)}${'_-'.repeat(60)}`)).toBe(false);
    const time = (size: number) => {
      const hostile = `${'a-'.repeat(size / 2)}!`;
      return bestOfThree(() => isRepositoryName(hostile));
    };
    expect(await superLinearity(time, 100, 100_000)).toBeNull();
  });

  it('parses digests and tags', () => {
    expect(parseDigest(`sha256:${'a'.repeat(64)}`)).toBe(`sha256:${'a'.repeat(64)}`);
    expect(parseDigest(`sha512:${'b'.repeat(128)}`)).toBe(`sha512:${'b'.repeat(128)}`);
    for (const bad of ['sha256:abc', `sha256:${'A'.repeat(64)}`, `md5:${'a'.repeat(32)}`, 'latest', ':', '']) {
      expect(() => parseDigest(bad), bad).toThrow(expect.objectContaining({ code: 'DIGEST_INVALID' }));
    }
    expect(() => parseDigest(`blake3:${'a'.repeat(64)}`)).toThrow(/unsupported digest algorithm "blake3"/);
    expect(parseReference('v1.0_rc-2')).toEqual({ tag: 'v1.0_rc-2' });
    expect(() => parseReference('.hidden')).toThrow(expect.objectContaining({ code: 'NAME_INVALID' }));
    expect(() => parseReference('a'.repeat(129))).toThrow(expect.objectContaining({ code: 'NAME_INVALID' }));
  });
});
