/**
 * `packctl tenant|project|user|team|role|binding|apikey` and `audit ls`: their command lines; the
 * implementation (./identity.ts) is loaded when one of them runs. Every noun has `ls` and the verbs
 * the API supports for it (`show`, `create`, `update`, `rm`).
 */
import { Option, type Command } from 'commander';
import { AUTH_EXITS, connectionOptions, withPaths, type CommandModule, type CommandContext } from '../command.js';
import type { ExitCode } from '../errors.js';
import type { CliIo } from '../io.js';
import type * as Identity from './identity.js';

type Implementation = typeof Identity;

/** Collects a repeated option's values (`--member a --member b`). */
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function tenantOption(command: Command): Command {
  return command.option('--tenant <name>', "the tenant (default: the signed-in user's)");
}

/**
 * One subcommand of a noun: connection options, `--tenant` unless `systemWide`, help examples, and an
 * action calling `run` of the lazily loaded implementation with the arguments and the options.
 */
function verb(
  noun: Command,
  context: CommandContext,
  spec: {
    name: string;
    description: string;
    args?: Array<[string, string]>;
    options?: (command: Command) => Command;
    examples?: string[];
    systemWide?: boolean;
    run: (impl: Implementation, args: string[], options: never, io: CliIo) => Promise<ExitCode>;
  },
): void {
  let command = noun.command(spec.name).description(spec.description);
  for (const [name, description] of spec.args ?? []) command = command.argument(name, description);
  command = connectionOptions(spec.options ? spec.options(command) : command);
  if (!spec.systemWide) command = tenantOption(command);
  const examples = spec.examples?.length ? `\n\nExamples:\n${spec.examples.map((e) => `  ${e}`).join('\n')}` : '';
  command.addHelpText('after', `${AUTH_EXITS}${examples}`).action(async (...received: unknown[]) => {
    // commander passes the arguments, then the options, then the command.
    const args = received.slice(0, (spec.args ?? []).length) as string[];
    const options = received[(spec.args ?? []).length] as { config?: string };
    const impl = await import('./identity.js');
    const { io } = context;
    context.exit(await spec.run(impl, args, withPaths(io, options, 'config') as never, io));
  });
}

const NAME: [string, string] = ['<name>', 'its name'];

/** An `ls` that answers a page at a time. */
const paged = (what: string) => (c: Command) =>
  c
    .option('--limit <n>', `${what} per page (1-500, default 100)`)
    .option('--cursor <cursor>', 'the next page (as the previous page said)');

