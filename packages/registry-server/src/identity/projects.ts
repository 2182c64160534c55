/**
 * A tenant's projects. Deleting one first marks it (from then on no lookup finds it, and its name
 * is free for a new one with a new id), then removes what it owns, then drops the mark; a deletion
 * that fails half-way is finished by the next one or by the sweep at start-up (./tenants.ts).
 */
import { registryError } from '../errors.js';
import { exists, projectNotFound } from './identity-errors.js';
import { liveProjects, newId, type ProjectRecord, type TenantRef } from './records.js';
import { tenantIndex } from './tenant-index.js';
import { liveTenantRef, mutateTenant, now, tenantDirectory, type IdentityContext } from './tenant-mutation.js';

/** Removes what each project of the tenant marked as being deleted owns, then the project. */
export async function removeDeletedProjects(context: IdentityContext, ref: TenantRef): Promise<void> {
  const doomed = context.directory.tenantById(ref.id)?.projects.filter((p) => p.deletingSince !== undefined) ?? [];
  for (const project of doomed) {
    for (const owner of context.owners) await owner.removeProject(ref.id, project.id);
    await context.directory.updateTenant(ref, (draft) => {
      if (!draft.projects.some((p) => p.id === project.id)) return undefined;
      draft.projects = draft.projects.filter((p) => p.id !== project.id);
      draft.revision += 1;
      return draft;
    });
  }
}

export function projectOperations(context: IdentityContext) {
  return {
    project(tenant: string, name: string): ProjectRecord {
      const found = tenantIndex(tenantDirectory(context, tenant)).projects.get(name);
      if (!found) throw projectNotFound(name);
      return found;
    },

    /** The tenant's projects, but those being deleted. */
    projects(tenant: string): ProjectRecord[] {
      return liveProjects(tenantDirectory(context, tenant));
    },

    createProject(tenant: string, input: { name: string; description?: string | null }, by: string) {
      return mutateTenant(context, tenant, (draft) => {
        if (liveProjects(draft).some((p) => p.name === input.name)) throw exists('project', input.name);
        const record: ProjectRecord = {
          id: newId('pj'),
          name: input.name,
          description: input.description ?? '',
          createdAt: now(),
          createdBy: by,
        };
        draft.projects.push(record);
        return record;
      });
    },

    updateProject(tenant: string, name: string, changes: { description?: string | null }) {
      return mutateTenant(context, tenant, (draft) => {
        const record = liveProjects(draft).find((p) => p.name === name);
        if (!record) throw projectNotFound(name);
        if (changes.description !== undefined && changes.description !== null) record.description = changes.description;
        return record;
      });
    },

    /** Marks the project (its bindings go in the same swap), then removes what it owns. */
    async deleteProject(tenant: string, name: string, hasRegistries: boolean): Promise<void> {
      if (hasRegistries) {
        throw registryError('PROJECT_NOT_EMPTY', `project ${name} still owns registries`);
      }
      const ref = liveTenantRef(context, tenant);
      await mutateTenant(context, tenant, (draft) => {
        const record = liveProjects(draft).find((p) => p.name === name);
        if (!record) throw projectNotFound(name);
        record.deletingSince = now();
        draft.bindings = draft.bindings.filter((b) => b.project !== name);
      });
      await removeDeletedProjects(context, ref);
    },
  };
}
