// @ts-check
/**
 * Benchmark: publishing and downloading pack archives through the registry, against the raw S3
 * calls the registry makes underneath, on the same backend in the same run. The raw side is what
 * the registry cannot beat: a multipart upload of the same zip with the registry's part size and
 * concurrency (@aws-sdk/lib-storage Upload, 8 MiB parts, 4 in flight), and a GetObject streamed
 * and counted. Everything the registry adds (receiving the upload to a temporary file while
 * hashing it, inspecting and CRC-checking every entry, the version record and change log) shows as
 * the ratio. Then one ~1 GB publish to a freshly started registry, whose peak RSS shows whether
 * uploads are streamed rather than buffered.
 *
 * Targets: median publish / raw upload <= 1.5; median download throughput / raw GetObject >= 0.8;
 * registry peak RSS during the 1 GB publish < 256 MB.
 *
 * Processes: the S3 backend (an s3rver child, or --s3-endpoint), the registry (`pack-registry`,
 * a child process), and this process, which builds the packs and is the client of both the
 * registry and S3: it streams each zip from disk (http.request) and counts downloaded bytes.
 *
 * Packs are scaffolded (pack-core `scaffoldPack`) plus `images/*.tar.gz` files of random bytes,
 * like air-gapped image bundles: incompressible, so the archive stores them as they are and its
 * size is the requested size. Each run publishes a new version (a new archive and digest), so no
 * publish is an idempotent no-op and no blob is deduplicated.
 *
 *   node bench/run.mjs publish [--mb N] [--runs N] [--big-mb N | --no-big] [--s3-endpoint URL ...]
 */
import { createReadStream, readFileSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  downloadCounting,
  freshBucket,
  publishFile,
  S3_OPTIONS,
  S3_USAGE,
  SERVER_OPTIONS,
  SERVER_USAGE,
  serverFromOptions,
  s3Env,
  startRegistry,
  startS3,
} from './_registry.mjs';
import { buildVersion, writeImageBundles } from './_packs.mjs';
import { vmHwmKB } from './_proc.mjs';
import { checkRow, log, MB, median, optionsOrExit, round, table, withScope } from './_util.mjs';

export const description =
  'Publish/download a 100 MB pack vs raw S3 multipart upload/GetObject; registry peak RSS during a 1 GB publish';

const PUBLISH_RATIO_TARGET = 1.5;
const DOWNLOAD_RATIO_TARGET = 0.8;
const RSS_TARGET_MB = 256;
/** The registry's own multipart settings (packages/registry-server/src/storage/s3/staged-upload.ts). */
const PART_SIZE = 8 * MB;
const QUEUE_SIZE = 4;

const USAGE = `Usage: node bench/run.mjs publish [options]

${description}.

Options:
  --mb N               size of the pack in the timed publish/download runs, in MB (default 100)
  --runs N             timed runs of each side, after one untimed warm-up of each (default 3)
  --big-mb N           size of the pack for the peak-RSS publish, in MB (default 1024)
  --no-big             skip the big publish
  --redirect-downloads run the registry with PACKYARD_S3_REDIRECT_DOWNLOADS=true: downloads are
                       redirected to presigned bucket URLs instead of passing through the registry
  --no-blob-cache      run the registry without its local blob cache: every download is relayed
                       from the bucket (by default the publish keeps a copy, and downloads read it)
  --no-digest          publish without announcing the archive's digest (as plain curl does);
                       by default the client sends Content-Digest, as packctl push does
${SERVER_USAGE}
${S3_USAGE}
  -h, --help           show this help`;

/** @type {Record<string, import('./_util.mjs').OptionSpec>} */
const SPECS = {
  mb: { kind: 'number', default: 100 },
  runs: { kind: 'integer', default: 3 },
  'big-mb': { kind: 'number', default: 1024 },
  'no-big': { kind: 'flag' },
  'no-digest': { kind: 'flag' },
  'no-blob-cache': { kind: 'flag' },
  'redirect-downloads': { kind: 'flag' },
  ...SERVER_OPTIONS,
  ...S3_OPTIONS,
};

/**
 * @typedef {{ seconds: number, bytes: number, sentSeconds?: number }} Timing
 */

