/** `packctl deprecate` and `rm`: their command lines; the implementation (./versions.ts) is loaded when one runs. */
import { AUTH_EXITS, connectionOptions, withPaths, type CommandModule } from '../command.js';
import type { VersionChangeOptions } from './versions.js';

export const versionsCommands: CommandModule = (program, { io, exit }) => {
  const load = () => import('./versions.js');

  connectionOptions(
    program
      .command('deprecate')
      .description('mark a version deprecated (resolvers skip it unless pinned), or --undo')
      .argument('<pack>', 'NAME@VERSION')
      .option('-m, --message <text>', 'why, and what to use instead')
      .option('--undo', 'clear the deprecation')
      .option('-r, --registry <name>', 'the registry on the server', 'public'),
  )
    .addHelpText(
      'after',
      `${AUTH_EXITS}\n\nExample:\n  packctl deprecate cni-calico@3.26.4 -m "use 3.27.x: CVE-2024-1234"`,
    )
    .action(async (ref: string, options: VersionChangeOptions) => {
      const { deprecateCommand } = await load();
      exit(await deprecateCommand(ref, withPaths(io, options, 'config'), io));
    });

  connectionOptions(
    program
      .command('rm')
      .description('delete a version, leaving a tombstone: only the same bytes can ever be published again')
      .argument('<pack>', 'NAME@VERSION')
      .option('-m, --message <text>', 'why')
      .option('-r, --registry <name>', 'the registry on the server', 'public'),
  )
    .addHelpText(
      'after',
      `${AUTH_EXITS}\n\nExample:\n  packctl rm my-addon@0.0.1-test --registry acme-private -m "pushed by mistake"`,
    )
    .action(async (ref: string, options: VersionChangeOptions) => {
      const { removeCommand } = await load();
      exit(await removeCommand(ref, withPaths(io, options, 'config'), io));
    });
};
