// @ts-check
/**
 * Benchmark: identity, the audit log and the catalog at the size of a big deployment (issue 17's
 * targets). One tenant is seeded in the registry's own storage format (a tenant document, as a
 * snapshot or a whole document of an earlier release holds it) with --users users and --keys API
 * keys, and its audit log with --audit-entries entries; then two `pack-registry` processes share
 * that storage (fs data directory, or a bucket with --s3-endpoint) and this process measures,
 * against the first:
 *
 * - user create and API key create, one at a time: p50 and p99 (target p50 < 30 ms);
 * - user creates from --writers clients at once: writes/s (target >= 100/s), with the server's
 *   CPU per write and how busy the machine was;
 * - --burst concurrent user creates: how many answered 5xx (target 0; a 503 IDENTITY_BUSY is
 *   counted apart, as it says when to retry);
 * - the audit log's newest page and the page after it (target p50 < 50 ms), a page 20 days back,
 *   and the first read of those pages by the other process;
 * - authentication and authorization of an API key (GET /v1/auth/me): p50 (target < 2 ms);
 * - how long after a create answered the second process shows the user (target < 1 s);
 * - the second process's CPU while nothing happens (its polls), over --idle-seconds.
 *
 * Then, on fs, the catalog phase (--versions, --tenants): see catalogPhase below.
 *
 * Every figure is the registry's: the load generator is this process. `--server PATH` runs
 * another build (an earlier commit's bundle, for before-and-after figures).
 *
 *   node bench/run.mjs scale [--users N] [--keys N] [--audit-entries N] [--versions N] [--tenants N]
 *                            [--samples N] [--writers N] [--burst N] [--idle-seconds N]
 *                            [--server PATH] [--s3-endpoint URL ...]
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, createStore, resolveConfig } from '@packyard/registry-server';
import { seedSnapshot } from './_catalog-data.mjs';
import { buildVersion } from './_packs.mjs';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { cpuSeconds, loadAverage, rgwRequests, storageDaemonCpuSeconds, vmRssKB } from './_proc.mjs';
import {
  ADMIN_TOKEN,
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
import { checkRow, log, optionsOrExit, round, table, withScope } from './_util.mjs';

export const description =
  'Scale: 20,000 users and keys in a tenant, a million audit entries, 300,000 versions and 3,000 tenants';

const USAGE = `Usage: node bench/run.mjs scale [options]

  --users N            users seeded in the tenant (default 20000)
  --keys N             API keys seeded, spread over the users (default 20000)
  --samples N          sequential creates timed, of users and of keys each (default 200)
  --writers N          clients creating users at once for the throughput row (default 8)
  --burst N            concurrent creates for the no-5xx row (default 32)
  --idle-seconds N     how long the second process's idle CPU is measured (default 10)
  --audit-entries N    audit entries seeded in the tenant's log over the last 30 days (default
                       1000000 on fs, 100000 on S3: a million PUTs take Ceph a quarter of an hour)
  --ungrouped-audit    seed them as releases before the grouped layout wrote them (for --server
                       builds of those releases)
  --versions N         the catalog phase (fs only): a catalog snapshot of N versions (10 per pack)
                       and --tenants N tenants of 5 users each; 0 skips it (default 300000)
  --tenants N          (default 3000)
${SERVER_USAGE}
${S3_USAGE}`;

/** @type {Record<string, import('./_util.mjs').OptionSpec>} */
const OPTIONS = {
  users: { kind: 'integer', default: 20000 },
  keys: { kind: 'integer', default: 20000 },
  samples: { kind: 'integer', default: 200 },
  writers: { kind: 'integer', default: 8 },
  burst: { kind: 'integer', default: 32 },
  'idle-seconds': { kind: 'number', default: 10 },
  'audit-entries': { kind: 'integer', min: 0 },
  'ungrouped-audit': { kind: 'flag' },
  versions: { kind: 'integer', min: 0, default: 300000 },
  tenants: { kind: 'integer', min: 0, default: 3000 },
  ...SERVER_OPTIONS,
  ...S3_OPTIONS,
};