/**
 * @param {import('./_registry.mjs').S3Backend} s3
 * @param {string} bucket
 * @param {string} key
 * @param {string} file
 * @returns {Promise<Timing>}
 */
async function rawUpload(s3, bucket, key, file) {
  const { size } = await stat(file);
  const start = performance.now();
  const upload = new Upload({
    client: s3.client,
    params: { Bucket: bucket, Key: key, Body: createReadStream(file), ContentType: 'application/zip' },
    partSize: PART_SIZE,
    queueSize: QUEUE_SIZE,
    leavePartsOnError: false,
  });
  await upload.done();
  return { seconds: (performance.now() - start) / 1000, bytes: size };
}

/**
 * @param {import('./_registry.mjs').S3Backend} s3
 * @param {string} bucket
 * @param {string} key
 * @returns {Promise<Timing>}
 */
async function rawDownload(s3, bucket, key) {
  const start = performance.now();
  const output = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const body = /** @type {import('node:stream').Readable} */ (output.Body);
  let bytes = 0;
  for await (const chunk of body) bytes += /** @type {Buffer} */ (chunk).length;
  return { seconds: (performance.now() - start) / 1000, bytes };
}

/**
 * @param {import('./_registry.mjs').RegistryProcess} registry
 * @param {string} file
 * @param {{ digest: string, size: number }} expected
 * @returns {Promise<Timing>}
 */
async function registryPublish(registry, file, expected) {
  const res = await publishFile(registry.url, file, announce ? { digest: expected.digest } : {});
  if (res.status !== 201) {
    throw new Error(`publish answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}\n${registry.logTail()}`);
  }
  if (res.body.digest !== expected.digest || res.body.size !== expected.size) {
    throw new Error(
      `publish stored ${res.body.digest} (${res.body.size} B), not ${expected.digest} (${expected.size} B)`,
    );
  }
  return { seconds: res.seconds, bytes: expected.size, sentSeconds: res.sentSeconds };
}

/**
 * @param {import('./_registry.mjs').RegistryProcess} registry
 * @param {string} name
 * @param {string} version
 * @param {number} size
 * @returns {Promise<Timing>}
 */
async function registryDownload(registry, name, version, size) {
  const res = await downloadCounting(`${registry.url}/v1/registries/public/packs/${name}/${version}/archive`);
  if (res.status !== 200 || res.bytes !== size) {
    throw new Error(`download of ${name}@${version} answered ${res.status} with ${res.bytes} of ${size} bytes`);
  }
  return { seconds: res.seconds, bytes: res.bytes };
}

/**
 * The registry's own account of each timed publish (its "published" log lines, warm-up excluded):
 * median milliseconds receiving the body, checking the archive, storing the blob (waiting for the
 * staged parts and completing the upload), and writing the record and change entry.
 * @param {string} logFile
 */
function serverPhases(logFile) {
  /** @type {Array<Record<string, number>>} */
  const phases = [];
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('"published ')) continue;
    const entry = JSON.parse(line);
    if (entry.ms) phases.push(entry.ms);
  }
  const timed = phases.slice(1);
  /** @type {Record<string, number>} */
  const medians = {};
  for (const phase of ['receive', 'inspectMs', 'blobMs', 'recordMs']) {
    medians[phase] = timed.length === 0 ? NaN : median(timed.map((p) => p[phase] ?? NaN));
  }
  return medians;
}

/**
 * Runs `a` and `b` `runs` times after one warm-up each, alternating which goes first so that
 * drift (background write-back of earlier uploads, say) hits both alike.
 * @param {number} runs
 * @param {(run: number) => Promise<Timing>} a
 * @param {(run: number) => Promise<Timing>} b
 * @param {(run: number, a: Timing, b: Timing) => void} report
 */
async function alternate(runs, a, b, report) {
  /** @type {Timing[]} */
  const as = [];
  /** @type {Timing[]} */
  const bs = [];
  for (let run = 0; run <= runs; run++) {
    let ta;
    let tb;
    if (run % 2 === 0) {
      ta = await a(run);
      tb = await b(run);
    } else {
      tb = await b(run);
      ta = await a(run);
    }
    report(run, ta, tb);
    // Run 0 is the warm-up: connections, JIT, the page cache.
    if (run > 0) {
      as.push(ta);
      bs.push(tb);
    }
  }
  return { as, bs };
}

