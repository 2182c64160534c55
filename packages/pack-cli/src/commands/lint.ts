import { stat } from 'node:fs/promises';
import { lintPack, type LintResult } from '@packyard/pack-core/lint';
import { CliError, EXIT, type ExitCode } from '../errors.js';
import type { CliIo } from '../io.js';
import { formatLintReport, lintJson } from '../output/lint-report.js';
import { colorsFor, printJson, type OutputFormat } from '../output/terminal.js';

export interface LintOptions {
  format: OutputFormat;
  strict?: boolean;
}

/** Fails early, with a usable message, when DIR is not a directory. */
export async function requirePackDir(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => null);
  if (!info) throw new CliError(`${dir}: no such directory`, { hint: 'pass the directory that holds pack.json' });
  if (!info.isDirectory()) {
    throw new CliError(`${dir} is not a directory`, { hint: 'pass the directory that holds pack.json, not a file' });
  }
}

export function lintExitCode(result: LintResult, strict: boolean): ExitCode {
  return result.errors > 0 || (strict && result.warnings > 0) ? EXIT.failure : EXIT.ok;
}

/** `packctl lint DIR`: every rule, no network; exit 1 on errors (or warnings with --strict). */
export async function lintCommand(dir: string, options: LintOptions, io: CliIo): Promise<ExitCode> {
  await requirePackDir(dir);
  const result = await lintPack(dir);
  if (options.format === 'json') printJson(io.stdout, lintJson(result));
  else io.stdout.write(formatLintReport(result, dir, colorsFor(io.stdout, io.env)));
  return lintExitCode(result, options.strict ?? false);
}
