/**
 * `packctl registry ls|show|create|update`: their command lines; the implementation
 * (./registry.ts) is loaded when one of them runs. `registry use` is the old spelling of
 * `server use`, kept working with a notice.
 */
import { Option } from 'commander';
import { AUTH_EXITS, connectionOptions, formatOption, withPaths, type CommandModule } from '../command.js';
import type { RegistryCreateOptions, RegistryListOptions, RegistryUpdateOptions } from './registry.js';

/** --description, --[no-]public and --[no-]allow-overwrite: what create and update both set. */
function settingOptions(command: ReturnType<typeof connectionOptions>) {
  return command
    .option('--description <text>', 'what the registry holds')
    .addOption(new Option('--public', 'anonymous callers may read it (where the server allows anonymous reads)'))
    .addOption(new Option('--no-public', 'only signed-in callers with a role may read it'))
    .addOption(new Option('--allow-overwrite', 'push --force -m may replace a published version'))
    .addOption(new Option('--no-allow-overwrite', 'published versions are immutable (the default)'));
}

export const registryCommands: CommandModule = (program, { io, exit }) => {
  const load = () => import('./registry.js');
  const registry = program
    .command('registry')
    .description('the registries on a server: list, show, create, update (servers: packctl server)');

  connectionOptions(
    registry
      .command('ls')
      .description('the registries you can read')
      .option('--tenant <name>', "only this tenant's registries"),
  )
    .addHelpText('after', AUTH_EXITS)
    .action(async (options: RegistryListOptions) => {
      const { registryListCommand } = await load();
      exit(await registryListCommand(withPaths(io, options, 'config'), io));
    });

  connectionOptions(registry.command('show').description('one registry').argument('<name>', 'the registry'))
    .addHelpText('after', AUTH_EXITS)
    .action(async (name: string, options: RegistryListOptions) => {
      const { registryShowCommand } = await load();
      exit(await registryShowCommand(name, withPaths(io, options, 'config'), io));
    });

  settingOptions(
    connectionOptions(
      registry
        .command('create')
        .description(
          "create a registry: a project's with --project, a tenant's with --tenant (default: your own tenant), else a system one",
        )
        .argument('<name>', 'lowercase letters, digits and dashes')
        .option('--tenant <name>', "the owning tenant (default: the signed-in user's)")
        .option('--project <name>', 'the owning project of the tenant'),
    ),
  )
    .addHelpText(
      'after',
      `${AUTH_EXITS}

Examples:
  packctl registry create acme-packs --description "Acme's packs"       # as a user of tenant acme
  packctl registry create edge-packs --tenant acme --project edge
  packctl registry create community --public                            # as the operator: a system registry`,
    )
    .action(async (name: string, options: RegistryCreateOptions) => {
      const { registryCreateCommand } = await load();
      exit(await registryCreateCommand(name, withPaths(io, options, 'config'), io));
    });

  settingOptions(
    connectionOptions(
      registry.command('update').description("change a registry's settings").argument('<name>', 'the registry'),
    ),
  )
    .addHelpText('after', `${AUTH_EXITS}\n\nExample:\n  packctl registry update acme-packs --allow-overwrite`)
    .action(async (name: string, options: RegistryUpdateOptions) => {
      const { registryUpdateCommand } = await load();
      exit(await registryUpdateCommand(name, withPaths(io, options, 'config'), io));
    });

  // The old spelling of `server use` (before registries had their own noun): still works, says so.
  registry
    .command('use', { hidden: true })
    .argument('<server>', 'a server you are logged in to')
    .option('--config <file>', 'credentials file')
    .addOption(formatOption())
    .action(async (server: string, options: { config?: string; format: 'text' | 'json' }) => {
      io.stderr.write('packctl registry use is now packctl server use (registry names the registries on a server)\n');
      const { serverUseCommand } = await import('./login.js');
      exit(await serverUseCommand(server, withPaths(io, options, 'config'), io));
    });
};
