// @ts-check
/**
 * Benchmark (issue 14): Packyard against its peers on the same bytes, same machine, same storage
 * kind, in the same run: Verdaccio 6.8.0 (npm registry; JWT tokens, an npm user made through its
 * API; fs store, or S3 through verdaccio-aws-s3-storage) and CNCF distribution 2.8.2 (Debian's
 * docker-registry; no auth; fs driver, or its s3 driver), all on 127.0.0.1, on the filesystem and
 * on a Ceph RGW (scripts/ceph-rgw.sh, started when nothing answers on 127.0.0.1:7480).
 *
 * What each does as a publish and a download is in bench/_peers-servers.mjs. Rows (--only picks):
 * - download: a 100 MB pack downloaded --downloads times back to back (Packyard on S3 also with its blob cache off: a second
 *   Packyard on the same bucket with PACKYARD_BLOB_CACHE_MAX_BYTES=0); floor: reading the archive
 *   file (fs), GetObject of the same bytes by a presigned URL (S3); with the cache off, also a bare relay (bench/_s3-relay.mjs:
 *   GetObject piped into the response, in its own process), for what relaying alone costs here; on fs, also a bare sender
 *   (bench/_fs-send.mjs: the file sent by Node as Packyard sends it, nothing else), for what sending through Node costs.
 *   Every download, floors included, is made and timed by curl (bench/_peers-http.mjs says why).
 * - publish: the 100 MB pack published; floor: copying the archive and fsyncing the copy (fs), a
 *   multipart PutObject (@aws-sdk/lib-storage Upload, 8 MiB parts, 4 in flight; bench/_s3-put.mjs, a process of its own) (S3).
 * - small: ~53 KB packs, each a new name, published one after another and by N clients at once;
 *   the server's CPU time (/proc/<pid>/stat) over the sequential run per publish; its peak RSS
 *   (VmHWM, reset first through clear_refs) over the concurrent run.
 * - start: each registry populated through its API to --packs packs (the small rows' packs count),
 *   then restarted --restarts times: spawn to the first ready answer (Packyard /readyz, Verdaccio
 *   /-/ping, distribution /v2/); on S3, each start waits for Ceph's daemons to go quiet first
 *   (under 5% of a core over 2 s, at most a minute), as a populate leaves them compacting.
 * - reads: Packyard version record GETs and pack detail GETs, Verdaccio metadata GETs (autocannon,
 *   --connections, --duration each).
 * - search: Packyard /v1/packs?q=, Verdaccio /-/v1/search?text=, distribution /v2/_catalog.
 * - huge: Packyard's peak RSS while a --huge-mb pack is published.
 *
 * Each row runs in rounds (a warm-up round first for the publish/download, small and read rows):
 * which registry goes first rotates per round, and the order runs backwards every other round (so
 * that no registry always follows the same one); every timed operation starts after a `sync` (the
 * 100 MB ones on S3 also once Ceph has settled), ratios are formed inside a round, and medians over
 * rounds are printed with their ranges, then the issue's targets as PASS/MISS (reported, never
 * asserted) and a BENCH_RESULT line.
 *
 *   node bench/run.mjs peers [--rounds N] [--only row,row] [--no-s3 | --no-fs] [--big-mb N] ...
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { copyFile, mkdir, open, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
import { DeleteObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import autocannon from 'autocannon';
import { ensureDistribution } from './_distribution.mjs';
import { fetchCounting, keepAliveAgent, send } from './_peers-http.mjs';
import { buildVersion, smallPackBuilder, writeImageBundles } from './_packs.mjs';
import { PEERS, Results } from './_peers-results.mjs';
import {
  defaultCacheDir,
  ensureCeph,
  ensureVerdaccio,
  startDistributionPeer,
  startPackyard,
  startVerdaccio,
} from './_peers-servers.mjs';
import {
  cpuSeconds,
  loadAverage,
  machineShares,
  machineTicks,
  resetPeakRss,
  vmHwmKB,
  waitForQuietStorage,
} from './_proc.mjs';
import { freshBucket, SERVER_OPTIONS, SERVER_USAGE, serverFromOptions, startS3 } from './_registry.mjs';
import { checkRow, inParallel, log, MB, median, optionsOrExit, table, withScope } from './_util.mjs';

const execFileAsync = promisify(execFile);

export const description =
  'Packyard vs Verdaccio 6.8.0 and CNCF distribution 2.8.2 on the same bytes, fs and Ceph S3 (issue 14)';

const ROWS = ['download', 'publish', 'small', 'start', 'reads', 'search', 'huge'];

const USAGE = `Usage: node bench/run.mjs peers [options]

${description}.

Options:
  --rounds N           timed rounds of each row, after one warm-up round for publish/download/small (default 3)
  --only ROW,ROW       run only these rows: ${ROWS.join(', ')} (default all)
  --no-fs              skip the filesystem store
  --no-s3              skip S3 (Ceph RGW)
  --big-mb N           size of the big pack, in MB (default 100)
  --downloads N        downloads of the big pack per registry and round, back to back (default 5)
  --small N            small packs per round and mode (sequential, concurrent) (default 60)
  --small-kb N         random payload of a small pack, in KiB (default 50: a ~53 KB archive)
  --concurrency N      clients of the concurrent small publishes (default 8)
  --packs N            packs in each registry before the restarts (default 1600)
  --restarts N         timed restarts of each registry (default 3)
  --duration N         seconds of each read/search measurement (default 3)
  --connections N      connections of each read/search measurement (default 8)
  --huge-mb N          size of the pack for Packyard's peak-RSS publish, in MB (default 1024)
  --cache-dir DIR      where Verdaccio is installed on first use (default ${defaultCacheDir})
  --distribution PATH  the CNCF distribution binary (default docker-registry; installed with apt-get
                       when missing and running as root)
  --s3-endpoint URL    S3 endpoint (default http://127.0.0.1:7480: a Ceph RGW, started with
                       scripts/ceph-rgw.sh when nothing answers there, and stopped at the end)
  --s3-access-key KEY  (default AKTEST)
  --s3-secret-key KEY  (default SKTEST)
${SERVER_USAGE}
  -h, --help           show this help`;

/** @type {Record<string, import('./_util.mjs').OptionSpec>} */
const SPECS = {
  rounds: { kind: 'integer', default: 3 },
  only: { kind: 'string' },
  'no-fs': { kind: 'flag' },
  'no-s3': { kind: 'flag' },
  'big-mb': { kind: 'number', default: 100 },
  downloads: { kind: 'integer', default: 5 },
  small: { kind: 'integer', default: 60 },
  'small-kb': { kind: 'number', default: 50 },
  concurrency: { kind: 'integer', default: 8 },
  packs: { kind: 'integer', default: 1600 },
  restarts: { kind: 'integer', default: 3 },
  duration: { kind: 'number', default: 3 },
  connections: { kind: 'integer', default: 8 },
  'huge-mb': { kind: 'number', default: 1024 },
  'cache-dir': { kind: 'string', default: defaultCacheDir },
  distribution: { kind: 'string', default: 'docker-registry' },
  's3-endpoint': { kind: 'string', default: 'http://127.0.0.1:7480' },
  's3-access-key': { kind: 'string', default: 'AKTEST' },
  's3-secret-key': { kind: 'string', default: 'SKTEST' },
  ...SERVER_OPTIONS,
};

