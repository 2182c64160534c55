// @ts-check
/**
 * Benchmark: catalog queries over a large catalog. 10,000 packs x 10 versions are seeded straight
 * into an fs store as a catalog snapshot, written by the registry's own CatalogSync (the format a
 * running registry leaves behind), plus the `public` registry record; the registry loads it at
 * start. The fs driver is enough: queries are answered from the in-memory index and never touch
 * storage, so the backend does not matter here; no version record files are written for the same
 * reason.
 *
 * Load: autocannon, 32 connections for --duration seconds per endpoint, after a warm-up, against
 * a filtered query (layer + cloud + full-text) and a version-filtered one, with /livez of the same
 * server as the baseline (the ratio makes the figure comparable across machines). autocannon runs
 * in this process and the registry in a child process: on a 2-core machine each gets about one
 * core. The registry runs three times: as configured by default (log level info: one JSON line
 * per request, to a file; the catalog's query cache on), with the query cache off (every request
 * scans the index: the cost of a query nobody asked before), and at log level warn (the cost of
 * request logging).
 *
 * Targets, for the filtered query with the default configuration: p99 < 20 ms and >= 2,000
 * requests/s; the same checks are printed for the uncached run.
 *
 *   node bench/run.mjs catalog [--packs N] [--versions N] [--duration S] [--connections N]
 */
import path from 'node:path';
import autocannon from 'autocannon';
import { seedSnapshot } from './_catalog-data.mjs';
import { getJson, SERVER_OPTIONS, SERVER_USAGE, serverFromOptions, startRegistry } from './_registry.mjs';
import { checkRow, log, optionsOrExit, round, table, withScope } from './_util.mjs';

export const description =
  'Catalog of 10,000 packs x 10 versions: filtered GET /v1/packs at 32 connections vs /livez (autocannon)';

const P99_TARGET_MS = 20;
const RPS_TARGET = 2000;

/** The queries measured: the first one carries the targets. */
const QUERIES = [
  { label: 'filtered', path: '/v1/packs?layer=addon&cloudType=aws&q=monitoring&limit=50' },
  { label: 'version', path: '/v1/packs?version=1.2.x&limit=50' },
];
const BASELINE = { label: 'livez', path: '/livez' };

const USAGE = `Usage: node bench/run.mjs catalog [options]

${description}.

Options:
  --packs N          packs in the seeded catalog (default 10000)
  --versions N       versions of each pack (default 10)
  --duration S       seconds of load per endpoint and server configuration (default 10)
  --warmup S         seconds of untimed load on each query before measuring (default 3)
  --connections N    concurrent connections (default 32)
${SERVER_USAGE}
  -h, --help         show this help`;

/** @type {Record<string, import('./_util.mjs').OptionSpec>} */
const SPECS = {
  packs: { kind: 'integer', default: 10_000 },
  versions: { kind: 'integer', default: 10 },
  duration: { kind: 'integer', default: 10 },
  warmup: { kind: 'integer', default: 3, min: 0 },
  connections: { kind: 'integer', default: 32 },
  ...SERVER_OPTIONS,
};

/**
 * @typedef {{ rps: number, total: number, p50: number, p97_5: number, p99: number, max: number, errors: number, non2xx: number }} LoadResult
 */

/**
 * Runs autocannon against `base` + `target`, then waits until the registry has worked off what it
 * had queued: autocannon stops sending when its time is up, but the requests it abandons are still
 * answered, one after the other, and would otherwise eat into the next measurement.
 * @param {string} base
 * @param {string} target
 * @param {{ connections: number, duration: number }} load
 * @returns {Promise<LoadResult>}
 */
