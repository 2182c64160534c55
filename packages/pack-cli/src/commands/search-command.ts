/** `packctl search` and `show`: their command lines; the implementation (./search.ts) is loaded when one runs. */
import { AUTH_EXITS, connectionOptions, withPaths, type CommandModule } from '../command.js';
import type { SearchOptions } from './search.js';

export const searchCommands: CommandModule = (program, { io, exit }) => {
  connectionOptions(
    program
      .command('search')
      .description('search the packs of every registry you can read')
      .argument('[text]', 'words to find in names, display names, add-on types and annotations')
      .option('--layer <layer>', 'os, k8s, cni, csi, addon')
      .option('--cloud <cloud>', 'packs for this cloud (or for all clouds)')
      .option('--addon-type <type>', 'e.g. monitoring')
      .option('-r, --registry <name>', 'only this registry')
      .option('--limit <n>', 'rows (1-500)', '50'),
  )
    .addHelpText(
      'after',
      `${AUTH_EXITS}

Examples:
  packctl search calico
  packctl search --layer cni --cloud aws`,
    )
    .action(async (text: string | undefined, options: SearchOptions) => {
      const { searchCommand } = await import('./search.js');
      exit(await searchCommand(text, withPaths(io, options, 'config'), io));
    });

  connectionOptions(
    program
      .command('show')
      .description("a pack's versions, line tags, layer, clouds and OCI reference; or one version's record")
      .argument('<pack>', 'NAME or NAME@VERSION')
      .option('-r, --registry <name>', 'the registry on the server', 'public'),
  )
    .addHelpText(
      'after',
      `${AUTH_EXITS}

Examples:
  packctl show cni-calico
  packctl show cni-calico@3.27.x --format json`,
    )
    .action(async (ref: string, options: SearchOptions & { registry: string }) => {
      const { showCommand } = await import('./search.js');
      exit(await showCommand(ref, withPaths(io, options, 'config'), io));
    });
};