/**
 * @typedef {{ rounds: number, only?: string, 'no-fs': boolean, 'no-s3': boolean, 'big-mb': number, downloads: number, small: number,
 *   'small-kb': number, concurrency: number, packs: number, restarts: number, duration: number, connections: number,
 *   'huge-mb': number, 'cache-dir': string, distribution: string, 's3-endpoint': string, 's3-access-key': string,
 *   's3-secret-key': string, server: string, 'server-cpu-prof'?: string }} Options
 */

/** @typedef {import('./_peers-servers.mjs').Peer} Peer */
/** @typedef {import('./_peers-servers.mjs').Pack} Pack */

/** Targets of issue 14. */
const TARGETS = {
  fsDownloadVsDistribution: 1.2,
  s3NoCacheVsGetObject: 0.8,
  s3CachedMBps: 152,
  fsPublishVsDistribution: 1.0,
  s3PublishVsUpload: 1.3,
  smallVsVerdaccio: 1.0,
  fsCpuMs: 15,
  fsStartSeconds: 1,
  s3StartVsVerdaccio: 1.0,
  versionVsDetail: 1 / 1.5,
  rssMB: 120,
  hugeRssMB: 256,
};

/**
 * Publishes in flight per registry while populating: distribution on S3 takes about 1.5 s per
 * small publish on Ceph, mostly waiting, so the population needs many at once.
 */
const POPULATE_CONCURRENCY = 16;
const POPULATE_BATCH = 80;

/** Seconds `fn` takes, after a `sync` (writes an earlier operation left are not charged to it). */
async function timed(/** @type {() => Promise<unknown>} */ fn) {
  execFileSync('sync');
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

/**
 * The order of round `round`: `items` rotated left by `round`, so that who goes first changes, and
 * backwards every other round, so that who goes just before whom changes too (a rotation alone
 * keeps every participant behind the same one, and an operation pays for what the one before it
 * left the storage doing: Packyard's S3 publish always came right after the PutObject floor's).
 * @template T @param {T[]} items @param {number} round
 */
const roundOrder = (items, round) => {
  const rotated = items.map((_, i) => items[(i + round) % items.length]);
  return round % 2 === 1 ? rotated.reverse() : rotated;
};

/** How quiet Ceph must be before a start is timed: a populate leaves it compacting for a while. */
const AFTER_POPULATE = { share: 0.05, windowMs: 2000, maxMs: 60_000 };
/** How quiet Ceph must be before a timed 100 MB operation, after the previous one's writes. */
const BETWEEN_BIG_OPERATIONS = { share: 0.1, windowMs: 1000, maxMs: 15_000 };

/**
 * On S3, waits for Ceph's daemons to settle (`bounds`: under `share` of a core over `windowMs`, at
 * most `maxMs`), so that each operation is timed on the same quiet storage, not on what the one
 * before it left Ceph doing; says so when the time ran out first.
 * @param {string} kind
 * @param {{ share: number, windowMs: number, maxMs: number }} [bounds]
 */
async function settleStorage(kind, bounds = BETWEEN_BIG_OPERATIONS) {
  if (kind !== 's3') return;
  const quiet = await waitForQuietStorage(bounds);
  if (quiet.share !== undefined && quiet.share >= bounds.share) {
    log(
      `  storage still busy (${(quiet.share * 100).toFixed(0)}% of a core) after ${(quiet.waitedMs / 1000).toFixed(0)} s`,
    );
  }
}

/** Copies `from` to `to` and fsyncs the copy: the least a durable publish does on fs. */
async function copyAndSync(/** @type {string} */ from, /** @type {string} */ to) {
  await copyFile(from, to);
  const handle = await open(to, 'r+');
  await handle.sync();
  await handle.close();
}

/**
 * Requests per second of GETs of `url` with `connections` keep-alive connections for `duration`
 * seconds; NaN (and a log line) when any failed or timed out.
 * @param {string} url
 * @param {Record<string, string>} headers
 * @param {{ duration: number, connections: number }} options
 */
async function requestRate(url, headers, options) {
  const result = await autocannon({
    url,
    headers,
    connections: options.connections,
    duration: options.duration,
    timeout: 10,
  });
  const failed = result.non2xx + result.errors + result.timeouts;
  if (result['2xx'] === 0 && failed === 0) log(`  ${url}: no answer within ${options.duration} s`);
  if (failed > 0) {
    log(
      `  ${url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts of ${result.requests.total}`,
    );
    if (result['2xx'] === 0) return NaN;
  }
  return result['2xx'] / options.duration;
}

/**
 * Requests per second of GETs of `url` from `connections` keep-alive clients, each sending its
 * next request when the last one is answered, for `duration` seconds; then every request already
 * sent is waited for (up to a minute each) and counted in the time, so that no backlog is left to
 * the next measurement and a slow endpoint shows its real rate. NaN when none succeeded.
 * @param {string} url
 * @param {Record<string, string>} headers
 * @param {{ duration: number, connections: number }} options
 */
async function drainedRate(url, headers, options) {
  const agent = keepAliveAgent();
  const start = performance.now();
  const until = start + options.duration * 1000;
  let ok = 0;
  let failed = 0;
  const client = async () => {
    while (performance.now() < until) {
      const answer = await send('GET', url, { headers, agent, timeoutMs: 60_000 }).catch(() => undefined);
      if (answer?.status === 200) ok++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: options.connections }, client));
  agent.destroy();
  const seconds = (performance.now() - start) / 1000;
  if (failed > 0) log(`  ${url}: ${failed} failed or timed out (60 s) of ${ok + failed}`);
  return ok === 0 ? NaN : ok / seconds;
}

