/**
 * Administering who may do what on a registry server: `packctl tenant|project|user|team|role|
 * binding|apikey`, and reading who did what: `packctl audit ls|export`. Each noun is one collection of the identity API (registry-api's typed client);
 * tenant-scoped nouns work in `--tenant`, else in the signed-in user's own tenant (an operator, who
 * has none, names it). Lists are tables, one item is labelled lines, `--format json` prints what
 * the server answered.
 */
import type { ApiKey, AuditPage, Binding, Project, Role, Team, Tenant, User } from '@packyard/registry-api';
import { CliError, EXIT, usageError, type ExitCode } from '../errors.js';
import type { CliIo } from '../io.js';
import { readAllStdin } from '../output/prompt.js';
import { safe } from '../output/sanitise.js';
import {
  pageQuery,
  printJson,
  printJsonLine,
  printList,
  printPage,
  printRecord,
  type OutputFormat,
} from '../output/terminal.js';
import { checkIssuedKey } from '../registry/answers.js';
import { RegistryClient } from '../registry/client.js';

export interface IdentityOptions {
  tenant?: string;
  server?: string;
  config?: string;
  format: OutputFormat;
  /** An `ls`'s page: at most this many, after the previous page's cursor. */
  limit?: string;
  cursor?: string;
}

/** The client and the tenant a tenant-scoped command works in. */
async function inTenant(options: IdentityOptions, io: CliIo): Promise<{ client: RegistryClient; tenant: string }> {
  const client = await RegistryClient.open({ ...options, env: io.env });
  const tenant = options.tenant ?? (await client.whoAmI())?.tenant ?? null;
  if (tenant === null) {
    throw usageError('which tenant?', 'pass --tenant NAME (the system operator belongs to none)');
  }
  return { client, tenant };
}

function printDone(io: CliIo, format: OutputFormat, what: string, json: object): ExitCode {
  if (format === 'json') printJson(io.stdout, json);
  else io.stdout.write(safe`${what}\n`);
  return EXIT.ok;
}

// --- tenants (the system operator's) ------------------------------------------------------------

const tenantFields = (t: Tenant): Array<[string, string]> => [
  ['display name', t.displayName],
  ['id', t.id],
  ['created', t.createdAt],
];

export async function tenantListCommand(options: IdentityOptions, io: CliIo): Promise<ExitCode> {
  const client = await RegistryClient.open({ ...options, env: io.env });
  const page = await client.api.tenants().list('listing the tenants', pageQuery(options));
  const rows = [['NAME', 'DISPLAY NAME', 'CREATED'], ...page.items.map((t) => [t.name, t.displayName, t.createdAt])];
  printPage(io, 'tenant ls', options, page, rows, 'No tenants.');
  return EXIT.ok;
}

export async function tenantShowCommand(name: string, options: IdentityOptions, io: CliIo): Promise<ExitCode> {
  const client = await RegistryClient.open({ ...options, env: io.env });
  const tenant = await client.api.tenants().get(name, `looking up tenant ${name}`);
  printRecord(io, options.format, tenant, tenant.name, tenantFields(tenant));
  return EXIT.ok;
}

export async function tenantCreateCommand(
  name: string,
  options: IdentityOptions & { displayName?: string },
  io: CliIo,
): Promise<ExitCode> {
  const client = await RegistryClient.open({ ...options, env: io.env });
  const body = { name, ...(options.displayName === undefined ? {} : { displayName: options.displayName }) };
  const tenant = await client.api.tenants().create(body, `creating tenant ${name}`);
  printRecord(io, options.format, tenant, `created tenant ${tenant.name}`, tenantFields(tenant));
  return EXIT.ok;
}

export async function tenantRemoveCommand(name: string, options: IdentityOptions, io: CliIo): Promise<ExitCode> {
  const client = await RegistryClient.open({ ...options, env: io.env });
  await client.api.tenants().remove(name, `deleting tenant ${name}`);
  return printDone(io, options.format, `deleted tenant ${name}`, { deleted: name });
}

// --- projects -------------------------------------------------------------------------------------

const projectFields = (p: Project): Array<[string, string]> => [
  ['description', p.description],
  ['id', p.id],
  ['created', `${p.createdAt} by ${p.createdBy}`],
];

