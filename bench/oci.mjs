// @ts-check
/* global fetch -- Node 20 has it; the repository's eslint globals predate its use in a bench */
/**
 * Benchmark: the OCI Distribution API of Packyard against CNCF distribution (Debian's
 * `docker-registry`, 2.8.2) in the same run, both on the filesystem in temp dirs on the same disk,
 * both on 127.0.0.1 (issue 13). Packyard runs with authentication on, as in production: the client
 * follows the Bearer challenge once per repository scope, as registry clients do, and sends the
 * token on every request; distribution runs without auth (its default).
 *
 * Operations, each on fresh random content in every round (the same bytes for both registries):
 * - a 100 MB blob pushed monolithically (POST, then PUT ?digest= with the body);
 * - a 100 MB blob pushed in chunks (POST, PATCH with Content-Range per chunk, PUT ?digest=);
 * - the 100 MB blob pulled (GET, bytes counted);
 * - 200 small blobs (4-64 KB) pushed monolithically, then pulled, a few requests in flight.
 *
 * A warm-up round, then `--rounds` timed rounds. In a round each operation runs on both registries
 * back to back, which one goes first alternating per round, each after a `sync` (so that the disk
 * writes an operation left behind are not charged to the next one); a ratio Packyard/distribution is
 * formed per round and operation, and the medians are printed. Targets
 * (from the issue; reported, not asserted): push and pull within 1.2x of distribution's time,
 * small-blob throughput at least distribution's.
 *
 *   node bench/run.mjs oci [--rounds N] [--big-mb N] [--small N] [--chunk-mb N] [--concurrency N]
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomFillSync, randomInt } from 'node:crypto';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startDistribution } from './_distribution.mjs';
import { SERVER_OPTIONS, SERVER_USAGE, serverFromOptions, startRegistry } from './_registry.mjs';
import { checkRow, inParallel, log, MB, median, optionsOrExit, round, table, withScope } from './_util.mjs';

export const description =
  'OCI blob push/pull (100 MB monolithic and chunked, 200 small blobs): Packyard vs docker-registry, same run';

const PUSH_RATIO_TARGET = 1.2;
const PULL_RATIO_TARGET = 1.2;
const SMALL_RATIO_TARGET = 1.0;
const OPERATOR = { username: 'bench-operator', password: 'bench operator password' };

const USAGE = `Usage: node bench/run.mjs oci [options]

${description}.

Options:
  --rounds N           timed rounds, after one untimed warm-up round (default 5)
  --big-mb N           size of the big blob, in MB (default 100)
  --chunk-mb N         PATCH chunk size of the chunked push, in MB (default 10)
  --small N            number of small blobs (default 200)
  --concurrency N      small-blob requests in flight (default 4)
  --distribution PATH  the CNCF distribution binary (default docker-registry)
${SERVER_USAGE}
  -h, --help           show this help`;

/** @type {Record<string, import('./_util.mjs').OptionSpec>} */
const SPECS = {
  rounds: { kind: 'integer', default: 5 },
  'big-mb': { kind: 'number', default: 100 },
  'chunk-mb': { kind: 'number', default: 10 },
  small: { kind: 'integer', default: 200 },
  concurrency: { kind: 'integer', default: 4 },
  distribution: { kind: 'string', default: 'docker-registry' },
  ...SERVER_OPTIONS,
};

const digestOf = (/** @type {Uint8Array} */ bytes) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/**
 * A registry as the bench talks to it: its root URL, the repository to use, and a `request` that
 * answers 401 challenges as registry clients do (a token from the realm with Basic credentials,
 * kept per scope).
 * @typedef {{ name: string, url: string, repository: string,
 *   request: (method: string, url: string, init?: RequestInit) => Promise<Response> }} Target
 */

/**
 * @param {string} name
 * @param {string} url
 * @param {string} repository
 * @param {{ username: string, password: string }} [credentials]
 * @returns {Target}
 */
