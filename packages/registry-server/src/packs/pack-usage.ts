/**
 * Who uses a version of a pack, as far as the caller may see:
 *
 * - the cluster profiles of the scopes the caller may list profiles in (system for every signed-in
 *   caller; their tenant and projects where they hold clusterProfile.list; every scope for an
 *   operator) that select this very version: the entry names the pack, the first registry of the
 *   entry's or profile's order holding the pack (among those the caller may read) is this one, and
 *   its selector resolves to this version there, as the resolver would choose it today;
 * - the packs, in registries the caller may read, whose constraints name this pack: each pack's
 *   latest live version that names it, with the kind and version range, and whether this version
 *   falls in that range.
 *
 * Dependents come from the catalog in memory; profiles are listed from storage, and read only when
 * they changed since this process last did (ProfileService.selections).
 */
import { registriesOf, withinBounds } from '@packyard/pack-core';
import type { PackUsage } from '@packyard/registry-api';
import type { Principal, Target } from '../identity/principals.js';
import { liveProjects } from '../identity/tenant-state.js';
import type { RegistryRecord, VersionRecord } from '../catalog/records.js';
import type { RegistryServices } from '../services.js';

type UsageServices = Pick<RegistryServices, 'catalog' | 'access' | 'directory' | 'profiles'>;

/** The scopes whose own profiles the caller may list. */
export function profileScopesOf(services: UsageServices, principal: Principal): Target[] {
  if (principal.kind === 'anonymous') return [];
  const scopes: Target[] = [{ scope: 'system' }];
  const tenants =
    principal.kind === 'user'
      ? [principal.tenant]
      : services.directory
          .systemDirectory()
          .tenants.filter((ref) => ref.deletingSince === undefined)
          .map((ref) => ref.name);
  for (const tenant of tenants) {
    const target: Target = { scope: 'tenant', tenant };
    if (services.access.can(principal, 'clusterProfile.list', target)) scopes.push(target);
    const directory = services.directory.tenant(tenant);
    for (const project of directory ? liveProjects(directory) : []) {
      const projectTarget: Target = { scope: 'project', tenant, project: project.name };
      if (services.access.can(principal, 'clusterProfile.list', projectTarget)) scopes.push(projectTarget);
    }
  }
  return scopes;
}

export async function packUsage(
  services: UsageServices,
  principal: Principal,
  record: VersionRecord,
): Promise<PackUsage> {
  const index = services.catalog.index;
  const readable = new Map<string, boolean>();
  const mayRead = (name: string): boolean => {
    let known = readable.get(name);
    if (known === undefined) {
      const registry: RegistryRecord | undefined = index.registry(name);
      known = registry !== undefined && services.access.canOnRegistry(principal, 'pack.get', registry);
      readable.set(name, known);
    }
    return known;
  };

  const profiles: PackUsage['profiles'] = [];
  for (const scope of profileScopesOf(services, principal)) {
    for await (const stored of services.profiles.selections(scope)) {
      const { profile } = stored;
      for (const entry of profile.packs) {
        if (entry.name !== record.name) continue;
        const from = registriesOf(profile, entry).find(
          (registry) => mayRead(registry) && index.hasPack(registry, entry.name),
        );
        if (from !== record.registry) continue;
        const chosen = index.resolve(from, entry.name, entry.version);
        if (chosen?.version !== record.version || chosen.deleted) continue;
        profiles.push({
          scope: stored.scope,
          tenant: stored.tenant,
          project: stored.project,
          name: profile.name,
          version: profile.version,
          selector: entry.version,
        });
      }
    }
  }

  const dependents: PackUsage['dependents'] = [];
  for (const summary of index.dependents(record.name)) {
    if (!mayRead(summary.registry)) continue;
    for (const dependency of summary.dependencies) {
      if (dependency.packName !== record.name) continue;
      dependents.push({
        registry: summary.registry,
        name: summary.name,
        displayName: summary.displayName,
        version: summary.version,
        type: dependency.type ?? null,
        minVersion: dependency.minVersion ?? null,
        maxVersion: dependency.maxVersion ?? null,
        includes: withinBounds(record.version, dependency.minVersion, dependency.maxVersion),
      });
    }
  }
  return { profiles, dependents };
}
