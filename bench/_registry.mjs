// @ts-check
/**
 * The processes the registry-server benches run: an S3 backend (an s3rver child process on a free
 * loopback port, or an external endpoint such as Ceph RGW), and the `pack-registry` binary itself,
 * as a child process so that its CPU, memory and start-up are its own and a load generator in the
 * bench process competes with it only for cores, not for an event loop. Plus the HTTP calls the
 * benches time: streamed uploads, counted downloads, readiness polling.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, existsSync, openSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));
export const defaultServerBin = path.join(repoRoot, 'packages/registry-server/bundle/bin.js');
/** The `pack-registry` command as installed: it runs a server module with the process settings it ships with. */
const launcher = path.join(repoRoot, 'packages/registry-server/bin/pack-registry');
export const ADMIN_TOKEN = `bench-admin-token-${randomBytes(12).toString('hex')}`;
const reportRssUrl = new URL('./_report-rss.mjs', import.meta.url).href;
const RSS_MARKER = /^PACKYARD_BENCH_MAXRSS_KB=(\d+)$/m;

// The SDK's notice that its 2027 releases will need Node 22, once per process, is not news to a
// bench run; the registry child inherits this too.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

/** The S3 options every S3-backed bench takes, for its --help. */
export const S3_USAGE = `  --s3-endpoint URL    use this S3 endpoint (e.g. http://127.0.0.1:7480, a Ceph RGW) instead of
                       starting an s3rver; a fresh bucket is made and removed again
  --s3-access-key KEY  access key for --s3-endpoint (default AKTEST)
  --s3-secret-key KEY  secret key for --s3-endpoint (default SKTEST)`;

/** @type {Record<string, import('./_util.mjs').OptionSpec>} */
export const S3_OPTIONS = {
  's3-endpoint': { kind: 'string' },
  's3-access-key': { kind: 'string', default: 'AKTEST' },
  's3-secret-key': { kind: 'string', default: 'SKTEST' },
};

/**
 * @typedef {{ kind: 's3rver' | 'external', endpoint: string, accessKeyId: string, secretAccessKey: string, client: S3Client }} S3Backend
 */

/** An S3 client set up as the registry sets up its own (path style, no aws-chunked checksums). */
export function s3Client(
  /** @type {string} */ endpoint,
  /** @type {string} */ accessKeyId,
  /** @type {string} */ secretAccessKey,
) {
  return new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestHandler: { httpAgent: { keepAlive: true, maxSockets: 64 } },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/**
 * @typedef {{ 's3-endpoint'?: string, 's3-access-key': string, 's3-secret-key': string }} S3Options
 */

/**
 * Starts an s3rver (keys S3RVER/S3RVER) in a temp dir, or uses --s3-endpoint when given.
 * @param {S3Options} options the bench's parsed {@link S3_OPTIONS}
 * @param {import('./_util.mjs').Scope} scope
 * @returns {Promise<S3Backend>}
 */
export async function startS3(options, scope) {
  const endpoint = options['s3-endpoint'];
  if (endpoint !== undefined) {
    const client = s3Client(endpoint, options['s3-access-key'], options['s3-secret-key']);
    scope.defer(async () => client.destroy());
    return {
      kind: 'external',
      endpoint,
      accessKeyId: options['s3-access-key'],
      secretAccessKey: options['s3-secret-key'],
      client,
    };
  }
  const dir = await scope.tempDir('packyard-bench-s3rver-');
  const bin = path.join(path.dirname(createRequire(import.meta.url).resolve('s3rver/package.json')), 'bin/s3rver.js');
  // Its own process, with the legacy OpenSSL provider: s3rver encrypts ListObjectsV2 continuation
  // tokens with DES (see test/global-setup.ts).
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', bin, '-d', dir, '-a', '127.0.0.1', '-p', '0', '--silent'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  scope.track(child);
  const port = await new Promise((resolve, reject) => {
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (/** @type {string} */ chunk) => {
      output += chunk;
      const match = /listening on [\d.]+:(\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`s3rver exited (${code}) before listening:\n${output}`)));
  });
  child.stdout.resume();
  const local = `http://127.0.0.1:${port}`;
  const client = s3Client(local, 'S3RVER', 'S3RVER');
  scope.defer(async () => client.destroy());
  return { kind: 's3rver', endpoint: local, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', client };
}

/**
 * Creates a bucket with a random name; on an external endpoint it is emptied and removed when the
 * scope ends (an s3rver's whole directory goes anyway).
 * @param {S3Backend} s3
 * @param {import('./_util.mjs').Scope} scope
 */
export async function freshBucket(s3, scope) {
  const bucket = `packyard-bench-${randomBytes(6).toString('hex')}`;
  await s3.client.send(new CreateBucketCommand({ Bucket: bucket }));
  if (s3.kind === 'external') scope.defer(() => removeBucket(s3.client, bucket));
  return bucket;
}

/** @param {S3Client} client @param {string} bucket */
async function removeBucket(client, bucket) {
  for (;;) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }));
    const keys = (page.Contents ?? []).flatMap((entry) => (entry.Key === undefined ? [] : [{ Key: entry.Key }]));
    if (keys.length === 0) break;
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}

