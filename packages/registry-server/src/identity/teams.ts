/** A tenant's teams: named groups of its users, bound to roles like users are (./bindings.ts). */
import { exists, teamNotFound, userNotFound } from './identity-errors.js';
import type { TeamRecord } from './records.js';
import type { TenantDirectory } from './tenant-state.js';
import { mutateTenant, now, tenantDirectory, type Guard, type IdentityContext } from './tenant-mutation.js';
import { subjectKey } from './tenant-state.js';

function checkMembers(draft: TenantDirectory, members: string[]): string[] {
  const unknown = members.filter((m) => !draft.users.has(m));
  if (unknown.length > 0) throw userNotFound(unknown.join(', '));
  return [...new Set(members)].sort();
}

export function teamOperations(context: IdentityContext) {
  return {
    team(tenant: string, name: string): TeamRecord {
      const found = tenantDirectory(context, tenant).teams.get(name);
      if (!found) throw teamNotFound(name);
      return found;
    },

    createTeam(
      tenant: string,
      input: { name: string; description?: string | null; members?: string[] | null },
      by: string,
      guard?: Guard,
    ) {
      return mutateTenant(
        context,
        tenant,
        (draft) => {
          if (draft.teams.has(input.name)) throw exists('team', input.name);
          const members = checkMembers(draft, input.members ?? []);
          const record: TeamRecord = {
            name: input.name,
            description: input.description ?? '',
            members,
            createdAt: now(),
            createdBy: by,
          };
          draft.put('teams', record);
          return record;
        },
        guard,
      );
    },

    updateTeam(
      tenant: string,
      name: string,
      changes: { description?: string | null; members?: string[] | null },
      guard?: Guard,
    ) {
      return mutateTenant(
        context,
        tenant,
        (draft) => {
          const current = draft.teams.get(name);
          if (!current) throw teamNotFound(name);
          const record = { ...current };
          if (changes.description !== undefined && changes.description !== null) {
            record.description = changes.description;
          }
          if (changes.members) record.members = checkMembers(draft, changes.members);
          draft.put('teams', record);
          return record;
        },
        guard,
      );
    },

    deleteTeam(tenant: string, name: string, guard?: Guard) {
      return mutateTenant(
        context,
        tenant,
        (draft) => {
          if (!draft.teams.has(name)) throw teamNotFound(name);
          const bindings = [...(draft.index.bindingsOf.get(subjectKey({ kind: 'team', name }))?.keys() ?? [])];
          draft.remove('teams', name);
          for (const id of bindings) draft.remove('bindings', id);
        },
        guard,
      );
    },
  };
}
