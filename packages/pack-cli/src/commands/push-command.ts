/** `packctl push`: its command line; the implementation (./push.ts) is loaded when it runs. */
import { pathIn } from '../io.js';
import { AUTH_EXITS, connectionOptions, withPaths, type CommandModule } from '../command.js';
import type { PushOptions } from './push.js';

export const pushCommands: CommandModule = (program, { io, exit }) => {
  connectionOptions(
    program
      .command('push')
      .description('build a pack directory (or take a built zip) and publish it to a registry')
      .argument('<target>', 'a pack directory or a zip from packctl build')
      .option('-r, --registry <name>', 'the registry on the server', 'public')
      .option('--force', 'replace the bytes of a published version (the registry must allow it)')
      .option('-m, --message <text>', 'why (required with --force)')
      .option('-q, --quiet', 'print nothing on success'),
  )
    .addHelpText(
      'after',
      `${AUTH_EXITS}

Examples:
  packctl push sample-packs/cni-calico
  packctl push dist/cni-calico-3.27.2.zip --registry acme-private
  packctl push . --force -m "rebuilt with the fixed values.yaml"`,
    )
    .action(async (target: string, options: PushOptions) => {
      const { pushCommand } = await import('./push.js');
      exit(await pushCommand(pathIn(io, target), withPaths(io, options, 'config'), io));
    });
};