/** The registry's environment for an S3 backend. */
export function s3Env(/** @type {S3Backend} */ s3, /** @type {string} */ bucket, prefix = '') {
  return {
    PACKYARD_STORAGE: 's3',
    PACKYARD_S3_ENDPOINT: s3.endpoint,
    PACKYARD_S3_BUCKET: bucket,
    PACKYARD_S3_PREFIX: prefix,
    PACKYARD_S3_FORCE_PATH_STYLE: 'true',
    PACKYARD_S3_CREATE_BUCKET: 'true',
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };
}

/** The --server and --server-cpu-prof options every registry bench takes, for its --help. */
export const SERVER_USAGE = `  --server PATH        pack-registry entry point (default packages/registry-server/bundle/bin.js)
  --server-cpu-prof DIR
                       run the registry with --cpu-prof, writing its profiles into DIR`;

/** @type {Record<string, import('./_util.mjs').OptionSpec>} */
export const SERVER_OPTIONS = {
  server: { kind: 'string', default: defaultServerBin },
  'server-cpu-prof': { kind: 'string' },
};

/**
 * The registry entry point and node flags from the parsed {@link SERVER_OPTIONS}; undefined, after
 * saying why, when the entry point is missing (not built yet).
 * @param {string} bench
 * @param {{ server: string, 'server-cpu-prof'?: string }} options
 * @returns {{ bin: string, nodeArgs: string[] } | undefined}
 */
export function serverFromOptions(bench, options) {
  const bin = path.resolve(options.server);
  if (!existsSync(bin)) {
    console.error(`${bench}: ${bin} does not exist. Run \`npm run build\` first (or \`npm run bench -- ${bench}\`).`);
    return undefined;
  }
  const profDir = options['server-cpu-prof'];
  return { bin, nodeArgs: profDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', path.resolve(profDir)] };
}

/** A free loopback port. Another process could take it before the registry does; unlikely here. */
export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(undefined));
  });
  const address = server.address();
  await new Promise((resolve) => server.close(() => resolve(undefined)));
  if (address === null || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}

/**
 * @typedef {{
 *   url: string,
 *   pid: number,
 *   logFile: string,
 *   spawnedAt: number,
 *   waitReady(timeoutMs?: number): Promise<number>,
 *   stop(): Promise<{ maxRssKB: number | undefined }>,
 *   logTail(): string,
 * }} RegistryProcess
 */

/**
 * Spawns `<bin> --port <free port>` through the `pack-registry` launcher, as an operator runs it
 * (its node flags and malloc settings included), with `nodeArgs` in PACKYARD_NODE_ARGS and PACKYARD_*
 * settings in `env` (the caller's own PACKYARD_* variables are dropped), stdout (its JSON log)
 * going to `logFile`, as a container runtime would take it. `reportRss` preloads
 * bench/_report-rss.mjs, so `stop()` can return the process's peak RSS.
 * @param {{ bin: string, dataDir: string, logFile: string, env: Record<string, string>, reportRss?: boolean, nodeArgs?: string[] }} options
 * @param {import('./_util.mjs').Scope} scope
 * @returns {Promise<RegistryProcess>}
 */