function target(name, url, repository, credentials) {
  /** @type {Map<string, string>} */
  const tokens = new Map();
  const basic = credentials
    ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
    : undefined;

  /** @param {string} challenge */
  async function token(challenge) {
    /** @type {Record<string, string>} */
    const params = {};
    for (const match of challenge.matchAll(/\b(\w+)="([^"]*)"/g)) params[match[1]] = match[2];
    const key = `${params['service']} ${params['scope']}`;
    const known = tokens.get(key);
    if (known !== undefined || basic === undefined || params['realm'] === undefined) return known;
    const realm = new URL(params['realm']);
    for (const param of ['service', 'scope']) if (params[param]) realm.searchParams.set(param, params[param]);
    const res = await fetch(realm, { headers: { Authorization: basic } });
    if (!res.ok) throw new Error(`${name}: token endpoint answered ${res.status}: ${await res.text()}`);
    const body = /** @type {{ token?: string, access_token?: string }} */ (await res.json());
    const issued = body.token ?? body.access_token;
    if (issued !== undefined) tokens.set(key, issued);
    return issued;
  }

  /** @type {string | undefined} */
  let authorization;
  /** @type {Target['request']} */
  async function request(method, target, init = {}) {
    const href = target.startsWith('http') ? target : `${url}${target}`;
    const send = () =>
      fetch(href, {
        ...init,
        method,
        headers: { ...init.headers, ...(authorization ? { Authorization: authorization } : {}) },
        // Bodies are buffers: fetch wants to be told it may send them in one go.
        ...(init.body ? { duplex: 'half' } : {}),
      });
    let res = await send();
    const challenge = res.headers.get('www-authenticate');
    if (res.status === 401 && challenge !== null) {
      await res.arrayBuffer();
      const issued = challenge.startsWith('Bearer') ? await token(challenge) : undefined;
      authorization = issued === undefined ? basic : `Bearer ${issued}`;
      res = await send();
    }
    return res;
  }
  return { name, url, repository, request };
}

/**
 * @param {Response} res
 * @param {number} status
 * @param {string} what
 */
async function expectStatus(res, status, what) {
  if (res.status === status) return;
  throw new Error(`${what}: answered ${res.status}, not ${status}: ${(await res.text()).slice(0, 500)}`);
}

/**
 * @param {Target} registry
 * @param {Response} res
 */
function uploadUrl(registry, res) {
  const location = res.headers.get('location');
  if (location === null) throw new Error(`${registry.name}: an upload answered without a Location`);
  return new URL(location, registry.url);
}

/** POST, then PUT ?digest= with the whole blob. @param {Target} registry @param {Buffer} blob */
async function pushMonolithic(registry, blob) {
  const digest = digestOf(blob);
  const started = await registry.request('POST', `/v2/${registry.repository}/blobs/uploads/`);
  await expectStatus(started, 202, `${registry.name}: POST upload`);
  await started.arrayBuffer();
  const put = uploadUrl(registry, started);
  put.searchParams.set('digest', digest);
  const done = await registry.request('PUT', put.href, {
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(blob.length) },
    body: blob,
  });
  await expectStatus(done, 201, `${registry.name}: PUT ${digest}`);
  await done.arrayBuffer();
  return digest;
}

/** POST, PATCH per chunk with Content-Range, PUT ?digest=. @param {Target} registry @param {Buffer} blob @param {number} chunk */
async function pushChunked(registry, blob, chunk) {
  const digest = digestOf(blob);
  const started = await registry.request('POST', `/v2/${registry.repository}/blobs/uploads/`);
  await expectStatus(started, 202, `${registry.name}: POST upload`);
  await started.arrayBuffer();
  let next = uploadUrl(registry, started);
  for (let offset = 0; offset < blob.length; offset += chunk) {
    const part = blob.subarray(offset, Math.min(blob.length, offset + chunk));
    const patched = await registry.request('PATCH', next.href, {
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(part.length),
        'Content-Range': `${offset}-${offset + part.length - 1}`,
      },
      body: part,
    });
    await expectStatus(patched, 202, `${registry.name}: PATCH ${offset}`);
    await patched.arrayBuffer();
    next = uploadUrl(registry, patched);
  }
  next.searchParams.set('digest', digest);
  const done = await registry.request('PUT', next.href, { headers: { 'Content-Length': '0' } });
  await expectStatus(done, 201, `${registry.name}: PUT ${digest} (chunked)`);
  await done.arrayBuffer();
  return digest;
}

/** GETs a blob, counting its bytes. @param {Target} registry @param {string} digest @param {number} size */
async function pull(registry, digest, size) {
  const res = await registry.request('GET', `/v2/${registry.repository}/blobs/${digest}`);
  await expectStatus(res, 200, `${registry.name}: GET ${digest}`);
  let bytes = 0;
  const reader = /** @type {ReadableStream<Uint8Array>} */ (res.body).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
  }
  if (bytes !== size) throw new Error(`${registry.name}: GET ${digest} gave ${bytes} of ${size} bytes`);
}

