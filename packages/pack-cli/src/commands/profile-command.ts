/**
 * `packctl profile resolve|pull|push`: their command lines; the implementation (./profile.ts) is
 * loaded when one of them runs.
 */
import { pathIn } from '../io.js';
import { AUTH_EXITS, connectionOptions, withPaths, type CommandModule } from '../command.js';
import type { ProfilePullOptions, ProfilePushOptions, ProfileResolveOptions } from './profile.js';

export const profileCommands: CommandModule = (program, { io, exit }) => {
  const load = () => import('./profile.js');
  const profile = program
    .command('profile')
    .description('cluster profiles: packs by layer, resolved against a registry');

  connectionOptions(
    profile
      .command('resolve')
      .description('resolve a profile file into exact layers, check its constraints, and write FILE.lock')
      .argument('<file>', 'the profile (YAML or JSON, schemas/profile.schema.json)')
      .option('--no-lock', 'do not write FILE.lock')
      .option('--frozen', 'fail when FILE.lock no longer matches, instead of rewriting it'),
  )
    .addHelpText(
      'after',
      `${AUTH_EXITS} A profile with problems exits 1, listing every one.

Examples:
  packctl profile resolve prod-aws.yaml
  packctl profile resolve prod-aws.yaml --frozen          # in CI: the lock must be current
  packctl profile resolve prod-aws.yaml --format json | jq '.layers[] | .name + "@" + .version'`,
    )
    .action(async (file: string, options: ProfileResolveOptions) => {
      const { profileResolveCommand } = await load();
      exit(await profileResolveCommand(pathIn(io, file), withPaths(io, options, 'config'), io));
    });

  connectionOptions(
    profile
      .command('pull')
      .description('download every pack of a resolved profile, verified, with the lock: for an air-gapped site')
      .argument('<file>', 'the profile')
      .option('-o, --output <dir>', 'where to put the packs, the lock and the profile', '.'),
  )
    .addHelpText('after', `${AUTH_EXITS}\n\nExample:\n  packctl profile pull prod-aws.yaml -o airgap/prod-aws`)
    .action(async (file: string, options: ProfilePullOptions) => {
      const { profilePullCommand } = await load();
      exit(await profilePullCommand(pathIn(io, file), withPaths(io, options, 'config', 'output'), io));
    });

  connectionOptions(
    profile
      .command('push')
      .description('store a profile on the server (system scope, or a tenant, or a project of it)')
      .argument('<file>', 'the profile')
      .option('--tenant <name>', 'store it in this tenant')
      .option('--project <name>', 'store it in this project of the tenant'),
  )
    .addHelpText(
      'after',
      `${AUTH_EXITS}\n\nExamples:\n  packctl profile push prod-aws.yaml --tenant acme\n  packctl profile push edge.yaml --tenant acme --project edge`,
    )
    .action(async (file: string, options: ProfilePushOptions) => {
      const { profilePushCommand } = await load();
      exit(await profilePushCommand(pathIn(io, file), withPaths(io, options, 'config'), io));
    });
};
