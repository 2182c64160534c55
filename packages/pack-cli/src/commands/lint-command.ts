/** `packctl lint`: its command line; the implementation (./lint.ts) is loaded when it runs. */
import { pathIn } from '../io.js';
import { formatOption, type CommandModule } from '../command.js';
import type { LintOptions } from './lint.js';

export const lintCommands: CommandModule = (program, { io, exit }) => {
  program
    .command('lint')
    .description('check a pack directory against every lint rule (no network)')
    .argument('<dir>', 'the pack directory (holding pack.json)')
    .addOption(formatOption())
    .option('--strict', 'treat warnings as errors (exit 1)')
    .addHelpText(
      'after',
      `
Exit codes: 0 no errors, 1 errors (or warnings with --strict), 2 usage error.

Examples:
  packctl lint sample-packs/cni-calico
  packctl lint . --format json | jq '.findings[] | select(.severity == "error")'`,
    )
    .action(async (dir: string, options: LintOptions) => {
      const { lintCommand } = await import('./lint.js');
      exit(await lintCommand(pathIn(io, dir), options, io));
    });
};