/**
 * @param {string[]} args
 * @returns {Promise<number>} exit code
 */
export async function main(args) {
  const parsed = optionsOrExit('peers', args, SPECS, USAGE);
  if ('code' in parsed) return parsed.code;
  const options = /** @type {Options} */ (/** @type {unknown} */ (parsed.options));
  const server = serverFromOptions('peers', options);
  if (!server) return 1;
  const rows = new Set(options.only === undefined ? ROWS : options.only.split(',').map((row) => row.trim()));
  for (const row of rows) {
    if (!ROWS.includes(row)) {
      console.error(`peers: unknown row ${row} (rows: ${ROWS.join(', ')})`);
      return 2;
    }
  }
  const kinds = [...(options['no-fs'] ? [] : ['fs']), ...(options['no-s3'] ? [] : ['s3'])];
  if (kinds.length === 0) {
    console.error('peers: --no-fs and --no-s3 leave nothing to run');
    return 2;
  }
  const loadStart = loadAverage();
  log(`load at start: ${loadStart}`);

  return withScope(async (scope) => {
    const verdaccioBin = await ensureVerdaccio(path.resolve(options['cache-dir']));
    const distributionVersion = ensureDistribution(options.distribution);
    log(`peers: verdaccio ${verdaccioBin}; ${distributionVersion}`);
    const work = await scope.tempDir('packyard-bench-peers-');
    const results = new Results();
    /** @type {Record<string, { packs: number, populateSeconds: number }>} */
    const populated = {};
    /** @type {string[]} */
    const failures = [];
    /** @type {string[]} */
    const peerFailures = [];
    for (const kind of kinds) {
      try {
        /** @type {import('./_registry.mjs').S3Backend | undefined} */
        let s3;
        if (kind === 's3') {
          // Looked for only now: a Ceph RGW someone else runs may have gone while fs ran.
          const ceph = await ensureCeph(options['s3-endpoint'], scope);
          s3 = await startS3(options, scope);
          log(`S3: ${s3.endpoint} (${ceph === 'running' ? 'already running, left running' : 'started by this bench'})`);
        }
        const context = {
          options,
          rows,
          server,
          verdaccioBin,
          s3,
          work: path.join(work, kind),
          scope,
          results,
          peerFailures,
        };
        const stats = await runKind(kind, context);
        if (stats) populated[kind] = stats;
      } catch (err) {
        // The other store kind's figures are still worth printing.
        failures.push(`${kind}: ${err instanceof Error ? err.message : String(err)}`);
        log(`peers: ${kind} failed: ${failures.at(-1)}`);
      }
    }

    const loadEnd = loadAverage();
    log(`load at end: ${loadEnd}`);
    console.log(
      `\nPackyard vs Verdaccio ${'6.8.0'} and distribution (${distributionVersion}), same bytes, same store kind; ` +
        `${options.rounds} rounds, which registry goes first rotating, the order backwards every other round; cells: median [min-max] over rounds.\n` +
        `py/best peer and py/floor: median over rounds of Packyard's figure / the other's in that round ` +
        `(for s and MB below 1 is better, for MB/s, /s and req/s above 1 is better).\n` +
        `machine load (1/5/15 min) at start ${loadStart}, at end ${loadEnd}\n`,
    );
    console.log(
      results.table(kinds, {
        concurrency: options.concurrency,
        big: `${options['big-mb']} MB`,
        huge: `${options['huge-mb']} MB`,
      }),
    );
    for (const [kind, stats] of Object.entries(populated)) {
      console.log(
        `(${kind}: each registry populated to ${stats.packs} packs; that took ${stats.populateSeconds.toFixed(0)} s)`,
      );
    }
    const checks = checkRows(results, kinds);
    console.log();
    console.log(table([['check', 'value', 'target', 'result'], ...checks.map((c) => c.row)]));
    const relayed = kinds.includes('s3') ? results.ratio('s3', 'downloadNoCache', 'relay', 'floor') : undefined;
    if (relayed !== undefined) {
      console.log(
        `(s3, blob cache off: a bare relay, GetObject piped into the response in a process of its own, reaches ` +
          `${relayed.toFixed(2)}x GetObject, median [${results
            .series('s3', 'downloadNoCache', 'relay')
            .map((v) => v.toFixed(0))
            .join(', ')}] MB/s)`,
      );
    }
    const sent = kinds.includes('fs') ? results.ratio('fs', 'download', 'sender', 'distribution') : undefined;
    if (sent !== undefined) {
      console.log(
        `(fs: a bare sender, the file sent by Node as Packyard sends it in a process of its own, reaches ` +
          `${sent.toFixed(2)}x distribution's MB/s and ${(results.ratio('fs', 'download', 'sender', 'floor') ?? NaN).toFixed(2)}x ` +
          `the file read, median [${results
            .series('fs', 'download', 'sender')
            .map((v) => v.toFixed(0))
            .join(', ')}] MB/s)`,
      );
    }
    const summary = {
      bench: 'peers',
      kinds,
      rows: [...rows],
      rounds: options.rounds,
      bigMB: options['big-mb'],
      smallPerRound: options.small,
      concurrency: options.concurrency,
      packs: options.packs,
      loadStart,
      loadEnd,
      distribution: distributionVersion,
      verdaccio: '6.8.0',
      results: results.toJSON(),
      checks: checks.map((c) => ({ check: c.row[0], value: c.row[1], target: c.row[2], result: c.row[3] })),
      failures,
      peerFailures,
    };
    if (peerFailures.length)
      console.log(
        `\nA peer failed (its figure is missing from those rounds; Packyard's and the others' stand):\n${peerFailures.join('\n')}`,
      );
    if (failures.length)
      console.log(`\nFAILED (rows of these store kinds are missing or partial):\n${failures.join('\n')}`);
    console.log(`\nBENCH_RESULT ${JSON.stringify(summary)}`);
    return failures.length ? 1 : 0;
  });
}

