/**
 * No escalation, in one place. Besides holding the route's own permission, nobody but the system
 * operator may:
 *
 * - hand out, through a binding or a custom role, a permission they do not hold in its scope;
 * - change who holds such a permission in any other way: deleting a binding, adding a member to
 *   a team or removing one, deleting a team (team membership is a binding, held through the
 *   team's roles);
 * - act on another user (their password, API keys, enabled state, name, deletion, bindings, team
 *   memberships) unless they hold every permission that user holds, tenant-wide and in each
 *   project where the user holds one; otherwise a user admin could become a Tenant Admin by
 *   resetting the Tenant Admin's password.
 *
 * Each check reads the revision of the tenant being changed (a Guard, run by mutateTenant), and
 * runs again when another change took that revision first, so a concurrent change cannot slip a
 * stronger role in between check and write.
 */
import type { TenantDirectory } from '../identity/tenant-state.js';
import { perVersion, subjectKey, tenantIndex } from '../identity/tenant-state.js';
import type { Principal } from '../identity/principals.js';
import type { RoleBinding, UserRecord } from '../identity/records.js';
import { isPermission } from '../identity/permissions.js';
import { findRole } from '../identity/roles.js';
import { userAccess, type UserAccess } from './authorize.js';
import { registryError } from '../errors.js';

const NOTHING: UserAccess = {
  tenantPermissions: new Set(),
  projectPermissions: new Map(),
  associatedProjects: new Set(),
};

/** What a principal holds in the draft's tenant; null for the operator (everything). */
function accessIn(principal: Principal, draft: TenantDirectory): UserAccess | null {
  if (principal.kind === 'operator') return null;
  if (principal.kind !== 'user' || principal.tenant !== draft.tenant.name) return NOTHING;
  const user = tenantIndex(draft).usersByName.get(principal.username);
  return user && !user.disabled ? userAccess(draft, principal.username) : NOTHING;
}

function holds(access: UserAccess | null, permission: string, project: string | null): boolean {
  if (access === null || access.tenantPermissions.has(permission)) return true;
  return project !== null && (access.projectPermissions.get(project)?.has(permission) ?? false);
}

function listed(permissions: readonly string[]): string {
  return `${permissions.slice(0, 5).join(', ')}${permissions.length > 5 ? ', ...' : ''}`;
}

/**
 * Where a permission is held, as the caller may be told: a project by its name only to whom may
 * list it (project.list tenant-wide, or associated with it); a refusal must not name projects,
 * roles or bindings the caller cannot see otherwise.
 */
function where(project: string | null, access: UserAccess | null): string {
  if (project === null) return 'tenant-wide';
  const visible =
    access === null || access.tenantPermissions.has('project.list') || access.associatedProjects.has(project);
  return visible ? `in project ${project}` : 'in a project';
}

/** A role's name, as the caller may be told: to whom may list roles (role.list tenant-wide). */
function roleName(role: string, access: UserAccess | null): string {
  return access === null || access.tenantPermissions.has('role.list') ? role : 'a role';
}

/**
 * Refuses unless the principal holds every one of `permissions` in the scope (tenant-wide, or
 * the project); `what` names the change ("granting Tenant Admin").
 */
export function refuseEscalation(
  principal: Principal,
  draft: TenantDirectory,
  check: { permissions: readonly string[]; project: string | null; what: string },
): void {
  const access = accessIn(principal, draft);
  // Unknown permissions are the service's to refuse (ROLE_INVALID), with a better message.
  const missing = check.permissions.filter((p) => isPermission(p) && !holds(access, p, check.project));
  if (missing.length === 0) return;
  throw registryError(
    'ROLE_ESCALATION',
    `${check.what} involves permissions you do not hold ${where(check.project, access)}: ${listed(missing)}`,
    {},
  );
}

/** Refuses unless the principal holds every permission of the role a binding gives, where it gives it. */
export function refuseBindingChange(
  principal: Principal,
  draft: TenantDirectory,
  binding: { role: string; project: string | null },
  what: string,
): void {
  const role = findRole(draft, binding.role);
  if (!role) return;
  refuseEscalation(principal, draft, { permissions: role.permissions, project: binding.project, what });
}

/** The permissions `username` holds that the principal does not, as a refusal names them. */
function missingToActOn(principal: Principal, draft: TenantDirectory, username: string): string[] {
  if (principal.kind === 'user' && principal.tenant === draft.tenant.name && principal.username === username) return [];
  const access = accessIn(principal, draft);
  if (access === null) return [];
  const target = userAccess(draft, username);
  const missing: string[] = [];
  for (const p of target.tenantPermissions) if (!holds(access, p, null)) missing.push(`${p} tenant-wide`);
  for (const [project, permissions] of target.projectPermissions) {
    for (const p of permissions) if (!holds(access, p, project)) missing.push(`${p} ${where(project, access)}`);
  }
  return missing;
}

