import { describe, expect, it } from 'vitest';
import type { RegistryRecord } from '../catalog/records.js';
import { namespaceOf, ociName, resolveNamespace } from './namespaces.js';
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

describe('OCI namespaces', () => {
  it('maps system, tenant and project registries by their scope path', () => {
    expect(resolveNamespace('public/library/alpine', lookup)).toMatchObject({
      registry: { name: 'public' },
      repository: 'library/alpine',
    });
    expect(resolveNamespace('acme/tools/app', lookup)).toMatchObject({
      registry: { name: 'tools' },
      repository: 'app',
    });
    expect(resolveNamespace('acme/factory/edge/spectro-packs/archive/nginx', lookup)).toMatchObject({
      registry: { name: 'edge' },
      repository: 'spectro-packs/archive/nginx',
    });
  });

  it('prefers the longest match, so a tenant namespace reaches its own registry', () => {
    // "acme/acme/x": the tenant registry acme of tenant acme, not the system registry named acme.
    expect(resolveNamespace('acme/acme/x', lookup)).toMatchObject({ registry: { name: 'acme' }, repository: 'x' });
    // "factory/x" is the system registry factory, and "acme/factory/edge/x" the project's.
    expect(resolveNamespace('factory/x', lookup)).toMatchObject({ registry: { name: 'factory' }, repository: 'x' });
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
