/**
 * packctl's catalogue of failures: its exit codes, which scripts rely on, so they never change
 * meaning. packctl reports a server's error code in its message and maps the HTTP status to one of
 * these (registry/client.ts).
 */
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

/** What each exit code means, for docs/error-codes.md (scripts/gen-error-docs.mjs). */
export const EXIT_MEANINGS = {
  ok: 'Success (lint: no errors; warnings allowed unless `--strict`).',
  failure:
    'The command ran and failed: lint errors, a build stopped by lint, a missing directory, a refused archive, a server error.',
  usage: 'Usage error: unknown command or option, missing argument, invalid value (`--layer`, `--format`, pack name).',
  auth: 'Not logged in, the credentials were refused or have expired, or the caller lacks the permission (HTTP 401, 403).',
  notFound: 'The server, registry, pack or version does not exist, or the version was deleted (HTTP 404, 410).',
  conflict: 'The version exists with other bytes, or the change conflicts with what the server holds (HTTP 409).',
} as const satisfies Record<keyof typeof EXIT, string>;

/** Each exit code in a few words, for `--help` (command.ts); the docs take EXIT_MEANINGS. */
export const EXIT_SHORT = {
  ok: 'ok',
  failure: 'failure',
  usage: 'usage',
  auth: 'not logged in or not allowed',
  notFound: 'not found',
  conflict: 'conflict',
} as const satisfies Record<keyof typeof EXIT, string>;

/**
 * The `code` of a failure in `--format json` output when nothing more exact is known (a server's
 * error code, a pack-core code or a system error's code is used when there is one).
 */
export const ERROR_CODE_OF_EXIT = {
  ok: 'OK',
  failure: 'FAILED',
  usage: 'USAGE',
  auth: 'NOT_ALLOWED',
  notFound: 'NOT_FOUND',
  conflict: 'CONFLICT',
} as const satisfies Record<keyof typeof EXIT, string>;

/** The fallback code of an exit code, for `--format json` output. */
export function errorCodeOfExit(exitCode: ExitCode): string {
  const key = (Object.keys(EXIT) as Array<keyof typeof EXIT>).find((k) => EXIT[k] === exitCode) ?? 'failure';
  return ERROR_CODE_OF_EXIT[key];
}

/**
 * An error the CLI reports as one line plus a hint, never a stack trace. Commands throw it; the
 * top-level handler in cli.ts prints it and exits with its code. `code` is the stable code a
 * script reads from `--format json` output: the server's error code when the server refused.
 */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;
  readonly code: string;
  /**
   * Whether the message and hint may span lines. Only for text packctl laid out itself: a message
   * that quotes a server (an error envelope, a record) is printed on one line, its line breaks
   * escaped, so it cannot forge lines of packctl's own output ("pulled ...", "hint: ...").
   */
  readonly multiline: boolean;

  constructor(
    message: string,
    options: { exitCode?: ExitCode; hint?: string; code?: string; multiline?: boolean } = {},
  ) {
    super(message);
    this.name = 'CliError';
    this.exitCode = options.exitCode ?? EXIT.failure;
    this.hint = options.hint;
    this.code = options.code ?? errorCodeOfExit(this.exitCode);
    this.multiline = options.multiline === true;
  }
}

export function usageError(message: string, hint?: string): CliError {
  return new CliError(message, hint === undefined ? { exitCode: EXIT.usage } : { exitCode: EXIT.usage, hint });
}
