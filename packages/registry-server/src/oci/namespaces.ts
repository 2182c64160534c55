/**
 * Where an OCI repository name lives: which Packyard registry, and which repository inside it.
 *
 * The scheme: a system registry (`public`) is `<registry>/...`, a tenant registry
 * `<tenant>/<registry>/...`, a project registry `<tenant>/<project>/<registry>/...`. Registry names
 * are globally unique, so the 1st, 2nd and 3rd segments are the only candidates; one matches when
 * its scope path equals the segments before it. The rest of the name, at least one segment, is the
 * repository inside the registry.
 *
 * One name must not sit at one level for two things: tenants and system registries are both first
 * segments, a tenant's registries and its projects both second ones. Creating a tenant, project or
 * registry whose name is held there already is refused ({@link checkNamespaceFree}), so that no
 * one can make a name resolve somewhere else. Should two still meet (created before this rule, or
 * at the same moment on two replicas), the shortest match wins: the system registry over the
 * tenant, the tenant registry over the project. Then whoever creates the lower scope, who holds less
 * (a tenant's administrator under the operator, a project's under the tenant's), can only hide
 * their own new names, never take over names of a scope above.
 */
import type { Target } from '../identity/principals.js';
import { registryError } from '../errors.js';
import type { RegistryRecord } from '../catalog/records.js';

/** A repository name resolved onto a registry. */
export interface OciNamespace {
  registry: RegistryRecord;
  /** The repository inside the registry ("spectro-packs/archive/nginx", "library/alpine"). */
  repository: string;
  /** The full OCI name, as the client wrote it. */
  name: string;
}

/** The path segments that address a registry in the OCI names: its scope path, then its name. */
export function namespaceOf(registry: RegistryRecord): string[] {
  if (registry.scope === 'system' || registry.tenant === null) return [registry.name];
  if (registry.scope === 'project' && registry.project !== null) {
    return [registry.tenant, registry.project, registry.name];
  }
  return [registry.tenant, registry.name];
}

/** The OCI name of a repository of a registry. */
export function ociName(registry: RegistryRecord, repository: string): string {
  return [...namespaceOf(registry), repository].join('/');
}

/**
 * The registry and repository an OCI name (already checked against the grammar) maps onto, or
 * null when none does. `lookup` finds a registry by name (the catalog index); visibility is the
 * caller's to check: a registry hidden from the caller must answer like no registry at all.
 */
export function resolveNamespace(
  name: string,
  lookup: (registry: string) => RegistryRecord | undefined,
): OciNamespace | null {
  const segments = name.split('/');
  // Shortest first: a system registry, then a tenant's, then a project's.
  for (let at = 0; at <= Math.min(2, segments.length - 2); at++) {
    const registry = lookup(segments[at] ?? '');
    if (!registry) continue;
    const scopePath = namespaceOf(registry);
    if (scopePath.length !== at + 1) continue;
    if (scopePath.every((segment, i) => segments[i] === segment)) {
      return { registry, repository: segments.slice(at + 1).join('/'), name };
    }
  }
  return null;
}

/** A tenant, project or registry about to be created, as the OCI names would see it. */
export type NamespaceClaim =
  | { kind: 'tenant'; name: string }
  | { kind: 'project'; tenant: string; name: string }
  | { kind: 'registry'; name: string; target: Target };

/** What holds names already: registries (the catalog index), tenants and projects (identity). */
export interface NamespaceHolders {
  registry(name: string): RegistryRecord | undefined;
  tenantExists(name: string): boolean;
  projectExists(tenant: string, name: string): boolean;
}

/** Throws NAMESPACE_TAKEN when `claim`'s name is held at its level of the OCI names already. */
export function checkNamespaceFree(claim: NamespaceClaim, holders: NamespaceHolders): void {
  const taken = (what: string): never => {
    throw registryError('NAMESPACE_TAKEN', `the name "${claim.name}" is taken in the OCI names by ${what}`);
  };
  if (claim.kind === 'tenant') {
    if (holders.registry(claim.name)?.scope === 'system') taken(`the system registry ${claim.name}`);
    return;
  }
  if (claim.kind === 'project') {
    const registry = holders.registry(claim.name);
    if (registry?.scope === 'tenant' && registry.tenant === claim.tenant) taken(`a registry of tenant ${claim.tenant}`);
    return;
  }
  const { target } = claim;
  if (target.scope === 'system' && holders.tenantExists(claim.name)) taken(`a tenant`);
  if (target.scope === 'tenant' && holders.projectExists(target.tenant, claim.name)) {
    taken(`a project of tenant ${target.tenant}`);
  }
}
