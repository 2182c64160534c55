/** `packctl search` over the catalog of every registry the caller can read, and `packctl show`. */
import { EXIT, type ExitCode } from '../exit-codes.js';
import { colorsFor, formatTable, printJson, type OutputFormat } from '../output/terminal.js';
import { RegistryClient } from '../registry/client.js';
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

interface Row {
  registry: string;
  name: string;
  displayName: string;
  layer: string;
  latest: string;
  cloudTypes: string[];
  deprecated: boolean;
}

export async function searchCommand(text: string | undefined, options: SearchOptions): Promise<ExitCode> {
  const client = await RegistryClient.open(options);
  const query = new URLSearchParams();
  if (text) query.set('q', text);
  if (options.layer) query.set('layer', options.layer);
  if (options.cloud) query.set('cloudType', options.cloud);
  if (options.addonType) query.set('addonType', options.addonType);
  query.set('limit', options.limit ?? '50');
  const base = options.registry ? `/v1/registries/${encodeURIComponent(options.registry)}/packs` : '/v1/packs';
  const page = await client.json<{ total: number; items: Row[] }>(
    'GET',
    `${base}?${query.toString()}`,
    `searching ${client.server}`,
  );
  if (options.format === 'json') {
    printJson(page);
    return EXIT.ok;
  }
  if (page.items.length === 0) {
    process.stdout.write('No packs found.\n');
    return EXIT.ok;
  }
  const rows = [['NAME', 'LATEST', 'LAYER', 'REGISTRY', 'CLOUDS', 'DISPLAY NAME']];
  for (const row of page.items) {
    rows.push([
      row.name,
      row.latest + (row.deprecated ? ' (deprecated)' : ''),
      row.layer,
      row.registry,
      row.cloudTypes.join(','),
      row.displayName,
    ]);
  }
  process.stdout.write(formatTable(rows));
  if (page.total > page.items.length) {
    process.stdout.write(
      colorsFor(process.stdout).dim(`${page.items.length} of ${page.total}: narrow the search or raise --limit\n`),
    );
  }
  return EXIT.ok;
}

interface Dependency {
  packName: string;
  layer: string;
  type: string;
  minVersion?: string | null;
  maxVersion?: string | null;
}

interface Detail {
  registry: string;
  name: string;
  displayName: string;
  layer: string;
  addonType: string | null;
  cloudTypes: string[];
  latest: string | null;
  versions: Array<{ version: string; deprecated: { message: string } | null; publishedAt: string }>;
  tags: Record<string, string>;
}

export async function showCommand(ref: string, options: SearchOptions & { registry: string }): Promise<ExitCode> {
  const { name, selector } = parsePackRef(ref);
  const client = await RegistryClient.open(options);
  const base = `/v1/registries/${encodeURIComponent(options.registry)}/packs/${encodeURIComponent(name)}`;
  if (selector !== null) {
    const record = await client.json<Record<string, unknown>>(
      'GET',
      `${base}/${encodeURIComponent(selector)}`,
      `looking up ${ref}`,
    );
    if (options.format === 'json') printJson(record);
    else {
      const { manifest, files, history, ...summary } = record as {
        manifest: unknown;
        files: unknown[];
        history: unknown[];
      };
      process.stdout.write(
        `${JSON.stringify({ ...summary, files: files.length, history: history.length }, null, 2)}\n`,
      );
      process.stdout.write(`manifest: ${JSON.stringify(manifest)}\n`);
    }
    return EXIT.ok;
  }
  const detail = await client.json<Detail>('GET', base, `looking up ${name}`);
  // The latest version's dependencies (its constraints), which the pack detail does not carry.
  const latest =
    detail.latest === null
      ? null
      : await client.json<{ manifest: { constraints?: { dependencies?: Dependency[] } } }>(
          'GET',
          `${base}/${encodeURIComponent(detail.latest)}`,
          `looking up ${name}@${detail.latest}`,
        );
  const dependencies = latest?.manifest.constraints?.dependencies ?? [];
  if (options.format === 'json') {
    printJson({ ...detail, dependencies });
    return EXIT.ok;
  }
  process.stdout.write(`${detail.name} (${detail.displayName}) in ${detail.registry}\n`);
  process.stdout.write(
    `layer ${detail.layer}${detail.addonType ? `, ${detail.addonType}` : ''}; clouds ${detail.cloudTypes.join(', ') || 'any'}\n`,
  );
  process.stdout.write(`latest ${detail.latest ?? '(none)'}\n`);
  const tags = Object.entries(detail.tags).map(([tag, version]) => `${tag} -> ${version}`);
  if (tags.length > 0) process.stdout.write(`tags: ${tags.join(', ')}\n`);
  if (dependencies.length > 0) {
    process.stdout.write('dependencies (of the latest version):\n');
    for (const d of dependencies) {
      const bounds = [d.minVersion ? `>= ${d.minVersion}` : '', d.maxVersion ? `<= ${d.maxVersion}` : '']
        .filter(Boolean)
        .join(' ');
      process.stdout.write(`  ${d.type} ${d.packName} (${d.layer})${bounds ? ` ${bounds}` : ''}\n`);
    }
  }
  process.stdout.write('versions:\n');
  for (const v of detail.versions) {
    process.stdout.write(
      `  ${v.version}  ${v.publishedAt}${v.deprecated ? `  deprecated: ${v.deprecated.message}` : ''}\n`,
    );
  }
  return EXIT.ok;
}
