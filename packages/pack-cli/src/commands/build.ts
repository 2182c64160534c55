import { buildPack } from '@packyard/pack-core';
import { EXIT, type ExitCode } from '../errors.js';
import type { CliIo } from '../io.js';
import { formatLintReport, lintJson } from '../output/lint-report.js';
import { safe } from '../output/sanitise.js';
import { colorsFor, formatSize, printJson, type OutputFormat } from '../output/terminal.js';
import { requirePackDir } from './lint.js';

export interface BuildOptions {
  output: string;
  format: OutputFormat;
  strict?: boolean;
}

/**
 * `packctl build DIR -o OUTDIR`: lint first (errors stop the build), then write
 * `<name>-<version>.zip` reproducibly and print where it went and its digest.
 */
export async function buildCommand(dir: string, options: BuildOptions, io: CliIo): Promise<ExitCode> {
  await requirePackDir(dir);
  const { lint, archive } = await buildPack(dir, { outDir: options.output, failOnWarnings: options.strict ?? false });
  if (archive === null) {
    if (options.format === 'json') printJson(io.stdout, { built: false, lint: lintJson(lint) });
    else io.stderr.write(formatLintReport(lint, dir, colorsFor(io.stderr, io.env)));
    return EXIT.failure;
  }
  const result = {
    name: archive.name,
    version: archive.version,
    path: archive.path,
    size: archive.size,
    digest: archive.digest,
    files: archive.files,
    warnings: lint.warnings,
  };
  if (options.format === 'json') {
    printJson(io.stdout, result);
    return EXIT.ok;
  }
  if (lint.warnings > 0) io.stderr.write(formatLintReport(lint, dir, colorsFor(io.stderr, io.env)));
  const c = colorsFor(io.stdout, io.env);
  io.stdout.write(
    [
      `${c.green('✔')} built ${c.bold(safe`${archive.name}@${archive.version}`)}`,
      safe`  path    ${archive.path}`,
      `  size    ${formatSize(archive.size)} (${archive.size} bytes, ${archive.files} files)`,
      `  digest  ${archive.digest}`,
      '',
    ].join('\n'),
  );
  return EXIT.ok;
}
