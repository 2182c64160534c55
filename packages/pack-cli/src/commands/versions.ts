/** `packctl deprecate` and `packctl rm`: changing one published version. */
import { CliError, EXIT, type ExitCode } from '../errors.js';
import type { CliIo } from '../io.js';
import { safe } from '../output/sanitise.js';
import { printJson, type OutputFormat } from '../output/terminal.js';
import { packPath, RegistryClient } from '../registry/client.js';
import { parsePackRef } from './pull.js';

export interface VersionChangeOptions {
  registry: string;
  message?: string;
  undo?: boolean;
  server?: string;
  config?: string;
  format: OutputFormat;
}

function exactRef(ref: string): { name: string; version: string } {
  const { name, selector } = parsePackRef(ref);
  if (selector === null) {
    throw new CliError(`${ref}: name the version`, { exitCode: EXIT.usage, hint: `e.g. ${name}@1.2.3` });
  }
  return { name, version: selector };
}

/** `packctl deprecate NAME@VERSION -m MESSAGE` (or --undo). */
export async function deprecateCommand(ref: string, options: VersionChangeOptions, io: CliIo): Promise<ExitCode> {
  const { name, version } = exactRef(ref);
  if (!options.undo && !options.message) {
    throw new CliError('say why with -m MESSAGE: its users will read it', { exitCode: EXIT.usage });
  }
  const client = await RegistryClient.open({ ...options, env: io.env });
  const url = packPath(options.registry, name, version);
  const body = options.undo ? { deprecated: false } : { deprecated: true, message: options.message };
  const record = await client.json('PATCH', url, `deprecating ${ref}`, body);
  if (options.format === 'json') printJson(io.stdout, record);
  else io.stdout.write(safe`${options.undo ? 'undeprecated' : 'deprecated'} ${name}@${version}\n`);
  return EXIT.ok;
}

/** `packctl rm NAME@VERSION`: leaves a tombstone; only the same bytes can ever come back. */
export async function removeCommand(ref: string, options: VersionChangeOptions, io: CliIo): Promise<ExitCode> {
  const { name, version } = exactRef(ref);
  const client = await RegistryClient.open({ ...options, env: io.env });
  const query = options.message ? `?${new URLSearchParams({ message: options.message }).toString()}` : '';
  const url = `${packPath(options.registry, name, version)}${query}`;
  const removed = await client.json('DELETE', url, `removing ${ref} from ${options.registry}`);
  if (options.format === 'json') printJson(io.stdout, removed);
  else io.stdout.write(safe`removed ${name}@${version} from ${options.registry}\n`);
  return EXIT.ok;
}
