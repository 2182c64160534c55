/**
 * The one error type of Packyard: a stable string code, a message, an optional hint telling the
 * user how to fix it, and the HTTP status the registry answers with. The CLI maps codes to exit
 * codes; the server writes `{ error: { code, message, hint } }`.
 *
 * @example
 * throw new PackError('ARCHIVE_UNSAFE_PATH', `entry "${name}" leaves the archive root`, {
 *   hint: 'rebuild the pack with packctl build',
 *   status: 422,
 * });
 */
export class PackError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly status: number;
  /** Structured detail for machines (the lint findings that stopped a publish, say). */
  readonly details: unknown;

  constructor(
    code: string,
    message: string,
    options: { hint?: string; status?: number; cause?: unknown; details?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PackError';
    this.code = code;
    this.hint = options.hint;
    this.status = options.status ?? 400;
    this.details = options.details;
  }
}

export function isPackError(value: unknown): value is PackError {
  return value instanceof PackError;
}