/**
 * The issue's targets, for the rows that ran: [label, kinds, value, comparison, target, digits];
 * `value` is a median ratio inside rounds, or a median.
 * @param {Results} results
 * @param {string[]} kinds
 */
function checkRows(results, kinds) {
  /** @type {Array<[string, string[], (kind: string) => number | undefined, '<=' | '>=' | '<', number, number?]>} */
  const specs = [
    [
      'download: packyard/distribution MB/s',
      ['fs'],
      (k) => results.ratio(k, 'download', 'packyard', 'distribution'),
      '>=',
      TARGETS.fsDownloadVsDistribution,
    ],
    ['download: packyard/bare sender MB/s', ['fs'], (k) => results.ratio(k, 'download', 'packyard', 'sender'), '>=', 1],
    [
      'download, cache off: packyard/GetObject',
      ['s3'],
      (k) => results.ratio(k, 'downloadNoCache', 'packyard', 'floor'),
      '>=',
      TARGETS.s3NoCacheVsGetObject,
    ],
    [
      'download, cache off: packyard/bare relay',
      ['s3'],
      (k) => results.ratio(k, 'downloadNoCache', 'packyard', 'relay'),
      '>=',
      1,
    ],
    [
      'download, cache on (MB/s; issue: 152)',
      ['s3'],
      (k) => results.median(k, 'download', 'packyard'),
      '>=',
      TARGETS.s3CachedMBps,
      1,
    ],
    [
      'big publish: packyard/distribution time',
      ['fs'],
      (k) => results.ratio(k, 'publish', 'packyard', 'distribution'),
      '<=',
      TARGETS.fsPublishVsDistribution,
    ],
    [
      'big publish: packyard/multipart PutObject time',
      ['s3'],
      (k) => results.ratio(k, 'publish', 'packyard', 'floor'),
      '<=',
      TARGETS.s3PublishVsUpload,
    ],
    [
      'big publish: packyard/best peer time (lead)',
      ['s3'],
      (k) => results.ratio(k, 'publish', 'packyard', 'best-peer'),
      '<=',
      1,
    ],
    [
      'small publishes/s sequential: packyard/verdaccio',
      ['fs', 's3'],
      (k) => results.ratio(k, 'smallSeq', 'packyard', 'verdaccio'),
      '>=',
      TARGETS.smallVsVerdaccio,
    ],
    [
      'small publishes/s concurrent: packyard/verdaccio',
      ['fs', 's3'],
      (k) => results.ratio(k, 'smallConc', 'packyard', 'verdaccio'),
      '>=',
      TARGETS.smallVsVerdaccio,
    ],
    [
      'server CPU per small publish (ms)',
      ['fs'],
      (k) => results.median(k, 'cpu', 'packyard'),
      '<=',
      TARGETS.fsCpuMs,
      1,
    ],
    [
      'peak RSS, concurrent small publishes (MB)',
      ['fs', 's3'],
      (k) => results.median(k, 'rss', 'packyard'),
      '<=',
      TARGETS.rssMB,
      0,
    ],
    [
      'start to ready, populated (s)',
      ['fs'],
      (k) => results.median(k, 'start', 'packyard'),
      '<=',
      TARGETS.fsStartSeconds,
    ],
    [
      'start to ready: packyard/verdaccio',
      ['s3'],
      (k) => results.ratio(k, 'start', 'packyard', 'verdaccio'),
      '<=',
      TARGETS.s3StartVsVerdaccio,
    ],
    [
      'version record reads / pack detail reads',
      ['s3'],
      (k) => withinRound(results, k, 'versionRead', 'detailRead'),
      '>=',
      TARGETS.versionVsDetail,
    ],
    [
      'pack detail: packyard/verdaccio metadata (lead)',
      ['fs', 's3'],
      (k) => results.ratio(k, 'detailRead', 'packyard', 'verdaccio'),
      '>=',
      1,
    ],
    [
      'search: packyard/best peer (lead)',
      ['fs', 's3'],
      (k) => results.ratio(k, 'search', 'packyard', 'best-peer'),
      '>=',
      1,
    ],
    [
      'peak RSS during the huge publish (MB)',
      ['fs', 's3'],
      (k) => results.median(k, 'hugeRss', 'packyard'),
      '<',
      TARGETS.hugeRssMB,
      0,
    ],
  ];
  /** @type {Array<{ row: string[] }>} */
  const checks = [];
  for (const [label, where, valueOf, op, target, digits = 2] of specs) {
    for (const kind of kinds.filter((k) => where.includes(k))) {
      const value = valueOf(kind);
      if (value === undefined || Number.isNaN(value)) continue;
      const pass = op === '<=' ? value <= target : op === '>=' ? value >= target : value < target;
      const row = checkRow(`${kind} ${label}`, value.toFixed(digits), `${op} ${Number(target.toFixed(3))}`, pass);
      checks.push({ row });
    }
  }
  return checks;
}

