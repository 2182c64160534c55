/**
 * `packctl profile resolve FILE`: a cluster profile (YAML or JSON, schemas/profile.schema.json)
 * resolved against the registry server into exact layers, with every problem listed, and a lock
 * file (`FILE.lock`: exact versions, registries, digests) written unless --no-lock; --frozen fails
 * when the lock no longer matches instead of rewriting it.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { ProfileView } from '@packyard/registry-api';
import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import {
  lockOf,
  MAX_YAML_BYTES,
  parseYaml,
  resolveProfile,
  validateProfile,
  type PackSource,
  type ProfileLock,
  type ProfileProblem,
  type ProfileResolution,
} from '@packyard/pack-core';
import { CliError, EXIT, usageError, type ExitCode } from '../errors.js';
import type { CliIo } from '../io.js';
import { fileInside, placeFiles, readRequiredUserFile, readUserFile, replaceFile, stage } from '../files.js';
import { safe, terminalSafe } from '../output/sanitise.js';
import {
  colorsFor,
  formatSize,
  formatTable,
  printJson,
  pageQuery,
  printPage,
  type OutputFormat,
} from '../output/terminal.js';
import { checkArchiveRecord, checkLayer, checkResolverDetails, checkVersion } from '../registry/answers.js';
import { discard, readText } from '../registry/bounded-body.js';
import { RegistryClient } from '../registry/client.js';
import { downloadVerified } from './pull.js';

export interface ProfileResolveOptions {
  lock?: boolean;
  frozen?: boolean;
  server?: string;
  config?: string;
  format: OutputFormat;
}

/**
 * The most values.yaml text one resolution holds from a server. Each file is bounded by pack-core's
 * limit for a YAML file (16 MiB); this bounds their sum (a profile has up to 100 packs).
 */
const MAX_PROFILE_VALUES_BYTES = 64 * 1024 * 1024;
/**
 * The most dependencies and cloud types a resolution keeps from the servers' records, all packs
 * together: a real profile has a few hundred. Each record is bounded on its own (what pack.json
 * can hold), but a hundred of them could still hold millions.
 */
export const MAX_PROFILE_LISTED = 100_000;

/**
 * The registry server as the resolver's source of versions and pack details; `sizeOf` gives the
 * archive size of a version it has looked up (for downloads), without asking the server again.
 * Every version listed and every record is checked (./../registry/answers.ts) before the resolver
 * sees it: the versions it picks become file names in profile pull.
 */
export function registrySource(client: RegistryClient): PackSource & {
  sizeOf(registry: string, name: string, version: string): number | undefined;
} {
  const sizes = new Map<string, number>();
  let valuesBytes = 0;
  let listed = 0;
  const sizeKey = (registry: string, name: string, version: string) => `${registry}\u0000${name}\u0000${version}`;
  return {
    async versions(registry, name) {
      const what = `looking up ${name} in ${registry}`;
      const detail = await client.api.packIfAny(registry, name, what);
      if (detail === null) return null;
      return detail.versions.map((entry) => ({
        version: checkVersion(entry.version, what),
        deprecated: entry.deprecated !== null,
        deprecation: entry.deprecated,
      }));
    },
    async details(registry, name, version) {
      const what = `looking up ${name}@${version} in ${registry}`;
      const record = await client.api.version(registry, name, version, what);
      const { digest, size } = checkArchiveRecord(record, name, { exactly: version }, what);
      const { cloudTypes, dependencies } = checkResolverDetails(record, what);
      listed += cloudTypes.length + dependencies.length;
      if (listed > MAX_PROFILE_LISTED) {
        throw new CliError(
          `${what}: the packs' records list more than ${MAX_PROFILE_LISTED} dependencies and cloud types together`,
          { hint: 'a profile this large is not what a Packyard registry serves: check the server (--server)' },
        );
      }
      sizes.set(sizeKey(registry, name, version), size);
      const reading = `reading values.yaml of ${name}@${version}`;
      const res = await client.send('GET', client.api.filePath({ registry, name, version }, 'values.yaml'));
      let values: string | null = null;
      if (res.status === 404) await discard(res);
      else {
        await client.check(res, reading);
        values = await readText(res, { what: reading, maxBytes: MAX_YAML_BYTES });
        valuesBytes += Buffer.byteLength(values);
        if (valuesBytes > MAX_PROFILE_VALUES_BYTES) {
          throw new CliError(
            `${reading}: the packs' values.yaml files exceed ${formatSize(MAX_PROFILE_VALUES_BYTES)} together`,
            {
              hint: 'a profile this large is not what a Packyard registry serves: check the server (--server)',
            },
          );
        }
      }
      return { digest, layer: checkLayer(record['layer'], what), cloudTypes, dependencies, values };
    },
    sizeOf: (registry, name, version) => sizes.get(sizeKey(registry, name, version)),
  };
}