export async function projectListCommand(options: IdentityOptions, io: CliIo): Promise<ExitCode> {
  const { client, tenant } = await inTenant(options, io);
  const page = await client.api.projects(tenant).list(`listing the projects of ${tenant}`, pageQuery(options));
  const rows = [['NAME', 'DESCRIPTION', 'CREATED'], ...page.items.map((p) => [p.name, p.description, p.createdAt])];
  printPage(io, 'project ls', options, page, rows, `No projects in ${tenant}.`);
  return EXIT.ok;
}

export async function projectShowCommand(name: string, options: IdentityOptions, io: CliIo): Promise<ExitCode> {
  const { client, tenant } = await inTenant(options, io);
  const project = await client.api.projects(tenant).get(name, `looking up project ${name}`);
  printRecord(io, options.format, project, `${tenant}/${project.name}`, projectFields(project));
  return EXIT.ok;
}

export async function projectCreateCommand(
  name: string,
  options: IdentityOptions & { description?: string },
  io: CliIo,
): Promise<ExitCode> {
  const { client, tenant } = await inTenant(options, io);
  const body = { name, ...(options.description === undefined ? {} : { description: options.description }) };
  const project = await client.api.projects(tenant).create(body, `creating project ${name}`);
  printRecord(io, options.format, project, `created project ${tenant}/${project.name}`, projectFields(project));
  return EXIT.ok;
}

export async function projectUpdateCommand(
  name: string,
  options: IdentityOptions & { description?: string },
  io: CliIo,
): Promise<ExitCode> {
  if (options.description === undefined) throw usageError('nothing to change', 'pass --description');
  const { client, tenant } = await inTenant(options, io);
  const project = await client.api
    .projects(tenant)
    .change(name, { description: options.description }, `updating project ${name}`);
  printRecord(io, options.format, project, `updated project ${tenant}/${project.name}`, projectFields(project));
  return EXIT.ok;
}

export async function projectRemoveCommand(name: string, options: IdentityOptions, io: CliIo): Promise<ExitCode> {
  const { client, tenant } = await inTenant(options, io);
  await client.api.projects(tenant).remove(name, `deleting project ${name}`);
  return printDone(io, options.format, `deleted project ${tenant}/${name}`, { deleted: name, tenant });
}

// --- users ----------------------------------------------------------------------------------------

export interface UserOptions extends IdentityOptions {
  displayName?: string;
  passwordStdin?: boolean;
  disable?: boolean;
  enable?: boolean;
}

const userFields = (u: User): Array<[string, string]> => [
  ['display name', u.displayName],
  ['state', u.disabled ? 'disabled' : 'enabled'],
  ['password', u.hasPassword ? 'set' : 'none (API keys only)'],
  ['id', u.id],
  ['created', `${u.createdAt} by ${u.createdBy}`],
];

/** The password piped into stdin (--password-stdin): its first line. */
async function passwordFromStdin(io: CliIo): Promise<string> {
  const password = (await readAllStdin(io)).split(/\r?\n/)[0] ?? '';
  if (password === '') throw usageError('--password-stdin read no password', 'pipe it in: echo "$PASSWORD" | ...');
  return password;
}

export async function userListCommand(options: IdentityOptions, io: CliIo): Promise<ExitCode> {
  const { client, tenant } = await inTenant(options, io);
  const page = await client.api.users(tenant).list(`listing the users of ${tenant}`, pageQuery(options));
  const rows = [
    ['USERNAME', 'DISPLAY NAME', 'STATE', 'PASSWORD', 'CREATED'],
    ...page.items.map((u) => [
      u.username,
      u.displayName,
      u.disabled ? 'disabled' : 'enabled',
      u.hasPassword ? 'set' : 'none',
      u.createdAt,
    ]),
  ];
  printPage(io, 'user ls', options, page, rows, `No users in ${tenant}.`);
  return EXIT.ok;
}

export async function userShowCommand(name: string, options: IdentityOptions, io: CliIo): Promise<ExitCode> {
  const { client, tenant } = await inTenant(options, io);
  const user = await client.api.users(tenant).get(name, `looking up user ${name}`);
  printRecord(io, options.format, user, `${tenant}/${user.username}`, userFields(user));
  return EXIT.ok;
}

export async function userCreateCommand(name: string, options: UserOptions, io: CliIo): Promise<ExitCode> {
  const { client, tenant } = await inTenant(options, io);
  const body = {
    username: name,
    ...(options.displayName === undefined ? {} : { displayName: options.displayName }),
    ...(options.passwordStdin ? { password: await passwordFromStdin(io) } : {}),
  };
  const user = await client.api.users(tenant).create(body, `creating user ${name}`);
  printRecord(io, options.format, user, `created user ${tenant}/${user.username}`, userFields(user));
  return EXIT.ok;
}

