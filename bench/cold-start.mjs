// @ts-check
/**
 * Benchmark: how long a registry takes to become ready over a large catalog on S3. The bucket is
 * seeded as a running registry would have left it: 100,000 version records (10,000 packs x 10
 * versions) under packs/, the `public` registry record, a catalog snapshot covering all but the
 * last few hundred versions, and those last versions as records plus change-log entries after the
 * snapshot. Records are written with the registry's own store and encoding, the snapshot and the
 * change-log entries with its own CatalogSync (writeSnapshot, record), so their format is the
 * registry's by construction; summaries carry the ETags the records were stored with, as after
 * real publishes. With --scan-start the snapshot is instead written by the registry itself: it
 * starts once over the records before any snapshot exists (a migrated bucket), reads every record
 * and writes the first snapshot; that start is timed too, without a target.
 *
 * Measured: spawn of `pack-registry` to its first 200 from /readyz (storage reachable, catalog
 * loaded), several times, alternating with the baseline: the same, on an empty bucket. The
 * difference is what the catalog costs at start-up. Also reported: the registry's own "catalog
 * loaded in N ms" log figure, and SIGTERM-to-exit once ready (shutdown waits for the background
 * reconcile a snapshot start begins, which lists every version record).
 *
 * Target: ready within 10 s with 100,000 versions.
 *
 * Processes: the S3 backend (an s3rver child, or --s3-endpoint), the registry (a child process),
 * and this process, which seeds the bucket and polls /readyz every 10 ms.
 *
 *   node bench/run.mjs cold-start [--versions N] [--changes N] [--runs N] [--scan-start] [--s3-endpoint URL ...]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  CatalogSync,
  createLogger,
  createStore,
  registryKey,
  resolveConfig,
  SNAPSHOTS_PREFIX,
  summarise,
  versionKey,
} from '@packyard/registry-server';
import { encodeRecord, publicRegistryRecord, versionRecords } from './_catalog-data.mjs';
import {
  freshBucket,
  getJson,
  S3_OPTIONS,
  S3_USAGE,
  SERVER_OPTIONS,
  SERVER_USAGE,
  serverFromOptions,
  s3Env,
  startRegistry,
  startS3,
} from './_registry.mjs';
import { checkRow, log, median, optionsOrExit, round, table, withScope } from './_util.mjs';

export const description =
  'Cold start with 100,000 version records on S3: spawn to /readyz 200, vs the same on an empty bucket';

const READY_TARGET_SECONDS = 10;
/** The registry writes a new snapshot once it has read this many changes (catalog.snapshotEveryChanges). */
const SNAPSHOT_EVERY_CHANGES = 500;

const USAGE = `Usage: node bench/run.mjs cold-start [options]

${description}.

Options:
  --versions N         version records in the seeded bucket (default 100000)
  --per-pack N         versions per pack (default 10)
  --changes N          of those, how many come after the snapshot, as change-log entries (default 400;
                       keep it under ${SNAPSHOT_EVERY_CHANGES}, or the first start compacts them into a new snapshot)
  --runs N             timed starts of each kind, alternating, after one untimed warm-up (default 3)
  --concurrency N      parallel writes while seeding (default 64)
  --scan-start         also time one start before any snapshot exists: the registry reads every record
                       and writes the snapshot itself (on s3rver about 1-2 minutes per 100,000 records)
${SERVER_USAGE}
${S3_USAGE}
  -h, --help           show this help`;

/** @type {Record<string, import('./_util.mjs').OptionSpec>} */
const SPECS = {
  versions: { kind: 'integer', default: 100_000 },
  'per-pack': { kind: 'integer', default: 10 },
  changes: { kind: 'integer', default: 400, min: 0 },
  runs: { kind: 'integer', default: 3 },
  concurrency: { kind: 'integer', default: 64 },
  'scan-start': { kind: 'flag' },
  ...SERVER_OPTIONS,
  ...S3_OPTIONS,
};

/**
 * Runs `work` over `items` with at most `limit` in flight, logging progress every few seconds.
 * @template T
 * @param {Iterable<T>} items
 * @param {number} limit
 * @param {(item: T) => Promise<void>} work
 * @param {{ label: string, total: number }} progress
 */
