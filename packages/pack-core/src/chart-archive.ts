/**
 * Helm chart archives (`charts/*.tgz`): reading Chart.yaml out of one without unpacking it, and
 * writing small, byte-reproducible ones (for `packctl init` and the sample packs).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { parse as parseYamlText } from 'yaml';
import { PackError } from './errors.js';

export interface ChartMetadata {
  name: string;
  version: string;
  appVersion?: string;
  apiVersion?: string;
}

/** Chart.yaml is a few hundred bytes; a megabyte means something else is going on. */
const MAX_CHART_YAML_BYTES = 1024 * 1024;

/**
 * Reads `<chart>/Chart.yaml` from a Helm chart archive stream (gzip-compressed tar).
 * Throws PackError `CHART_NOT_TGZ` when the bytes are not a gzipped tar, and
 * `CHART_YAML_INVALID` when Chart.yaml is missing, unparseable or lacks name/version.
 *
 * @example
 * const chart = await readChartMetadata(createReadStream('charts/cert-manager-v1.14.4.tgz'));
 * chart.version; // 'v1.14.4'
 */
export async function readChartMetadata(source: Readable): Promise<ChartMetadata> {
  const extract = tar.extract();
  // Held in an object: TypeScript does not see assignments made inside the entry callback.
  const found: { chartYaml: Buffer | null } = { chartYaml: null };
  let entries = 0;
  extract.on('entry', (header, stream, next) => {
    entries++;
    // Helm writes the chart under one top-level directory: "<name>/Chart.yaml".
    const isChartYaml = found.chartYaml === null && /^[^/]+\/Chart\.yaml$/.test(header.name.replace(/^\.\//, ''));
    if (!isChartYaml || header.size > MAX_CHART_YAML_BYTES) {
      stream.on('end', next).resume();
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: unknown) => {
      chunks.push(chunk as Buffer);
    });
    stream.on('end', () => {
      found.chartYaml = Buffer.concat(chunks);
      next();
    });
  });
  try {
    await pipeline(source, createGunzip(), extract);
  } catch (err) {
    throw new PackError('CHART_NOT_TGZ', `not a gzip-compressed tar archive (${(err as Error).message})`, {
      hint: 'package the chart with `helm package` and reference the resulting .tgz',
      cause: err,
    });
  }
  if (entries === 0) {
    throw new PackError('CHART_NOT_TGZ', 'the archive holds no files', {
      hint: 'package the chart with `helm package`',
    });
  }
  const chartYaml = found.chartYaml;
  if (chartYaml === null) {
    throw new PackError('CHART_YAML_INVALID', 'no <chart>/Chart.yaml in the archive', {
      hint: 'a Helm chart archive holds one directory with a Chart.yaml; package it with `helm package`',
    });
  }
  let parsed: unknown;
  try {
    parsed = parseYamlText(chartYaml.toString('utf8'));
  } catch (err) {
    throw new PackError('CHART_YAML_INVALID', `Chart.yaml does not parse: ${(err as Error).message.split('\n')[0]}`, {
      hint: 'fix Chart.yaml and package the chart again',
    });
  }
  const record = (parsed ?? {}) as Record<string, unknown>;
  const name = record['name'];
  const version = record['version'];
  if (typeof name !== 'string' || name === '' || (typeof version !== 'string' && typeof version !== 'number')) {
    throw new PackError('CHART_YAML_INVALID', 'Chart.yaml lacks a name or a version', {
      hint: 'Chart.yaml needs `name:` and `version:` (https://helm.sh/docs/topics/charts/#the-chartyaml-file)',
    });
  }
  const metadata: ChartMetadata = { name, version: String(version) };
  if (typeof record['appVersion'] === 'string') metadata.appVersion = record['appVersion'];
  if (typeof record['apiVersion'] === 'string') metadata.apiVersion = record['apiVersion'];
  return metadata;
}

export interface TarEntry {
  /** Path inside the archive, forward slashes. */
  name: string;
  content: Buffer | string;
  /** Defaults to 0o644. */
  mode?: number;
}

/**
 * Writes a gzip-compressed tar, byte-reproducible: entries sorted by name, fixed mtime (the
 * epoch), owner 0:0 with no user names, and gzip's own header time left at 0.
 *
 * @example
 * const tgz = await writeTarGz([{ name: 'demo/Chart.yaml', content: 'apiVersion: v2\nname: demo\nversion: 0.1.0\n' }]);
 */
export async function writeTarGz(entries: readonly TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const sorted = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  for (const entry of sorted) {
    const content = typeof entry.content === 'string' ? Buffer.from(entry.content) : entry.content;
    pack.entry(
      { name: entry.name, mode: entry.mode ?? 0o644, mtime: new Date(0), uid: 0, gid: 0, uname: '', gname: '' },
      content,
    );
  }
  pack.finalize();
  await collected;
  return gzipSync(Buffer.concat(chunks), { level: 9 });
}

/** Reads chart metadata from an in-memory archive. */
export function readChartMetadataFromBuffer(buffer: Buffer): Promise<ChartMetadata> {
  return readChartMetadata(Readable.from([buffer]));
}