/** Seconds `fn` takes. @param {() => Promise<unknown>} fn */
async function timed(fn) {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

/**
 * @typedef {{ bigPush: number, chunkedPush: number, bigPull: number, smallPush: number, smallPull: number }} RoundTimes
 */

/**
 * One round: each operation on the given blobs, timed on both registries back to back (in the
 * round's order), so that a burst of load elsewhere on the machine hits both sides of a ratio.
 * @param {Target[]} order
 * @param {{ big: Buffer, chunked: Buffer, small: Buffer[] }} content
 * @param {{ chunk: number, concurrency: number }} options
 * @returns {Promise<Record<string, RoundTimes>>}
 */
async function runRound(order, content, options) {
  /** What each registry pushed this round, for its pulls. */
  const pushed = new Map(
    order.map((registry) => [
      registry,
      { digest: '', small: /** @type {Array<{ digest: string, size: number }>} */ ([]) },
    ]),
  );
  /** @type {Array<[keyof RoundTimes, (registry: Target, state: { digest: string, small: Array<{ digest: string, size: number }> }) => Promise<unknown>]>} */
  const steps = [
    ['bigPush', async (registry, state) => (state.digest = await pushMonolithic(registry, content.big))],
    ['chunkedPush', (registry) => pushChunked(registry, content.chunked, options.chunk)],
    ['bigPull', (registry, state) => pull(registry, state.digest, content.big.length)],
    [
      'smallPush',
      (registry, state) =>
        inParallel(content.small, options.concurrency, async (blob) =>
          state.small.push({ digest: await pushMonolithic(registry, blob), size: blob.length }),
        ),
    ],
    [
      'smallPull',
      (registry, state) =>
        inParallel(state.small, options.concurrency, ({ digest, size }) => pull(registry, digest, size)),
    ],
  ];
  /** @type {Record<string, Partial<RoundTimes>>} */
  const times = Object.fromEntries(order.map((registry) => [registry.name, {}]));
  for (const [key, step] of steps) {
    for (const registry of order) {
      const state = /** @type {{ digest: string, small: Array<{ digest: string, size: number }> }} */ (
        pushed.get(registry)
      );
      // Dirty pages another operation left (distribution does not fsync its blobs) are written
      // out first: no operation pays for the writes of the one before it.
      execFileSync('sync');
      times[registry.name][key] = await timed(() => step(registry, state));
    }
  }
  return /** @type {Record<string, RoundTimes>} */ (times);
}

/**
 * @param {string[]} args
 * @returns {Promise<number>} exit code
 */
export async function main(args) {
  const parsed = optionsOrExit('oci', args, SPECS, USAGE);
  if ('code' in parsed) return parsed.code;
  const options =
    /** @type {{ rounds: number, 'big-mb': number, 'chunk-mb': number, small: number, concurrency: number, distribution: string, server: string, 'server-cpu-prof'?: string }} */ (
      /** @type {unknown} */ (parsed.options)
    );
  const server = serverFromOptions('oci', options);
  if (!server) return 1;
  const bigBytes = Math.round(options['big-mb'] * MB);
  const chunk = Math.max(1, Math.round(options['chunk-mb'] * MB));

  return withScope(async (scope) => {
    const work = await scope.tempDir('packyard-bench-oci-');
    const distributionUrl = await startDistribution(options.distribution, await scope.tempDir('oci-dist-'), scope);
    const packyard = await startRegistry(
      {
        bin: server.bin,
        dataDir: path.join(work, 'packyard'),
        logFile: path.join(work, 'packyard.log'),
        env: {
          PACKYARD_STORAGE: 'fs',
          PACKYARD_SUPERADMIN_USERNAME: OPERATOR.username,
          PACKYARD_SUPERADMIN_PASSWORD: OPERATOR.password,
        },
        nodeArgs: server.nodeArgs,
      },
      scope,
    );
    await packyard.waitReady();
    const targets = [
      target('packyard', packyard.url, 'public/bench/blobs', OPERATOR),
      target('distribution', distributionUrl, 'public/bench/blobs'),
    ];
    log(`packyard ${packyard.url} (fs, auth on), distribution ${distributionUrl} (fs, no auth)`);
    log(`warm-up round, then ${options.rounds} timed rounds; order alternates per round`);

    /** @type {Array<{ packyard: RoundTimes, distribution: RoundTimes }>} */
    const rounds = [];
    let smallBytes = 0;
    for (let index = 0; index <= options.rounds; index++) {
      // Fresh bytes every round: no blob is already there in either registry.
      const content = {
        big: randomFillSync(Buffer.allocUnsafe(bigBytes)),
        chunked: randomFillSync(Buffer.allocUnsafe(bigBytes)),
        small: Array.from({ length: options.small }, () => randomFillSync(Buffer.allocUnsafe(randomInt(4096, 65537)))),
      };
      const order = index % 2 === 0 ? targets : [...targets].reverse();
      const times = await runRound(order, content, { chunk, concurrency: options.concurrency });
      const round = { packyard: times['packyard'], distribution: times['distribution'] };
      log(
        `${index === 0 ? 'warm-up' : `round ${index}/${options.rounds}`} (${order[0].name} first): ` +
          Object.keys(round.packyard)
            .map((op) => {
              const key = /** @type {keyof RoundTimes} */ (op);
              return `${op} ${round.packyard[key].toFixed(3)}/${round.distribution[key].toFixed(3)} s`;
            })
            .join(', '),
      );
      if (index > 0) {
        rounds.push(round);
        smallBytes += content.small.reduce((sum, blob) => sum + blob.length, 0);
      }
    }
    await packyard.stop();

    const smallMB = smallBytes / options.rounds / MB;
    /** @type {Array<{ key: keyof RoundTimes, label: string, mb: number, target: number, throughput?: boolean }>} */
    const operations = [
      {
        key: 'bigPush',
        label: `push ${options['big-mb']} MB, monolithic`,
        mb: bigBytes / MB,
        target: PUSH_RATIO_TARGET,
      },
      {
        key: 'chunkedPush',
        label: `push ${options['big-mb']} MB, ${options['chunk-mb']} MB PATCH chunks`,
        mb: bigBytes / MB,
        target: PUSH_RATIO_TARGET,
      },
      { key: 'bigPull', label: `pull ${options['big-mb']} MB`, mb: bigBytes / MB, target: PULL_RATIO_TARGET },
      { key: 'smallPush', label: `push ${options.small} small blobs`, mb: smallMB, target: SMALL_RATIO_TARGET },
      { key: 'smallPull', label: `pull ${options.small} small blobs`, mb: smallMB, target: SMALL_RATIO_TARGET },
    ];
    const results = operations.map((op) => {
      const packyardSeconds = median(rounds.map((r) => r.packyard[op.key]));
      const distributionSeconds = median(rounds.map((r) => r.distribution[op.key]));
      const ratio = median(rounds.map((r) => r.packyard[op.key] / r.distribution[op.key]));
      return { ...op, packyardSeconds, distributionSeconds, ratio, pass: ratio <= op.target };
    });

    console.log(
      `\nOCI blobs, Packyard (fs, auth on) vs CNCF distribution (fs, no auth), ${options.rounds} rounds, medians; ` +
        `ratio = median over rounds of packyard time / distribution time\n`,
    );
    console.log(
      table([
        ['operation', 'packyard (s)', 'distribution (s)', 'packyard MB/s', 'distribution MB/s', 'time ratio'],
        ...results.map((r) => [
          r.label,
          r.packyardSeconds.toFixed(3),
          r.distributionSeconds.toFixed(3),
          (r.mb / r.packyardSeconds).toFixed(1),
          (r.mb / r.distributionSeconds).toFixed(1),
          r.ratio.toFixed(2),
        ]),
      ]),
    );
    console.log();
    console.log(
      table([
        ['check', 'value', 'target', 'result'],
        ...results.map((r) => checkRow(`${r.label}: time ratio`, r.ratio.toFixed(2), `<= ${r.target}`, r.pass)),
      ]),
    );
    const summary = {
      bench: 'oci',
      rounds: options.rounds,
      bigBytes,
      chunkBytes: chunk,
      smallBlobs: options.small,
      concurrency: options.concurrency,
      operations: Object.fromEntries(
        results.map((r) => [
          r.key,
          {
            packyardMedianSeconds: round(r.packyardSeconds),
            distributionMedianSeconds: round(r.distributionSeconds),
            ratio: round(r.ratio),
            ratioTarget: r.target,
            pass: r.pass,
            packyardSeconds: rounds.map((x) => round(x.packyard[r.key])),
            distributionSeconds: rounds.map((x) => round(x.distribution[r.key])),
          },
        ]),
      ),
    };
    console.log(`\nBENCH_RESULT ${JSON.stringify(summary)}`);
    return 0;
  });
}
