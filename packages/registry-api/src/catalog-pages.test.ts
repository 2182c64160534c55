import { describe, expect, it } from 'vitest';
import { catalogPage, packPagePath, profilePagePath, profileScopeRef, profilesApiPath } from './catalog-pages.js';

describe('the catalog pages table', () => {
  it('names every page, and nothing else', () => {
    expect(catalogPage('/')).toEqual({ page: 'search' });
    expect(catalogPage('/signin')).toEqual({ page: 'signin' });
    expect(catalogPage('/profiles')).toEqual({ page: 'profiles' });
    expect(catalogPage('/packs/public/cni-calico')).toEqual({ page: 'pack', registry: 'public', name: 'cni-calico' });
    expect(catalogPage('/profiles/system/base')).toEqual({ page: 'profile', where: { scope: 'system' }, name: 'base' });
    expect(catalogPage('/profiles/tenant/acme/edge')).toEqual({
      page: 'profile',
      where: { scope: 'tenant', tenant: 'acme' },
      name: 'edge',
    });
    expect(catalogPage('/profiles/project/acme/web/prod')).toEqual({
      page: 'profile',
      where: { scope: 'project', tenant: 'acme', project: 'web' },
      name: 'prod',
    });
    for (const other of [
      '/packs',
      '/packs/public',
      '/packs/a/b/c',
      '/profiles/tenant/acme',
      '/profiles/other/a/b',
      '/x',
    ]) {
      expect(catalogPage(other), other).toEqual({ page: 'not-found' });
    }
    expect(catalogPage('/packs/%E0%A4%A/x')).toEqual({ page: 'not-found' });
  });

  it('builds the paths it parses', () => {
    const where = { scope: 'project', tenant: 'a b', project: 'w/x' } as const;
    expect(catalogPage(profilePagePath(where, 'p?q'))).toEqual({ page: 'profile', where, name: 'p?q' });
    expect(packPagePath('public', 'kubernetes', '1.29.4')).toBe('/packs/public/kubernetes?version=1.29.4');
    expect(profilesApiPath(where)).toBe('/v1/tenants/a%20b/projects/w%2Fx/cluster-profiles');
    expect(profileScopeRef({ scope: 'tenant', tenant: 'acme', project: null })).toEqual({
      scope: 'tenant',
      tenant: 'acme',
    });
  });
});