export async function startRegistry(options, scope) {
  const port = await freePort();
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PACKYARD_')));
  const nodeArgs = [...(options.nodeArgs ?? []), ...(options.reportRss ? ['--import', reportRssUrl] : [])];
  if (nodeArgs.some((arg) => /\s/.test(arg)))
    throw new Error(`node arguments are split at spaces: ${nodeArgs.join(' ')}`);
  Object.assign(env, {
    PACKYARD_DATA_DIR: options.dataDir,
    PACKYARD_ADMIN_TOKEN: ADMIN_TOKEN,
    PACKYARD_SERVER_ENTRY: options.bin,
    PACKYARD_NODE_ARGS: nodeArgs.join(' '),
    // The launcher runs the node on the PATH: this one.
    PATH: [path.dirname(process.execPath), env['PATH'] ?? ''].join(path.delimiter),
    ...options.env,
  });
  const args = ['--port', String(port)];
  const out = openSync(options.logFile, 'a');
  const spawnedAt = performance.now();
  const child = spawn(launcher, args, { env, stdio: ['ignore', out, 'pipe'] });
  closeSync(out);
  scope.track(child);
  let stderr = '';
  /** @type {import('node:stream').Readable} */ (child.stderr)
    .setEncoding('utf8')
    .on('data', (/** @type {string} */ chunk) => (stderr += chunk));
  /** @type {Promise<{ code: number | null, signal: NodeJS.Signals | null }>} */
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${port}`;

  const logTail = () => {
    const log = readFileSync(options.logFile, 'utf8').trim().split('\n').slice(-15).join('\n');
    return `${log}\n${stderr.replace(RSS_MARKER, '').trim()}`.trim();
  };

  /** Milliseconds from spawn to the first 200 from /readyz; polls every 10 ms. */
  async function waitReady(timeoutMs = 120_000) {
    const deadline = spawnedAt + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`pack-registry exited before it was ready:\n${logTail()}`);
      }
      const status = await requestStatus(`${url}/readyz`).catch(() => 0);
      if (status === 200) return performance.now() - spawnedAt;
      if (performance.now() > deadline) throw new Error(`pack-registry not ready after ${timeoutMs} ms:\n${logTail()}`);
      await sleep(10);
    }
  }

  async function stop() {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const { code, signal } = await exited;
    clearTimeout(timer);
    if (code !== 0) throw new Error(`pack-registry exited with ${signal ?? `code ${code}`}:\n${logTail()}`);
    const rss = RSS_MARKER.exec(stderr);
    return { maxRssKB: rss ? Number(rss[1]) : undefined };
  }

  if (child.pid === undefined) throw new Error(`could not start ${options.bin}`);
  return { url, pid: child.pid, logFile: options.logFile, spawnedAt, waitReady, stop, logTail };
}

/** @param {string} url @returns {Promise<number>} the status of a GET; rejects when unreachable */
function requestStatus(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: 5_000 }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', reject);
  });
}

/**
 * GETs a JSON document.
 * @param {string} url
 * @returns {Promise<{ status: number, body: any }>}
 */
export function getJson(url) {
  return new Promise((resolve, reject) => {
    http
      // As the operator: /readyz shows the catalog counts only to operators.
      .get(url, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (/** @type {string} */ chunk) => (text += chunk));
        res.once('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
          } catch {
            reject(new Error(`GET ${url}: ${res.statusCode} with a body that is not JSON: ${text.slice(0, 300)}`));
          }
        });
      })
      .once('error', reject);
  });
}

/**
 * Publishes a zip: POST with the file streamed as the body; resolves when the response has ended.
 * `sentSeconds` is when the last byte of the body was handed to the socket: the rest of `seconds`
 * is the registry working on the upload it has received (checking it, storing it).
 * With `digest` ("sha256:<hex>", known from the build), it is announced in Content-Digest as
 * `packctl push` does, and the registry streams the archive to storage as it arrives.
 * @param {string} url the registry's base URL
 * @param {string} file
 * @param {{ digest?: string }} [options]
 * @returns {Promise<{ status: number, body: any, seconds: number, sentSeconds: number }>}
 */
export async function publishFile(url, file, options = {}) {
  const { size } = await stat(file);
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/v1/registries/public/packs`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${ADMIN_TOKEN}`,
        'Content-Type': 'application/zip',
        'Content-Length': String(size),
        ...(options.digest
          ? { 'Content-Digest': `sha-256=:${Buffer.from(options.digest.slice(7), 'hex').toString('base64')}:` }
          : {}),
      },
    });
    let sentSeconds = 0;
    req.once('finish', () => (sentSeconds = (performance.now() - start) / 1000));
    req.once('error', reject);
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (/** @type {string} */ chunk) => (text += chunk));
      res.once('end', () => {
        const seconds = (performance.now() - start) / 1000;
        /** @type {any} */
        let body = text;
        try {
          body = JSON.parse(text);
        } catch {
          // keep the text for the error message
        }
        resolve({ status: res.statusCode ?? 0, body, seconds, sentSeconds });
      });
    });
    createReadStream(file).once('error', reject).pipe(req);
  });
}

/**
 * GETs a URL and counts the body's bytes without keeping them.
 * @param {string} url
 * @returns {Promise<{ status: number, bytes: number, seconds: number }>}
 */
export function downloadCounting(url) {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    /** @param {string} target @param {number} hops */
    const get = (target, hops) =>
      http
        .get(target, { agent: false }, (res) => {
          // A registry with redirectDownloads answers 307 to the bucket: follow it, as clients do.
          if (res.statusCode === 307 && res.headers.location && hops > 0) {
            res.resume();
            get(res.headers.location, hops - 1);
            return;
          }
          let bytes = 0;
          res.on('data', (/** @type {Buffer} */ chunk) => (bytes += chunk.length));
          res.once('error', reject);
          res.once('end', () =>
            resolve({ status: res.statusCode ?? 0, bytes, seconds: (performance.now() - start) / 1000 }),
          );
        })
        .once('error', reject);
    get(url, 1);
  });
}
