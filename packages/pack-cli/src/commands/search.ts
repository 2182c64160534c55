/**
 * `packctl search` over the catalog of every registry the caller can read, and `packctl show`.
 * Everything shown here is the server's text: tables and lines are made terminal-safe
 * (./../output/sanitise.ts), and fields of an unexpected type are shown as what they are rather
 * than crashing the printer.
 */
import { EXIT, type ExitCode } from '../errors.js';
import type { CliIo } from '../io.js';
import { safe } from '../output/sanitise.js';
import { colorsFor, formatFields, formatSize, formatTable, printJson, type OutputFormat } from '../output/terminal.js';
import { checkVersion } from '../registry/answers.js';
import { RegistryClient } from '../registry/client.js';
import { isJsonObject } from '@packyard/pack-core';
import { ociReference } from '@packyard/registry-api/oci-reference';
import type { VersionRecord } from '@packyard/registry-api';
import { parsePackRef } from './pull.js';

export interface SearchOptions {
  layer?: string;
  cloud?: string;
  addonType?: string;
  registry?: string;
  limit?: string;
  server?: string;
  config?: string;
  format: OutputFormat;
}

/** A field of a server answer as text: strings as sent, anything else as its JSON, nothing as "". */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  return JSON.stringify(value);
}

/** A list field as text items (a missing or malformed list is empty). */
function list(value: unknown): string[] {
  return Array.isArray(value) ? value.map(text) : [];
}

function asObject(value: unknown): Record<string, unknown> {
  return isJsonObject(value) ? value : {};
}

export async function searchCommand(query: string | undefined, options: SearchOptions, io: CliIo): Promise<ExitCode> {
  const client = await RegistryClient.open({ ...options, env: io.env });
  const what = `searching ${client.server}`;
  const filters = {
    ...(query ? { q: query } : {}),
    ...(options.layer ? { layer: options.layer } : {}),
    ...(options.cloud ? { cloudType: options.cloud } : {}),
    ...(options.addonType ? { addonType: options.addonType } : {}),
    // As typed: the server says what is wrong with a limit that is not a whole number.
    limit: options.limit ?? '50',
  };
  const page = await client.api.searchPacks(filters, what, options.registry);
  const items = page.items.map(asObject);
  if (options.format === 'json') {
    printJson(io.stdout, page);
    return EXIT.ok;
  }
  if (items.length === 0) {
    io.stdout.write('No packs found.\n');
    return EXIT.ok;
  }
  const rows = [['NAME', 'LATEST', 'LAYER', 'REGISTRY', 'CLOUDS', 'DISPLAY NAME']];
  for (const row of items) {
    rows.push([
      text(row['name']),
      text(row['latest']) + (row['deprecated'] === true ? ' (deprecated)' : ''),
      text(row['layer']),
      text(row['registry']),
      list(row['cloudTypes']).join(','),
      text(row['displayName']),
    ]);
  }
  io.stdout.write(formatTable(rows));
  const total = page['total'];
  if (typeof total === 'number' && total > items.length) {
    io.stdout.write(
      colorsFor(io.stdout, io.env).dim(`${items.length} of ${total}: narrow the search or raise --limit\n`),
    );
  }
  return EXIT.ok;
}

/** A dependency line of `show`: "required kubernetes (k8s) >= 1.27.0 <= 1.29". */
function dependencyLine(dependency: Record<string, unknown>): string {
  const min = text(dependency['minVersion']);
  const max = text(dependency['maxVersion']);
  const bounds = [min ? `>= ${min}` : '', max ? `<= ${max}` : ''].filter(Boolean).join(' ');
  return safe`  ${text(dependency['type'])} ${text(dependency['packName'])} (${text(dependency['layer'])})${bounds ? ` ${bounds}` : ''}\n`;
}

