// @ts-check
/* global fetch -- Node 20 has it; the repository's eslint globals predate its use in a bench */
/**
 * CNCF distribution (Debian's `docker-registry`, 2.8.2) as the benches run it: `serve` with a
 * config written here, on 127.0.0.1 only, no auth, logging errors only; on the filesystem (a
 * directory) or on S3 (its s3 driver, `regionendpoint` pointing at the endpoint, path style).
 * Shared by the oci and peers benches.
 */
import { execFileSync, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './_registry.mjs';
import { log } from './_util.mjs';

/**
 * @typedef {{ endpoint: string, accessKeyId: string, secretAccessKey: string, bucket: string }} DistributionS3
 */

/**
 * The config file: filesystem storage under `dir`/data, or the s3 driver.
 * @param {string} dir
 * @param {DistributionS3 | undefined} s3
 */
function distributionConfig(dir, s3) {
  const storage = s3
    ? [
        '  s3:',
        `    accesskey: ${s3.accessKeyId}`,
        `    secretkey: ${s3.secretAccessKey}`,
        '    region: us-east-1',
        `    regionendpoint: ${s3.endpoint}`,
        `    bucket: ${s3.bucket}`,
        `    secure: ${s3.endpoint.startsWith('https:')}`,
        '    v4auth: true',
        '    rootdirectory: /distribution',
        // Blobs are relayed, not redirected to presigned bucket URLs: the registry serves them.
        '  redirect:',
        '    disable: true',
      ]
    : ['  filesystem:', `    rootdirectory: ${path.join(dir, 'data')}`];
  return [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    ...storage,
    '  delete:',
    '    enabled: true',
    'http:',
    // Replaced per start by REGISTRY_HTTP_ADDR.
    '  addr: 127.0.0.1:5000',
    '',
  ].join('\n');
}

/**
 * @typedef {{
 *   url: string,
 *   pid: number,
 *   spawnedAt: number,
 *   waitReady(timeoutMs?: number): Promise<number>,
 *   stop(): Promise<void>,
 * }} DistributionProcess
 */

/**
 * Starts `<bin> serve <dir>/config.yml` on a free loopback port (the config is written on the
 * first start in `dir` and reused by later ones, so a restart finds the same storage).
 * @param {{ bin: string, dir: string, s3?: DistributionS3 }} options
 * @param {import('./_util.mjs').Scope} scope
 * @returns {Promise<DistributionProcess>}
 */
export async function spawnDistribution(options, scope) {
  const port = await freePort();
  const config = path.join(options.dir, 'config.yml');
  await writeFile(config, distributionConfig(options.dir, options.s3), { flag: 'w' });
  const spawnedAt = performance.now();
  const child = spawn(options.bin, ['serve', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      // AWS_CA_BUNDLE (set on some machines for a TLS-inspecting proxy) makes distribution's AWS SDK
      // replace its HTTP transport, which its s3 driver does not allow: it panics. The endpoint is
      // plain HTTP on loopback anyway.
      ...Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'AWS_CA_BUNDLE')),
      REGISTRY_HTTP_ADDR: `127.0.0.1:${port}`,
    },
  });
  scope.track(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (/** @type {string} */ chunk) => (stderr += chunk));
  /** @type {Promise<{ code: number | null, signal: NodeJS.Signals | null }>} */
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  /** @type {Promise<never>} */
  const failed = new Promise((_, reject) => {
    child.once('error', (err) => reject(new Error(`could not start ${options.bin}: ${err.message}`)));
    exited.then(({ code, signal }) => reject(new Error(`${options.bin} exited with ${signal ?? code}:\n${stderr}`)));
  });
  failed.catch(() => undefined);
  const url = `http://127.0.0.1:${port}`;

  /** Milliseconds from spawn to the first 200 from /v2/; polls every 10 ms. */
  async function waitReady(timeoutMs = 60_000) {
    for (;;) {
      const ready = await Promise.race([
        fetch(`${url}/v2/`).then(
          async (res) => {
            await res.arrayBuffer();
            return res.status === 200;
          },
          () => false,
        ),
        failed,
      ]);
      if (ready) return performance.now() - spawnedAt;
      if (performance.now() - spawnedAt > timeoutMs)
        throw new Error(`${options.bin} did not answer on ${url}/v2/:\n${stderr}`);
      await sleep(10);
    }
  }

  async function stop() {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  }

  if (child.pid === undefined) throw new Error(`could not start ${options.bin}`);
  return { url, pid: child.pid, spawnedAt, waitReady, stop };
}

/**
 * Starts distribution on the filesystem in `dir` and resolves with its URL once /v2/ answers.
 * @param {string} bin
 * @param {string} dir
 * @param {import('./_util.mjs').Scope} scope
 */
export async function startDistribution(bin, dir, scope) {
  const distribution = await spawnDistribution({ bin, dir }, scope);
  await distribution.waitReady();
  return distribution.url;
}

/**
 * The `docker-registry` binary: `bin` when it runs; else Debian's package is installed when this
 * process is root (apt-get), else an error says how.
 * @param {string} bin
 */
export function ensureDistribution(bin) {
  const works = () => {
    try {
      return execFileSync(bin, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return undefined;
    }
  };
  const found = works();
  if (found !== undefined) return found;
  if (bin !== 'docker-registry' || process.getuid?.() !== 0) {
    throw new Error(`${bin} does not run; install Debian's docker-registry (apt-get install -y docker-registry)`);
  }
  log('installing docker-registry (apt-get) ...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['install', '-y', '-qq', 'docker-registry'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  const installed = works();
  if (installed === undefined) throw new Error('docker-registry still does not run after apt-get install');
  return installed;
}
