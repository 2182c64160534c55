/**
 * What a command module (./commands/*-command.ts) builds on: the context of one run, and the
 * options and help text several commands share. A command module defines its commands (arguments,
 * options, help) with commander and imports its implementation only in the action, so that
 * `packctl --version`, `--help` or `lint` never load the HTTP client or the archive writer.
 */
import { Option, type Command } from 'commander';
import { EXIT, EXIT_SHORT, type ExitCode } from './errors.js';
import { pathIn, type CliIo } from './io.js';

export interface CommandContext {
  io: CliIo;
  /** Records the exit code of the command that ran. */
  exit: (code: ExitCode) => void;
}

/** Adds a command module's commands to `program`, in the order `packctl --help` lists them. */
export type CommandModule = (program: Command, context: CommandContext) => void;

export function formatOption(): Option {
  return new Option('--format <format>', 'output format').choices(['text', 'json']).default('text');
}

/** The exit codes line of a registry command's help, from the one table (errors.ts). */
export const AUTH_EXITS = `
Exit codes: ${(Object.keys(EXIT) as Array<keyof typeof EXIT>).map((name) => `${EXIT[name]} ${EXIT_SHORT[name]}`).join(', ')}.`;

/** --server, --config and --format: the options of every command that talks to a registry. */
export function connectionOptions(command: Command): Command {
  return command
    .option('--server <url>', 'the registry server (default: PACKCTL_SERVER, or the one packctl login made default)')
    .option('--config <file>', 'credentials file (default: PACKCTL_CONFIG or ~/.packctl/config.json)')
    .addOption(formatOption());
}

/** `options` with each of the path options named by `keys` resolved in the run's working directory. */
export function withPaths<T extends object>(io: CliIo, options: T, ...keys: (keyof T)[]): T {
  const resolved = { ...options };
  for (const key of keys) {
    const value = options[key];
    if (typeof value === 'string') resolved[key] = pathIn(io, value) as T[keyof T];
  }
  return resolved;
}