export async function userUpdateCommand(name: string, options: UserOptions, io: CliIo): Promise<ExitCode> {
  if (options.disable && options.enable) throw usageError('--disable or --enable, not both');
  const changes = {
    ...(options.displayName === undefined ? {} : { displayName: options.displayName }),
    ...(options.disable ? { disabled: true } : options.enable ? { disabled: false } : {}),
    ...(options.passwordStdin ? { password: await passwordFromStdin(io) } : {}),
  };
  if (Object.keys(changes).length === 0) {
    throw usageError('nothing to change', 'pass --display-name, --disable, --enable or --password-stdin');
  }
  const { client, tenant } = await inTenant(options, io);
  const user = await client.api.users(tenant).change(name, changes, `updating user ${name}`);
  printRecord(io, options.format, user, `updated user ${tenant}/${user.username}`, userFields(user));
  return EXIT.ok;
}

export async function userRemoveCommand(name: string, options: IdentityOptions, io: CliIo): Promise<ExitCode> {
  const { client, tenant } = await inTenant(options, io);
  await client.api.users(tenant).remove(name, `deleting user ${name}`);
  return printDone(io, options.format, `deleted user ${tenant}/${name}`, { deleted: name, tenant });
}

// --- teams ----------------------------------------------------------------------------------------

export interface TeamOptions extends IdentityOptions {
  description?: string;
  /** --member, repeated: the whole member list (an update replaces it). */
  member?: string[];
}

const teamFields = (t: Team): Array<[string, string]> => [
  ['description', t.description],
  ['members', t.members.join(', ') || '(none)'],
  ['created', `${t.createdAt} by ${t.createdBy}`],
];

export async function teamListCommand(options: IdentityOptions, io: CliIo): Promise<ExitCode> {
  const { client, tenant } = await inTenant(options, io);
  const page = await client.api.teams(tenant).list(`listing the teams of ${tenant}`, pageQuery(options));
  const rows = [
    ['NAME', 'MEMBERS', 'DESCRIPTION'],
    ...page.items.map((t) => [t.name, String(t.members.length), t.description]),
  ];
  printPage(io, 'team ls', options, page, rows, `No teams in ${tenant}.`);
  return EXIT.ok;
}

export async function teamShowCommand(name: string, options: IdentityOptions, io: CliIo): Promise<ExitCode> {
  const { client, tenant } = await inTenant(options, io);
  const team = await client.api.teams(tenant).get(name, `looking up team ${name}`);
  printRecord(io, options.format, team, `${tenant}/${team.name}`, teamFields(team));
  return EXIT.ok;
}

export async function teamCreateCommand(name: string, options: TeamOptions, io: CliIo): Promise<ExitCode> {
  const { client, tenant } = await inTenant(options, io);
  const body = {
    name,
    ...(options.description === undefined ? {} : { description: options.description }),
    ...(options.member === undefined ? {} : { members: options.member }),
  };
  const team = await client.api.teams(tenant).create(body, `creating team ${name}`);
  printRecord(io, options.format, team, `created team ${tenant}/${team.name}`, teamFields(team));
  return EXIT.ok;
}

export async function teamUpdateCommand(name: string, options: TeamOptions, io: CliIo): Promise<ExitCode> {
  const changes = {
    ...(options.description === undefined ? {} : { description: options.description }),
    ...(options.member === undefined ? {} : { members: options.member }),
  };
  if (Object.keys(changes).length === 0) throw usageError('nothing to change', 'pass --description or --member');
  const { client, tenant } = await inTenant(options, io);
  const team = await client.api.teams(tenant).change(name, changes, `updating team ${name}`);
  printRecord(io, options.format, team, `updated team ${tenant}/${team.name}`, teamFields(team));
  return EXIT.ok;
}

export async function teamRemoveCommand(name: string, options: IdentityOptions, io: CliIo): Promise<ExitCode> {
  const { client, tenant } = await inTenant(options, io);
  await client.api.teams(tenant).remove(name, `deleting team ${name}`);
  return printDone(io, options.format, `deleted team ${tenant}/${name}`, { deleted: name, tenant });
}

// --- roles ----------------------------------------------------------------------------------------

export interface RoleOptions extends IdentityOptions {
  scope?: 'tenant' | 'project';
  description?: string;
  /** --permission, repeated: the role's whole permission list. */
  permission?: string[];
}

