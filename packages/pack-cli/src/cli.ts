/**
 * packctl's command line: the program, the registry of its commands, and the one place every
 * failure becomes an exit code and one readable message (never a stack trace). Each command module
 * (./commands/*-command.ts) defines its own arguments, options and help, and loads its
 * implementation only when it runs. Messages and hints often quote a server or a pack: they are
 * printed terminal-safe (./output/sanitise.ts).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { isPackError } from '@packyard/pack-core/errors';
import type { CommandContext, CommandModule } from './command.js';
import { buildCommands } from './commands/build-command.js';
import { completionCommands } from './commands/completion-command.js';
import { identityCommands } from './commands/identity-command.js';
import { initCommands } from './commands/init-command.js';
import { lintCommands } from './commands/lint-command.js';
import { loginCommands } from './commands/login-command.js';
import { profileCommands } from './commands/profile-command.js';
import { pullCommands } from './commands/pull-command.js';
import { pushCommands } from './commands/push-command.js';
import { registryCommands } from './commands/registry-command.js';
import { searchCommands } from './commands/search-command.js';
import { versionsCommands } from './commands/versions-command.js';
import { CliError, EXIT, errorCodeOfExit } from './errors.js';
import { processIo, type CliIo } from './io.js';
import { terminalSafe } from './output/sanitise.js';
import { colorsFor, printJson } from './output/terminal.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** Every command, in the order `packctl --help` lists them. */
const COMMANDS: readonly CommandModule[] = [
  lintCommands,
  buildCommands,
  initCommands,
  loginCommands,
  pushCommands,
  pullCommands,
  searchCommands,
  profileCommands,
  versionsCommands,
  registryCommands,
  identityCommands,
  completionCommands,
];

function createProgram(context: CommandContext): Command {
  const { io } = context;
  const program = new Command('packctl')
    .description('Scaffold, lint, build, push and pull Packyard packs (Kubernetes cluster profile layers).')
    .version(version, '-V, --version')
    .enablePositionalOptions()
    .showHelpAfterError('(run packctl help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // As commander's defaults, for the run's streams: a terminal's width, else 80 columns.
      getOutHelpWidth: () => (io.stdout.isTTY ? io.stdout.columns : undefined) ?? 80,
      getErrHelpWidth: () => (io.stderr.isTTY ? io.stderr.columns : undefined) ?? 80,
    });
  for (const define of COMMANDS) define(program, context);
  return program;
}

/** What a file-system call's error code means to a user, and what to do about it. */
const FS_FAILURES: Readonly<Record<string, { reason: string; hint: string }>> = {
  EACCES: { reason: 'permission denied', hint: 'check the permissions of the path, or choose another' },
  EPERM: { reason: 'operation not permitted', hint: 'check the permissions of the path, or choose another' },
  EEXIST: { reason: 'a file is already there', hint: 'move it away, or choose another path' },
  ENOTDIR: { reason: 'a file is where a directory should be', hint: 'give a directory, or a path through directories' },
  EISDIR: { reason: 'a directory is where a file should be', hint: 'give a file, not a directory' },
  ENOENT: { reason: 'no such file or directory, or one that cannot be made', hint: 'check the path' },
  EROFS: { reason: 'the filesystem is read-only', hint: 'choose a path on a writable filesystem' },
  ENOSPC: { reason: 'no space left on the device', hint: 'free some space, or choose another path' },
};

/**
 * A file-system call's failure as one line naming the path (`/x/out: a file is already there
 * (mkdir)`) and a hint, instead of Node's message; other errors with a code keep their message.
 */
function fileSystemFailure(errno: NodeJS.ErrnoException & { dest?: unknown }): {
  message: string;
  hint: string | undefined;
} {
  const known = FS_FAILURES[errno.code ?? ''];
  if (!known || typeof errno.path !== 'string') {
    return { message: errno.message, hint: errno.code === 'EACCES' ? FS_FAILURES['EACCES']?.hint : undefined };
  }
  const target = typeof errno.dest === 'string' ? `${errno.path} -> ${errno.dest}` : errno.path;
  return { message: `${target}: ${known.reason}${errno.syscall ? ` (${errno.syscall})` : ''}`, hint: known.hint };
}

/** Whether the command line asks for JSON output (`--format json` or `--format=json`, before any `--`). */
function wantsJson(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') return false;
    if (arg === '--format=json' || (arg === '--format' && argv[i + 1] === 'json')) return true;
  }
  return false;
}

interface Failure {
  code: string;
  message: string;
  hint: string | undefined;
  /** Only for packctl's own text ({@link CliError.multiline}); anything else is one line. */
  multiline?: boolean;
}

/**
 * A failure, on stderr for people; with `--format json` also on stdout as
 * `{ "error": { code, message, hint } }`, for scripts. Messages quote servers, archives and file
 * systems: each is printed as one line (its line breaks escaped) unless packctl wrote it whole.
 */
function report(io: CliIo, failure: Failure, json: boolean): void {
  const { message, hint } = failure;
  const layout = { multiline: failure.multiline === true };
  const c = colorsFor(io.stderr, io.env);
  io.stderr.write(`${c.red('error:')} ${terminalSafe(message, layout)}\n`);
  if (hint) io.stderr.write(`${c.dim(`hint: ${terminalSafe(hint, layout)}`)}\n`);
  if (json) printJson(io.stdout, { error: { code: failure.code, message, ...(hint ? { hint } : {}) } });
}

/**
 * Runs packctl with the given arguments (without "node packctl") and returns the exit code; it
 * never exits the process. `io` replaces the process's streams, environment and working
 * directory, for running packctl in-process (tests, or a host program).
 *
 * @example
 * const code = await run(['lint', 'sample-packs/cni-calico', '--format', 'json']);
 */
export async function run(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const runIo: CliIo = { ...processIo(), ...io };
  const json = wantsJson(argv);
  let exitCode: number = EXIT.ok;
  const program = createProgram({
    io: runIo,
    exit: (code) => {
      exitCode = code;
    },
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version end through here too, with exit code 0; commander printed the message.
      if (err.exitCode === 0) return EXIT.ok;
      if (json) {
        const message = err.message.replace(/^error: /, '');
        printJson(runIo.stdout, { error: { code: errorCodeOfExit(EXIT.usage), message } });
      }
      return EXIT.usage;
    }
    if (err instanceof CliError) {
      report(runIo, { code: err.code, message: err.message, hint: err.hint, multiline: err.multiline }, json);
      return err.exitCode;
    }
    if (isPackError(err)) {
      report(runIo, { code: err.code, message: err.message, hint: err.hint }, json);
      return EXIT.failure;
    }
    const errno = err as NodeJS.ErrnoException;
    if (typeof errno.code === 'string' && typeof errno.message === 'string') {
      report(runIo, { code: errno.code, ...fileSystemFailure(errno) }, json);
      return EXIT.failure;
    }
    // Anything else is a bug, or an answer of a shape packctl did not expect: one line, made safe,
    // instead of Node's report of an uncaught error (which would print the message raw).
    report(
      runIo,
      {
        code: 'UNEXPECTED',
        message: `packctl failed unexpectedly: ${err instanceof Error ? err.message : String(err)}`,
        hint: 'if a registry server was involved, check that it is a Packyard registry; otherwise please report this',
      },
      json,
    );
    return EXIT.failure;
  }
}
