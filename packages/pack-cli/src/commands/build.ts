import { lstat, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { buildPack } from '@packyard/pack-core';
import { CliError, EXIT, type ExitCode } from '../errors.js';
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

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Refuses an output directory whose path runs, inside the pack directory, through a symbolic link
 * leading out of it. A pack someone else wrote may commit `dist -> ~/elsewhere` (and ignore it in
 * .packignore, where lint does not look): `packctl build . -o dist/` would then replace
 * `<name>-<version>.zip` there. The path is followed as the system would, one existing component
 * at a time from the root, so a link reached through another (a link of the user's own into the
 * pack) is checked too. A directory outside the pack is the user's own choice, links included.
 */
async function checkOutputDir(packDir: string, outDir: string): Promise<void> {
  const root = await realpath(packDir);
  const absolute = path.resolve(outDir);
  let current = path.parse(absolute).root;
  const names = absolute.slice(current.length).split(path.sep);
  for (const name of names.filter((part) => part !== '')) {
    const next = path.join(current, name);
    const info = await lstat(next).catch(() => null);
    // Nothing there (build makes real directories from here on), or not a directory (it fails).
    if (info === null || (!info.isSymbolicLink() && !info.isDirectory())) return;
    if (!info.isSymbolicLink()) {
      current = next;
      continue;
    }
    const target = await realpath(next).catch(() => null);
    if (isInside(root, current)) {
      // A link to nothing leads where its text says; one inside the pack makes the build fail.
      const leadsTo = target ?? path.resolve(current, await readlink(next));
      if (!isInside(root, leadsTo)) {
        const link = path.join(packDir, path.relative(root, next));
        const why = `${link} is a symbolic link in the pack directory to ${leadsTo}, outside it`;
        throw new CliError(`refusing to build into ${outDir}: ${why}`, {
          hint: 'give -o a directory outside the pack, or remove the link',
        });
      }
    }
    if (target === null) return;
    current = target;
  }
}

/**
 * `packctl build DIR -o OUTDIR`: lint first (errors stop the build), then write
 * `<name>-<version>.zip` reproducibly and print where it went and its digest.
 */
export async function buildCommand(dir: string, options: BuildOptions, io: CliIo): Promise<ExitCode> {
  await requirePackDir(dir);
  await checkOutputDir(dir, options.output);
  // Resolved as it was checked: to the system, "dist/../out" is not "out" when dist is a link.
  const outDir = path.resolve(options.output);
  const { lint, archive } = await buildPack(dir, { outDir, failOnWarnings: options.strict ?? false });
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
