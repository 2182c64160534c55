/** `packctl pull`: its command line; the implementation (./pull.ts) is loaded when it runs. */
import { AUTH_EXITS, connectionOptions, withPaths, type CommandModule } from '../command.js';
import type { PullOptions } from './pull.js';

export const pullCommands: CommandModule = (program, { io, exit }) => {
  connectionOptions(
    program
      .command('pull')
      .description('download a pack, verify its digest, and optionally extract it')
      .argument('<pack>', 'NAME, NAME@VERSION, NAME@RANGE or NAME@TAG (1.29.x)')
      .option('-r, --registry <name>', 'the registry on the server', 'public')
      .option('-o, --output <dir>', 'where to write it', '.')
      .option('--extract', 'also extract it into <output>/<name>-<version>'),
  )
    .addHelpText(
      'after',
      `${AUTH_EXITS}

Examples:
  packctl pull cni-calico
  packctl pull kubernetes@1.29.x -o vendor --extract
  packctl pull prometheus-operator@'^45.0.0' --registry acme-private`,
    )
    .action(async (ref: string, options: PullOptions) => {
      const { pullCommand } = await import('./pull.js');
      exit(await pullCommand(ref, withPaths(io, options, 'config', 'output'), io));
    });
};
