/** Role bindings: a role given to a user or team, tenant-wide or in one project. */
import { randomBytes } from 'node:crypto';
import { registryError } from '../errors.js';
import { bindingNotFound, projectNotFound, roleNotFound, teamNotFound, userNotFound } from './identity-errors.js';
import type { RoleBinding, Subject } from './records.js';
import { findRole } from './roles.js';
import { subjectKey } from './tenant-state.js';
import { mutateTenant, now, tenantDirectory, type Guard, type IdentityContext } from './tenant-mutation.js';

export interface NewBinding {
  role: string;
  subject: Subject;
  project?: string | null;
}

export function bindingOperations(context: IdentityContext) {
  return {
    createBinding(
      tenant: string,
      input: NewBinding,
      by: string,
      guard?: Guard,
    ): Promise<{ binding: RoleBinding; created: boolean }> {
      return mutateTenant(
        context,
        tenant,
        (draft) => {
          const role = findRole(draft, input.role);
          if (!role) throw roleNotFound(input.role);
          const project = input.project ?? null;
          if (role.scope === 'system' || (role.scope === 'project') !== (project !== null)) {
            throw registryError(
              'ROLE_SCOPE_MISMATCH',
              `${role.name} is a ${role.scope} role: it can be bound ${role.scope === 'project' ? 'only in a project' : 'only tenant-wide'}`,
              { hint: role.scope === 'project' ? 'pass "project"' : 'leave "project" out' },
            );
          }
          if (project !== null && !draft.index.projects.has(project)) throw projectNotFound(project);
          const { subject } = input;
          if (subject.kind === 'user' && !draft.users.has(subject.name)) throw userNotFound(subject.name);
          if (subject.kind === 'team' && !draft.teams.has(subject.name)) throw teamNotFound(subject.name);
          const held = draft.index.bindingsOf.get(subjectKey(subject))?.values() ?? [];
          const same = [...held].find((b) => b.role.toLowerCase() === role.name.toLowerCase() && b.project === project);
          if (same) return { binding: same, created: false };
          const binding: RoleBinding = {
            id: randomBytes(6).toString('hex'),
            role: role.name,
            subject: { kind: subject.kind, name: subject.name },
            project,
            createdAt: now(),
            createdBy: by,
          };
          draft.put('bindings', binding);
          return { binding, created: true };
        },
        guard,
      );
    },

    binding(tenant: string, id: string): RoleBinding {
      const found = tenantDirectory(context, tenant).bindings.get(id);
      if (!found) throw bindingNotFound(id);
      return found;
    },

    deleteBinding(tenant: string, id: string, guard?: Guard) {
      return mutateTenant(
        context,
        tenant,
        (draft) => {
          if (!draft.remove('bindings', id)) throw bindingNotFound(id);
        },
        guard,
      );
    },
  };
}
