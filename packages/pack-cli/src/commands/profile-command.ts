/**
 * `packctl profile resolve|pull|push|ls|show|diff|rm`: their command lines; the implementation (./profile.ts) is
 * loaded when one of them runs.
 */
import { pathIn } from '../io.js';
import type { Command } from 'commander';
import { AUTH_EXITS, connectionOptions, withPaths, type CommandModule } from '../command.js';
import type {
  ProfileListOptions,
  ProfilePullOptions,
  ProfilePushOptions,
  ProfileResolveOptions,
  ProfileScopeOptions,
} from './profile.js';

/** --tenant and --project: the scope of a stored profile (default: the signed-in user's tenant). */
function scopeOptions(command: Command): Command {
  return command
    .option('--tenant <name>', "the tenant (default: the signed-in user's; an operator's: the system scope)")
    .option('--project <name>', 'a project of the tenant');
}

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
      .description(
        "store a profile on the server: in your tenant (an operator's: the system scope), or a project of it",
      )
      .argument('<file>', 'the profile')
      .option('--tenant <name>', "store it in this tenant (default: the signed-in user's)")
      .option('--project <name>', 'store it in this project of the tenant'),
  )
    .addHelpText(
      'after',
      `${AUTH_EXITS}\n\nExamples:\n  packctl profile push prod-aws.yaml                   # your tenant\n  packctl profile push edge.yaml --project edge\n  packctl profile push base.yaml --tenant acme         # as the operator`,
    )
    .action(async (file: string, options: ProfilePushOptions) => {
      const { profilePushCommand } = await load();
      exit(await profilePushCommand(pathIn(io, file), withPaths(io, options, 'config'), io));
    });

  connectionOptions(
    scopeOptions(
      profile
        .command('ls')
        .description('a page of the stored profiles of a scope, and of those it inherits')
        .option('--limit <n>', 'profiles per page (1-500, default 100)')
        .option('--cursor <cursor>', 'the next page (as the previous page said)'),
    ),
  )
    .addHelpText(
      'after',
      `${AUTH_EXITS}\n\nExamples:\n  packctl profile ls --project edge\n  packctl profile ls --limit 20 --format json`,
    )
    .action(async (options: ProfileListOptions) => {
      const { profileListCommand } = await load();
      exit(await profileListCommand(withPaths(io, options, 'config'), io));
    });

  connectionOptions(
    scopeOptions(profile.command('show').description('a stored profile, as YAML').argument('<name>', 'the profile')),
  )
    .addHelpText('after', `${AUTH_EXITS}\n\nExample:\n  packctl profile show prod-aws > prod-aws.yaml`)
    .action(async (name: string, options: ProfileScopeOptions) => {
      const { profileShowCommand } = await load();
      exit(await profileShowCommand(name, withPaths(io, options, 'config'), io));
    });

  connectionOptions(
    scopeOptions(
      profile
        .command('diff')
        .description(
          'a profile file against the stored profile of its name, or two stored revisions (exit 0: the same, 1: they differ)',
        )
        .argument('<file-or-name>', 'a profile file, or the name of a stored profile')
        .option(
          '--revision <n>',
          'a stored revision: with a file, the one to compare it with; with a name, once or twice (default: the current one)',
          (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
        ),
    ),
  )
    .addHelpText(
      'after',
      `${AUTH_EXITS}\n\nExamples:\n  packctl profile diff prod-aws.yaml && echo up to date\n  packctl profile diff prod-aws --revision 3            # revision 3 against the current one\n  packctl profile diff prod-aws --revision 2 --revision 3`,
    )
    .action(async (file: string, options: ProfileScopeOptions & { revision?: string[] }) => {
      const { profileDiffCommand } = await load();
      exit(await profileDiffCommand({ arg: file, path: pathIn(io, file) }, withPaths(io, options, 'config'), io));
    });

  connectionOptions(
    scopeOptions(
      profile.command('rm').description('delete a stored profile of the scope').argument('<name>', 'the profile'),
    ),
  )
    .addHelpText('after', `${AUTH_EXITS}\n\nExample:\n  packctl profile rm old-stack --project edge`)
    .action(async (name: string, options: ProfileScopeOptions) => {
      const { profileRemoveCommand } = await load();
      exit(await profileRemoveCommand(name, withPaths(io, options, 'config'), io));
    });
};