/** Median over rounds of Packyard's `a` / its `b` in the same round. */
function withinRound(
  /** @type {Results} */ results,
  /** @type {string} */ kind,
  /** @type {string} */ a,
  /** @type {string} */ b,
) {
  const as = results.series(kind, a, 'packyard');
  const bs = results.series(kind, b, 'packyard');
  const ratios = as.map((v, i) => v / bs[i]).filter((r) => Number.isFinite(r));
  return ratios.length ? median(ratios) : undefined;
}

/**
 * @typedef {{ options: Options, rows: Set<string>, server: { bin: string, nodeArgs: string[] }, verdaccioBin: string,
 *   s3: import('./_registry.mjs').S3Backend | undefined, work: string, scope: import('./_util.mjs').Scope, results: Results,
 *   peerFailures: string[] }} Context
 */

/**
 * Every selected row on one store kind: the three registries started fresh, the rows run, the
 * registries stopped.
 * @param {string} kind
 * @param {Context} context
 */
async function runKind(kind, context) {
  const { options, rows, server, s3, work, scope, results } = context;
  await mkdir(work, { recursive: true });
  const bucketFor = async () =>
    s3 && kind === 's3'
      ? {
          endpoint: s3.endpoint,
          accessKeyId: s3.accessKeyId,
          secretAccessKey: s3.secretAccessKey,
          bucket: await freshBucket(s3, scope),
        }
      : undefined;
  const packyardBucket = await bucketFor();
  log(`\n== ${kind}: starting packyard, verdaccio, distribution ...`);
  const packyard = await startPackyard(
    { bin: server.bin, nodeArgs: server.nodeArgs, dir: path.join(work, 'packyard'), bucket: packyardBucket },
    scope,
  );
  const verdaccio = await startVerdaccio(
    { bin: context.verdaccioBin, dir: path.join(work, 'verdaccio'), bucket: await bucketFor() },
    scope,
  );
  const distribution = await startDistributionPeer(
    { bin: options.distribution, dir: path.join(work, 'distribution'), bucket: await bucketFor() },
    scope,
  );
  const peers = [packyard, verdaccio, distribution];
  log(
    `  packyard ${packyard.url} (pid ${packyard.pid}), verdaccio ${verdaccio.url} (pid ${verdaccio.pid}), distribution ${distribution.url} (pid ${distribution.pid})`,
  );
  /** @type {Peer | undefined} */
  let noCache;
  if (kind === 's3' && rows.has('download') && packyardBucket) {
    noCache = await startPackyard(
      {
        bin: server.bin,
        nodeArgs: server.nodeArgs,
        dir: path.join(work, 'packyard-nocache'),
        bucket: packyardBucket,
        env: { PACKYARD_BLOB_CACHE_MAX_BYTES: '0' },
        label: 'packyard (blob cache off)',
      },
      scope,
    );
  }
  const rawBucket = kind === 's3' ? (await bucketFor())?.bucket : undefined;
  const relay = s3 && rawBucket && rows.has('download') ? await startRelay(s3, rawBucket, scope) : undefined;
  const sender = kind === 'fs' && rows.has('download') ? await startSender(work, scope) : undefined;

  let published = 0;
  try {
    if (rows.has('publish') || rows.has('download')) {
      await bigRows(kind, context, peers, { noCache, rawBucket, relay, sender });
    }
    if (rows.has('small')) published += await smallRows(kind, context, peers);
    /** @type {{ packs: number, populateSeconds: number, probe: string } | undefined} */
    let stats;
    if (rows.has('start') || rows.has('reads') || rows.has('search')) {
      stats = await populate(kind, context, peers, published);
    }
    if (rows.has('start')) {
      if (noCache) {
        await noCache.stop();
        noCache = undefined;
      }
      for (let index = 0; index < options.restarts; index++) {
        for (const peer of roundOrder(peers, index)) {
          execFileSync('sync');
          // On S3, Ceph's own work after the populate (and after each peer's start) settles first.
          await settleStorage(kind, AFTER_POPULATE);
          const ms = await peer.restart();
          results.record(kind, 'start', peer.name, index, ms / 1000);
        }
        log(
          `  restart ${index + 1}/${options.restarts}: ${peers.map((p) => `${p.name} ${(results.series(kind, 'start', p.name).at(-1) ?? NaN).toFixed(2)} s`).join(', ')}`,
        );
      }
    }
    if (stats && (rows.has('reads') || rows.has('search'))) await readRows(kind, context, peers, stats.probe);
    if (rows.has('huge')) await hugeRow(kind, context, await bucketFor());
    return stats;
  } finally {
    for (const peer of [...peers, ...(noCache ? [noCache] : [])]) {
      await peer
        .stop()
        .catch((/** @type {unknown} */ err) =>
          log(`stopping ${peer.label}: ${err instanceof Error ? err.message : err}`),
        );
    }
  }
}

/**
 * The S3 publish floor: `file` put as `key` by a multipart PutObject in a process of its own
 * (bench/_s3-put.mjs), after a `sync`; resolves with the seconds it took.
 * @param {import('./_registry.mjs').S3Backend} s3
 * @param {string} bucket
 * @param {string} key
 * @param {string} file
 * @returns {Promise<number>}
 */
async function putObjectFloor(s3, bucket, key, file) {
  execFileSync('sync');
  const script = new URL('./_s3-put.mjs', import.meta.url).pathname;
  const { stdout } = await execFileAsync(process.execPath, [
    script,
    s3.endpoint,
    s3.accessKeyId,
    s3.secretAccessKey,
    bucket,
    key,
    file,
  ]);
  return Number(stdout.trim());
}

/**
 * A bench helper server (`script`, in bench/) in a process of its own, which prints its port once
 * it listens; resolves with its URL.
 * @param {string} script
 * @param {string[]} args
 * @param {string} what
 * @param {import('./_util.mjs').Scope} scope
 */
