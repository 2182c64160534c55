/**
 * Tenants (the system operator's). Deleting one first marks it in the system document (from then
 * on no lookup finds it, and its name is free for a new one with a new id), then removes what it
 * owns, then drops the mark. A deletion that fails half-way is finished by the next deletion or by
 * the sweep at start-up.
 */
import { registryError } from '../errors.js';
import { readJson } from '../storage/json-documents.js';
import {
  identityJournalPrefix,
  identitySystemKey,
  identityTenantsPrefix,
  parseIdentityJournalKey,
  tenantIdOfKey,
} from '../storage/layout.js';
import { exists, tenantNotFound } from './identity-errors.js';
import { removeDeletedProjects } from './projects.js';
import { newId, normaliseSystem, type SystemDirectory, type TenantRef } from './records.js';
import type { TenantDirectory } from './tenant-state.js';
import { liveTenantRef, now, tenantDirectory, type IdentityContext } from './tenant-mutation.js';
import { releaseUsername } from './users.js';

/**
 * Removes what a tenant owns (its users' login names, its owners' data, its document), then its
 * entry in the system document. Every step may be repeated: a deletion that failed half-way is
 * finished by running this again.
 */
async function removeTenant(context: IdentityContext, id: string): Promise<void> {
  const { directory } = context;
  const stored = await directory.readTenant(id);
  for (const user of stored?.users.values() ?? []) await releaseUsername(context, user.username, id);
  for (const owner of context.owners) await owner.removeTenant(id);
  await directory.deleteTenantDocument(id);
  await directory.updateSystem((system) => {
    if (!system.tenants.some((t) => t.id === id)) return undefined;
    return { ...system, tenants: system.tenants.filter((t) => t.id !== id), revision: system.revision + 1 };
  });
}

function listTenants(context: IdentityContext): TenantRef[] {
  return context.directory.systemDirectory().tenants.filter((t) => t.deletingSince === undefined);
}

/**
 * Finishes deletions left half-done: tenants and projects marked as being deleted, and tenant
 * documents the system no longer lists (a deletion by an older version that failed after the
 * system document changed). Failures are logged and left for the next sweep.
 */
async function sweep(context: IdentityContext): Promise<void> {
  const attempt = async (what: string, work: () => Promise<void>) => {
    try {
      await work();
    } catch (err) {
      context.logger?.warn({ err }, `could not finish deleting ${what}; the next sweep tries again`);
    }
  };
  for (const ref of context.directory.deletingTenants())
    await attempt(`tenant ${ref.name}`, () => removeTenant(context, ref.id));
  // Listed before the system document is read: a document listed was written after its tenant
  // was added there (createTenant writes the system first), so a live one is never taken for a leftover.
  const documents = new Set<string>();
  for await (const object of context.store.list(identityTenantsPrefix())) documents.add(tenantIdOfKey(object.key));
  for await (const object of context.store.list(identityJournalPrefix())) {
    const parsed = parseIdentityJournalKey(object.key);
    if (parsed) documents.add(parsed.tenantId);
  }
  const system = await readJson<SystemDirectory>(context.store, identitySystemKey());
  const listed = new Set(
    normaliseSystem(system?.value ?? { tenants: [], operators: [], revision: 0 }).tenants.map((t) => t.id),
  );
  for (const id of [...documents].filter((d) => !listed.has(d)))
    await attempt(`tenant ${id}`, () => removeTenant(context, id));
  for (const ref of listTenants(context)) {
    await attempt(`the projects of tenant ${ref.name}`, () => removeDeletedProjects(context, ref));
  }
}

export function tenantOperations(context: IdentityContext) {
  const { directory } = context;
  return {
    tenant(name: string): TenantDirectory {
      return tenantDirectory(context, name);
    },

    listTenants(): TenantRef[] {
      return listTenants(context);
    },

    async createTenant(input: { name: string; displayName?: string | null }): Promise<TenantRef> {
      const ref: TenantRef = {
        id: newId('tn'),
        name: input.name,
        displayName: input.displayName ?? input.name,
        createdAt: now(),
      };
      await directory.updateSystem((system) => {
        // A tenant being deleted does not hold its name any more.
        if (system.tenants.some((t) => t.name === input.name && t.deletingSince === undefined)) {
          throw exists('tenant', input.name);
        }
        return { ...system, tenants: [...system.tenants, ref], revision: system.revision + 1 };
      });
      return ref;
    },

    async deleteTenant(name: string, hasRegistries: boolean): Promise<void> {
      const ref = liveTenantRef(context, name);
      if (hasRegistries) {
        throw registryError('TENANT_NOT_EMPTY', `tenant ${name} still owns registries`);
      }
      await directory.updateSystem((system) => {
        const found = system.tenants.find((t) => t.id === ref.id);
        if (!found) throw tenantNotFound(name);
        if (found.deletingSince !== undefined) return undefined;
        found.deletingSince = now();
        return { ...system, revision: system.revision + 1 };
      });
      await removeTenant(context, ref.id);
      await sweep(context);
    },

    sweep(): Promise<void> {
      return sweep(context);
    },
  };
}
