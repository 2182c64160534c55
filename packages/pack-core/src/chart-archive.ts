/**
 * Helm chart archives (`charts/*.tgz`): reading Chart.yaml out of one without unpacking it, and
 * writing small, byte-reproducible ones (for `packctl init` and the sample packs).
 *
 * Reading follows Helm's own loader (helm.sh/helm/v3 pkg/chart/loader/archive.go, load.go): every
 * entry's first path segment is the chart's directory, whatever it is called (`./` too), and is
 * stripped; the chart's Chart.yaml is the entry left as `Chart.yaml`, so neither
 * `<chart>/charts/<sub>/Chart.yaml` (a subchart) nor a Chart.yaml at the top is taken for it, and
 * entries that the loader refuses (absolute, `..`, outside the chart directory) are refused too.
 * Reading stops at Chart.yaml, which `helm package` writes first; entries after it are left to
 * Helm. The archive is untrusted: gunzipping stops the moment its output passes the caps of a zip
 * entry (see inflationCap), and every stream's errors end in a PackError.
 */
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gzipSync } from 'node:zlib';
import { loadTarStream } from './lazy-deps.js';
import {
  entryStreamContext,
  inflationCap,
  resolveLimits,
  type ArchiveLimits,
  type InflationBudget,
} from './archive/limits.js';
import { type PackError, packError } from './errors.js';
import { parseYaml } from './yaml.js';

export interface ChartMetadata {
  name: string;
  version: string;
  appVersion?: string;
  apiVersion?: string;
}

export interface ChartReadOptions {
  /** The .tgz's size in bytes when known; otherwise its bytes are counted as they arrive. */
  compressedSize?: number;
  /** The caps of a zip entry that bound the gunzip (defaults: DEFAULT_ARCHIVE_LIMITS). */
  limits?: Partial<ArchiveLimits>;
  /** What the decompressions of one upload may still output together; this one draws on it. */
  budget?: InflationBudget;
}

/** Chart.yaml is a few hundred bytes; a megabyte means something else is going on. */
const MAX_CHART_YAML_BYTES = 1024 * 1024;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function chartTooLarge(message: string): PackError {
  return packError('CHART_TOO_LARGE', message);
}

/**
 * Where Helm's loader puts a tar entry of a chart archive: its name less the first segment,
 * cleaned; or why the loader refuses the whole archive for it.
 *
 * @example
 * helmChartPath('./templates/a.yaml'); // { path: 'templates/a.yaml' }
 * helmChartPath('demo/charts/sub/Chart.yaml'); // { path: 'charts/sub/Chart.yaml' }, a subchart's
 */
export function helmChartPath(name: string): { path: string } | { refused: string } {
  // An archive made on Windows may use backslashes, which the loader then splits on instead.
  const delimiter = name.includes('\\') ? '\\' : '/';
  const parts = name.split(delimiter);
  const rest = parts.slice(1).join('/');
  if (rest.startsWith('/')) return { refused: 'is an absolute path' };
  // Go's path.Clean: normalize, less a trailing slash.
  const normalised = path.posix.normalize(rest);
  const cleaned = normalised.length > 1 && normalised.endsWith('/') ? normalised.slice(0, -1) : normalised;
  if (cleaned === '.') return { refused: 'lies outside the chart directory' };
  if (cleaned.startsWith('..')) return { refused: 'refers to the parent directory' };
  if (/^[a-zA-Z]:\//.test(cleaned)) return { refused: 'starts with a drive letter' };
  if (parts[0] === 'Chart.yaml') return { refused: 'puts Chart.yaml outside the chart directory' };
  return { path: cleaned };
}

/**
 * Counts the compressed bytes going into a gunzip and what comes out, and fails the output the
 * moment it passes the cap: the per-entry caps of the archive limits over the compressed size
 * (known, or counted so far, which only makes the cap tighter early on), and the shared budget.
 */
class GunzipMeter {
  private compressed = 0;
  private inflated = 0;
  readonly input: Transform;
  readonly output: Transform;

  constructor(
    private readonly limits: Required<ArchiveLimits>,
    private readonly options: { compressedSize?: number | undefined; budget?: InflationBudget | undefined },
    fail: (err: PackError) => void,
  ) {
    this.input = new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        this.compressed += chunk.length;
        callback(null, chunk);
      },
    });
    this.output = new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        const problem = this.take(chunk.length);
        if (problem) fail(problem);
        callback(problem, chunk);
      },
    });
  }

  private cap(): number {
    return inflationCap(this.options.compressedSize ?? this.compressed, this.limits);
  }

  private take(bytes: number): PackError | null {
    this.inflated += bytes;
    const budget = this.options.budget;
    if (budget) budget.remaining -= bytes;
    if (this.inflated > this.cap()) {
      return chartTooLarge(`the chart archive inflates past ${this.cap()} bytes (a gzip bomb?)`);
    }
    if (budget && budget.remaining < 0) {
      return chartTooLarge("the pack's chart archives together inflate past what its size allows (a gzip bomb?)");
    }
    return null;
  }

  /** What may still come out, when that is known before the input has all arrived. */
  room(): number {
    const budget = this.options.budget?.remaining ?? Infinity;
    const cap = this.options.compressedSize === undefined ? Infinity : this.cap() - this.inflated;
    return Math.min(cap, budget);
  }
}