async function startHelper(script, args, what, scope) {
  const child = spawn(process.execPath, [new URL(script, import.meta.url).pathname, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  scope.track(child);
  const port = await new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').once('data', (/** @type {string} */ line) => resolve(Number(line.trim())));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before listening`)));
  });
  return `http://127.0.0.1:${port}`;
}

/**
 * A bare file sender (bench/_fs-send.mjs), serving the files under `dir`; resolves with its URL.
 * @param {string} dir
 * @param {import('./_util.mjs').Scope} scope
 */
function startSender(dir, scope) {
  return startHelper('./_fs-send.mjs', [dir], 'the bare sender', scope);
}

/**
 * A bare S3 relay (bench/_s3-relay.mjs), serving `bucket`; resolves with its URL.
 * @param {import('./_registry.mjs').S3Backend} s3
 * @param {string} bucket
 * @param {import('./_util.mjs').Scope} scope
 */
function startRelay(s3, bucket, scope) {
  return startHelper(
    './_s3-relay.mjs',
    [s3.endpoint, s3.accessKeyId, s3.secretAccessKey, bucket],
    'the bare relay',
    scope,
  );
}

/**
 * One timed step of one participant. A peer's failure (Verdaccio's S3 plugin has dropped a publish
 * connection after downloads) is logged and kept for the summary, and the step yields undefined, so
 * that the round's other figures stand; a failure of Packyard or of a floor throws.
 * @template T
 * @param {Context} context
 * @param {string} kind
 * @param {string} who
 * @param {string} what
 * @param {() => Promise<T>} step
 * @returns {Promise<T | undefined>}
 */
async function peerStep(context, kind, who, what, step) {
  try {
    return await step();
  } catch (err) {
    if (!PEERS.includes(who) || who === 'packyard') throw err;
    const failure = `${kind}: ${who}: ${what}: ${err instanceof Error ? err.message : String(err)}`;
    context.peerFailures.push(failure);
    log(`  peer failed: ${failure}`);
    return undefined;
  }
}

/**
 * The 100 MB publish and download rows: a new version of the big pack per round, the same archive
 * to every registry and the floor.
 * @param {string} kind
 * @param {Context} context
 * @param {Peer[]} peers
 * @param {{ noCache: Peer | undefined, rawBucket: string | undefined, relay: string | undefined, sender: string | undefined }} extra
 */
async function bigRows(kind, context, peers, extra) {
  const { options, rows, s3, work, results } = context;
  const packDir = path.join(work, 'big-pack');
  const outDir = path.join(work, 'out');
  const floorDir = path.join(work, 'floor');
  await mkdir(floorDir, { recursive: true });
  log(`  generating ${options['big-mb']} MB of image bundles ...`);
  await writeImageBundles(packDir, Math.round(options['big-mb'] * MB));
  results.nameFloor(kind, 'publish', kind === 'fs' ? 'copy + fsync' : 'multipart PutObject');
  results.nameFloor(kind, 'download', kind === 'fs' ? 'file read' : 'GetObject');
  if (kind === 's3') results.nameFloor(kind, 'downloadNoCache', 'GetObject');
  const client = s3?.client;
  const rawKey = (/** @type {Pack} */ pack) => `raw/${pack.name}-${pack.version}.zip`;

  for (let index = 0; index <= options.rounds; index++) {
    const archive = await buildVersion(packDir, outDir, { name: 'bench-big', version: `1.0.${index}` });
    /** @type {Pack} */
    const pack = {
      name: 'bench-big',
      version: `1.0.${index}`,
      size: archive.size,
      digest: archive.digest,
      file: archive.path,
    };
    const record = (/** @type {string} */ metric, /** @type {string} */ who, /** @type {number} */ value) => {
      if (index > 0) results.record(kind, metric, who, index - 1, value);
    };
    const mbps = (/** @type {number} */ seconds) => pack.size / MB / seconds;
    /** MB/s over --downloads back-to-back downloads (one is ~0.1 s: too short to time alone). */
    const repeated = async (/** @type {() => Promise<number>} */ download) => {
      execFileSync('sync');
      let seconds = 0;
      for (let n = 0; n < options.downloads; n++) seconds += await download();
      return mbps(seconds / options.downloads);
    };
    /** @type {Array<{ name: string, publish: () => Promise<number>, download: () => Promise<number>, downloadNoCache?: () => Promise<number> }>} */
    const participants = peers.map((peer) => ({
      name: peer.name,
      publish: async () => {
        const prepared = await peer.prepare(pack);
        return timed(() => peer.publish(pack, prepared));
      },
      download: () => repeated(() => peer.download(pack)),
    }));
    const copy = path.join(floorDir, 'copy.zip');
    participants.push({
      name: 'floor',
      publish: async () =>
        kind === 'fs'
          ? timed(() => copyAndSync(pack.file ?? '', copy))
          : putObjectFloor(
              /** @type {import('./_registry.mjs').S3Backend} */ (s3),
              /** @type {string} */ (extra.rawBucket),
              rawKey(pack),
              pack.file ?? '',
            ),
      // The floors are read by the registries' client, curl: the file itself, or a GetObject by a presigned URL.
      download: async () => {
        const url =
          kind === 'fs'
            ? pathToFileURL(pack.file ?? '').href
            : await getSignedUrl(
                /** @type {import('@aws-sdk/client-s3').S3Client} */ (client),
                new GetObjectCommand({ Bucket: extra.rawBucket, Key: rawKey(pack) }),
                { expiresIn: 3600 },
              );
        return repeated(() => fetchCounting(`floor: ${kind === 'fs' ? 'file read' : 'GetObject'}`, url, pack.size));
      },
    });
    const order = roundOrder(participants, index);
    /** @type {string[]} */
    const notes = [];
    /** @type {Set<string>} Peers whose publish failed this round: they have no version to serve. */
    const failed = new Set();
    for (const participant of order) {
      await settleStorage(kind);
      const seconds = await peerStep(context, kind, participant.name, `publish ${pack.name}@${pack.version}`, () =>
        participant.publish(),
      );
      if (seconds === undefined) {
        failed.add(participant.name);
        notes.push(`${participant.name} publish FAILED`);
        continue;
      }
      if (rows.has('publish')) record('publish', participant.name, seconds);
      notes.push(`${participant.name} publish ${seconds.toFixed(2)} s`);
    }
    if (rows.has('download')) {
      for (const participant of order) {
        if (failed.has(participant.name)) continue;
        await settleStorage(kind);
        const rate = await peerStep(context, kind, participant.name, `download ${pack.name}@${pack.version}`, () =>
          participant.download(),
        );
        if (rate === undefined) {
          notes.push(`${participant.name} download FAILED`);
          continue;
        }
        record('download', participant.name, rate);
        if (kind === 's3' && participant.name !== 'packyard') record('downloadNoCache', participant.name, rate);
        notes.push(`${participant.name} download ${rate.toFixed(0)} MB/s`);
        if (participant.name === 'packyard' && extra.noCache) {
          const noCache = extra.noCache;
          await settleStorage(kind);
          const uncached = await repeated(() => noCache.download(pack));
          record('downloadNoCache', 'packyard', uncached);
          notes.push(`packyard (cache off) download ${uncached.toFixed(0)} MB/s`);
        }
        if (participant.name === 'floor' && extra.sender) {
          const url = `${extra.sender}/${path.relative(work, pack.file ?? '')}`;
          await settleStorage(kind);
          const sent = await repeated(() => fetchCounting('bare sender: download', url, pack.size));
          record('download', 'sender', sent);
          notes.push(`bare sender download ${sent.toFixed(0)} MB/s`);
        }
        if (participant.name === 'floor' && extra.relay) {
          const url = `${extra.relay}/${rawKey(pack)}`;
          await settleStorage(kind);
          const relayed = await repeated(() => fetchCounting('bare relay: download', url, pack.size));
          record('downloadNoCache', 'relay', relayed);
          notes.push(`bare relay download ${relayed.toFixed(0)} MB/s`);
        }
      }
    }
    log(`  ${index === 0 ? 'warm-up' : `round ${index}/${options.rounds}`}: ${notes.join(', ')}`);
    await rm(archive.path, { force: true });
    await rm(copy, { force: true });
    if (client && extra.rawBucket)
      await client.send(new DeleteObjectCommand({ Bucket: extra.rawBucket, Key: rawKey(pack) }));
  }
  await rm(packDir, { recursive: true, force: true });
}