/** Whether a maker still outranks an owner, per version of the tenant's records and maker>owner ids. */
const outranking = new WeakMap<object, Map<string, boolean>>();

/**
 * Whether the user `makerId` still holds every permission the user `owner` holds: a credential one
 * user made for another (an API key, a password set for them) is worth no more than its maker,
 * whatever the owner is given later, or the maker loses (../identity/sessions.ts). A maker deleted
 * or disabled holds nothing: their credentials keep working only for owners who hold nothing.
 */
export function makerStillOutranks(draft: TenantDirectory, makerId: string, owner: UserRecord): boolean {
  return perVersion(outranking, draft, `${makerId}>${owner.id}`, () => {
    // A maker deleted or disabled since holds nothing (no username is empty: accessIn finds nobody).
    const maker = tenantIndex(draft).usersById.get(makerId);
    const principal: Principal = { kind: 'user', tenant: draft.tenant.name, username: maker?.username ?? '' };
    return missingToActOn(principal, draft, owner.username).length === 0;
  });
}

/** Refuses unless the principal holds every permission `username` holds, wherever they hold it. */
export function refuseActingOn(principal: Principal, draft: TenantDirectory, username: string, what: string): void {
  const missing = missingToActOn(principal, draft, username);
  if (missing.length === 0) return;
  throw registryError(
    'USER_OUTRANKS_CALLER',
    `${username} holds permissions you do not hold (${listed(missing)}): you cannot ${what}`,
    {},
  );
}

/**
 * A binding given or taken away: the caller must hold its role there, and hold every permission of
 * whoever it binds (the user, or each member of the team: taking a team's binding away takes the
 * role from its members as removing them from the team would).
 */
export function refuseBindingEdit(
  principal: Principal,
  draft: TenantDirectory,
  binding: Pick<RoleBinding, 'role' | 'project' | 'subject'>,
  what: string,
): void {
  refuseBindingChange(principal, draft, binding, what);
  const { subject } = binding;
  if (subject.kind === 'user') {
    refuseActingOn(principal, draft, subject.name, what);
    return;
  }
  for (const member of draft.teams.get(subject.name)?.members ?? []) {
    refuseActingOn(principal, draft, member, `${what} (${member} holds it through team ${subject.name})`);
  }
}

/** Deleting a project deletes every binding in it: each as if it were deleted on its own. */
export function refuseProjectDeletion(principal: Principal, draft: TenantDirectory, project: string): void {
  for (const binding of draft.bindings.values()) {
    if (binding.project === project) refuseBindingEdit(principal, draft, binding, `deleting project ${project}`);
  }
}

/** Every binding of the team, as if each were created or deleted. */
function refuseTeamBindings(principal: Principal, draft: TenantDirectory, team: string, what: string): void {
  const access = accessIn(principal, draft);
  for (const binding of tenantIndex(draft)
    .bindingsOf.get(subjectKey({ kind: 'team', name: team }))
    ?.values() ?? []) {
    refuseBindingChange(
      principal,
      draft,
      binding,
      `${what} (the team holds ${roleName(binding.role, access)} ${where(binding.project, access)})`,
    );
  }
}

/**
 * Adding members to a team or removing them: the team's roles must be the caller's to give and
 * take away, and each member added or removed must not outrank the caller.
 */
export function refuseMembershipChange(
  principal: Principal,
  draft: TenantDirectory,
  change: { team: string; before: readonly string[]; after: readonly string[] },
): void {
  const before = new Set(change.before);
  const after = new Set(change.after);
  const added = [...after].filter((m) => !before.has(m));
  const removed = [...before].filter((m) => !after.has(m));
  if (added.length === 0 && removed.length === 0) return;
  refuseTeamBindings(principal, draft, change.team, `changing the members of team ${change.team}`);
  for (const member of added) refuseActingOn(principal, draft, member, `add ${member} to team ${change.team}`);
  for (const member of removed) refuseActingOn(principal, draft, member, `remove ${member} from team ${change.team}`);
}

/** Deleting a team deletes its bindings and every membership in it. */
export function refuseTeamDeletion(principal: Principal, draft: TenantDirectory, team: string): void {
  refuseTeamBindings(principal, draft, team, `deleting team ${team}`);
  const members = draft.teams.get(team)?.members ?? [];
  for (const member of members)
    refuseActingOn(principal, draft, member, `delete team ${team}, of which ${member} is a member`);
}
