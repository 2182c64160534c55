/**
 * `packctl completion bash|zsh|fish`: its command line; the implementation (./completion.ts) is
 * loaded when it runs. It completes the commands of the program it is given, which by then (the
 * action runs after parsing) holds every command module's commands.
 */
import { Argument } from 'commander';
import type { CommandModule } from '../command.js';
import type { Shell } from './completion.js';

export const completionCommands: CommandModule = (program, { io, exit }) => {
  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish) for packctl')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh', 'fish'] satisfies Shell[]))
    .addHelpText(
      'after',
      `
Install it (and generate it again after upgrading packctl):
  bash:  source <(packctl completion bash)                         # in this shell
         packctl completion bash > /etc/bash_completion.d/packctl  # in every new shell
  zsh:   packctl completion zsh > "\${fpath[1]}/_packctl"           # then start a new shell
  fish:  packctl completion fish > ~/.config/fish/completions/packctl.fish`,
    )
    .action(async (shell: Shell) => {
      const { completionCommand } = await import('./completion.js');
      exit(completionCommand(program, shell, io));
    });
};
