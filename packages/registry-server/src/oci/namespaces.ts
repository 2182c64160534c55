/**
 * Where an OCI repository name lives: which Packyard registry, and which repository inside it.
 *
 * The scheme: a system registry (`public`) is `<registry>/...`, a tenant registry
 * `<tenant>/<registry>/...`, a project registry `<tenant>/<project>/<registry>/...`. Registry names
 * are globally unique, so the 1st, 2nd and 3rd segments are the only candidates; one matches when
 * its scope path equals the segments before it. The longest match wins (project over tenant over
 * system), so a tenant's namespace always reaches the tenant's own registries; the rest of the
 * name, at least one segment, is the repository inside the registry.
 */
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
  // Longest first: a project registry, then a tenant's, then a system one.
  for (let at = Math.min(2, segments.length - 2); at >= 0; at--) {
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
