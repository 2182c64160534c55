/**
 * `packctl profile resolve FILE`: a cluster profile (YAML or JSON, schemas/profile.schema.json)
 * resolved against the registry server into exact layers, with every problem listed, and a lock
 * file (`FILE.lock`: exact versions, registries, digests) written unless --no-lock; --frozen fails
 * when the lock no longer matches instead of rewriting it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  lockOf,
  parseYaml,
  resolveProfile,
  validateProfile,
  type PackDependency,
  type PackLayer,
  type PackSource,
  type ProfileLock,
  type ProfileResolution,
} from '@packyard/pack-core';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import { colorsFor, formatTable, printJson, type OutputFormat } from '../output/terminal.js';
import { RegistryClient } from '../registry/client.js';
import { downloadVerified } from './pull.js';

export interface ProfileResolveOptions {
  lock?: boolean;
  frozen?: boolean;
  server?: string;
  config?: string;
  format: OutputFormat;
}

interface VersionRecord {
  digest: string;
  size: number;
  layer: PackLayer;
  manifest: { cloudTypes?: string[]; constraints?: { dependencies?: PackDependency[] } };
}

/**
 * The registry server as the resolver's source of versions and pack details; `sizeOf` gives the
 * archive size of a version it has looked up (for downloads), without asking the server again.
 */
export function registrySource(client: RegistryClient): PackSource & {
  sizeOf(registry: string, name: string, version: string): number | undefined;
} {
  const sizes = new Map<string, number>();
  const sizeKey = (registry: string, name: string, version: string) => `${registry}\u0000${name}\u0000${version}`;
  const pack = (registry: string, name: string) =>
    `/v1/registries/${encodeURIComponent(registry)}/packs/${encodeURIComponent(name)}`;
  return {
    async versions(registry, name) {
      const res = await client.send('GET', pack(registry, name));
      if (res.status === 404) return null;
      await client.check(res, `looking up ${name} in ${registry}`);
      const detail = (await res.json()) as { versions: Array<{ version: string; deprecated: unknown }> };
      return detail.versions.map((v) => ({ version: v.version, deprecated: v.deprecated !== null }));
    },
    async details(registry, name, version) {
      const base = `${pack(registry, name)}/${encodeURIComponent(version)}`;
      const record = await client.json<VersionRecord>('GET', base, `looking up ${name}@${version} in ${registry}`);
      sizes.set(sizeKey(registry, name, version), record.size);
      const values = await client.send('GET', `${base}/files/values.yaml`);
      if (values.status !== 404) await client.check(values, `reading values.yaml of ${name}@${version}`);
      return {
        digest: record.digest,
        layer: record.layer,
        cloudTypes: record.manifest.cloudTypes ?? [],
        dependencies: record.manifest.constraints?.dependencies ?? [],
        values: values.status === 404 ? null : await values.text(),
      };
    },
    sizeOf: (registry, name, version) => sizes.get(sizeKey(registry, name, version)),
  };
}

export async function readProfileFile(file: string) {
  const text = await readFile(file, 'utf8').catch(() => {
    throw new CliError(`${file}: cannot read the profile`, { hint: 'pass the path of a profile YAML or JSON file' });
  });
  const parsed = parseYaml(text);
  if (parsed.problem) {
    throw new CliError(`${file} is not valid YAML: ${parsed.problem.message}`, { hint: 'fix the line it names' });
  }
  const { profile, errors } = validateProfile(parsed.documents[0]);
  if (!profile) {
    throw new CliError(`${file} is not a valid cluster profile: ${errors.join('; ')}`, {
      hint: 'see schemas/profile.schema.json (add "$schema" to the file for editor help)',
    });
  }
  return profile;
}

function sameLock(a: ProfileLock, b: ProfileLock): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function printResolution(resolution: ProfileResolution): void {
  const c = colorsFor(process.stdout);
  const rows = [['LAYER', 'PACK', 'VERSION', 'REGISTRY', 'DIGEST']];
  for (const l of resolution.layers) rows.push([l.layer, l.name, l.version, l.registry, l.digest.slice(0, 19)]);
  process.stdout.write(formatTable(rows, c));
}