const roleFields = (r: Role): Array<[string, string]> => [
  ['scope', r.scope],
  ['kind', r.builtIn ? 'built-in' : 'custom'],
  ['description', r.description],
  ['permissions', r.permissions.join(', ') || '(none)'],
];

/** `packctl role ls`: the built-in roles and the tenant's custom ones. */
export async function roleListCommand(options: IdentityOptions, io: CliIo): Promise<ExitCode> {
  const client = await RegistryClient.open({ ...options, env: io.env });
  const { items } = await client.api.allRoles('listing the roles', options.tenant);
  const rows = [
    ['NAME', 'SCOPE', 'KIND', 'PERMISSIONS', 'DESCRIPTION'],
    ...items.map((r) => [
      r.name,
      r.scope,
      r.builtIn ? 'built-in' : 'custom',
      String(r.permissions.length),
      r.description,
    ]),
  ];
  printList(io, options.format, items, rows, 'No roles.');
  return EXIT.ok;
}

export async function roleShowCommand(name: string, options: IdentityOptions, io: CliIo): Promise<ExitCode> {
  const client = await RegistryClient.open({ ...options, env: io.env });
  const { items } = await client.api.allRoles(`looking up role ${name}`, options.tenant);
  const role = items.find((r) => r.name === name);
  if (!role) {
    throw new CliError(`no role named ${name}`, { exitCode: EXIT.notFound, hint: 'packctl role ls lists the roles' });
  }
  printRecord(io, options.format, role, role.name, roleFields(role));
  return EXIT.ok;
}

/** `packctl role permissions`: the permission catalogue, one permission per line with its scopes. */
export async function rolePermissionsCommand(options: IdentityOptions, io: CliIo): Promise<ExitCode> {
  const client = await RegistryClient.open({ ...options, env: io.env });
  const { items } = await client.api.permissions('listing the permissions');
  const rows = [
    ['PERMISSION', 'SCOPES', 'COMPONENT'],
    ...items.flatMap((c) => c.permissions.map((p) => [p, c.scopes.join(','), c.displayName])),
  ];
  printList(io, options.format, items, rows, 'No permissions.');
  return EXIT.ok;
}

export async function roleCreateCommand(name: string, options: RoleOptions, io: CliIo): Promise<ExitCode> {
  if (options.scope === undefined) throw usageError('--scope tenant or --scope project is required');
  const { client, tenant } = await inTenant(options, io);
  const body = {
    name,
    scope: options.scope,
    permissions: options.permission ?? [],
    ...(options.description === undefined ? {} : { description: options.description }),
  };
  const role = await client.api.roles(tenant).create(body, `creating role ${name}`);
  printRecord(io, options.format, role, `created role ${role.name} in ${tenant}`, roleFields(role));
  return EXIT.ok;
}

export async function roleUpdateCommand(name: string, options: RoleOptions, io: CliIo): Promise<ExitCode> {
  const changes = {
    ...(options.description === undefined ? {} : { description: options.description }),
    ...(options.permission === undefined ? {} : { permissions: options.permission }),
  };
  if (Object.keys(changes).length === 0) throw usageError('nothing to change', 'pass --description or --permission');
  const { client, tenant } = await inTenant(options, io);
  const role = await client.api.roles(tenant).change(name, changes, `updating role ${name}`);
  printRecord(io, options.format, role, `updated role ${role.name} in ${tenant}`, roleFields(role));
  return EXIT.ok;
}

export async function roleRemoveCommand(name: string, options: IdentityOptions, io: CliIo): Promise<ExitCode> {
  const { client, tenant } = await inTenant(options, io);
  await client.api.roles(tenant).remove(name, `deleting role ${name}`);
  return printDone(io, options.format, `deleted role ${name} in ${tenant}`, { deleted: name, tenant });
}

// --- role bindings --------------------------------------------------------------------------------

export interface BindingOptions extends IdentityOptions {
  role?: string;
  user?: string;
  team?: string;
  project?: string;
}

const subjectOf = (b: Binding) => `${b.subject.kind} ${b.subject.name}`;