/**
 * Reads the chart's Chart.yaml from a Helm chart archive stream (gzip-compressed tar).
 * Throws PackError `CHART_NOT_TGZ` when the bytes are not a gzipped tar, `CHART_UNSAFE_PATH`
 * for an entry Helm's loader refuses, `CHART_TOO_LARGE` when it inflates past the caps, and
 * `CHART_YAML_INVALID` when Chart.yaml is missing, unparseable or lacks name/version.
 *
 * Without options, a stream from an archive's PackFiles is bounded by that archive's limits and
 * shared budget, any other by the default limits over the bytes counted as they arrive.
 *
 * @example
 * const chart = await readChartMetadata(createReadStream('charts/cert-manager-v1.14.4.tgz'));
 * chart.version; // 'v1.14.4'
 */
export async function readChartMetadata(source: Readable, options: ChartReadOptions = {}): Promise<ChartMetadata> {
  const context = entryStreamContext(source);
  const limits = resolveLimits(options.limits ?? context?.limits);
  const chartYaml = await findChartYaml(source, limits, {
    compressedSize: options.compressedSize ?? context?.size,
    budget: options.budget ?? context?.budget,
  });
  return parseChartYaml(chartYaml);
}

async function findChartYaml(
  source: Readable,
  limits: Required<ArchiveLimits>,
  options: { compressedSize?: number | undefined; budget?: InflationBudget | undefined },
): Promise<Buffer> {
  const extract = loadTarStream().extract();
  // Held in an object: TypeScript does not see assignments made inside the callbacks.
  const state: { chartYaml: Buffer | null; failure: PackError | null; files: number } = {
    chartYaml: null,
    failure: null,
    files: 0,
  };
  const fail = (failure: PackError): void => {
    state.failure ??= failure;
    extract.destroy();
  };
  const meter = new GunzipMeter(limits, options, fail);
  extract.on('entry', (header, stream, next) => {
    // The pipeline reports the archive's errors; an entry relays the same ones when it is cut short.
    stream.on('error', () => undefined);
    const skip = (): void => {
      stream.on('end', next).resume();
    };
    if (header.type === 'directory') {
      skip();
      return;
    }
    state.files++;
    const where = helmChartPath(header.name);
    if ('refused' in where) {
      fail(packError('CHART_UNSAFE_PATH', `chart archive entry "${header.name}" ${where.refused}`));
      return;
    }
    // An entry that cannot fit would only be inflated to be refused.
    if (header.size > meter.room()) {
      fail(chartTooLarge(`chart archive entry "${header.name}" inflates past what the archive may (a gzip bomb?)`));
      return;
    }
    if (where.path !== 'Chart.yaml') {
      skip();
      return;
    }
    if (header.size > MAX_CHART_YAML_BYTES) {
      fail(
        packError('CHART_YAML_INVALID', `${header.name} is larger than ${MAX_CHART_YAML_BYTES / 1024} KiB`, {
          hint: "Chart.yaml holds the chart's metadata only; package the chart with `helm package`",
        }),
      );
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: unknown) => {
      chunks.push(chunk as Buffer);
    });
    stream.on('end', () => {
      state.chartYaml = Buffer.concat(chunks);
      // Nothing else is needed: stop reading (the pipeline then closes every stream).
      extract.destroy();
    });
  });
  try {
    await pipeline(source, meter.input, createGunzip(), meter.output, extract);
  } catch (err) {
    if (state.chartYaml) return state.chartYaml;
    throw (
      state.failure ??
      packError('CHART_NOT_TGZ', `not a gzip-compressed tar archive (${(err as Error).message})`, {
        cause: err,
      })
    );
  }
  if (state.chartYaml) return state.chartYaml;
  if (state.files === 0) {
    throw packError('CHART_NOT_TGZ', 'the archive holds no files', {
      hint: 'package the chart with `helm package`',
    });
  }
  throw packError('CHART_YAML_INVALID', 'no Chart.yaml in the chart directory of the archive');
}

function parseChartYaml(chartYaml: Buffer): ChartMetadata {
  const text = (chartYaml.subarray(0, 3).equals(UTF8_BOM) ? chartYaml.subarray(3) : chartYaml).toString('utf8');
  // The one bounded, linear parse of untrusted YAML (duplicate keys: the last wins, as in Helm).
  const parsed = parseYaml(text);
  if (parsed.problem) {
    throw packError('CHART_YAML_INVALID', `Chart.yaml does not parse: ${parsed.problem.message}`, {
      hint: 'fix Chart.yaml and package the chart again',
    });
  }
  const first = parsed.documents[0];
  const record = (first !== null && typeof first === 'object' ? first : {}) as Record<string, unknown>;
  const name = record['name'];
  const version = record['version'];
  if (typeof name !== 'string' || name === '' || (typeof version !== 'string' && typeof version !== 'number')) {
    throw packError('CHART_YAML_INVALID', 'Chart.yaml lacks a name or a version', {
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
  const pack = loadTarStream().pack();
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
export function readChartMetadataFromBuffer(buffer: Buffer, options: ChartReadOptions = {}): Promise<ChartMetadata> {
  return readChartMetadata(Readable.from([buffer]), { compressedSize: buffer.length, ...options });
}
