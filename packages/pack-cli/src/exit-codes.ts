/** packctl's exit codes: scripts rely on them, so they never change meaning. */
export const EXIT = {
  ok: 0,
  /** The command ran and found problems (lint errors, a failed build). */
  failure: 1,
  /** The command line was wrong: unknown option, missing argument, bad value. */
  usage: 2,
  /** Not signed in, the credentials were refused, or the caller lacks the permission. */
  auth: 3,
  /** The server, registry, pack or version does not exist. */
  notFound: 4,
  /** The version exists with other content, or the change conflicts with the server's state. */
  conflict: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * An error the CLI reports as one line plus a hint, never a stack trace. Commands throw it; the
 * top-level handler in cli.ts prints it and exits with its code.
 */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;

  constructor(message: string, options: { exitCode?: ExitCode; hint?: string } = {}) {
    super(message);
    this.name = 'CliError';
    this.exitCode = options.exitCode ?? EXIT.failure;
    this.hint = options.hint;
  }
}

export function usageError(message: string, hint?: string): CliError {
  return new CliError(message, hint === undefined ? { exitCode: EXIT.usage } : { exitCode: EXIT.usage, hint });
}