async function forEachLimited(items, limit, work, progress) {
  const iterator = items[Symbol.iterator]();
  const start = performance.now();
  let done = 0;
  let lastLog = start;
  const worker = async () => {
    for (let next = iterator.next(); !next.done; next = iterator.next()) {
      await work(next.value);
      done++;
      const now = performance.now();
      if (now - lastLog > 5000) {
        lastLog = now;
        const rate = done / ((now - start) / 1000);
        log(
          `  ${progress.label}: ${done}/${progress.total} (${rate.toFixed(0)}/s, ~${((progress.total - done) / rate).toFixed(0)} s left)`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return { count: done, seconds: (performance.now() - start) / 1000 };
}

/** The `catalog loaded: ... in N ms` figure from a registry's JSON log, if it logged one. */
function catalogLoadMs(/** @type {string} */ logFile) {
  const lines = readFileSync(logFile, 'utf8').trim().split('\n').reverse();
  for (const line of lines) {
    try {
      const entry = JSON.parse(line);
      if (typeof entry.msg === 'string' && entry.msg.startsWith('catalog loaded') && typeof entry.ms === 'number') {
        return entry.ms;
      }
    } catch {
      // not a JSON line
    }
  }
  return undefined;
}

/**
 * @param {string[]} args
 * @returns {Promise<number>} exit code
 */
export async function main(args) {
  const parsed = optionsOrExit('cold-start', args, SPECS, USAGE);
  if ('code' in parsed) return parsed.code;
  const options = /** @type {{ versions: number, 'per-pack': number, changes: number, runs: number, concurrency: number,
    'scan-start': boolean, server: string, 'server-cpu-prof'?: string, 's3-endpoint'?: string, 's3-access-key': string,
    's3-secret-key': string }} */ (/** @type {unknown} */ (parsed.options));
  if (options.changes >= options.versions) {
    console.error(`cold-start: --changes (${options.changes}) must be smaller than --versions (${options.versions})`);
    return 2;
  }
  const server = serverFromOptions('cold-start', options);
  if (!server) return 1;
  const packs = Math.ceil(options.versions / options['per-pack']);

  return withScope(async (scope) => {
    const work = await scope.tempDir('packyard-bench-cold-start-');
    const s3 = await startS3(options, scope);
    const bucket = await freshBucket(s3, scope);
    const emptyBucket = await freshBucket(s3, scope);
    log(
      `S3: ${s3.kind === 's3rver' ? 's3rver ' : ''}${s3.endpoint}, buckets ${bucket} (seeded), ${emptyBucket} (empty)`,
    );

    const logger = createLogger('silent');
    const storage = resolveConfig({
      dataDir: work,
      storage: {
        driver: 's3',
        s3: {
          endpoint: s3.endpoint,
          bucket,
          forcePathStyle: true,
          accessKeyId: s3.accessKeyId,
          secretAccessKey: s3.secretAccessKey,
        },
      },
    }).storage;
    const store = await createStore(storage, { logger });
    scope.defer(() => store.close());
    const sync = new CatalogSync(store, { logger, pollIntervalMs: 3_600_000, snapshotEveryChanges: Infinity });
    scope.defer(() => sync.stop());

    const startServer = async (/** @type {string} */ label, /** @type {Record<string, string>} */ env) =>
      startRegistry(
        {
          bin: server.bin,
          dataDir: path.join(work, 'registry'),
          logFile: path.join(work, `registry-${label}.log`),
          env,
          nodeArgs: server.nodeArgs,
        },
        scope,
      );

    // --- seed ---------------------------------------------------------------------------------------
    const all = versionRecords({ packs, versionsPerPack: options['per-pack'] });
    const snapshotted = options.versions - options.changes;
    /** The next `count` records of `all`, which goes on from there the next time. */
    const take = function* (/** @type {number} */ count) {
      for (let i = 0; i < count; i++) {
        const next = all.next();
        if (next.done) return;
        yield next.value;
      }
    };
    if (!options['scan-start']) {
      // Started on the empty bucket: loads nothing and sets the change-log cursor to now, so the
      // snapshot written below covers every change up to then, as a live registry's would.
      await sync.start();
    }
    /** Stores a version record as publish does (unconditionally: the bucket is new); its ETag. */
    const putRecord = async (/** @type {import('@packyard/registry-server').VersionRecord} */ record) => {
      const key = versionKey(record.registry, record.name, record.version);
      const { etag } = await store.put(key, encodeRecord(record), { contentType: 'application/json' });
      return etag;
    };
    const registry = publicRegistryRecord();
    await store.put(registryKey(registry.name), encodeRecord(registry), { contentType: 'application/json' });
    log(`seeding ${snapshotted} version records (${options.concurrency} at a time) ...`);
    const seeding = await forEachLimited(
      take(snapshotted),
      options.concurrency,
      async (record) => {
        const etag = await putRecord(record);
        // With the record's ETag, as publish keeps it: the registry's background reconcile after a
        // snapshot start then finds nothing to re-read, as on a healthy bucket.
        if (!options['scan-start']) sync.index.applyVersion(summarise(record, etag));
      },
      { label: 'records', total: snapshotted },
    );
    log(
      `  ${seeding.count} records in ${seeding.seconds.toFixed(1)} s (${(seeding.count / seeding.seconds).toFixed(0)}/s)`,
    );

    /** @type {{ seconds: number, catalogMs: number | undefined } | null} */
    let scanStart = null;
    if (options['scan-start']) {
      log('first start, no snapshot: the registry reads every record and writes the snapshot ...');
      const first = await startServer('scan', s3Env(s3, bucket));
      const ms = await first.waitReady(Math.max(120_000, options.versions * 20));
      await first.stop();
      scanStart = { seconds: ms / 1000, catalogMs: catalogLoadMs(first.logFile) };
      log(`  ready after ${scanStart.seconds.toFixed(1)} s`);
      // Now loads the snapshot that start wrote: quick.
      await sync.start();
    } else {
      sync.index.applyRegistry(registry);
      await sync.writeSnapshot();
    }
    const snapshots = [];
    for await (const object of store.list(SNAPSHOTS_PREFIX)) snapshots.push(object);
    const snapshot = snapshots.at(-1);
    if (!snapshot) throw new Error('no catalog snapshot was written');
    log(`  snapshot ${snapshot.key}: ${(snapshot.size / 1024 / 1024).toFixed(1)} MB gzipped`);

    // The versions published after the snapshot: a record, then a change-log entry, as a publish does.
    log(`publishing ${options.changes} more versions as records + change-log entries ...`);
    await forEachLimited(
      take(options.changes),
      options.concurrency,
      async (record) => {
        const etag = await putRecord(record);
        await sync.record({ kind: 'version', summary: summarise(record, etag) });
      },
      { label: 'changes', total: options.changes },
    );
    const expected = sync.index.stats();
    await sync.stop();
    if (expected.versions !== options.versions) {
      throw new Error(`seeded ${expected.versions} versions, not ${options.versions}`);
    }

    // --- timed starts -------------------------------------------------------------------------------
    /** @type {{ empty: number[], seeded: number[], emptyLoadMs: number[], seededLoadMs: number[], emptyStop: number[], seededStop: number[] }} */
    const times = { empty: [], seeded: [], emptyLoadMs: [], seededLoadMs: [], emptyStop: [], seededStop: [] };
    const timedStart = async (/** @type {'empty' | 'seeded'} */ kind, /** @type {number} */ run) => {
      // Every empty start gets a prefix of its own, so that none finds what an earlier one wrote.
      const env = kind === 'empty' ? s3Env(s3, emptyBucket, `run-${run}`) : s3Env(s3, bucket);
      const server = await startServer(`${kind}-${run}`, env);
      const ms = await server.waitReady();
      const ready = await getJson(`${server.url}/readyz`);
      // Shutdown waits for background catalog work begun at start (the reconcile listing every record).
      const stopStart = performance.now();
      await server.stop();
      const stopSeconds = (performance.now() - stopStart) / 1000;
      const loaded = ready.body.catalog?.versions;
      const wanted = kind === 'empty' ? 0 : options.versions;
      if (loaded !== wanted) throw new Error(`the ${kind} registry loaded ${loaded} versions, not ${wanted}`);
      return { seconds: ms / 1000, catalogMs: catalogLoadMs(server.logFile), stopSeconds };
    };
    // Run 0 warms the page cache and the backend for both kinds; it is not counted.
    for (let run = 0; run <= options.runs; run++) {
      // Alternated, so that drift over the runs hits both kinds alike.
      const first = run % 2 === 0 ? 'empty' : 'seeded';
      const a = await timedStart(first, run);
      const b = await timedStart(first === 'empty' ? 'seeded' : 'empty', run);
      const result = first === 'empty' ? { empty: a, seeded: b } : { empty: b, seeded: a };
      log(
        `${run === 0 ? 'warm-up' : `run ${run}/${options.runs}`}: empty ${result.empty.seconds.toFixed(3)} s, ` +
          `${options.versions} versions ${result.seeded.seconds.toFixed(3)} s ` +
          `(catalog loaded in ${result.seeded.catalogMs ?? '?'} ms)`,
      );
      if (run === 0) continue;
      times.empty.push(result.empty.seconds);
      times.seeded.push(result.seeded.seconds);
      times.emptyStop.push(result.empty.stopSeconds);
      times.seededStop.push(result.seeded.stopSeconds);
      if (result.empty.catalogMs !== undefined) times.emptyLoadMs.push(result.empty.catalogMs);
      if (result.seeded.catalogMs !== undefined) times.seededLoadMs.push(result.seeded.catalogMs);
    }

    // --- report -------------------------------------------------------------------------------------
    const emptySeconds = median(times.empty);
    const seededSeconds = median(times.seeded);
    const pass = seededSeconds <= READY_TARGET_SECONDS;
    const loadMs = (/** @type {number[]} */ values) => (values.length ? median(values).toFixed(0) : 'n/a');
    console.log(
      `\ncold start on ${s3.kind === 's3rver' ? 's3rver' : s3.endpoint}: ${options.versions} versions of ${packs} packs ` +
        `(snapshot ${(snapshot.size / 1024 / 1024).toFixed(1)} MB + ${options.changes} change-log entries), ` +
        `${options.runs} runs, medians\n`,
    );
    console.log(
      table([
        ['', 'empty bucket', `${options.versions} versions`, 'difference'],
        [
          'spawn to /readyz 200 (s)',
          emptySeconds.toFixed(3),
          seededSeconds.toFixed(3),
          (seededSeconds - emptySeconds).toFixed(3),
        ],
        ['catalog load, registry log (ms)', loadMs(times.emptyLoadMs), loadMs(times.seededLoadMs), ''],
        [
          'SIGTERM, once ready, to exit (s)',
          median(times.emptyStop).toFixed(3),
          median(times.seededStop).toFixed(3),
          '',
        ],
        [
          'seeding the records (s)',
          '',
          `${seeding.seconds.toFixed(1)} (${(seeding.count / seeding.seconds).toFixed(0)}/s)`,
          '',
        ],
        ...(scanStart ? [['first start, no snapshot: to /readyz 200 (s)', '', scanStart.seconds.toFixed(1), '']] : []),
      ]),
    );
    console.log();
    console.log(
      table([
        ['check', 'value', 'target', 'result'],
        checkRow(
          `ready with ${options.versions} versions (s)`,
          seededSeconds.toFixed(2),
          `<= ${READY_TARGET_SECONDS}`,
          pass,
        ),
      ]),
    );

    const summary = {
      bench: 'cold-start',
      backend: s3.kind,
      versions: options.versions,
      packs,
      changes: options.changes,
      snapshotBytes: snapshot.size,
      runs: options.runs,
      empty: { medianSeconds: round(emptySeconds), seconds: times.empty.map((s) => round(s)) },
      seeded: {
        medianSeconds: round(seededSeconds),
        seconds: times.seeded.map((s) => round(s)),
        catalogLoadMs: times.seededLoadMs,
        stopMedianSeconds: round(median(times.seededStop)),
      },
      differenceSeconds: round(seededSeconds - emptySeconds),
      seedingSeconds: round(seeding.seconds, 1),
      scanStartSeconds: scanStart ? round(scanStart.seconds, 1) : null,
      targetSeconds: READY_TARGET_SECONDS,
      pass,
    };
    console.log(`\nBENCH_RESULT ${JSON.stringify(summary)}`);
    return 0;
  });
}
