import { describe, expect, it } from 'vitest';
import { clusterProfileSchema } from './generated/cluster-profile.js';
import { packManifestSchema } from './generated/pack-manifest.js';
import {
  isPackName,
  isPackVersion,
  isVersionSelector,
  MAX_PACK_NAME_LENGTH,
  MAX_SELECTOR_LENGTH,
  MAX_VERSION_LENGTH,
} from './names.js';

describe('names', () => {
  it('accepts pack names as pack.json writes them, and nothing that leaves a directory', () => {
    expect(isPackName('cni-calico')).toBe(true);
    expect(isPackName('a')).toBe(true);
    for (const bad of ['', '-a', 'a-', 'A', '../x', 'a/b', 'a.b', 'x'.repeat(65), 'a\u202eb']) {
      expect(isPackName(bad), bad).toBe(false);
    }
  });

  it('accepts versions in every accepted form up to 128 characters', () => {
    for (const good of ['1.29.4', '22.04', 'v1.8.7', '1.0.0-rc.1+build.5'])
      expect(isPackVersion(good), good).toBe(true);
    for (const bad of ['', 'latest', '1.0.0/../../x', '..', `1.${'1'.repeat(127)}`]) {
      expect(isPackVersion(bad), bad).toBe(false);
    }
  });

  it('accepts selectors: exact, line tags and ranges, up to 256 characters', () => {
    for (const good of ['1.29.4', '1.29.x', '>=1.29 <1.30', '^45.0.0'])
      expect(isVersionSelector(good), good).toBe(true);
    expect(isVersionSelector('>=1 '.repeat(100))).toBe(false);
    expect(isVersionSelector('%E2%80%AE')).toBe(false);
  });

  it("is what the schemas say, so nothing publishable fails the registry's path checks", () => {
    const { name, version } = packManifestSchema.properties;
    expect(name.maxLength).toBe(MAX_PACK_NAME_LENGTH);
    expect(version.maxLength).toBe(MAX_VERSION_LENGTH);
    expect(clusterProfileSchema.properties.version.maxLength).toBe(MAX_VERSION_LENGTH);
    expect(clusterProfileSchema.properties.packs.items.properties.version.maxLength).toBe(MAX_SELECTOR_LENGTH);
    const pattern = new RegExp(version.pattern, 'u');
    const samples = [
      '1.29.4',
      '22.04',
      'v1.8.7',
      '1.0.0-rc.1+build.5',
      '0.30.0-5.5.2026',
      'latest',
      '1..2',
      'v',
      '1.0.0/x',
      '1.2.3-',
    ];
    for (const sample of samples) expect(pattern.test(sample), sample).toBe(isPackVersion(sample));
  });
});
