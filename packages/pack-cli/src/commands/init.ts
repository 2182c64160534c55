import { readdir, writeFile } from 'node:fs/promises';
import { makeDir } from '@packyard/pack-core/make-dir';
import path from 'node:path';
import { packManifestSchema, scaffoldPack, type PackLayer, type ScaffoldContent } from '@packyard/pack-core';
import { CliError, EXIT, usageError, type ExitCode } from '../errors.js';
import { placeDirectory, stage } from '../files.js';
import { pathIn, type CliIo } from '../io.js';
import { colorsFor, printJson, type OutputFormat } from '../output/terminal.js';

export interface InitOptions {
  layer: PackLayer;
  chart?: boolean;
  manifest?: boolean;
  dir?: string;
  version?: string;
  displayName?: string;
  format: OutputFormat;
}

const NAME_PATTERN = new RegExp(packManifestSchema.properties.name.pattern);

/** `packctl init NAME --layer LAYER [--chart|--manifest]`: a new pack that lints clean and builds. */
export async function initCommand(name: string, options: InitOptions, io: CliIo): Promise<ExitCode> {
  if (!NAME_PATTERN.test(name) || name.length > packManifestSchema.properties.name.maxLength) {
    throw usageError(
      `"${name}" is not a valid pack name`,
      'use lowercase letters, digits and inner hyphens, at most 64 characters (e.g. "cni-calico")',
    );
  }
  const content: ScaffoldContent = options.chart ? 'chart' : options.manifest ? 'manifest' : 'values';
  const dir = options.dir ?? pathIn(io, name);
  const existing = await readdir(dir).catch(() => null);
  if (existing !== null && existing.length > 0) {
    throw new CliError(`${dir} already exists and is not empty`, { hint: 'choose another NAME or pass --dir NEWDIR' });
  }
  const files = await scaffoldPack({
    name,
    layer: options.layer,
    content,
    ...(options.version === undefined ? {} : { version: options.version }),
    ...(options.displayName === undefined ? {} : { displayName: options.displayName }),
  });
  // Written whole beside `dir`, then renamed into place: a failure half-way (a full disk) leaves
  // no partial pack that a second run would refuse as "not empty".
  const write = async (staging: string) => {
    for (const file of files) {
      const target = path.join(staging, file.path);
      await makeDir(path.dirname(target));
      await writeFile(target, file.content, { flag: 'wx' });
    }
  };
  await stage(path.dirname(path.resolve(dir)), path.basename(dir), write, (staging) => placeDirectory(staging, dir));
  if (options.format === 'json') {
    printJson(io.stdout, { name, layer: options.layer, dir, files: files.map((f) => f.path) });
    return EXIT.ok;
  }
  const c = colorsFor(io.stdout, io.env);
  io.stdout.write(
    [
      `${c.green('✔')} created ${c.bold(name)} (layer ${options.layer}) in ${dir}/`,
      ...files.map((f) => `  ${f.path}`),
      '',
      'Next:',
      `  1. fill in the TODOs in ${path.join(dir, 'values.yaml')} and ${path.join(dir, 'README.md')}`,
      `  2. packctl lint ${dir}`,
      `  3. packctl build ${dir} -o dist/`,
      '',
    ].join('\n'),
  );
  return EXIT.ok;
}
