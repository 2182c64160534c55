/**
 * Building a pack: lint, then write `<name>-<version>.zip` reproducibly.
 */
import { realpath } from 'node:fs/promises';
import { makeDir } from './make-dir.js';
import path from 'node:path';
import { writePackArchive, type WrittenArchive } from './archive/write-archive.js';
import { lintPack, type LintResult } from './lint/lint-pack.js';
import { listPackFiles } from './pack-dir.js';

export interface BuildResult {
  lint: LintResult;
  /** Null when lint found errors: nothing was written then. */
  archive: (WrittenArchive & { name: string; version: string; files: number }) | null;
}

/** The file name a pack archive gets. */
export function archiveFileName(name: string, version: string): string {
  return `${name}-${version}.zip`;
}

/**
 * Lints a pack directory and, when it has no errors (nor warnings, with `failOnWarnings`),
 * writes its archive into `outDir`.
 *
 * @example
 * const { lint, archive } = await buildPack('sample-packs/cni-calico', { outDir: 'dist' });
 * archive?.digest; // 'sha256:…'
 */
export async function buildPack(
  dir: string,
  options: { outDir: string; mtime?: Date; failOnWarnings?: boolean },
): Promise<BuildResult> {
  const lint = await lintPack(dir);
  const { name, version } = lint.pack;
  const failed = lint.errors > 0 || (options.failOnWarnings === true && lint.warnings > 0);
  if (failed || name === null || version === null) return { lint, archive: null };

  await makeDir(options.outDir);
  const root = await realpath(dir);
  const outDir = await realpath(options.outDir);
  // Building into a folder inside the pack must not pack earlier builds.
  const rel = path.relative(root, outDir);
  const exclude =
    rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? [`/${rel.split(path.sep).join('/')}/`] : [];
  const outFile = path.join(outDir, archiveFileName(name, version));
  // Building into the pack folder itself: leave this pack's earlier archives out.
  const { files } = await listPackFiles(dir, { exclude: rel === '' ? [`/${name}-*.zip`] : exclude });
  const written = await writePackArchive(files, outFile, options.mtime ? { mtime: options.mtime } : {});
  return { lint, archive: { ...written, name, version, files: files.length } };
}