/** One published version for people: `packctl show NAME@VERSION` in text. */
function versionText(record: VersionRecord, oci: string | null): string {
  const manifest = asObject(record.manifest);
  const fields: Array<[string, string]> = [
    ['display name', text(manifest['displayName'])],
    ['layer', [text(record.layer), text(manifest['addonType'])].filter(Boolean).join(', ')],
    ['clouds', list(manifest['cloudTypes']).join(', ') || 'any'],
    [
      'published',
      `${text(record.publishedAt)} by ${text(record.publisher)}${record.message ? `: ${text(record.message)}` : ''}`,
    ],
    ['size', `${formatSize(record.size)} (${Array.isArray(record.files) ? record.files.length : 0} files)`],
    ['digest', text(record.digest)],
  ];
  const deprecated = asObject(record.deprecated);
  if (record.deprecated !== null) {
    const by = [text(deprecated['by']), text(deprecated['at'])].filter(Boolean).join(', ');
    fields.push(['deprecated', `${text(deprecated['message']) || 'yes'}${by ? ` (${by})` : ''}`]);
  }
  const replaced = Array.isArray(record.history) ? record.history.length : 0;
  if (replaced > 0) fields.push(['overwritten', `${replaced} earlier ${replaced === 1 ? 'archive' : 'archives'}`]);
  if (oci !== null) fields.push(['oci', oci]);
  let out = safe`${text(record.name)}@${text(record.version)} in ${text(record.registry)}\n`;
  out += formatFields(fields);
  const dependencies = (record.manifest.constraints?.dependencies ?? []).map(asObject);
  if (dependencies.length > 0) {
    out += 'dependencies:\n';
    for (const d of dependencies) out += dependencyLine(d);
  }
  return out;
}

/**
 * The OCI reference of `name:version` in `registry`, placed by the registry's scope (from the
 * registries the caller can see); null when the registry is not among them.
 */
async function packOciReference(
  client: RegistryClient,
  registry: string,
  name: string,
  version: string,
): Promise<string | null> {
  const { items } = await client.api.registries(`looking up registry ${registry}`);
  const found = items.find((item) => item.name === registry);
  return found ? ociReference(new URL(client.server).host, found, name, version) : null;
}

export async function showCommand(
  ref: string,
  options: SearchOptions & { registry: string },
  io: CliIo,
): Promise<ExitCode> {
  const { name, selector } = parsePackRef(ref);
  const client = await RegistryClient.open({ ...options, env: io.env });
  if (selector !== null) {
    const what = `looking up ${ref}`;
    const record = await client.api.version(options.registry, name, selector, what);
    const oci = await packOciReference(client, options.registry, record.name, record.version);
    if (options.format === 'json') printJson(io.stdout, { ...record, ociReference: oci });
    else io.stdout.write(versionText(record, oci));
    return EXIT.ok;
  }
  const what = `looking up ${name}`;
  const detail = await client.api.pack(options.registry, name, what);
  // The latest version's dependencies (its constraints), which the pack detail does not carry.
  const latest = detail.latest === null ? null : checkVersion(detail.latest, what);
  const latestRecord =
    latest === null ? null : await client.api.version(options.registry, name, latest, `looking up ${name}@${latest}`);
  const dependencies = (latestRecord?.manifest.constraints?.dependencies ?? []).map(asObject);
  const oci = latest === null ? null : await packOciReference(client, options.registry, name, latest);
  if (options.format === 'json') {
    printJson(io.stdout, { ...detail, dependencies, ociReference: oci });
    return EXIT.ok;
  }
  const out = (line: string) => io.stdout.write(line);
  out(safe`${text(detail['name'])} (${text(detail['displayName'])}) in ${text(detail['registry'])}\n`);
  const addonType = text(detail['addonType']);
  const clouds = list(detail['cloudTypes']).join(', ') || 'any';
  out(safe`layer ${text(detail['layer'])}${addonType ? `, ${addonType}` : ''}; clouds ${clouds}\n`);
  out(safe`latest ${latest ?? '(none)'}\n`);
  if (oci !== null) out(safe`oci: ${oci}\n`);
  const tags = Object.entries(asObject(detail['tags'])).map(([tag, version]) => `${tag} -> ${text(version)}`);
  if (tags.length > 0) out(safe`tags: ${tags.join(', ')}\n`);
  if (dependencies.length > 0) {
    out('dependencies (of the latest version):\n');
    for (const d of dependencies) out(dependencyLine(d));
  }
  out('versions:\n');
  for (const v of detail.versions) {
    // The pack's version list carries the deprecation message itself (PackVersion).
    const note = typeof v.deprecated === 'string' ? `  deprecated: ${v.deprecated || 'yes'}` : '';
    out(safe`  ${v.version}  ${v.publishedAt}${note}\n`);
  }
  return EXIT.ok;
}
