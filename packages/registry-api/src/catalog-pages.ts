/**
 * The web catalog's pages, by URL: one table that the catalog's router (packages/web) and the
 * server (which answers a page's URL with the catalog, and any other browser URL with its 404
 * page) both read, so that the two never disagree about which URLs are pages.
 *
 *   /                                              search (the query in ?q=&layer=...)
 *   /packs/<registry>/<name>[?version=]            a pack
 *   /profiles                                      the cluster profiles the visitor may read
 *   /profiles/system/<name>                        a system profile
 *   /profiles/tenant/<tenant>/<name>               a tenant's profile
 *   /profiles/project/<tenant>/<project>/<name>    a project's profile
 *   /signin[?next=]                                signing in
 */

/** Where a cluster profile lives, as its page names it. */
export type ProfileScopeRef =
  { scope: 'system' } | { scope: 'tenant'; tenant: string } | { scope: 'project'; tenant: string; project: string };

/** The scope of a stored profile (ProfileView, PackUsage) as a page names it. */
export function profileScopeRef(profile: {
  scope: 'system' | 'tenant' | 'project';
  tenant: string | null;
  project: string | null;
}): ProfileScopeRef {
  if (profile.scope === 'system' || profile.tenant === null) return { scope: 'system' };
  if (profile.scope === 'tenant' || profile.project === null) return { scope: 'tenant', tenant: profile.tenant };
  return { scope: 'project', tenant: profile.tenant, project: profile.project };
}

export type CatalogPage =
  | { page: 'search' }
  | { page: 'pack'; registry: string; name: string }
  | { page: 'profiles' }
  | { page: 'profile'; where: ProfileScopeRef; name: string }
  | { page: 'signin' }
  | { page: 'not-found' };

/** The page a URL path names; `not-found` for any other path. */
export function catalogPage(pathname: string): CatalogPage {
  const raw = pathname.split('/').filter((part) => part !== '');
  let parts: string[];
  try {
    parts = raw.map((part) => decodeURIComponent(part));
  } catch {
    return { page: 'not-found' };
  }
  const [first, second, third, fourth, fifth] = parts;
  switch (parts.length) {
    case 0:
      return { page: 'search' };
    case 1:
      if (first === 'signin') return { page: 'signin' };
      if (first === 'profiles') return { page: 'profiles' };
      break;
    case 3:
      if (first === 'packs' && second && third) return { page: 'pack', registry: second, name: third };
      if (first === 'profiles' && second === 'system' && third) {
        return { page: 'profile', where: { scope: 'system' }, name: third };
      }
      break;
    case 4:
      if (first === 'profiles' && second === 'tenant' && third && fourth) {
        return { page: 'profile', where: { scope: 'tenant', tenant: third }, name: fourth };
      }
      break;
    case 5:
      if (first === 'profiles' && second === 'project' && third && fourth && fifth) {
        return { page: 'profile', where: { scope: 'project', tenant: third, project: fourth }, name: fifth };
      }
      break;
  }
  return { page: 'not-found' };
}

const seg = encodeURIComponent;

export function packPagePath(registry: string, name: string, version?: string): string {
  const path = `/packs/${seg(registry)}/${seg(name)}`;
  return version === undefined ? path : `${path}?version=${seg(version)}`;
}

export function profilePagePath(where: ProfileScopeRef, name: string): string {
  if (where.scope === 'system') return `/profiles/system/${seg(name)}`;
  if (where.scope === 'tenant') return `/profiles/tenant/${seg(where.tenant)}/${seg(name)}`;
  return `/profiles/project/${seg(where.tenant)}/${seg(where.project)}/${seg(name)}`;
}

/** The API collection of a scope's cluster profiles. */
export function profilesApiPath(where: ProfileScopeRef): string {
  if (where.scope === 'system') return '/v1/cluster-profiles';
  if (where.scope === 'tenant') return `/v1/tenants/${seg(where.tenant)}/cluster-profiles`;
  return `/v1/tenants/${seg(where.tenant)}/projects/${seg(where.project)}/cluster-profiles`;
}