export async function bindingListCommand(options: IdentityOptions, io: CliIo): Promise<ExitCode> {
  const { client, tenant } = await inTenant(options, io);
  const page = await client.api.bindings(tenant).list(`listing the role bindings of ${tenant}`, pageQuery(options));
  const rows = [
    ['ID', 'ROLE', 'SUBJECT', 'WHERE', 'CREATED'],
    ...page.items.map((b) => [
      b.id,
      b.role,
      subjectOf(b),
      b.project ?? '(tenant-wide)',
      `${b.createdAt} by ${b.createdBy}`,
    ]),
  ];
  printPage(io, 'binding ls', options, page, rows, `No role bindings in ${tenant}.`);
  return EXIT.ok;
}

/** `packctl binding create --role R --user U|--team T [--project P]`. */
export async function bindingCreateCommand(options: BindingOptions, io: CliIo): Promise<ExitCode> {
  if (options.role === undefined) throw usageError('--role is required', 'packctl role ls lists the roles');
  if ((options.user === undefined) === (options.team === undefined)) {
    throw usageError('bind the role to one --user or one --team');
  }
  const subject =
    options.user === undefined
      ? { kind: 'team' as const, name: options.team ?? '' }
      : { kind: 'user' as const, name: options.user };
  const { client, tenant } = await inTenant(options, io);
  const body = { role: options.role, subject, ...(options.project === undefined ? {} : { project: options.project }) };
  const binding = await client.api.bindings(tenant).create(body, `binding ${options.role}`);
  printRecord(io, options.format, binding, `created binding ${binding.id}`, [
    ['role', binding.role],
    ['subject', subjectOf(binding)],
    ['where', binding.project === null ? `tenant ${tenant}` : `project ${tenant}/${binding.project}`],
  ]);
  return EXIT.ok;
}

export async function bindingRemoveCommand(id: string, options: IdentityOptions, io: CliIo): Promise<ExitCode> {
  const { client, tenant } = await inTenant(options, io);
  await client.api.bindings(tenant).remove(id, `removing binding ${id}`);
  return printDone(io, options.format, `removed binding ${id}`, { removed: id, tenant });
}

// --- API keys -------------------------------------------------------------------------------------

export interface ApiKeyOptions extends IdentityOptions {
  /** Whose keys (default: the signed-in user's own). */
  user?: string;
  expires?: string;
}

/** The tenant and user an API key command works for: --user, else the signed-in user. */
async function keyOwner(options: ApiKeyOptions, io: CliIo) {
  const client = await RegistryClient.open({ ...options, env: io.env });
  const me = await client.whoAmI();
  const tenant = options.tenant ?? me?.tenant ?? null;
  const user = options.user ?? (me?.tenant === null ? null : (me?.username ?? null));
  if (tenant === null || user === null) {
    throw usageError('whose API keys?', 'pass --tenant and --user (the system operator has no API keys)');
  }
  return { keys: client.api.apiKeys(tenant, user), tenant, user };
}

const keyState = (k: ApiKey) =>
  k.revokedAt !== null ? `revoked ${k.revokedAt}` : k.expiresAt === null ? 'active' : `expires ${k.expiresAt}`;

export async function apiKeyListCommand(options: ApiKeyOptions, io: CliIo): Promise<ExitCode> {
  const { keys, tenant, user } = await keyOwner(options, io);
  const page = await keys.list(`listing the API keys of ${tenant}/${user}`, pageQuery(options));
  const rows = [['ID', 'NAME', 'STATE', 'CREATED'], ...page.items.map((k) => [k.id, k.name, keyState(k), k.createdAt])];
  printPage(io, 'apikey ls', options, page, rows, `No API keys for ${tenant}/${user}.`);
  return EXIT.ok;
}

/** `packctl apikey create NAME`: the key is printed this once (on stdout alone in text, for `$(...)`). */
export async function apiKeyCreateCommand(name: string, options: ApiKeyOptions, io: CliIo): Promise<ExitCode> {
  const { keys, tenant, user } = await keyOwner(options, io);
  const body = { name, ...(options.expires === undefined ? {} : { expiresAt: options.expires }) };
  const what = `creating an API key for ${tenant}/${user}`;
  const created = await keys.create(body, what);
  const key = checkIssuedKey(created.key, created.id, what);
  if (options.format === 'json') printJson(io.stdout, created);
  else {
    // Bare, for `$(...)`: checkIssuedKey let through visible ASCII only.
    io.stdout.write(`${key}\n`);
    io.stderr.write(
      safe`created API key ${created.name} (${created.id}) for ${tenant}/${user}: keep it now, it is not shown again\n`,
    );
  }
  return EXIT.ok;
}