/**
 * Small publishes, sequential then concurrent, each a new pack; CPU over the sequential run, peak
 * RSS over the concurrent one. Resolves with how many packs each registry now holds from it.
 * @param {string} kind
 * @param {Context} context
 * @param {Peer[]} peers
 */
async function smallRows(kind, context, peers) {
  const { options, work, results } = context;
  const build = smallPackBuilder(path.join(work, 'small'), Math.round(options['small-kb'] * 1024));
  let count = 0;
  for (let index = 0; index <= options.rounds; index++) {
    /** @type {Pack[]} */
    const sequential = [];
    /** @type {Pack[]} */
    const concurrent = [];
    for (let i = 0; i < options.small; i++) {
      sequential.push(await build(`bench-r${index}-s-${i}`));
      concurrent.push(await build(`bench-r${index}-c-${i}`));
    }
    const order = roundOrder(peers, index);
    /** @type {string[]} */
    const notes = [];
    const record = (/** @type {string} */ metric, /** @type {string} */ who, /** @type {number} */ value) => {
      if (index > 0) results.record(kind, metric, who, index - 1, value);
    };
    for (const peer of order) {
      const prepared = await Promise.all(sequential.map((pack) => peer.prepare(pack)));
      execFileSync('sync');
      const cpuBefore = cpuSeconds(peer.pid);
      const machineBefore = machineTicks();
      const seconds = await peerStep(context, kind, peer.name, 'sequential small publishes', () =>
        timed(async () => {
          for (let i = 0; i < sequential.length; i++) await peer.publish(sequential[i], prepared[i]);
        }),
      );
      if (seconds === undefined) {
        notes.push(`${peer.name} FAILED`);
        continue;
      }
      const cpuAfter = cpuSeconds(peer.pid);
      const machine = machineShares(machineBefore, machineTicks());
      record('smallSeq', peer.name, sequential.length / seconds);
      let cpu = '';
      if (cpuBefore !== undefined && cpuAfter !== undefined) {
        const perPublish = ((cpuAfter - cpuBefore) * 1000) / sequential.length;
        record('cpu', peer.name, perPublish);
        cpu = `${perPublish.toFixed(1)} ms CPU each, `;
      }
      notes.push(
        `${peer.name} ${(sequential.length / seconds).toFixed(1)}/s${cpu || machine ? ` (${cpu}${machine})` : ''}`,
      );
    }
    for (const peer of order) {
      const prepared = await Promise.all(concurrent.map((pack) => peer.prepare(pack)));
      const jobs = concurrent.map((pack, i) => ({ pack, prepared: prepared[i] }));
      const reset = resetPeakRss(peer.pid);
      const machineBefore = machineTicks();
      const seconds = await peerStep(context, kind, peer.name, 'concurrent small publishes', () =>
        timed(() => inParallel(jobs, options.concurrency, (job) => peer.publish(job.pack, job.prepared))),
      );
      if (seconds === undefined) {
        notes.push(`${peer.name} x${options.concurrency} FAILED`);
        continue;
      }
      const hwm = vmHwmKB(peer.pid);
      record('smallConc', peer.name, concurrent.length / seconds);
      if (reset && hwm !== undefined) record('rss', peer.name, hwm / 1024);
      // Whether the rate was bound by the two cores or by waiting (the machine's own share).
      const machine = machineShares(machineBefore, machineTicks());
      notes.push(
        `${peer.name} ${(concurrent.length / seconds).toFixed(1)}/s x${options.concurrency}${machine ? ` (${machine})` : ''}`,
      );
    }
    count += sequential.length + concurrent.length;
    log(`  ${index === 0 ? 'warm-up' : `round ${index}/${options.rounds}`} small publishes: ${notes.join(', ')}`);
  }
  return count;
}