async function hammer(base, target, { connections, duration }) {
  const result = await autocannon({ url: `${base}${target}`, connections, duration, pipelining: 1 });
  await getJson(`${base}/livez`);
  return {
    rps: result.requests.average,
    total: result.requests.total,
    p50: result.latency.p50,
    p97_5: result.latency.p97_5,
    p99: result.latency.p99,
    max: result.latency.max,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/**
 * @param {string[]} args
 * @returns {Promise<number>} exit code
 */
export async function main(args) {
  const parsed = optionsOrExit('catalog', args, SPECS, USAGE);
  if ('code' in parsed) return parsed.code;
  const options = /** @type {{ packs: number, versions: number, duration: number, warmup: number, connections: number,
    server: string, 'server-cpu-prof'?: string }} */ (/** @type {unknown} */ (parsed.options));
  const server = serverFromOptions('catalog', options);
  if (!server) return 1;

  return withScope(async (scope) => {
    const work = await scope.tempDir('packyard-bench-catalog-');
    const dataDir = path.join(work, 'data');
    log(`seeding a snapshot of ${options.packs} packs x ${options.versions} versions ...`);
    const seedStart = Date.now();
    const seeded = await seedSnapshot(dataDir, options);
    log(`  ${seeded.key}: ${seeded.versions} versions of ${seeded.packs} packs in ${Date.now() - seedStart} ms`);

    /** @type {Record<string, Record<string, LoadResult>>} */
    const results = {};
    /** @type {Record<string, number>} */
    const totals = {};
    const configurations = [
      { level: 'default', env: { PACKYARD_LOG_LEVEL: 'info' } },
      { level: 'no-cache', env: { PACKYARD_LOG_LEVEL: 'info', PACKYARD_QUERY_CACHE_SIZE: '0' } },
      { level: 'warn', env: { PACKYARD_LOG_LEVEL: 'warn' } },
    ];
    for (const { level, env } of configurations) {
      const registry = await startRegistry(
        {
          bin: server.bin,
          dataDir,
          logFile: path.join(work, `registry-${level}.log`),
          env,
          nodeArgs: server.nodeArgs,
        },
        scope,
      );
      const readyMs = await registry.waitReady();
      const ready = await getJson(`${registry.url}/readyz`);
      if (ready.body.catalog?.versions !== seeded.versions) {
        throw new Error(`the registry loaded ${JSON.stringify(ready.body.catalog)}, not ${seeded.versions} versions`);
      }
      log(`registry (${level}): ${registry.url} (pid ${registry.pid}), ready in ${readyMs.toFixed(0)} ms`);
      for (const query of QUERIES) {
        const answer = await getJson(`${registry.url}${query.path}`);
        if (answer.status !== 200 || !(answer.body.total > 0)) {
          throw new Error(`GET ${query.path} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`);
        }
        totals[query.label] = answer.body.total;
        if (options.warmup > 0) {
          await hammer(registry.url, query.path, { connections: options.connections, duration: options.warmup });
        }
      }
      results[level] = {};
      for (const target of [BASELINE, ...QUERIES]) {
        const result = await hammer(registry.url, target.path, options);
        results[level][target.label] = result;
        log(
          `  ${level} ${target.label}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms` +
            (result.errors || result.non2xx ? ` (${result.errors} errors or timeouts, ${result.non2xx} non-2xx)` : ''),
        );
      }
      await registry.stop();
    }

    console.log(
      `\ncatalog queries: ${seeded.versions} versions of ${seeded.packs} packs, autocannon ${options.connections} ` +
        `connections x ${options.duration} s per row (load generator and registry in separate processes)\n`,
    );
    /** @type {string[][]} */
    const rows = [
      ['server', 'endpoint', 'matches', 'req/s', 'vs livez', 'p50 ms', 'p97.5 ms', 'p99 ms', 'max ms', 'failed'],
    ];
    for (const [level, byTarget] of Object.entries(results)) {
      const livez = byTarget[BASELINE.label];
      for (const target of [BASELINE, ...QUERIES]) {
        const r = byTarget[target.label];
        rows.push([
          level,
          target.path,
          target === BASELINE ? '' : String(totals[target.label]),
          r.rps.toFixed(0),
          (r.rps / livez.rps).toFixed(3),
          String(r.p50),
          String(r.p97_5),
          String(r.p99),
          String(r.max),
          String(r.errors + r.non2xx),
        ]);
      }
    }
    console.log(table(rows));

    const atInfo = results['default'][QUERIES[0].label];
    const uncached = results['no-cache'][QUERIES[0].label];
    const atWarn = results['warn'][QUERIES[0].label];
    // A request that timed out (autocannon gives up after 10 s) or failed has no latency: any fails the check.
    const clean = (/** @type {LoadResult} */ r) => r.errors === 0 && r.non2xx === 0;
    const p99Pass = atInfo.p99 < P99_TARGET_MS && clean(atInfo);
    const rpsPass = atInfo.rps >= RPS_TARGET;
    console.log();
    console.log(
      table([
        ['check', 'value', 'target', 'result'],
        checkRow('filtered query p99 (ms), default', String(atInfo.p99), `< ${P99_TARGET_MS}`, p99Pass),
        checkRow('filtered query req/s, default', atInfo.rps.toFixed(0), `>= ${RPS_TARGET}`, rpsPass),
        checkRow(
          'filtered query p99 (ms), no query cache',
          String(uncached.p99),
          `< ${P99_TARGET_MS}`,
          uncached.p99 < P99_TARGET_MS && clean(uncached),
        ),
        checkRow(
          'filtered query req/s, no query cache',
          uncached.rps.toFixed(0),
          `>= ${RPS_TARGET}`,
          uncached.rps >= RPS_TARGET,
        ),
        checkRow(
          'filtered query p99 (ms), log level warn',
          String(atWarn.p99),
          `< ${P99_TARGET_MS}`,
          atWarn.p99 < P99_TARGET_MS && clean(atWarn),
        ),
        checkRow(
          'filtered query req/s, log level warn',
          atWarn.rps.toFixed(0),
          `>= ${RPS_TARGET}`,
          atWarn.rps >= RPS_TARGET,
        ),
      ]),
    );

    const summary = {
      bench: 'catalog',
      packs: seeded.packs,
      versions: seeded.versions,
      connections: options.connections,
      durationSeconds: options.duration,
      queries: Object.fromEntries([BASELINE, ...QUERIES].map((q) => [q.label, q.path])),
      matches: totals,
      results: Object.fromEntries(
        Object.entries(results).map(([level, byTarget]) => [
          level,
          Object.fromEntries(
            Object.entries(byTarget).map(([label, r]) => [
              label,
              {
                rps: round(r.rps, 1),
                vsLivez: round(r.rps / byTarget[BASELINE.label].rps),
                p50: r.p50,
                p97_5: r.p97_5,
                p99: r.p99,
                failed: r.errors + r.non2xx,
              },
            ]),
          ),
        ]),
      ),
      p99TargetMs: P99_TARGET_MS,
      rpsTarget: RPS_TARGET,
      p99Pass,
      rpsPass,
    };
    console.log(`\nBENCH_RESULT ${JSON.stringify(summary)}`);
    return 0;
  });
}
