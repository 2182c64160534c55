import { describe, expect, it } from 'vitest';
import { validateProfile } from './profile.js';

describe('validateProfile', () => {
  it('accepts exact versions, line tags and ranges as pack versions', () => {
    const packs = ['1.29.4', '1.29.x', '>=1.29 <1.30', '~22.04 || 24.x'].map((version, i) => ({
      name: `p${i}`,
      version,
    }));
    expect(validateProfile({ name: 'prod', version: '1.0.0', packs }).errors).toEqual([]);
  });

  it('refuses a pack version that is no selector, which the registry would refuse as a path', () => {
    const { profile, errors } = validateProfile({
      name: 'prod',
      version: '1.0.0',
      packs: [{ name: 'a', version: 'latest' }],
    });
    expect(profile).toBeNull();
    expect(errors).toEqual([
      '/packs/0/version "latest" is not a version, a line tag (1.29.x) or a range (>=1.29 <1.30)',
    ]);
  });

  it('refuses versions past the lengths of names.ts', () => {
    const long = validateProfile({ name: 'prod', version: `1.0.0+${'a'.repeat(123)}`, packs: [] });
    expect(long.errors).toEqual(['/version must NOT have more than 128 characters']);
    const selector = validateProfile({
      name: 'prod',
      version: '1.0.0',
      packs: [{ name: 'a', version: '>=1 '.repeat(65) }],
    });
    expect(selector.errors[0]).toContain('must NOT have more than 256 characters');
  });
});