const mbps = (/** @type {Timing} */ t) => t.bytes / MB / t.seconds;

/** Whether publishes announce their digest (set from --no-digest). */
let announce = true;

/**
 * @param {string[]} args
 * @returns {Promise<number>} exit code
 */
export async function main(args) {
  const parsed = optionsOrExit('publish', args, SPECS, USAGE);
  if ('code' in parsed) return parsed.code;
  const options =
    /** @type {{ mb: number, runs: number, 'big-mb': number, 'no-big': boolean, 'no-digest': boolean, 'redirect-downloads': boolean, server: string,
    'server-cpu-prof'?: string, 's3-endpoint'?: string, 's3-access-key': string, 's3-secret-key': string }} */ (
      /** @type {unknown} */ (parsed.options)
    );
  announce = !options['no-digest'];
  const server = serverFromOptions('publish', options);
  if (!server) return 1;
  const bytes = Math.round(options.mb * MB);
  const bigBytes = Math.round(options['big-mb'] * MB);

  return withScope(async (scope) => {
    const work = await scope.tempDir('packyard-bench-publish-');
    const s3 = await startS3(options, scope);
    const bucket = await freshBucket(s3, scope);
    log(`S3: ${s3.kind === 's3rver' ? 's3rver ' : ''}${s3.endpoint}, bucket ${bucket}`);

    const startServer = async (/** @type {string} */ label) => {
      const registry = await startRegistry(
        {
          bin: server.bin,
          dataDir: path.join(work, 'registry'),
          logFile: path.join(work, `registry-${label}.log`),
          env: {
            ...s3Env(s3, bucket),
            ...(options['redirect-downloads'] ? { PACKYARD_S3_REDIRECT_DOWNLOADS: 'true' } : {}),
            ...(options['no-blob-cache'] ? { PACKYARD_BLOB_CACHE_MAX_BYTES: '0' } : {}),
          },
          reportRss: true,
          nodeArgs: server.nodeArgs,
        },
        scope,
      );
      await registry.waitReady();
      return registry;
    };

    // --- 1. publish and download, registry vs raw S3 -------------------------------------------
    const packDir = path.join(work, 'pack');
    const outDir = path.join(work, 'out');
    log(`generating ${options.mb} MB of image bundles ...`);
    await writeImageBundles(packDir, bytes);
    const registry = await startServer('runs');
    log(`registry ${registry.url} (pid ${registry.pid}); warm-up run, then ${options.runs} timed runs`);

    /** @type {Map<number, { version: string, size: number }>} */
    const published = new Map();
    const name = 'bench-publish';
    /** The archive of the current run, built before both sides run and removed after. */
    let current = { file: '', digest: '', size: 0, run: -1 };
    const archiveFor = async (/** @type {number} */ run) => {
      if (current.run === run) return current;
      if (current.file) await rm(current.file, { force: true });
      const built = await buildVersion(packDir, outDir, { name, version: `1.0.${run}` });
      current = { file: built.path, digest: built.digest, size: built.size, run };
      return current;
    };

    const uploads = await alternate(
      options.runs,
      async (run) => {
        const archive = await archiveFor(run);
        const timing = await registryPublish(registry, archive.file, archive);
        published.set(run, { version: `1.0.${run}`, size: archive.size });
        return timing;
      },
      async (run) => rawUpload(s3, bucket, `raw/${name}-1.0.${run}.zip`, (await archiveFor(run)).file),
      (run, pub, raw) =>
        log(
          `${run === 0 ? 'warm-up' : `run ${run}/${options.runs}`} upload: registry publish ${pub.seconds.toFixed(3)} s, ` +
            `raw multipart ${raw.seconds.toFixed(3)} s`,
        ),
    );
    if (current.file) await rm(current.file, { force: true });

    const downloads = await alternate(
      options.runs,
      async (run) => {
        const { version, size } = /** @type {{ version: string, size: number }} */ (published.get(run));
        return registryDownload(registry, name, version, size);
      },
      async (run) => rawDownload(s3, bucket, `raw/${name}-1.0.${run}.zip`),
      (run, reg, raw) =>
        log(
          `${run === 0 ? 'warm-up' : `run ${run}/${options.runs}`} download: registry ${mbps(reg).toFixed(0)} MB/s, ` +
            `raw GetObject ${mbps(raw).toFixed(0)} MB/s`,
        ),
    );
    const runsRss = await registry.stop();
    const phases = serverPhases(registry.logFile);

    // --- 2. one big publish to a fresh registry, for its peak RSS --------------------------------
    /** @type {{ seconds: number, bytes: number, hwmKB: number | undefined, maxRssKB: number | undefined, idleRssKB: number | undefined } | null} */
    let big = null;
    if (!options['no-big']) {
      await rm(packDir, { recursive: true, force: true });
      const bigDir = path.join(work, 'big-pack');
      log(`generating and building a ${options['big-mb']} MB pack ...`);
      await writeImageBundles(bigDir, bigBytes);
      const archive = await buildVersion(bigDir, outDir, { name: 'bench-big', version: '1.0.0' });
      await rm(bigDir, { recursive: true, force: true });
      const bigRegistry = await startServer('big');
      const idleRssKB = vmHwmKB(bigRegistry.pid);
      log(`publishing ${(archive.size / MB).toFixed(0)} MB to a fresh registry (pid ${bigRegistry.pid}) ...`);
      const timing = await registryPublish(bigRegistry, archive.path, archive);
      // Read at once, while the process is alive; the exit report (getrusage) must agree.
      const hwmKB = vmHwmKB(bigRegistry.pid);
      const { maxRssKB } = await bigRegistry.stop();
      await rm(archive.path, { force: true });
      big = { ...timing, hwmKB, maxRssKB, idleRssKB };
      log(`  ${timing.seconds.toFixed(1)} s, ${mbps(timing).toFixed(0)} MB/s`);
    }

    // --- report -----------------------------------------------------------------------------------
    const publishSeconds = median(uploads.as.map((t) => t.seconds));
    const rawUploadSeconds = median(uploads.bs.map((t) => t.seconds));
    const publishRatio = publishSeconds / rawUploadSeconds;
    // Of the median publish: the body going out, then the registry checking and storing it.
    const sentSeconds = median(uploads.as.map((t) => t.sentSeconds ?? 0));
    const downloadMBps = median(downloads.as.map(mbps));
    const rawDownloadMBps = median(downloads.bs.map(mbps));
    const downloadRatio = downloadMBps / rawDownloadMBps;
    const archiveMB = uploads.as[0].bytes / MB;
    const bigPeakMB = big ? Math.max(big.hwmKB ?? 0, big.maxRssKB ?? 0) / 1024 : undefined;
    const publishPass = publishRatio <= PUBLISH_RATIO_TARGET;
    const downloadPass = downloadRatio >= DOWNLOAD_RATIO_TARGET;
    const rssPass = bigPeakMB === undefined ? undefined : bigPeakMB < RSS_TARGET_MB;

    console.log(
      `\nregistry publish/download vs raw S3 (${s3.kind === 's3rver' ? 's3rver' : s3.endpoint}): ` +
        `${archiveMB.toFixed(1)} MB archive, ${options.runs} runs, medians; ` +
        `${announce ? 'digest announced (Content-Digest, as packctl push)' : 'no digest announced'}, ` +
        `downloads ${
          options['redirect-downloads']
            ? 'redirected to the bucket'
            : options['no-blob-cache']
              ? 'relayed from the bucket (no blob cache)'
              : 'through the registry (from its blob cache)'
        }\n`,
    );
    console.log(
      table([
        ['', 'registry', 'raw S3', 'registry/raw'],
        ['upload time (s)', publishSeconds.toFixed(3), rawUploadSeconds.toFixed(3), publishRatio.toFixed(2)],
        [
          'upload throughput (MB/s)',
          (archiveMB / publishSeconds).toFixed(1),
          (archiveMB / rawUploadSeconds).toFixed(1),
          (rawUploadSeconds / publishSeconds).toFixed(2),
        ],
        [
          'download time (s)',
          median(downloads.as.map((t) => t.seconds)).toFixed(3),
          median(downloads.bs.map((t) => t.seconds)).toFixed(3),
          '',
        ],
        ['download throughput (MB/s)', downloadMBps.toFixed(1), rawDownloadMBps.toFixed(1), downloadRatio.toFixed(2)],
        ['  publish: sending the body (s)', sentSeconds.toFixed(3), '', ''],
        ['  publish: after the body (s)', (publishSeconds - sentSeconds).toFixed(3), '', ''],
        ['  server: receiving the body (s)', (phases.receive / 1000).toFixed(3), '', ''],
        ['  server: checking the archive (s)', (phases.inspectMs / 1000).toFixed(3), '', ''],
        ['  server: storing the blob (s)', (phases.blobMs / 1000).toFixed(3), '', ''],
        ['  server: record and change log (s)', (phases.recordMs / 1000).toFixed(3), '', ''],
        ['registry peak RSS, these runs (MB)', ((runsRss.maxRssKB ?? 0) / 1024).toFixed(1), '', ''],
      ]),
    );
    if (big) {
      console.log(`\n${(big.bytes / MB).toFixed(0)} MB publish to a fresh registry\n`);
      console.log(
        table([
          ['', 'value'],
          ['publish time (s)', big.seconds.toFixed(2)],
          ['publish throughput (MB/s)', mbps(big).toFixed(1)],
          ['registry RSS when ready (MB)', ((big.idleRssKB ?? 0) / 1024).toFixed(1)],
          ['peak RSS, /proc VmHWM after publish (MB)', big.hwmKB === undefined ? 'n/a' : (big.hwmKB / 1024).toFixed(1)],
          ['peak RSS, getrusage at exit (MB)', big.maxRssKB === undefined ? 'n/a' : (big.maxRssKB / 1024).toFixed(1)],
        ]),
      );
    }
    console.log();
    console.log(
      table([
        ['check', 'value', 'target', 'result'],
        checkRow('publish time registry/raw', publishRatio.toFixed(2), `<= ${PUBLISH_RATIO_TARGET}`, publishPass),
        checkRow(
          'download throughput registry/raw',
          downloadRatio.toFixed(2),
          `>= ${DOWNLOAD_RATIO_TARGET}`,
          downloadPass,
        ),
        bigPeakMB === undefined
          ? ['registry peak RSS, big publish (MB)', 'skipped', `< ${RSS_TARGET_MB}`, 'SKIP']
          : checkRow(
              'registry peak RSS, big publish (MB)',
              bigPeakMB.toFixed(1),
              `< ${RSS_TARGET_MB}`,
              rssPass === true,
            ),
      ]),
    );

    const summary = {
      bench: 'publish',
      backend: s3.kind,
      archiveBytes: uploads.as[0].bytes,
      runs: options.runs,
      publish: {
        medianSeconds: round(publishSeconds),
        seconds: uploads.as.map((t) => round(t.seconds)),
        sentMedianSeconds: round(sentSeconds),
        rawMedianSeconds: round(rawUploadSeconds),
        rawSeconds: uploads.bs.map((t) => round(t.seconds)),
        ratio: round(publishRatio),
        ratioTarget: PUBLISH_RATIO_TARGET,
        pass: publishPass,
      },
      download: {
        medianMBps: round(downloadMBps, 1),
        MBps: downloads.as.map((t) => round(mbps(t), 1)),
        rawMedianMBps: round(rawDownloadMBps, 1),
        rawMBps: downloads.bs.map((t) => round(mbps(t), 1)),
        ratio: round(downloadRatio),
        ratioTarget: DOWNLOAD_RATIO_TARGET,
        pass: downloadPass,
      },
      runsPeakRssMB: round((runsRss.maxRssKB ?? 0) / 1024, 1),
      big: big
        ? {
            bytes: big.bytes,
            seconds: round(big.seconds),
            peakRssMB: round(/** @type {number} */ (bigPeakMB), 1),
            rssTargetMB: RSS_TARGET_MB,
            pass: rssPass,
          }
        : null,
    };
    console.log(`\nBENCH_RESULT ${JSON.stringify(summary)}`);
    return 0;
  });
}
