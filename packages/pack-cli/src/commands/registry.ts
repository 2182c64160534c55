/**
 * `packctl registry ls|show|create|update`: the registries on a registry server (the servers
 * themselves are `packctl server`). A tenant user's registry goes to their own tenant unless
 * `--tenant` says otherwise; an operator's is a system registry unless `--tenant` is given.
 */
import type { NewRegistry, Registry, RegistryChanges } from '@packyard/registry-api';
import { EXIT, usageError, type ExitCode } from '../errors.js';
import type { CliIo } from '../io.js';
import { printList, printRecord, type OutputFormat } from '../output/terminal.js';
import { RegistryClient } from '../registry/client.js';

export interface RegistryListOptions {
  tenant?: string;
  server?: string;
  config?: string;
  format: OutputFormat;
}

export interface RegistryCreateOptions extends RegistryListOptions {
  project?: string;
  description?: string;
  public?: boolean;
  allowOverwrite?: boolean;
}

export type RegistryUpdateOptions = Omit<RegistryCreateOptions, 'tenant' | 'project'>;

function ownerOf(registry: Registry): string {
  if (registry.scope === 'system') return '-';
  return registry.project === null ? (registry.tenant ?? '') : `${registry.tenant ?? ''}/${registry.project}`;
}

/** `packctl registry ls [--tenant T]`: the registries the caller can read. */
export async function registryListCommand(options: RegistryListOptions, io: CliIo): Promise<ExitCode> {
  const client = await RegistryClient.open({ ...options, env: io.env });
  const { items } = await client.api.registries(`listing the registries of ${client.server}`);
  const shown = options.tenant === undefined ? items : items.filter((r) => r.tenant === options.tenant);
  const rows = [
    ['NAME', 'SCOPE', 'OWNER', 'PUBLIC', 'OVERWRITE', 'DESCRIPTION'],
    ...shown.map((r) => [
      r.name,
      r.scope,
      ownerOf(r),
      r.public ? 'yes' : 'no',
      r.allowOverwrite ? 'yes' : 'no',
      r.description,
    ]),
  ];
  printList(io, options.format, shown, rows, 'No registries you can read.');
  return EXIT.ok;
}

function printRegistry(io: CliIo, registry: Registry, format: OutputFormat, verb?: string): void {
  printRecord(io, format, registry, verb === undefined ? registry.name : `${verb} registry ${registry.name}`, [
    ['scope', registry.scope],
    ['owner', ownerOf(registry)],
    ['public', registry.public ? 'yes (anonymous reads, where the server allows them)' : 'no'],
    ['overwrite', registry.allowOverwrite ? 'allowed (push --force -m)' : 'not allowed'],
    ['description', registry.description],
    ['created', `${registry.createdAt} by ${registry.createdBy}`],
    ['revision', String(registry.revision)],
  ]);
}

/** `packctl registry show NAME`. */
export async function registryShowCommand(name: string, options: RegistryListOptions, io: CliIo): Promise<ExitCode> {
  const client = await RegistryClient.open({ ...options, env: io.env });
  printRegistry(io, await client.api.registry(name, `looking up registry ${name}`), options.format);
  return EXIT.ok;
}

/**
 * `packctl registry create NAME [--tenant T [--project P]]`: a project registry with --project,
 * a tenant registry with --tenant or for a tenant user, else a system registry.
 */
export async function registryCreateCommand(
  name: string,
  options: RegistryCreateOptions,
  io: CliIo,
): Promise<ExitCode> {
  const client = await RegistryClient.open({ ...options, env: io.env });
  const tenant = options.tenant ?? (await client.whoAmI())?.tenant ?? null;
  if (options.project !== undefined && tenant === null) {
    throw usageError('--project needs a tenant', 'pass --tenant, or sign in as a user of the tenant');
  }
  const scope = options.project !== undefined ? 'project' : tenant === null ? 'system' : 'tenant';
  const body: NewRegistry = {
    name,
    scope,
    ...(tenant === null ? {} : { tenant }),
    ...(options.project === undefined ? {} : { project: options.project }),
    ...(options.description === undefined ? {} : { description: options.description }),
    ...(options.public === undefined ? {} : { public: options.public }),
    ...(options.allowOverwrite === undefined ? {} : { allowOverwrite: options.allowOverwrite }),
  };
  const created = await client.api.createRegistry(body, `creating registry ${name}`);
  printRegistry(io, created, options.format, 'created');
  return EXIT.ok;
}

/** `packctl registry update NAME [--description D] [--[no-]public] [--[no-]allow-overwrite]`. */
export async function registryUpdateCommand(
  name: string,
  options: RegistryUpdateOptions,
  io: CliIo,
): Promise<ExitCode> {
  const changes: RegistryChanges = {
    ...(options.description === undefined ? {} : { description: options.description }),
    ...(options.public === undefined ? {} : { public: options.public }),
    ...(options.allowOverwrite === undefined ? {} : { allowOverwrite: options.allowOverwrite }),
  };
  if (Object.keys(changes).length === 0) {
    throw usageError(
      'nothing to change',
      'pass --description, --public/--no-public or --allow-overwrite/--no-allow-overwrite',
    );
  }
  const client = await RegistryClient.open({ ...options, env: io.env });
  const updated = await client.api.changeRegistry(name, changes, `updating registry ${name}`);
  printRegistry(io, updated, options.format, 'updated');
  return EXIT.ok;
}