function printProblems(io: CliIo, problems: readonly ProfileProblem[], label = 'problem'): void {
  for (const problem of problems) {
    io.stderr.write(
      problem.pack ? safe`${label} (${problem.pack}): ${problem.message}\n` : safe`${label}: ${problem.message}\n`,
    );
  }
}

/** The resolver's warnings (a pinned deprecated version), which do not fail a resolve. */
function printWarnings(io: CliIo, resolution: ProfileResolution): void {
  printProblems(io, resolution.warnings, 'warning');
}

/** A profile or its lock file may be this large (the registry takes profiles of up to 2 MB). */
const PROFILE_MAX_BYTES = 4 * 1024 * 1024;

function readProfileText(file: string): string {
  const what = 'a profile YAML or JSON file';
  try {
    return readRequiredUserFile(file, PROFILE_MAX_BYTES, what);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${file}: cannot read the profile`, { hint: `pass the path of ${what}` });
  }
}

// eslint-disable-next-line @typescript-eslint/require-await -- async: a throw becomes a rejection
export async function readProfileFile(file: string) {
  const text = readProfileText(file);
  const parsed = parseYaml(text);
  if (parsed.problem) {
    const { kind, message, line } = parsed.problem;
    const where = line === undefined ? file : `${file}:${line}`;
    throw new CliError(kind === 'syntax' ? `${where} is not valid YAML: ${message}` : `${where} ${message}`, {
      hint:
        kind === 'syntax'
          ? 'fix the line it names'
          : 'a cluster profile is a small file: check what made it this large',
    });
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

function printResolution(io: CliIo, resolution: ProfileResolution): void {
  const c = colorsFor(io.stdout, io.env);
  const rows = [['LAYER', 'PACK', 'VERSION', 'REGISTRY', 'DIGEST']];
  for (const l of resolution.layers) rows.push([l.layer, l.name, l.version, l.registry, l.digest.slice(0, 19)]);
  io.stdout.write(formatTable(rows, c));
}

export async function profileResolveCommand(
  file: string,
  options: ProfileResolveOptions,
  io: CliIo,
): Promise<ExitCode> {
  const profile = await readProfileFile(file);
  const client = await RegistryClient.open({ ...options, env: io.env });
  const resolution = await resolveProfile(profile, registrySource(client));
  const lockFile = `${file}.lock`;
  const lock = lockOf(resolution);
  let lockState: 'written' | 'unchanged' | 'skipped' | 'stale' = 'skipped';
  if (resolution.problems.length === 0 && options.frozen) {
    const text = readUserFile(lockFile, PROFILE_MAX_BYTES, 'the lock file profile resolve wrote');
    let current: ProfileLock | null = null;
    try {
      current = text === null ? null : (JSON.parse(text) as ProfileLock);
    } catch {
      // Not JSON: as stale as any other lock that does not match.
    }
    lockState = current && sameLock(current, lock) ? 'unchanged' : 'stale';
  } else if (resolution.problems.length === 0 && options.lock !== false) {
    await replaceFile(lockFile, `${JSON.stringify(lock, null, 2)}\n`);
    lockState = 'written';
  }
  if (options.format === 'json') printJson(io.stdout, { ...resolution, lock: { file: lockFile, state: lockState } });
  else {
    printResolution(io, resolution);
    printWarnings(io, resolution);
    printProblems(io, resolution.problems);
    if (lockState === 'written') io.stderr.write(safe`wrote ${lockFile}\n`);
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
export async function profilePullCommand(file: string, options: ProfilePullOptions, io: CliIo): Promise<ExitCode> {
  const profile = await readProfileFile(file);
  const client = await RegistryClient.open({ ...options, env: io.env });
  const source = registrySource(client);
  const resolution = await resolveProfile(profile, source);
  if (options.format === 'text') printWarnings(io, resolution);
  if (resolution.problems.length > 0) {
    printProblems(io, resolution.problems);
    return EXIT.failure;
  }
  // Both names are checked before the first download: a bad one fails the pull before it starts.
  // The copy and its lock are named as `profile resolve` names them, so that
  // `packctl profile resolve DIR/FILE --frozen` checks the pulled set as it is.
  const profileCopy = fileInside(options.output, path.basename(file));
  const lockFile = fileInside(options.output, `${path.basename(file)}.lock`);
  // Everything is written into a staging directory inside -o and moved into place once all of it
  // is there: a pack refused half-way leaves -o as it was (none of this run's archives, no lock).
  const write = async (staging: string) => {
    const names: string[] = [];
    for (const layer of resolution.layers) {
      // Every resolved layer was looked up by the resolver, size included (none: a download of 0 bytes).
      const size = source.sizeOf(layer.registry, layer.name, layer.version) ?? 0;
      const record = { name: layer.name, version: layer.version, digest: layer.digest, size };
      const shown = { io, format: options.format };
      names.push(path.basename(await downloadVerified(client, layer.registry, record, staging, shown)));
      if (options.format === 'text') io.stderr.write(safe`pulled ${layer.name}@${layer.version}\n`);
    }
    const lock = lockOf(resolution);
    await replaceFile(path.join(staging, path.basename(lockFile)), `${JSON.stringify(lock, null, 2)}\n`);
    await replaceFile(path.join(staging, path.basename(profileCopy)), readProfileText(file));
    return names;
  };
  const names = await stage(options.output, 'profile-pull', write, (staging) => placeFiles(staging, options.output));
  const files = names.map((name) => fileInside(options.output, name));
  if (options.format === 'json') printJson(io.stdout, { profile: resolution.profile, files, lock: lockFile });
  else io.stdout.write(safe`${files.length} packs and ${lockFile} in ${options.output}\n`);
  return EXIT.ok;
}

export type ProfilePushOptions = ProfileScopeOptions;

/**
 * The tenant a profile command works in: --tenant, else the signed-in user's own (an operator has
 * none: the system scope).
 */
async function tenantOf(client: RegistryClient, options: { tenant?: string }): Promise<string | undefined> {
  return options.tenant ?? (await client.whoAmI())?.tenant ?? undefined;
}

/**
 * `packctl profile push FILE [--tenant T] [--project P]`: stores it on the server, created or
 * replaced; in the signed-in user's tenant unless --tenant says otherwise (an operator's go to the
 * system scope).
 */
export async function profilePushCommand(file: string, options: ProfilePushOptions, io: CliIo): Promise<ExitCode> {
  const profile = await readProfileFile(file);
  const client = await RegistryClient.open({ ...options, env: io.env });
  const scope = await scopeOf(client, options);
  const what = `pushing the profile ${profile.name}`;
  const existing = await client.api.profileIfAny(scope, profile.name, what);
  let outcome: 'created' | 'replaced' | 'unchanged';
  let stored: ProfileView | null;
  if (existing && !existing.inherited && isDeepStrictEqual(existing.profile, JSON.parse(JSON.stringify(profile)))) {
    // The same profile again is a no-op, as the same pack bytes again are.
    outcome = 'unchanged';
    stored = existing;
  } else {
    outcome = 'created';
    stored = existing && !existing.inherited ? null : await client.api.createProfile(scope, profile, what);
    if (stored === null) {
      stored = await client.api.replaceProfile(scope, profile.name, profile, what);
      outcome = 'replaced';
    }
  }
  if (options.format === 'json') printJson(io.stdout, { outcome, ...stored });
  else
    io.stdout.write(
      safe`${outcome} ${profile.name}@${profile.version} (${stored.scope} scope, revision ${stored.revision})\n`,
    );
  return EXIT.ok;
}

export interface ProfileScopeOptions {
  tenant?: string;
  project?: string;
  server?: string;
  config?: string;
  format: OutputFormat;
}

export interface ProfileListOptions extends ProfileScopeOptions {
  limit?: string;
  cursor?: string;
}

/** The scope a profile command works in: --tenant/--project, else the signed-in user's tenant, else system. */
async function scopeOf(client: RegistryClient, options: ProfileScopeOptions) {
  const tenant = await tenantOf(client, options);
  if (options.project && tenant === undefined) {
    throw new CliError('--project needs a tenant', {
      exitCode: EXIT.usage,
      hint: 'pass --tenant, or sign in as a user of the tenant',
    });
  }
  return { tenant, project: options.project };
}

function scopeName(view: ProfileView): string {
  if (view.scope === 'system') return 'system';
  return view.project === null ? `tenant ${view.tenant ?? ''}` : `project ${view.tenant ?? ''}/${view.project}`;
}

/** `packctl profile ls`: the profiles of a scope, with those it inherits from the scopes above. */
export async function profileListCommand(options: ProfileListOptions, io: CliIo): Promise<ExitCode> {
  const client = await RegistryClient.open({ ...options, env: io.env });
  const scope = await scopeOf(client, options);
  const page = await client.api.profiles(scope, pageQuery(options), 'listing the cluster profiles');
  const rows = [
    ['NAME', 'VERSION', 'SCOPE', 'REVISION', 'PUBLISHED', 'UPDATED'],
    ...page.items.map((view) => [
      view.name,
      view.version,
      `${scopeName(view)}${view.inherited ? ' (inherited)' : ''}`,
      String(view.revision),
      view.published?.version ?? '-',
      `${view.updatedAt} by ${view.updatedBy}`,
    ]),
  ];
  printPage(io, 'profile ls', options, page, rows, 'No cluster profiles here.');
  return EXIT.ok;
}

/** A stored profile, or a not-found error that says where it was looked for. */
async function storedProfile(client: RegistryClient, options: ProfileScopeOptions, name: string) {
  const scope = await scopeOf(client, options);
  const view = await client.api.profileIfAny(scope, name, `looking up the cluster profile ${name}`);
  if (view === null) {
    throw new CliError(`no cluster profile named ${name} here`, {
      exitCode: EXIT.notFound,
      hint: 'packctl profile ls lists the profiles of the scope (--tenant, --project)',
    });
  }
  return { scope, view };
}

/** `packctl profile show NAME`: the stored profile as YAML, after a summary. */
export async function profileShowCommand(name: string, options: ProfileScopeOptions, io: CliIo): Promise<ExitCode> {
  const client = await RegistryClient.open({ ...options, env: io.env });
  const { view } = await storedProfile(client, options, name);
  if (options.format === 'json') {
    printJson(io.stdout, view);
    return EXIT.ok;
  }
  const published = view.published ? `, published ${view.published.version} by ${view.published.by}` : '';
  io.stdout.write(
    safe`# ${view.name}@${view.version}: ${scopeName(view)}${view.inherited ? ' (inherited, read-only here)' : ''}, revision ${String(view.revision)}, updated ${view.updatedAt} by ${view.updatedBy}${published}\n`,
  );
  io.stdout.write(terminalSafe(stringify(view.profile), { multiline: true }));
  return EXIT.ok;
}

