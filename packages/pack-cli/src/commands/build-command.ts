/** `packctl build`: its command line; the implementation (./build.ts) is loaded when it runs. */
import { pathIn } from '../io.js';
import { formatOption, withPaths, type CommandModule } from '../command.js';
import type { BuildOptions } from './build.js';

export const buildCommands: CommandModule = (program, { io, exit }) => {
  program
    .command('build')
    .description('lint, then write <name>-<version>.zip reproducibly (same input, same bytes)')
    .argument('<dir>', 'the pack directory (holding pack.json)')
    .option('-o, --output <dir>', 'where to write the archive', '.')
    .addOption(formatOption())
    .option('--strict', 'refuse to build when lint finds warnings')
    .addHelpText(
      'after',
      `
Files listed in DIR/.packignore (gitignore syntax) are left out, as are .git/, node_modules/
and .DS_Store. Entry times come from SOURCE_DATE_EPOCH, else 1980-01-01.

Examples:
  packctl build sample-packs/cert-manager -o dist/
  packctl build . -o dist/ --format json | jq -r .digest`,
    )
    .action(async (dir: string, options: BuildOptions) => {
      const { buildCommand } = await import('./build.js');
      exit(await buildCommand(pathIn(io, dir), withPaths(io, options, 'output'), io));
    });
};
