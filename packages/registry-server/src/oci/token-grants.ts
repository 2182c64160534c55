/**
 * What a registry token grants: for each resource a client asks for, the actions the caller may
 * actually do there, decided by the same AccessControl and the same namespace mapping as the /v2
 * routes, so that a token never says more than the routes would allow.
 *
 * - `repository:NAME:pull` needs the registry read (pack.get: anonymous only on a public system
 *   registry when anonymous reads are on); `push` needs packRegistry.update (pack.publish);
 *   `delete` packRegistry.update too (pack.delete). `*` asks for all three.
 * - A name that maps onto no registry, or onto one hidden from the caller (another tenant's),
 *   grants nothing: the token answers as if it did not exist, like the routes (NAME_UNKNOWN).
 * - `registry:catalog:*`: every caller, anonymous included; the catalog lists only the
 *   repositories the caller may read.
 */
import type { AccessControl, RegistryAction } from '../access/authorize.js';
import type { RegistryRecord } from '../catalog/records.js';
import type { Principal } from '../identity/principals.js';
import { isRepositoryName } from './oci-names.js';
import { accessGrants, askedRepositoryActions, type RepositoryAction, type ResourceAccess } from './registry-token.js';

const REGISTRY_ACTION: Record<RepositoryAction, RegistryAction> = {
  pull: 'pack.get',
  push: 'pack.publish',
  delete: 'pack.delete',
};

/** Finds the registry an OCI repository name lives in; null when it maps onto none. */
export type RepositoryRegistry = (name: string) => RegistryRecord | null;

function granted(
  access: AccessControl,
  principal: Principal,
  asked: ResourceAccess,
  registryOf: RepositoryRegistry,
): ResourceAccess {
  if (asked.type === 'registry') {
    const catalog = asked.name === 'catalog' && asked.actions.includes('*');
    return { ...asked, actions: catalog ? ['*'] : [] };
  }
  if (asked.type !== 'repository') return { ...asked, actions: [] };
  // A name outside the OCI grammar is no repository (resolveNamespace expects a checked one).
  const registry = isRepositoryName(asked.name) ? registryOf(asked.name) : null;
  const actions = registry
    ? askedRepositoryActions(asked.actions).filter((a) => access.canOnRegistry(principal, REGISTRY_ACTION[a], registry))
    : [];
  return { type: 'repository', name: asked.name, actions };
}

/**
 * The access list of a token for `principal` asking for `scopes`; `limit` is the access list of
 * the registry token the request came with, if any (a token is never exchanged for a wider one).
 * Resources asked for twice are merged; a resource granted nothing stays, with no actions, as
 * Docker's token server answers.
 */
export function grantAccess(options: {
  access: AccessControl;
  principal: Principal;
  scopes: readonly ResourceAccess[];
  registryOf: RepositoryRegistry;
  limit: readonly ResourceAccess[] | null;
}): ResourceAccess[] {
  const merged = new Map<string, ResourceAccess>();
  for (const scope of options.scopes) {
    const key = `${scope.type}:${scope.name}`;
    const before = merged.get(key);
    merged.set(key, before ? { ...before, actions: [...new Set([...before.actions, ...scope.actions])] } : scope);
  }
  return [...merged.values()].map((scope) => {
    const result = granted(options.access, options.principal, scope, options.registryOf);
    const { limit } = options;
    if (limit === null) return result;
    return { ...result, actions: result.actions.filter((a) => accessGrants(limit, result.type, result.name, a)) };
  });
}