export async function profileResolveCommand(file: string, options: ProfileResolveOptions): Promise<ExitCode> {
  const profile = await readProfileFile(file);
  const client = await RegistryClient.open(options);
  const resolution = await resolveProfile(profile, registrySource(client));
  const lockFile = `${file}.lock`;
  const lock = lockOf(resolution);
  let lockState: 'written' | 'unchanged' | 'skipped' | 'stale' = 'skipped';
  if (resolution.problems.length === 0 && options.frozen) {
    const current = await readFile(lockFile, 'utf8').then(
      (text) => JSON.parse(text) as ProfileLock,
      () => null,
    );
    lockState = current && sameLock(current, lock) ? 'unchanged' : 'stale';
  } else if (resolution.problems.length === 0 && options.lock !== false) {
    await writeFile(lockFile, `${JSON.stringify(lock, null, 2)}\n`);
    lockState = 'written';
  }
  if (options.format === 'json') printJson({ ...resolution, lock: { file: lockFile, state: lockState } });
  else {
    printResolution(resolution);
    for (const problem of resolution.problems) {
      process.stderr.write(`problem${problem.pack ? ` (${problem.pack})` : ''}: ${problem.message}\n`);
    }
    if (lockState === 'written') process.stderr.write(`wrote ${lockFile}\n`);
  }
  if (resolution.problems.length > 0) return EXIT.failure;
  if (lockState === 'stale') {
    throw new CliError(`${lockFile} no longer matches what ${file} resolves to`, {
      hint: `run packctl profile resolve ${file} without --frozen to update it, and review the change`,
    });
  }
  return EXIT.ok;
}

export interface ProfilePullOptions extends ProfileResolveOptions {
  output: string;
}

/** `packctl profile pull FILE -o DIR`: every resolved pack, verified, plus the lock and the profile. */
export async function profilePullCommand(file: string, options: ProfilePullOptions): Promise<ExitCode> {
  const profile = await readProfileFile(file);
  const client = await RegistryClient.open(options);
  const source = registrySource(client);
  const resolution = await resolveProfile(profile, source);
  if (resolution.problems.length > 0) {
    for (const problem of resolution.problems) {
      process.stderr.write(`problem${problem.pack ? ` (${problem.pack})` : ''}: ${problem.message}\n`);
    }
    return EXIT.failure;
  }
  const files: string[] = [];
  for (const layer of resolution.layers) {
    // Every resolved layer was looked up by the resolver, size included.
    const size = source.sizeOf(layer.registry, layer.name, layer.version) ?? 0;
    files.push(await downloadVerified(client, layer.registry, { ...layer, size }, options.output));
    if (options.format === 'text') process.stderr.write(`pulled ${layer.name}@${layer.version}\n`);
  }
  const lockFile = path.join(options.output, `${profile.name}.lock`);
  await writeFile(lockFile, `${JSON.stringify(lockOf(resolution), null, 2)}\n`);
  await writeFile(path.join(options.output, path.basename(file)), await readFile(file));
  if (options.format === 'json') printJson({ profile: resolution.profile, files, lock: lockFile });
  else process.stdout.write(`${files.length} packs and ${lockFile} in ${options.output}\n`);
  return EXIT.ok;
}

export interface ProfilePushOptions {
  tenant?: string;
  project?: string;
  server?: string;
  config?: string;
  format: OutputFormat;
}

/** `packctl profile push FILE [--tenant T [--project P]]`: stores it on the server, created or replaced. */
export async function profilePushCommand(file: string, options: ProfilePushOptions): Promise<ExitCode> {
  const profile = await readProfileFile(file);
  if (options.project && !options.tenant) {
    throw new CliError('--project needs --tenant', { exitCode: EXIT.usage });
  }
  const client = await RegistryClient.open(options);
  const base = options.tenant
    ? `/v1/tenants/${encodeURIComponent(options.tenant)}${options.project ? `/projects/${encodeURIComponent(options.project)}` : ''}/cluster-profiles`
    : '/v1/cluster-profiles';
  const body = JSON.stringify(profile);
  const headers = { 'Content-Type': 'application/json' };
  let res = await client.send('POST', base, { body, headers });
  let outcome = 'created';
  if (res.status === 409) {
    res = await client.send('PUT', `${base}/${encodeURIComponent(profile.name)}`, { body, headers });
    outcome = 'replaced';
  }
  await client.check(res, `pushing the profile ${profile.name}`);
  const stored = (await res.json()) as { scope: string; revision: number };
  if (options.format === 'json') printJson({ outcome, ...stored });
  else
    process.stdout.write(
      `${outcome} ${profile.name}@${profile.version} (${stored.scope} scope, revision ${stored.revision})\n`,
    );
  return EXIT.ok;
}
