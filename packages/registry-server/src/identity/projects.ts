/**
 * A tenant's projects. Deleting one first marks it (from then on no lookup finds it, and its name
 * is free for a new one with a new id), then removes what it owns, then drops the mark; a deletion
 * that fails half-way is finished by the next one or by the sweep at start-up (./tenants.ts).
 */
import { registryError } from '../errors.js';
import { exists, projectNotFound } from './identity-errors.js';
import { newId, type ProjectRecord, type TenantRef } from './records.js';
import { liveProjects } from './tenant-state.js';
import {
  liveTenantRef,
  mutateTenant,
  now,
  tenantDirectory,
  type Guard,
  type IdentityContext,
} from './tenant-mutation.js';

/** Removes what each project of the tenant marked as being deleted owns, then the project. */
export async function removeDeletedProjects(context: IdentityContext, ref: TenantRef): Promise<void> {
  const held = context.directory.tenantById(ref.id);
  const doomed = [...(held?.projects.values() ?? [])].filter((p) => p.deletingSince !== undefined);
  for (const project of doomed) {
    for (const owner of context.owners) await owner.removeProject(ref.id, project.id);
    await context.directory.changeTenant(ref, (draft) => draft.remove('projects', project.id));
  }
}

export function projectOperations(context: IdentityContext) {
  return {
    project(tenant: string, name: string): ProjectRecord {
      const found = tenantDirectory(context, tenant).index.projects.get(name);
      if (!found) throw projectNotFound(name);
      return found;
    },

    /** The tenant's projects, but those being deleted. */
    projects(tenant: string): ProjectRecord[] {
      return liveProjects(tenantDirectory(context, tenant));
    },

    createProject(tenant: string, input: { name: string; description?: string | null }, by: string) {
      return mutateTenant(context, tenant, (draft) => {
        if (draft.index.projects.has(input.name)) throw exists('project', input.name);
        const record: ProjectRecord = {
          id: newId('pj'),
          name: input.name,
          description: input.description ?? '',
          createdAt: now(),
          createdBy: by,
        };
        draft.put('projects', record);
        return record;
      });
    },

    updateProject(tenant: string, name: string, changes: { description?: string | null }) {
      return mutateTenant(context, tenant, (draft) => {
        const current = draft.index.projects.get(name);
        if (!current) throw projectNotFound(name);
        const record = { ...current };
        if (changes.description !== undefined && changes.description !== null) record.description = changes.description;
        draft.put('projects', record);
        return record;
      });
    },

    /** Marks the project (its bindings go in the same swap), then removes what it owns. */
    async deleteProject(tenant: string, name: string, hasRegistries: boolean, guard?: Guard): Promise<void> {
      if (hasRegistries) {
        throw registryError('PROJECT_NOT_EMPTY', `project ${name} still owns registries`);
      }
      const ref = liveTenantRef(context, tenant);
      await mutateTenant(
        context,
        tenant,
        (draft) => {
          const record = draft.index.projects.get(name);
          if (!record) throw projectNotFound(name);
          const bindings = [...draft.bindings.values()].filter((b) => b.project === name).map((b) => b.id);
          draft.put('projects', { ...record, deletingSince: now() });
          for (const id of bindings) draft.remove('bindings', id);
        },
        guard,
      );
      await removeDeletedProjects(context, ref);
    },
  };
}
