/**
 * Where a pack version is found through OCI (what Palette and `oras pull` are given), for packctl
 * and the web catalog alike: the server's host, the registry's namespace,
 * `spectro-packs/archive/<name>`, and the version as the tag. The namespace is the registry's scope
 * path, as the server maps OCI names (see the README's OCI section): `public` is `public`, a tenant
 * registry `<tenant>/<registry>`, a project registry `<tenant>/<project>/<registry>`.
 */
import type { Registry } from './schemas/packs.js';

/** The part of a registry that places it in the OCI names. */
export type RegistryPlace = Pick<Registry, 'name' | 'scope' | 'tenant' | 'project'>;

/**
 * The OCI namespace of a registry: its scope path, then its name.
 *
 * @example
 * ociNamespace({ name: 'acme-packs', scope: 'tenant', tenant: 'acme', project: null }); // 'acme/acme-packs'
 */
export function ociNamespace(registry: RegistryPlace): string {
  if (registry.scope === 'system' || registry.tenant === null) return registry.name;
  if (registry.scope === 'project' && registry.project !== null) {
    return `${registry.tenant}/${registry.project}/${registry.name}`;
  }
  return `${registry.tenant}/${registry.name}`;
}

/**
 * The OCI tag of a pack version: the version, with a build's `+` as `_` (OCI tags have no `+`;
 * Helm writes chart versions the same way). Versions hold no `_`, so the tag names one version.
 *
 * @example
 * ociTagOf('1.27.2+k3s1'); // '1.27.2_k3s1'
 */
export function ociTagOf(version: string): string {
  return version.replaceAll('+', '_');
}

/** The pack version an OCI tag names (see {@link ociTagOf}). */
export function versionOfOciTag(tag: string): string {
  return tag.replaceAll('_', '+');
}

/**
 * The OCI reference of a pack version on the server at `host` (its host and port, as a URL's
 * `host` gives them: OCI names carry no scheme).
 *
 * @example
 * ociReference(new URL('https://packs.example.com').host, publicRegistry, 'cni-calico', '3.27.2');
 * // 'packs.example.com/public/spectro-packs/archive/cni-calico:3.27.2'
 */
export function ociReference(host: string, registry: RegistryPlace, name: string, version: string): string {
  return `${host}/${ociNamespace(registry)}/spectro-packs/archive/${name}:${ociTagOf(version)}`;
}
