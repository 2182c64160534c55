/** A tenant's teams: named groups of its users, bound to roles like users are (./bindings.ts). */
import { exists, teamNotFound, userNotFound } from './identity-errors.js';
import type { TeamRecord, TenantDirectory } from './records.js';
import { mutateTenant, now, tenantDirectory, type Guard, type IdentityContext } from './tenant-mutation.js';

function checkMembers(draft: TenantDirectory, members: string[]): string[] {
  const unknown = members.filter((m) => !draft.users.some((u) => u.username === m));
  if (unknown.length > 0) throw userNotFound(unknown.join(', '));
  return [...new Set(members)].sort();
}

export function teamOperations(context: IdentityContext) {
  return {
    team(tenant: string, name: string): TeamRecord {
      const found = tenantDirectory(context, tenant).teams.find((t) => t.name === name);
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
          if (draft.teams.some((t) => t.name === input.name)) throw exists('team', input.name);
          const members = checkMembers(draft, input.members ?? []);
          const record: TeamRecord = {
            name: input.name,
            description: input.description ?? '',
            members,
            createdAt: now(),
            createdBy: by,
          };
          draft.teams.push(record);
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
          const record = draft.teams.find((t) => t.name === name);
          if (!record) throw teamNotFound(name);
          if (changes.description !== undefined && changes.description !== null) {
            record.description = changes.description;
          }
          if (changes.members) record.members = checkMembers(draft, changes.members);
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
          if (!draft.teams.some((t) => t.name === name)) throw teamNotFound(name);
          draft.teams = draft.teams.filter((t) => t.name !== name);
          draft.bindings = draft.bindings.filter((b) => !(b.subject.kind === 'team' && b.subject.name === name));
        },
        guard,
      );
    },
  };
}