/**
 * Publishes small packs to every registry (through its API, several at a time) until each holds
 * --packs packs; untimed.
 * @param {string} kind
 * @param {Context} context
 * @param {Peer[]} peers
 * @param {number} already packs each registry holds
 */
async function populate(kind, context, peers, already) {
  const { options, work } = context;
  const build = smallPackBuilder(path.join(work, 'populate'), Math.round(options['small-kb'] * 1024));
  const missing = Math.max(0, options.packs - already);
  log(`  populating each registry with ${missing} more packs (${already} there) ...`);
  const start = performance.now();
  const batch = POPULATE_BATCH;
  for (let done = 0; done < missing;) {
    const packs = [];
    for (let i = 0; i < Math.min(batch, missing - done); i++) packs.push(await build(`bench-pop-${done + i}`));
    await Promise.all(
      peers.map((peer) =>
        inParallel(packs, POPULATE_CONCURRENCY, async (pack) => {
          await peer.publish(pack, await peer.prepare(pack));
        }),
      ),
    );
    done += packs.length;
    if (done % 400 < batch) log(`    ${done}/${missing} (${((performance.now() - start) / 1000).toFixed(0)} s)`);
  }
  return {
    packs: Math.max(already, options.packs),
    populateSeconds: (performance.now() - start) / 1000,
    probe: missing > 0 ? 'bench-pop-0' : 'bench-r0-s-0',
  };
}

/**
 * Reads and searches, autocannon against each registry in turn, order rotating per round.
 * @param {string} kind
 * @param {Context} context
 * @param {Peer[]} peers
 * @param {string} probe a pack every registry holds
 */
async function readRows(kind, context, peers, probe) {
  const { options, rows, results } = context;
  /** @type {Pack} */
  const pack = { name: probe, version: '1.0.0', size: 0, digest: '' };
  const measure = { duration: options.duration, connections: options.connections };
  // Reads first, all rounds; then searches: a search another registry is still working through
  // (Verdaccio's on S3 reads every package) must not slow the reads down.
  /** @type {Array<[string, string, (peer: Peer) => string | undefined, typeof requestRate]>} */
  const phases = [
    ['reads', 'versionRead', (peer) => peer.paths.version?.(pack), requestRate],
    ['reads', 'detailRead', (peer) => peer.paths.detail?.(pack), requestRate],
    ['search', 'search', (peer) => peer.paths.search('bench'), drainedRate],
  ];
  for (const row of ['reads', 'search']) {
    if (!rows.has(row)) continue;
    // The reads get a warm-up round, as the publish rows do: they follow the restarts, and the
    // first route timed on a fresh process paid for its warming up (Packyard's version reads,
    // always timed before its detail reads, read 0.77x and 0.67x of them in round 1 on fs and S3,
    // 1.02-1.11x in the later rounds on fs). Within a round, a registry's routes take turns at
    // going first.
    for (let index = row === 'reads' ? -1 : 0; index < options.rounds; index++) {
      /** @type {string[]} */
      const notes = [];
      const ordered = index % 2 === 0 ? phases : [...phases].reverse();
      for (const peer of roundOrder(peers, Math.max(index, 0))) {
        for (const [phaseRow, metric, route, rate] of ordered) {
          const target = phaseRow === row ? route(peer) : undefined;
          if (target === undefined) continue;
          const value = await rate(`${peer.url}${target}`, peer.headers, measure);
          if (index >= 0) results.record(kind, metric, peer.name, index, value);
          notes.push(`${peer.name} ${metric} ${value.toFixed(value < 10 ? 2 : 0)}/s`);
        }
      }
      log(`  ${index < 0 ? 'warm-up' : `round ${index + 1}/${options.rounds}`} ${row}: ${notes.join(', ')}`);
    }
  }
}

/**
 * Packyard's peak RSS while a huge pack is published, on a freshly started Packyard (its own data
 * dir, its own bucket on S3), as bench/publish.mjs measures it.
 * @param {string} kind
 * @param {Context} context
 * @param {import('./_peers-servers.mjs').Bucket | undefined} bucket
 */
async function hugeRow(kind, context, bucket) {
  const { options, server, work, results, scope } = context;
  const dir = path.join(work, 'huge-pack');
  log(`  generating and building a ${options['huge-mb']} MB pack ...`);
  await writeImageBundles(dir, Math.round(options['huge-mb'] * MB));
  const archive = await buildVersion(dir, path.join(work, 'out'), { name: 'bench-huge', version: '1.0.0' });
  await rm(dir, { recursive: true, force: true });
  const { size } = await stat(archive.path);
  /** @type {Pack} */
  const pack = { name: 'bench-huge', version: '1.0.0', size, digest: archive.digest, file: archive.path };
  const packyard = await startPackyard(
    {
      bin: server.bin,
      nodeArgs: server.nodeArgs,
      dir: path.join(work, 'packyard-huge'),
      bucket,
      label: 'packyard (huge)',
    },
    scope,
  );
  try {
    // The start-up peak is not the publish's: measured from the RSS once ready.
    const idle = vmHwmKB(packyard.pid);
    resetPeakRss(packyard.pid);
    const seconds = await timed(() => packyard.publish(pack, undefined));
    const hwm = vmHwmKB(packyard.pid);
    results.record(kind, 'hugePublish', 'packyard', 0, seconds);
    if (hwm !== undefined) results.record(kind, 'hugeRss', 'packyard', 0, hwm / 1024);
    log(
      `  huge publish (${(size / MB).toFixed(0)} MB) to a fresh packyard (peak RSS until ready ${((idle ?? 0) / 1024).toFixed(0)} MB): ` +
        `${seconds.toFixed(1)} s, peak RSS ${((hwm ?? 0) / 1024).toFixed(0)} MB`,
    );
  } finally {
    await packyard.stop();
    await rm(archive.path, { force: true });
  }
}