/** A `--revision` value: a whole number from 1. */
function revisionNumber(text: string): number {
  if (!/^[1-9]\d{0,8}$/.test(text)) throw usageError(`--revision ${text}: a revision is a whole number from 1`);
  return Number(text);
}

/** One side of a diff: a label, and the profile as YAML. */
interface DiffSide {
  label: string;
  yaml: string;
  value: unknown;
}

const storedSide = (view: ProfileView): DiffSide => ({
  label: `${view.name} (stored, revision ${String(view.revision)})`,
  yaml: stringify(view.profile),
  value: view.profile,
});

/**
 * `packctl profile diff FILE [--revision N]`: a profile file against the stored profile of its
 * name (its current revision, or revision N); `packctl profile diff NAME --revision A [--revision
 * B]`: two stored revisions (B: the current one). A unified diff of both as YAML (comments and key
 * order of a file aside). Exits 0 when they are the same, 1 when they differ (as diff(1) does).
 */
export async function profileDiffCommand(
  given: { arg: string; path: string },
  options: ProfileScopeOptions & { revision?: string[] },
  io: CliIo,
): Promise<ExitCode> {
  const revisions = (options.revision ?? []).map(revisionNumber);
  // A file when one is there by that name; a stored profile's name otherwise.
  const target = given.path;
  const isFile = await stat(target).then(
    (info) => info.isFile(),
    () => false,
  );
  if (revisions.length > (isFile ? 1 : 2)) {
    throw usageError(isFile ? 'a file is compared with one revision' : 'two revisions at most');
  }
  if (!isFile && revisions.length === 0) {
    throw usageError(
      `${given.arg} is not a file`,
      `compare stored revisions: packctl profile diff ${given.arg} --revision N`,
    );
  }
  const client = await RegistryClient.open({ ...options, env: io.env });
  const name = isFile ? (await readProfileFile(target)).name : given.arg;
  const { scope, view } = await storedProfile(client, options, name);
  const at = async (revision: number | undefined): Promise<DiffSide> =>
    storedSide(
      revision === undefined || revision === view.revision
        ? view
        : await client.api.profileRevision(scope, name, revision, `reading revision ${String(revision)} of ${name}`),
    );
  let from: DiffSide;
  let to: DiffSide;
  if (isFile) {
    const local = JSON.parse(JSON.stringify(await readProfileFile(target))) as unknown;
    from = await at(revisions[0]);
    to = { label: path.basename(target), yaml: stringify(local), value: local };
  } else {
    from = await at(revisions[0]);
    to = await at(revisions[1]);
  }
  const same = isDeepStrictEqual(from.value, to.value);
  const patch = same ? '' : createTwoFilesPatch(from.label, to.label, from.yaml, to.yaml);
  if (options.format === 'json') {
    printJson(io.stdout, { same, from: from.label, to: to.label, diff: patch });
  } else {
    io.stdout.write(same ? safe`${to.label} is ${from.label}: the same\n` : terminalSafe(patch, { multiline: true }));
  }
  return same ? EXIT.ok : EXIT.failure;
}

/** `packctl profile rm NAME`: deletes a profile of the scope. */
export async function profileRemoveCommand(name: string, options: ProfileScopeOptions, io: CliIo): Promise<ExitCode> {
  const client = await RegistryClient.open({ ...options, env: io.env });
  const { scope, view } = await storedProfile(client, options, name);
  if (view.inherited) {
    throw new CliError(`${name} belongs to the ${scopeName(view)} scope, not this one`, {
      exitCode: EXIT.auth,
      hint: 'remove it in its own scope (--tenant, --project), with a role that may',
    });
  }
  await client.api.deleteProfile(scope, name, `removing the cluster profile ${name}`);
  if (options.format === 'json') printJson(io.stdout, { removed: name, scope: view.scope });
  else io.stdout.write(safe`removed ${name} (${scopeName(view)})\n`);
  return EXIT.ok;
}