const TENANT = 'scale';
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/**
 * One JSON request; resolves with the status and parsed body.
 * @param {string} base @param {string} method @param {string} route
 * @param {{ body?: unknown, token?: string }} [options]
 * @returns {Promise<{ status: number, body: any, ms: number }>}
 */
function call(base, method, route, options = {}) {
  const began = performance.now();
  const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL(route, base),
      {
        method,
        agent,
        headers: {
          Authorization: `Bearer ${options.token ?? ADMIN_TOKEN}`,
          ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}),
        },
      },
      (res) => {
        const chunks = /** @type {Buffer[]} */ ([]);
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body = null;
          try {
            body = text ? JSON.parse(text) : null;
          } catch {
            body = text;
          }
          resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - began });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * The machine's CPU time so far (/proc/stat), to tell how busy it was between two readings.
 * @returns {{ busy: number, total: number, busyShare(before: { busy: number, total: number }): number }}
 */
function machineCpu() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  const busy = total - idle;
  return { busy, total, busyShare: (before) => (busy - before.busy) / Math.max(1, total - before.total) };
}

/**
 * Writes `count` audit entries of the tenant's stream, spread over the last 30 days, as the
 * registry stores them: on fs straight into the store's files (a million fsyncs would take the
 * better part of an hour, and an entry is durable either way once the bench starts the servers),
 * on S3 with PutObject, 64 at once.
 * @param {import('@packyard/registry-server').ObjectStore} store
 * @param {any} storage the resolved storage settings
 * @param {string} tenantId @param {number} count @param {boolean} ungrouped
 */
async function seedAudit(store, storage, tenantId, count, ungrouped) {
  const span = 30 * 86_400_000;
  const now = Date.now();
  const stream = `audit/tenants/${tenantId}/`;
  const made = new Set();
  let next = 0;
  const one = async () => {
    while (next < count) {
      const i = next++;
      const at = now - 60_000 - Math.floor((i / count) * span);
      const id = `${String(9_999_999_999_999 - at).padStart(13, '0')}-${randomBytes(6).toString('hex')}`;
      const key = ungrouped ? `${stream}${id}.json` : `${stream}${id.slice(0, 5)}/${id.slice(5, 8)}/${id}.json`;
      const body = JSON.stringify({
        id,
        at: new Date(at).toISOString(),
        actor: { kind: 'user', name: `seed-user-${i % 100}`, tenant: TENANT },
        client: '192.0.2.1',
        method: 'POST',
        path: `/v1/tenants/${TENANT}/teams`,
        scope: { scope: 'tenant', tenant: TENANT },
        status: 201,
        outcome: 'success',
        requestId: randomBytes(8).toString('hex'),
      });
      if (storage.driver === 'fs') {
        const file = path.join(storage.fs.root, 'objects', key);
        const dir = path.dirname(file);
        if (!made.has(dir)) {
          await mkdir(dir, { recursive: true });
          made.add(dir);
        }
        await writeFile(file, body);
      } else {
        await store.put(key, body, { contentType: 'application/json' });
      }
      if (i > 0 && i % 100_000 === 0) log(`  ${i} ...`);
    }
  };
  await Promise.all(Array.from({ length: storage.driver === 'fs' ? 8 : 64 }, one));
}

/** @param {number[]} values @param {number} q */
function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

const id = (/** @type {string} */ prefix) => `${prefix}_${randomBytes(12).toString('hex')}`;

/**
 * The tenant's document as the registry stores it, with `users` users and `keys` keys.
 * @param {{ id: string, name: string, displayName: string, createdAt: string }} tenant
 * @param {number} users @param {number} keys
 */
