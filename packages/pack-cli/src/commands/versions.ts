/** `packctl deprecate` and `packctl rm`: changing one published version. */
import { CliError, EXIT, type ExitCode } from '../errors.js';
import type { CliIo } from '../io.js';
import { safe } from '../output/sanitise.js';
import { printJson, type OutputFormat } from '../output/terminal.js';
import { RegistryClient } from '../registry/client.js';
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
  const changes = options.undo ? { deprecated: false } : { deprecated: true, message: options.message ?? null };
  const record = await client.api.changeVersion(
    { registry: options.registry, name, version },
    changes,
    `deprecating ${ref}`,
  );
  if (options.format === 'json') printJson(io.stdout, record);
  else io.stdout.write(safe`${options.undo ? 'undeprecated' : 'deprecated'} ${name}@${version}\n`);
  return EXIT.ok;
}

/** `packctl rm NAME@VERSION`: leaves a tombstone; only the same bytes can ever come back. */
export async function removeCommand(ref: string, options: VersionChangeOptions, io: CliIo): Promise<ExitCode> {
  const { name, version } = exactRef(ref);
  const client = await RegistryClient.open({ ...options, env: io.env });
  const removed = await client.api.deleteVersion(
    { registry: options.registry, name, version },
    options.message || undefined,
    `removing ${ref} from ${options.registry}`,
  );
  if (options.format === 'json') printJson(io.stdout, removed);
  else io.stdout.write(safe`removed ${name}@${version} from ${options.registry}\n`);
  return EXIT.ok;
}