export async function apiKeyRemoveCommand(id: string, options: ApiKeyOptions, io: CliIo): Promise<ExitCode> {
  const { keys, tenant, user } = await keyOwner(options, io);
  await keys.remove(id, `revoking API key ${id}`);
  return printDone(io, options.format, `revoked API key ${id} of ${tenant}/${user}`, { revoked: id });
}

// --- the audit log --------------------------------------------------------------------------------

export interface AuditOptions extends IdentityOptions {
  project?: string;
  limit?: string;
  cursor?: string;
}

/** Who an entry says acted: user (tenant/name), operator, or for a sign-in the username tried. */
function actorOf(entry: AuditPage['items'][number]): string {
  const { actor } = entry;
  if (actor.name === '')
    return entry.username === undefined ? actor.kind : `${actor.kind} (signing in as ${entry.username})`;
  return actor.kind === 'user' && actor.tenant !== null ? `${actor.tenant}/${actor.name}` : actor.name;
}

/** The scope and description of the audit log the options name (the signed-in user's by default). */
async function auditScope(client: RegistryClient, options: AuditOptions) {
  const tenant = options.tenant ?? (await client.whoAmI())?.tenant ?? undefined;
  if (options.project !== undefined && tenant === undefined) throw usageError('--project needs --tenant');
  const where = tenant === undefined ? 'the system' : options.project ? `${tenant}/${options.project}` : tenant;
  return { scope: { tenant, project: options.project }, where };
}

/**
 * The most pages `audit export` reads: 1,000 of 500 entries, half a million, far more than any
 * log a registry keeps; a server whose cursors never end is stopped there.
 */
export const MAX_AUDIT_PAGES = 1000;

/**
 * `packctl audit export`: every entry of an audit log, newest first, as JSON Lines on stdout (a
 * page of 500 at a time, whatever the log's length); the count and the last entry's id, from which
 * `--cursor` goes on, on stderr. Audit cursors are opaque (not ordered names, as registry-api's
 * listAll can check): a cursor given before, or past {@link MAX_AUDIT_PAGES} pages, is refused,
 * so a server repeating one cannot keep the export going for ever.
 */
export async function auditExportCommand(options: AuditOptions, io: CliIo): Promise<ExitCode> {
  const client = await RegistryClient.open({ ...options, env: io.env });
  const { scope, where } = await auditScope(client, options);
  const what = `exporting the audit log of ${where}`;
  let cursor = options.cursor;
  const seen = new Set<string>(cursor === undefined ? [] : [cursor]);
  let count = 0;
  let last: string | undefined;
  for (let pages = 1; ; pages++) {
    const page = await client.api.audit(scope, { limit: '500', ...(cursor === undefined ? {} : { cursor }) }, what);
    for (const entry of page.items) {
      printJsonLine(io.stdout, entry);
      last = entry.id;
    }
    count += page.items.length;
    if (page.nextCursor === null) break;
    const endless = seen.has(page.nextCursor)
      ? 'gives a page cursor it gave before'
      : pages >= MAX_AUDIT_PAGES
        ? `goes on past ${String(MAX_AUDIT_PAGES)} pages`
        : null;
    if (endless !== null) {
      throw new CliError(`${what}: the server ${endless}, after ${String(count)} entries: stopped`, {
        hint: `the entries printed are complete up to ${last ?? 'the start'}; check that --server names a Packyard registry you trust`,
      });
    }
    seen.add(page.nextCursor);
    cursor = page.nextCursor;
  }
  io.stderr.write(safe`exported ${String(count)} audit entries of ${where}${last ? ` (the oldest: ${last})` : ''}\n`);
  return EXIT.ok;
}

/**
 * `packctl audit ls`: a page of an audit log, newest first: the system's for the operator (or a
 * tenant's with --tenant), the signed-in user's tenant's (its projects included), or a project's.
 */
export async function auditListCommand(options: AuditOptions, io: CliIo): Promise<ExitCode> {
  const client = await RegistryClient.open({ ...options, env: io.env });
  const { scope, where } = await auditScope(client, options);
  const page = await client.api.audit(scope, pageQuery(options), `reading the audit log of ${where}`);
  const rows = [
    ['AT', 'ACTOR', 'REQUEST', 'STATUS', 'OUTCOME', 'CLIENT'],
    ...page.items.map((e) => [e.at, actorOf(e), `${e.method} ${e.path}`, String(e.status), e.outcome, e.client]),
  ];
  printPage(io, 'audit ls', options, page, rows, `No audit entries for ${where}.`);
  return EXIT.ok;
}