export const identityCommands: CommandModule = (program, context) => {
  const tenant = program.command('tenant').description('tenants (the system operator administers them)');
  verb(tenant, context, {
    name: 'ls',
    description: 'the tenants',
    options: paged('tenants'),
    systemWide: true,
    run: (impl, _args, options, io) => impl.tenantListCommand(options, io),
  });
  verb(tenant, context, {
    name: 'show',
    description: 'one tenant',
    args: [NAME],
    systemWide: true,
    run: (impl, [name], options, io) => impl.tenantShowCommand(name ?? '', options, io),
  });
  verb(tenant, context, {
    name: 'create',
    description: 'create a tenant',
    args: [NAME],
    systemWide: true,
    options: (c) => c.option('--display-name <text>', 'how people see it'),
    examples: ['packctl tenant create acme --display-name "Acme Corp"'],
    run: (impl, [name], options, io) => impl.tenantCreateCommand(name ?? '', options, io),
  });
  verb(tenant, context, {
    name: 'rm',
    description: 'delete a tenant that owns no registries',
    args: [NAME],
    systemWide: true,
    run: (impl, [name], options, io) => impl.tenantRemoveCommand(name ?? '', options, io),
  });

  const project = program.command('project').description("a tenant's projects");
  verb(project, context, {
    name: 'ls',
    description: 'the projects',
    options: paged('projects'),
    run: (impl, _args, options, io) => impl.projectListCommand(options, io),
  });
  verb(project, context, {
    name: 'show',
    description: 'one project',
    args: [NAME],
    run: (impl, [name], options, io) => impl.projectShowCommand(name ?? '', options, io),
  });
  verb(project, context, {
    name: 'create',
    description: 'create a project',
    args: [NAME],
    options: (c) => c.option('--description <text>', 'what it is for'),
    examples: ['packctl project create edge --description "edge clusters"'],
    run: (impl, [name], options, io) => impl.projectCreateCommand(name ?? '', options, io),
  });
  verb(project, context, {
    name: 'update',
    description: "change a project's description",
    args: [NAME],
    options: (c) => c.option('--description <text>', 'what it is for'),
    run: (impl, [name], options, io) => impl.projectUpdateCommand(name ?? '', options, io),
  });
  verb(project, context, {
    name: 'rm',
    description: 'delete a project that owns no registries',
    args: [NAME],
    run: (impl, [name], options, io) => impl.projectRemoveCommand(name ?? '', options, io),
  });

  const user = program.command('user').description("a tenant's users");
  const userSettings = (c: Command) =>
    c
      .option('--display-name <text>', 'how people see them')
      .option('--password-stdin', 'read a password (12 characters or more) from stdin');
  verb(user, context, {
    name: 'ls',
    description: 'the users',
    options: paged('users'),
    run: (impl, _args, options, io) => impl.userListCommand(options, io),
  });
  verb(user, context, {
    name: 'show',
    description: 'one user',
    args: [['<username>', 'the username']],
    run: (impl, [name], options, io) => impl.userShowCommand(name ?? '', options, io),
  });
  verb(user, context, {
    name: 'create',
    description: 'create a user (without a password, one that signs in with API keys only)',
    args: [['<username>', 'the username']],
    options: userSettings,
    examples: [
      'packctl user create ci --display-name "CI pipeline"',
      'echo "$PASSWORD" | packctl user create alice --password-stdin',
    ],
    run: (impl, [name], options, io) => impl.userCreateCommand(name ?? '', options, io),
  });
  verb(user, context, {
    name: 'update',
    description: 'change a user: display name, password, disabled',
    args: [['<username>', 'the username']],
    options: (c) =>
      userSettings(c)
        .addOption(new Option('--disable', 'refuse their sign-ins, tokens and API keys'))
        .addOption(new Option('--enable', 'let them in again')),
    run: (impl, [name], options, io) => impl.userUpdateCommand(name ?? '', options, io),
  });
  verb(user, context, {
    name: 'rm',
    description: 'delete a user',
    args: [['<username>', 'the username']],
    run: (impl, [name], options, io) => impl.userRemoveCommand(name ?? '', options, io),
  });

  const team = program.command('team').description("a tenant's teams");
  const teamSettings = (c: Command) =>
    c
      .option('--description <text>', 'what it is for')
      .option('--member <username>', 'a member (repeat it; an update replaces the list)', collect);
  verb(team, context, {
    name: 'ls',
    description: 'the teams',
    options: paged('teams'),
    run: (impl, _args, options, io) => impl.teamListCommand(options, io),
  });
  verb(team, context, {
    name: 'show',
    description: 'one team',
    args: [NAME],
    run: (impl, [name], options, io) => impl.teamShowCommand(name ?? '', options, io),
  });
  verb(team, context, {
    name: 'create',
    description: 'create a team',
    args: [NAME],
    options: teamSettings,
    examples: ['packctl team create platform --member alice --member bob'],
    run: (impl, [name], options, io) => impl.teamCreateCommand(name ?? '', options, io),
  });
  verb(team, context, {
    name: 'update',
    description: "change a team's description or members",
    args: [NAME],
    options: teamSettings,
    run: (impl, [name], options, io) => impl.teamUpdateCommand(name ?? '', options, io),
  });
  verb(team, context, {
    name: 'rm',
    description: 'delete a team',
    args: [NAME],
    run: (impl, [name], options, io) => impl.teamRemoveCommand(name ?? '', options, io),
  });

  const role = program.command('role').description("roles: the built-in ones, and a tenant's custom ones");
  const roleSettings = (c: Command) =>
    c
      .option('--description <text>', 'what it is for')
      .option('--permission <permission>', 'a permission it holds (repeat it: the whole list)', collect);
  verb(role, context, {
    name: 'ls',
    description: "the built-in roles and the tenant's custom ones",
    run: (impl, _args, options, io) => impl.roleListCommand(options, io),
  });
  verb(role, context, {
    name: 'show',
    description: 'one role and its permissions',
    args: [NAME],
    run: (impl, [name], options, io) => impl.roleShowCommand(name ?? '', options, io),
  });
  verb(role, context, {
    name: 'permissions',
    description: 'every permission a role can hold, with the scopes it applies in',
    systemWide: true,
    run: (impl, _args, options, io) => impl.rolePermissionsCommand(options, io),
  });
  verb(role, context, {
    name: 'create',
    description: 'create a custom role of the tenant',
    args: [NAME],
    options: (c) =>
      roleSettings(c).addOption(
        new Option('--scope <scope>', 'where it is bound: tenant-wide or in projects').choices(['tenant', 'project']),
      ),
    examples: [
      'packctl role create "Registry Publisher" --scope project --permission packRegistry.list \\\n      --permission packRegistry.get --permission packRegistry.update',
    ],
    run: (impl, [name], options, io) => impl.roleCreateCommand(name ?? '', options, io),
  });
  verb(role, context, {
    name: 'update',
    description: "change a custom role's description or permissions",
    args: [NAME],
    options: roleSettings,
    run: (impl, [name], options, io) => impl.roleUpdateCommand(name ?? '', options, io),
  });
  verb(role, context, {
    name: 'rm',
    description: 'delete a custom role that nothing binds',
    args: [NAME],
    run: (impl, [name], options, io) => impl.roleRemoveCommand(name ?? '', options, io),
  });

  const binding = program
    .command('binding')
    .description('role bindings: a role for a user or a team, tenant-wide or in a project');
  verb(binding, context, {
    name: 'ls',
    description: 'the role bindings',
    options: paged('bindings'),
    run: (impl, _args, options, io) => impl.bindingListCommand(options, io),
  });
  verb(binding, context, {
    name: 'create',
    description: 'bind a role',
    options: (c) =>
      c
        .option('--role <role>', 'the role (packctl role ls)')
        .option('--user <username>', 'to this user')
        .option('--team <team>', 'or to this team')
        .option('--project <project>', 'in this project (default: tenant-wide)'),
    examples: [
      'packctl binding create --role "Tenant Admin" --user alice',
      'packctl binding create --role "Registry Publisher" --team platform --project edge',
    ],
    run: (impl, _args, options, io) => impl.bindingCreateCommand(options, io),
  });
  verb(binding, context, {
    name: 'rm',
    description: 'remove a role binding',
    args: [['<id>', 'its id (packctl binding ls)']],
    run: (impl, [id], options, io) => impl.bindingRemoveCommand(id ?? '', options, io),
  });

  const audit = program.command('audit').description('the audit log: who did what, when, with what outcome');
  verb(audit, context, {
    name: 'ls',
    description: "a page of a scope's audit log, newest first (yours: the system's for the operator)",
    options: (c) => paged('entries')(c.option('--project <name>', 'a project of the tenant')),
    examples: ['packctl audit ls --limit 20', 'packctl audit ls --tenant acme --project edge --format json'],
    run: (impl, _args, options, io) => impl.auditListCommand(options, io),
  });
  verb(audit, context, {
    name: 'export',
    description: "a scope's whole audit log, newest first, one JSON entry per line (JSON Lines) on stdout",
    options: (c) =>
      c
        .option('--project <name>', 'a project of the tenant')
        .option('--cursor <cursor>', 'start after this entry (as an interrupted export said)'),
    examples: ['packctl audit export --tenant acme > acme-audit.jsonl'],
    run: (impl, _args, options, io) => impl.auditExportCommand(options, io),
  });

  const apikey = program.command('apikey').description("API keys, for CI: a user's, yours by default");
  const owner = (c: Command) => c.option('--user <username>', 'whose keys (default: yours)');
  verb(apikey, context, {
    name: 'ls',
    description: 'the API keys (never their secrets)',
    options: (c) => paged('keys')(owner(c)),
    run: (impl, _args, options, io) => impl.apiKeyListCommand(options, io),
  });
  verb(apikey, context, {
    name: 'create',
    description: 'create an API key: printed this once, alone on stdout',
    args: [NAME],
    options: (c) => owner(c).option('--expires <date>', 'when it stops working (ISO 8601, e.g. 2027-06-30)'),
    examples: ['KEY=$(packctl apikey create ci --user ci --expires 2027-06-30)'],
    run: (impl, [name], options, io) => impl.apiKeyCreateCommand(name ?? '', options, io),
  });
  verb(apikey, context, {
    name: 'rm',
    description: 'revoke an API key',
    args: [['<id>', 'its id (packctl apikey ls)']],
    options: owner,
    run: (impl, [id], options, io) => impl.apiKeyRemoveCommand(id ?? '', options, io),
  });
};