function tenantDocument(tenant, users, keys) {
  const createdAt = new Date().toISOString();
  const userRecords = Array.from({ length: users }, (_, i) => ({
    id: id('us'),
    username: `seed-user-${i}`,
    displayName: `Seeded user ${i}`,
    passwordHash: null,
    passwordGeneration: 0,
    disabled: false,
    createdAt,
    createdBy: 'bench',
  }));
  const keyRecords = Array.from({ length: keys }, (_, i) => {
    const user = userRecords[i % users];
    return {
      id: randomBytes(8).toString('hex'),
      userId: user.id,
      username: user.username,
      name: `seed-key-${i}`,
      secretSha256: createHash('sha256').update(randomBytes(16)).digest('hex'),
      createdAt,
      expiresAt: null,
      revokedAt: null,
    };
  });
  return {
    tenant,
    projects: [],
    users: userRecords,
    teams: [],
    roles: [],
    bindings: [
      {
        id: randomBytes(6).toString('hex'),
        role: 'Tenant Admin',
        subject: { kind: 'user', name: userRecords[0]?.username ?? 'nobody' },
        project: null,
        createdAt,
        createdBy: 'bench',
      },
    ],
    apiKeys: keyRecords,
    revision: 1,
  };
}

/** @param {string[]} args */
export async function main(args) {
  const parsed = optionsOrExit('scale', args, OPTIONS, USAGE);
  if (!parsed.options) return parsed.code;
  const { options } = parsed;
  const server = serverFromOptions('scale', /** @type {any} */ (options));
  if (!server) return 1;
  const users = /** @type {number} */ (options['users']);
  const keys = /** @type {number} */ (options['keys']);
  const samples = /** @type {number} */ (options['samples']);
  const writers = /** @type {number} */ (options['writers']);
  const burst = /** @type {number} */ (options['burst']);
  const idleSeconds = /** @type {number} */ (options['idle-seconds']);

  return withScope(async (scope) => {
    const dataDir = await scope.tempDir('packyard-scale-');
    /** @type {Record<string, string>} */
    let env = {};
    let storage = resolveConfig({ dataDir }).storage;
    /** @type {{ s3: import('./_registry.mjs').S3Backend, bucket: string } | null} */
    let bucketUsed = null;
    if (options['s3-endpoint']) {
      const s3 = await startS3(/** @type {any} */ (options), scope);
      const bucket = await freshBucket(s3, scope);
      bucketUsed = { s3, bucket };
      env = s3Env(s3, bucket);
      storage = resolveConfig({
        dataDir,
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
    }
    log(`seeding ${users} users and ${keys} API keys in tenant ${TENANT} ...`);
    const store = await createStore(storage, { logger: createLogger('warn') });
    const tenant = { id: id('tn'), name: TENANT, displayName: TENANT, createdAt: new Date().toISOString() };
    const document = tenantDocument(tenant, users, keys);
    await store.put('identity/system.json', JSON.stringify({ tenants: [tenant], operators: [], revision: 1 }));
    await store.put(`identity/tenants/${tenant.id}.json`, JSON.stringify(document));
    const auditEntries =
      /** @type {number | undefined} */ (options['audit-entries']) ?? (options['s3-endpoint'] ? 100_000 : 1_000_000);
    log(`seeding ${auditEntries} audit entries in tenant ${TENANT}'s log ...`);
    await seedAudit(store, storage, tenant.id, auditEntries, options['ungrouped-audit'] === true);
    await store.close();
    const documentBytes = Buffer.byteLength(JSON.stringify(document));

    const common = { bin: server.bin, nodeArgs: server.nodeArgs, reportRss: false };
    const first = await startRegistry(
      { ...common, dataDir, logFile: path.join(dataDir, 'first.log'), env: { ...env, PACKYARD_LOG_LEVEL: 'warn' } },
      scope,
    );
    await first.waitReady(120_000);
    // The second process: a data directory of its own, the first one's storage.
    const secondDir = await scope.tempDir('packyard-scale-second-');
    const secondConfig = path.join(secondDir, 'registry.yaml');
    await writeFile(secondConfig, JSON.stringify({ storage: { driver: 'fs', fs: { root: storage.fs.root } } }));
    const second = await startRegistry(
      {
        ...common,
        dataDir: secondDir,
        logFile: path.join(dataDir, 'second.log'),
        env: {
          ...env,
          PACKYARD_LOG_LEVEL: 'warn',
          ...(options['s3-endpoint'] ? {} : { PACKYARD_CONFIG: secondConfig }),
        },
      },
      scope,
    );
    await second.waitReady(120_000);
    const base = first.url;
    let serial = 0;
    const newUser = () =>
      call(base, 'POST', `/v1/tenants/${TENANT}/users`, { body: { username: `bench-${serial++}` } });

    // Warm-up: connections, code paths.
    for (let i = 0; i < 20; i++) await newUser();

    log('sequential creates ...');
    const userMs = [];
    for (let i = 0; i < samples; i++) {
      const res = await newUser();
      if (res.status !== 201) throw new Error(`user create answered ${res.status}: ${JSON.stringify(res.body)}`);
      userMs.push(res.ms);
    }
    const keyMs = [];
    for (let i = 0; i < samples; i++) {
      const res = await call(base, 'POST', `/v1/tenants/${TENANT}/users/seed-user-${i % users}/api-keys`, {
        body: { name: `bench-key-${i}` },
      });
      if (res.status !== 201) throw new Error(`key create answered ${res.status}: ${JSON.stringify(res.body)}`);
      keyMs.push(res.ms);
    }

    log(`${writers} writers ...`);
    const perWriter = Math.max(10, Math.ceil(samples / writers) * 2);
    const serverCpuBefore = cpuSeconds(first.pid);
    const secondCpuBefore = cpuSeconds(second.pid);
    const storageCpuBefore = storageDaemonCpuSeconds();
    const rgwBefore = bucketUsed ? rgwRequests() : undefined;
    const benchCpuBefore = process.cpuUsage();
    const machineBefore = machineCpu();
    const began = performance.now();
    const statuses = await Promise.all(
      Array.from({ length: writers }, async () => {
        const seen = [];
        for (let i = 0; i < perWriter; i++) seen.push((await newUser()).status);
        return seen;
      }),
    );
    const writesPerSecond = (writers * perWriter) / ((performance.now() - began) / 1000);
    const writes = writers * perWriter;
    const serverCpuPerWrite = ((cpuSeconds(first.pid) - serverCpuBefore) * 1000) / writes;
    const machineBusy = machineCpu().busyShare(machineBefore);
    // Where the machine's CPU went, per write: the two registries, the S3 server's daemons (Ceph),
    // and this load generator. Their sum bounds what 2 cores can do: 2,000 ms / (sum) writes/s.
    const benchCpu = process.cpuUsage(benchCpuBefore);
    const cpuPerWrite = {
      second: ((cpuSeconds(second.pid) - secondCpuBefore) * 1000) / writes,
      storage: ((storageDaemonCpuSeconds() - storageCpuBefore) * 1000) / writes,
      bench: (benchCpu.user + benchCpu.system) / 1000 / writes,
    };
    const rgwAfter = rgwBefore === undefined ? undefined : rgwRequests();
    const s3PerWrite = rgwBefore === undefined || rgwAfter === undefined ? undefined : (rgwAfter - rgwBefore) / writes;
    const cpuSum = serverCpuPerWrite + cpuPerWrite.second + cpuPerWrite.storage + cpuPerWrite.bench;
    const writerFailures = statuses.flat().filter((s) => s !== 201).length;

    log(`${burst} at once ...`);
    const burstStatuses = (await Promise.all(Array.from({ length: burst }, () => newUser()))).map((r) => r.status);
    const burst5xx = burstStatuses.filter((s) => s >= 500 && s !== 503).length;
    const burst503 = burstStatuses.filter((s) => s === 503).length;

    log('authentication ...');
    await call(base, 'POST', `/v1/tenants/${TENANT}/users`, { body: { username: 'bench-auth' } });
    const key = (await call(base, 'POST', `/v1/tenants/${TENANT}/users/bench-auth/api-keys`, { body: { name: 'a' } }))
      .body.key;
    const authMs = [];
    for (let i = 0; i < 50; i++) await call(base, 'GET', '/v1/auth/me', { token: key });
    for (let i = 0; i < samples * 2; i++) {
      const res = await call(base, 'GET', '/v1/auth/me', { token: key });
      if (res.status !== 200) throw new Error(`GET /v1/auth/me answered ${res.status}`);
      authMs.push(res.ms);
    }

    log('audit pages ...');
    const newestMs = [];
    const nextMs = [];
    for (let i = 0; i < 40; i++) {
      const newest = await call(base, 'GET', `/v1/tenants/${TENANT}/audit?limit=100`);
      if (newest.status !== 200 || newest.body.items.length !== 100) throw new Error(`audit page: ${newest.status}`);
      const cursor = newest.body.items[50 + (i % 40)].id;
      const next = await call(base, 'GET', `/v1/tenants/${TENANT}/audit?limit=100&cursor=${cursor}`);
      if (next.status !== 200 || next.body.items.length !== 100) throw new Error(`next audit page: ${next.status}`);
      if (i >= 5) {
        newestMs.push(newest.ms);
        nextMs.push(next.ms);
      }
    }
    // A page deep in the log: after an entry of 20 days ago.
    const deepCursor = `${String(9_999_999_999_999 - (Date.now() - 20 * 86_400_000)).padStart(13, '0')}-000000000000`;
    const deepMs = [];
    for (let i = 0; i < 20; i++) {
      const deep = await call(base, 'GET', `/v1/tenants/${TENANT}/audit?limit=100&cursor=${deepCursor}`);
      if (deep.status !== 200) throw new Error(`deep audit page: ${deep.status}`);
      deepMs.push(deep.ms);
    }

    // The store's own floor for a page: one bare listing of a page of the stream's keys, the one
    // request a page that holds its entries makes (S3 only: on fs a listing is the registry's own
    // code). On a Ceph RGW with Nagle on (its default) it includes ~40 ms of the client's delayed
    // ACK: see docs/registry.md, "Ceph RGW: turn Nagle's algorithm off".
    const floorMs = [];
    if (bucketUsed) {
      for (let i = 0; i < 25; i++) {
        const began = performance.now();
        await bucketUsed.s3.client.send(
          new ListObjectsV2Command({ Bucket: bucketUsed.bucket, Prefix: `audit/tenants/${tenant.id}/`, MaxKeys: 101 }),
        );
        if (i >= 5) floorMs.push(performance.now() - began);
      }
    }

    // The same pages read once by the other process, which holds none of the entries in memory.
    const coldNewest = await call(second.url, 'GET', `/v1/tenants/${TENANT}/audit?limit=100`);
    const coldDeep = await call(second.url, 'GET', `/v1/tenants/${TENANT}/audit?limit=100&cursor=${deepCursor}`);
    if (coldNewest.status !== 200 || coldDeep.status !== 200) throw new Error('audit pages on the second process');

    log('replica lag ...');
    const lagMs = [];
    for (let i = 0; i < 20; i++) {
      const name = `lag-${i}`;
      const created = await call(base, 'POST', `/v1/tenants/${TENANT}/users`, { body: { username: name } });
      if (created.status !== 201) throw new Error(`user create answered ${created.status}`);
      const answered = performance.now();
      for (;;) {
        const seen = await call(second.url, 'GET', `/v1/tenants/${TENANT}/users/${name}`);
        if (seen.status === 200) break;
        if (performance.now() - answered > 30_000) throw new Error('the second process never saw the user');
        await sleep(5);
      }
      lagMs.push(performance.now() - answered);
    }

    log(`idle CPU of the second process over ${idleSeconds} s ...`);
    await sleep(1000);
    const cpuBefore = cpuSeconds(second.pid);
    await sleep(idleSeconds * 1000);
    const idleCpu = (cpuSeconds(second.pid) - cpuBefore) / idleSeconds;

    await second.stop();
    await first.stop();

    const p50 = (/** @type {number[]} */ v) => round(quantile(v, 0.5), 2);
    const p99 = (/** @type {number[]} */ v) => round(quantile(v, 0.99), 2);
    console.log(
      `\nscale: ${users} users, ${keys} API keys in one tenant (document ${round(documentBytes / 1024 / 1024, 1)} MB), ` +
        `${options['s3-endpoint'] ? `S3 ${options['s3-endpoint']}` : 'fs'}, server ${server.bin}, load ${loadAverage()}\n`,
    );
    console.log(
      table([
        ['check', 'value', 'target', 'result'],
        checkRow('user create p50 / p99', `${p50(userMs)} / ${p99(userMs)} ms`, 'p50 < 30 ms', p50(userMs) < 30),
        checkRow('API key create p50 / p99', `${p50(keyMs)} / ${p99(keyMs)} ms`, 'p50 < 30 ms', p50(keyMs) < 30),
        checkRow(
          `${writers} writers`,
          `${round(writesPerSecond, 1)} writes/s (${writerFailures} not 201)`,
          '>= 100/s',
          writesPerSecond >= 100 && writerFailures === 0,
        ),
        checkRow(
          `  while ${writers} write`,
          `server CPU ${round(serverCpuPerWrite, 2)} ms/write, machine ${round(machineBusy * 100, 0)} % busy`,
          '(report)',
          true,
        ),
        checkRow(
          '  CPU per write, all processes',
          `server ${round(serverCpuPerWrite, 2)} + other process ${round(cpuPerWrite.second, 2)}` +
            (bucketUsed ? ` + S3 server ${round(cpuPerWrite.storage, 2)}` : '') +
            ` + load generator ${round(cpuPerWrite.bench, 2)} = ${round(cpuSum, 2)} ms: ` +
            `2 cores bound ${round(2000 / cpuSum, 0)} writes/s` +
            (s3PerWrite === undefined ? '' : `; ${round(s3PerWrite, 2)} S3 requests per write (RGW's count)`),
          '(report)',
          true,
        ),
        checkRow(`${burst} at once`, `${burst5xx} 5xx, ${burst503} 503`, 'no 5xx but 503', burst5xx === 0),
        checkRow(
          `audit newest page (100 of ${auditEntries})`,
          `p50 ${p50(newestMs)} ms, p99 ${p99(newestMs)}`,
          'p50 < 50 ms',
          p50(newestMs) < 50,
        ),
        checkRow('audit next page', `p50 ${p50(nextMs)} ms, p99 ${p99(nextMs)}`, 'p50 < 50 ms', p50(nextMs) < 50),
        checkRow('audit page 20 days back', `p50 ${p50(deepMs)} ms`, '(report)', true),
        ...(bucketUsed
          ? [
              checkRow(
                '  floor: a bare S3 listing of a page',
                `p50 ${p50(floorMs)} ms (ListObjectsV2 of 101 keys, from this process)`,
                '(report)',
                true,
              ),
            ]
          : []),
        checkRow(
          '  first read, other process',
          `newest ${round(coldNewest.ms, 1)} ms, 20 days back ${round(coldDeep.ms, 1)} ms`,
          '(report)',
          true,
        ),
        checkRow('API key auth p50 / p99', `${p50(authMs)} / ${p99(authMs)} ms`, 'p50 < 2 ms', p50(authMs) < 2),
        checkRow(
          'second process sees a create',
          `p50 ${p50(lagMs)} ms, max ${round(Math.max(...lagMs), 1)}`,
          '< 1 s',
          Math.max(...lagMs) < 1000,
        ),
        checkRow('second process idle CPU', `${round(idleCpu * 100, 2)} %`, '(report)', true),
      ]),
    );
    const versions = /** @type {number} */ (options['versions']);
    if (versions > 0 && !options['s3-endpoint']) {
      await catalogPhase(scope, server, versions, /** @type {number} */ (options['tenants']), idleSeconds);
    }
    agent.destroy();
    return 0;
  });
}

/**
 * The catalog at size: a registry on a catalog snapshot of `versions` versions and `tenants`
 * tenants; its resident memory against the same registry on an empty store, its start, its CPU
 * while idle, and how soon a query shows a version just published.
 * @param {import('./_util.mjs').Scope} scope
 * @param {{ bin: string, nodeArgs: string[] }} server
 * @param {number} versions @param {number} tenants @param {number} idleSeconds
 */
async function catalogPhase(scope, server, versions, tenants, idleSeconds) {
  const dataDir = await scope.tempDir('packyard-scale-catalog-');
  log(`seeding a catalog of ${versions} versions and ${tenants} tenants ...`);
  await seedSnapshot(dataDir, { packs: Math.ceil(versions / 10), versions: 10 });
  const store = await createStore(resolveConfig({ dataDir }).storage, { logger: createLogger('warn') });
  const refs = Array.from({ length: tenants }, (_, i) => ({
    id: id('tn'),
    name: `tenant-${i}`,
    displayName: `Tenant ${i}`,
    createdAt: new Date().toISOString(),
  }));
  await store.put('identity/system.json', JSON.stringify({ tenants: refs, operators: [], revision: 1 }));
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < refs.length) {
        const ref = refs[next++];
        await store.put(`identity/tenants/${ref.id}.json`, JSON.stringify(tenantDocument(ref, 5, 5)));
      }
    }),
  );
  await store.close();

  const run = (/** @type {string} */ label, /** @type {string} */ dir) =>
    startRegistry(
      { bin: server.bin, nodeArgs: server.nodeArgs, dataDir: dir, logFile: path.join(dir, `${label}.log`), env: {} },
      scope,
    );
  log('an empty registry, for its resident memory ...');
  const emptyDir = await scope.tempDir('packyard-scale-empty-');
  const empty = await run('empty', emptyDir);
  await empty.waitReady();
  await sleep(3000);
  const emptyRssKB = vmRssKB(empty.pid) ?? 0;
  await empty.stop();

  log('the registry on the seeded catalog ...');
  const full = await run('full', dataDir);
  const readyMs = await full.waitReady(600_000);
  // The post-start reconcile and the first polls settle.
  await sleep(5000);
  const rssKB = vmRssKB(full.pid) ?? 0;
  const cpuBefore = cpuSeconds(full.pid);
  await sleep(idleSeconds * 1000);
  const idleCpu = (cpuSeconds(full.pid) - cpuBefore) / idleSeconds;

  log('queries right after a publish ...');
  const packDir = await scope.tempDir('packyard-scale-pack-');
  const outDir = await scope.tempDir('packyard-scale-out-');
  const afterPublishMs = [];
  for (let i = 0; i < 21; i++) {
    const archive = await buildVersion(packDir, outDir, { name: 'scale-probe', version: `1.0.${i}` });
    const published = await publishFile(full.url, archive.path, { digest: archive.digest });
    if (published.status !== 201)
      throw new Error(`publish answered ${published.status}: ${JSON.stringify(published.body)}`);
    const query = await call(full.url, 'GET', '/v1/packs?q=scale-probe&limit=50');
    if (query.status !== 200 || query.body.items[0]?.latest !== `1.0.${i}`) {
      throw new Error(
        `the query after publishing 1.0.${i} answered ${query.status}: ${JSON.stringify(query.body).slice(0, 200)}`,
      );
    }
    if (i > 0) afterPublishMs.push(query.ms);
  }
  await full.stop();

  const perVersion = ((rssKB - emptyRssKB) * 1024) / versions;
  console.log(`
scale, catalog: ${versions} versions, ${tenants} tenants, fs, load ${loadAverage()}
`);
  console.log(
    table([
      ['check', 'value', 'target', 'result'],
      checkRow(
        'resident memory',
        `${round(rssKB / 1024, 0)} MB (empty store ${round(emptyRssKB / 1024, 0)} MB): ${round(perVersion, 0)} B/version`,
        '< 400 MB, <= 1 KB/version',
        rssKB < 400 * 1024 && perVersion <= 1024,
      ),
      checkRow('start to ready', `${round(readyMs / 1000, 2)} s`, '(report)', true),
      checkRow('idle CPU', `${round(idleCpu * 100, 2)} %`, '< 2 %', idleCpu < 0.02),
      checkRow(
        'query right after a publish',
        `p50 ${round(quantile(afterPublishMs, 0.5), 2)} ms, max ${round(Math.max(...afterPublishMs), 2)} of 20`,
        'p99 < 20 ms',
        Math.max(...afterPublishMs) < 20,
      ),
    ]),
  );
}
