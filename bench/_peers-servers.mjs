// @ts-check
/**
 * The three registries of the peers bench, behind one interface: Packyard (`pack-registry`, its
 * /v1 API), Verdaccio 6.8.0 (the npm registry API, as `npm publish` and `npm install` use it) and
 * CNCF distribution 2.8.2 (the OCI distribution API, as `docker push` and `docker pull` use it),
 * each a child process on 127.0.0.1, on the filesystem or on S3. Plus installing what is missing:
 * Verdaccio and its S3 plugin into a cache dir outside the repository, Debian's docker-registry,
 * and a Ceph RGW (scripts/ceph-rgw.sh) when nothing answers on the S3 endpoint.
 *
 * A publish sends the same archive bytes to each: Packyard gets the zip as the body (with
 * Content-Digest, as packctl push sends it); Verdaccio gets the JSON document `npm publish` sends,
 * the archive base64-encoded as its attachment; distribution gets the archive as a blob (POST, then
 * PUT ?digest=), a tiny config blob, and an OCI image manifest naming both, tagged with the version.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnDistribution } from './_distribution.mjs';
import { fetchCounting, keepAliveAgent, sendExpecting } from './_peers-http.mjs';
import { ADMIN_TOKEN, freePort, repoRoot, s3Env, startRegistry } from './_registry.mjs';
import { log } from './_util.mjs';

export const VERDACCIO_VERSION = '6.8.0';
/** The S3 store plugin for Verdaccio 5/6 (the legacy storage plugin API 6.x still loads). */
export const VERDACCIO_S3_PLUGIN = 'verdaccio-aws-s3-storage@10.4.0';
export const defaultCacheDir = path.join(os.homedir(), '.cache', 'packyard-bench');

/**
 * @typedef {{ name: string, version: string, size: number, digest: string, file?: string, data?: Buffer }} Pack
 *   an archive: on disk (`file`) or in memory (`data`); `digest` is sha256:<hex> of its bytes
 */

/**
 * @typedef {{
 *   name: 'packyard' | 'verdaccio' | 'distribution',
 *   label: string,
 *   readonly pid: number,
 *   readonly url: string,
 *   headers: Record<string, string>,
 *   prepare(pack: Pack): Promise<unknown>,
 *   publish(pack: Pack, prepared: unknown): Promise<void>,
 *   download(pack: Pack): Promise<number>,
 *   restart(): Promise<number>,
 *   stop(): Promise<void>,
 *   paths: { detail?(pack: Pack): string, version?(pack: Pack): string, search(word: string): string },
 * }} Peer
 *   `download` resolves with seconds; `restart` stops the registry, starts it again on the same
 *   storage and resolves with milliseconds from spawn to its first ready answer
 */

/**
 * @typedef {{ endpoint: string, accessKeyId: string, secretAccessKey: string, bucket: string }} Bucket
 */

const bodyOf = async (/** @type {Pack} */ pack) => pack.data ?? (await readFile(/** @type {string} */ (pack.file)));
/** A body for `send`: the buffer, or the file streamed. */
const bodyRef = (/** @type {Pack} */ pack) => pack.data ?? { file: /** @type {string} */ (pack.file), size: pack.size };

/**
 * A Peer from its fields and its present process (`pid` and `url` change with every restart).
 * @param {Omit<Peer, 'pid' | 'url'>} fields
 * @param {() => { pid: number, url: string }} current
 * @returns {Peer}
 */
const livePeer = (fields, current) =>
  /** @type {Peer} */ (
    Object.defineProperties(fields, {
      pid: { get: () => current().pid, enumerable: true },
      url: { get: () => current().url, enumerable: true },
    })
  );

// --- installing ---------------------------------------------------------------------------------

/**
 * Verdaccio and its S3 plugin in `<cacheDir>/verdaccio-<version>`, installed with npm on first use;
 * resolves with the path of its bin script.
 * @param {string} cacheDir
 */
export async function ensureVerdaccio(cacheDir) {
  const dir = path.join(cacheDir, `verdaccio-${VERDACCIO_VERSION}`);
  const bin = path.join(dir, 'node_modules', 'verdaccio', 'bin', 'verdaccio');
  const [plugin, pluginVersion] = VERDACCIO_S3_PLUGIN.split('@');
  const installed = (/** @type {string} */ name) => {
    try {
      return JSON.parse(readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8')).version;
    } catch {
      return undefined;
    }
  };
  if (installed('verdaccio') === VERDACCIO_VERSION && installed(plugin) === pluginVersion && existsSync(bin)) {
    return bin;
  }
  log(`installing verdaccio@${VERDACCIO_VERSION} and ${VERDACCIO_S3_PLUGIN} into ${dir} (npm) ...`);
  await mkdir(dir, { recursive: true });
  const manifest = {
    name: 'packyard-bench-verdaccio',
    private: true,
    dependencies: { verdaccio: VERDACCIO_VERSION, [plugin]: pluginVersion },
    // verdaccio-audit asks for node-fetch by the dist-tag `cjs`, which not every registry mirror
    // carries: the 2.x line it means.
    overrides: { 'node-fetch': '2.7.0' },
  };
  await writeFile(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  // Not this repository's workspace: npm's own npm_* variables from `npm run bench` stay out.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) =>
        !key.startsWith('npm_') || ['npm_config_registry', 'npm_config_cache', 'npm_config_userconfig'].includes(key),
    ),
  );
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--omit=dev', '--no-package-lock'], {
    cwd: dir,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (installed('verdaccio') !== VERDACCIO_VERSION) throw new Error(`npm did not install verdaccio into ${dir}`);
  return bin;
}

/** Whether something answers HTTP at `url`. */
function answers(/** @type {string} */ url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 3_000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
  });
}

/**
 * The S3 endpoint to use: answering already (a Ceph RGW someone started, kept running), or a Ceph
 * RGW started here with scripts/ceph-rgw.sh, stopped again when the scope ends.
 * @param {string} endpoint
 * @param {import('./_util.mjs').Scope} scope
 * @returns {Promise<'running' | 'started'>}
 */
export async function ensureCeph(endpoint, scope) {
  if (await answers(endpoint)) return 'running';
  if (endpoint !== 'http://127.0.0.1:7480') throw new Error(`nothing answers on ${endpoint}`);
  const script = path.join(repoRoot, 'scripts', 'ceph-rgw.sh');
  log(`starting Ceph RGW (${script} start) ...`);
  execFileSync(script, ['start'], { stdio: ['ignore', 'ignore', 'inherit'] });
  // The cluster's fsid: another session's `ceph-rgw.sh start` in the same dir replaces the cluster
  // (its start stops whatever runs there first); then that one is not ours to stop.
  const fsid = cephFsid();
  scope.defer(async () => {
    if (cephFsid() !== fsid) {
      log('the Ceph RGW this bench started was replaced by another one meanwhile: left running');
      return;
    }
    log('stopping the Ceph RGW this bench started ...');
    execFileSync(script, ['stop'], { stdio: ['ignore', 'ignore', 'inherit'] });
  });
  if (!(await answers(endpoint))) throw new Error(`Ceph RGW did not come up on ${endpoint}`);
  return 'started';
}

/** The fsid in the ceph.conf scripts/ceph-rgw.sh writes (into $CEPH_DIR, default /tmp/ceph). */
function cephFsid() {
  try {
    const conf = readFileSync(path.join(process.env['CEPH_DIR'] ?? '/tmp/ceph', 'ceph.conf'), 'utf8');
    return /^fsid = (\S+)$/m.exec(conf)?.[1];
  } catch {
    return undefined;
  }
}

// --- Packyard -----------------------------------------------------------------------------------

/**
 * @param {{ bin: string, nodeArgs: string[], dir: string, bucket?: Bucket, env?: Record<string, string>, label?: string }} options
 * @param {import('./_util.mjs').Scope} scope
 * @returns {Promise<Peer>}
 */
export async function startPackyard(options, scope) {
  const label = options.label ?? 'packyard';
  await mkdir(options.dir, { recursive: true });
  const env = {
    ...(options.bucket
      ? s3Env(
          {
            kind: 'external',
            endpoint: options.bucket.endpoint,
            accessKeyId: options.bucket.accessKeyId,
            secretAccessKey: options.bucket.secretAccessKey,
            // s3Env reads only the fields above.
            client: /** @type {any} */ (undefined),
          },
          options.bucket.bucket,
        )
      : { PACKYARD_STORAGE: 'fs' }),
    ...options.env,
  };
  let starts = 0;
  const start = () =>
    startRegistry(
      {
        bin: options.bin,
        dataDir: path.join(options.dir, 'data'),
        logFile: path.join(options.dir, `registry-${starts++}.log`),
        env,
        nodeArgs: options.nodeArgs,
      },
      scope,
    );
  let registry = await start();
  await registry.waitReady();
  const agent = keepAliveAgent();
  const headers = { Authorization: `Bearer ${ADMIN_TOKEN}` };
  const packs = `/v1/registries/public/packs`;
  return livePeer(
    {
      name: 'packyard',
      label,
      headers,
      prepare: async () => undefined,
      async publish(pack) {
        await sendExpecting(
          `${label}: publish ${pack.name}@${pack.version}`,
          [201],
          'POST',
          `${registry.url}${packs}`,
          {
            headers: {
              ...headers,
              'Content-Type': 'application/zip',
              'Content-Digest': `sha-256=:${Buffer.from(pack.digest.slice(7), 'hex').toString('base64')}:`,
            },
            body: bodyRef(pack),
            agent,
          },
        );
      },
      download: (pack) =>
        fetchCounting(
          `${label}: download ${pack.name}@${pack.version}`,
          `${registry.url}${packs}/${pack.name}/${pack.version}/archive`,
          pack.size,
          { headers },
        ),
      async restart() {
        await registry.stop();
        agent.destroy();
        registry = await start();
        return registry.waitReady();
      },
      async stop() {
        agent.destroy();
        await registry.stop();
      },
      paths: {
        detail: (pack) => `${packs}/${pack.name}`,
        version: (pack) => `${packs}/${pack.name}/${pack.version}`,
        search: (word) => `/v1/packs?q=${encodeURIComponent(word)}`,
      },
    },
    () => registry,
  );
}

// --- Verdaccio ----------------------------------------------------------------------------------

const VERDACCIO_USER = { name: 'bench', password: `bench-${randomBytes(8).toString('hex')}` };

/**
 * Verdaccio's config: htpasswd users, JWT tokens for the API, no uplinks (nothing leaves the
 * machine), no web UI, every package readable by all and publishable by logged-in users; the fs
 * store in `dir`/storage or the S3 store plugin.
 * @param {string} dir
 * @param {Bucket | undefined} bucket
 */
function verdaccioConfig(dir, bucket) {
  const store = bucket
    ? [
        'store:',
        '  aws-s3-storage:',
        `    bucket: ${bucket.bucket}`,
        '    keyPrefix: verdaccio',
        '    region: us-east-1',
        `    endpoint: ${bucket.endpoint}`,
        '    s3ForcePathStyle: true',
        `    accessKeyId: ${bucket.accessKeyId}`,
        `    secretAccessKey: ${bucket.secretAccessKey}`,
      ]
    : [];
  return [
    `storage: ${path.join(dir, 'storage')}`,
    ...store,
    'auth:',
    '  htpasswd:',
    `    file: ${path.join(dir, 'htpasswd')}`,
    '    max_users: 1000',
    'security:',
    '  api:',
    '    jwt:',
    '      sign:',
    '        expiresIn: 7d',
    '  web:',
    '    sign:',
    '      expiresIn: 1h',
    'uplinks: {}',
    'packages:',
    "  '**':",
    '    access: $all',
    '    publish: $authenticated',
    '    unpublish: $authenticated',
    'web:',
    '  enable: false',
    'max_body_size: 4000mb',
    'log: { type: stdout, format: json, level: error }',
    '',
  ].join('\n');
}

/**
 * @param {{ bin: string, dir: string, bucket?: Bucket }} options
 * @param {import('./_util.mjs').Scope} scope
 * @returns {Promise<Peer>}
 */
export async function startVerdaccio(options, scope) {
  await mkdir(options.dir, { recursive: true });
  const config = path.join(options.dir, 'config.yaml');
  await writeFile(config, verdaccioConfig(options.dir, options.bucket));

  const start = async () => {
    const port = await freePort();
    const out = openSync(path.join(options.dir, 'verdaccio.log'), 'a');
    const spawnedAt = performance.now();
    const child = spawn(process.execPath, [options.bin, '--config', config, '--listen', `127.0.0.1:${port}`], {
      stdio: ['ignore', out, out],
      env: { ...process.env, NODE_ENV: 'production' },
    });
    closeSync(out);
    scope.track(child);
    /** @type {Promise<unknown>} */
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const url = `http://127.0.0.1:${port}`;
    const tail = () =>
      readFileSync(path.join(options.dir, 'verdaccio.log'), 'utf8').trim().split('\n').slice(-10).join('\n');
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`verdaccio exited:\n${tail()}`);
      if (await fetchStatus(`${url}/-/ping`)) break;
      if (performance.now() - spawnedAt > 120_000) throw new Error(`verdaccio not ready after 120 s:\n${tail()}`);
      await sleep(10);
    }
    const readyMs = performance.now() - spawnedAt;
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    };
    return { url, pid: /** @type {number} */ (child.pid), readyMs, stop };
  };

  let server = await start();
  const created = await sendExpecting(
    'verdaccio: create the npm user',
    [201],
    'PUT',
    `${server.url}/-/user/org.couchdb.user:${VERDACCIO_USER.name}`,
    {
      headers: { 'Content-Type': 'application/json' },
      body: Buffer.from(JSON.stringify({ ...VERDACCIO_USER, type: 'user', roles: [], date: new Date().toISOString() })),
    },
  );
  const token = JSON.parse(created.text).token;
  if (typeof token !== 'string' || token.split('.').length !== 3)
    throw new Error('verdaccio: no JWT token for the user');
  const headers = { Authorization: `Bearer ${token}` };
  let agent = keepAliveAgent();
  const tarball = (/** @type {Pack} */ pack) => `/${pack.name}/-/${pack.name}-${pack.version}.tgz`;
  return livePeer(
    {
      name: 'verdaccio',
      label: 'verdaccio',
      headers,
      /** The document `npm publish` sends: the version's metadata and the archive as an attachment. */
      async prepare(pack) {
        const data = await bodyOf(pack);
        const file = `${pack.name}-${pack.version}.tgz`;
        const document = {
          _id: pack.name,
          name: pack.name,
          description: `bench pack ${pack.name}`,
          'dist-tags': { latest: pack.version },
          versions: {
            [pack.version]: {
              name: pack.name,
              version: pack.version,
              description: `bench pack ${pack.name}`,
              _id: `${pack.name}@${pack.version}`,
              dist: {
                shasum: createHash('sha1').update(data).digest('hex'),
                integrity: `sha512-${createHash('sha512').update(data).digest('base64')}`,
                tarball: `http://127.0.0.1${tarball(pack)}`,
              },
            },
          },
          access: null,
          _attachments: {
            [file]: { content_type: 'application/octet-stream', data: data.toString('base64'), length: data.length },
          },
        };
        return Buffer.from(JSON.stringify(document));
      },
      async publish(pack, prepared) {
        await sendExpecting(
          `verdaccio: publish ${pack.name}@${pack.version}`,
          [200, 201],
          'PUT',
          `${server.url}/${pack.name}`,
          {
            headers: { ...headers, 'Content-Type': 'application/json', 'npm-command': 'publish' },
            body: /** @type {Buffer} */ (prepared),
            agent,
          },
        );
      },
      download: (pack) =>
        fetchCounting(`verdaccio: download ${pack.name}@${pack.version}`, `${server.url}${tarball(pack)}`, pack.size, {
          headers,
        }),
      async restart() {
        await server.stop();
        agent.destroy();
        agent = keepAliveAgent();
        server = await start();
        return server.readyMs;
      },
      async stop() {
        agent.destroy();
        await server.stop();
      },
      paths: {
        detail: (pack) => `/${pack.name}`,
        search: (word) => `/-/v1/search?text=${encodeURIComponent(word)}&size=20`,
      },
    },
    () => server,
  );
}

/** Whether a GET answers 200; false when unreachable. */
function fetchStatus(/** @type {string} */ url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 5_000 }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode === 200));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', () => resolve(false));
  });
}

// --- distribution -------------------------------------------------------------------------------

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/**
 * @param {{ bin: string, dir: string, bucket?: Bucket }} options
 * @param {import('./_util.mjs').Scope} scope
 * @returns {Promise<Peer>}
 */
export async function startDistributionPeer(options, scope) {
  await mkdir(options.dir, { recursive: true });
  const start = async () => {
    const server = await spawnDistribution({ bin: options.bin, dir: options.dir, s3: options.bucket }, scope);
    return { server, readyMs: await server.waitReady() };
  };
  let { server } = await start();
  let agent = keepAliveAgent();
  const repository = (/** @type {Pack} */ pack) => `packs/${pack.name}`;

  /** POST, then PUT ?digest= with the whole blob. */
  const pushBlob = async (
    /** @type {Pack} */ pack,
    /** @type {string} */ digest,
    /** @type {Parameters<typeof sendExpecting>[4]['body']} */ body,
  ) => {
    const what = `distribution: push ${pack.name}@${pack.version}`;
    const started = await sendExpecting(what, [202], 'POST', `${server.url}/v2/${repository(pack)}/blobs/uploads/`, {
      agent,
    });
    const location = new URL(/** @type {string} */ (started.headers.location), server.url);
    location.searchParams.set('digest', digest);
    await sendExpecting(what, [201], 'PUT', location.href, {
      headers: { 'Content-Type': 'application/octet-stream' },
      body,
      agent,
    });
  };

  return livePeer(
    {
      name: 'distribution',
      label: 'distribution',
      headers: {},
      /** The config blob and the manifest naming it and the archive. */
      async prepare(pack) {
        const config = Buffer.from(JSON.stringify({ pack: pack.name, version: pack.version }));
        const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
        const manifest = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: OCI_MANIFEST,
            config: {
              mediaType: 'application/vnd.oci.image.config.v1+json',
              digest: configDigest,
              size: config.length,
            },
            layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: pack.digest, size: pack.size }],
          }),
        );
        return { config, configDigest, manifest };
      },
      async publish(pack, prepared) {
        const { config, configDigest, manifest } =
          /** @type {{ config: Buffer, configDigest: string, manifest: Buffer }} */ (prepared);
        await pushBlob(pack, pack.digest, bodyRef(pack));
        await pushBlob(pack, configDigest, config);
        await sendExpecting(
          `distribution: manifest ${pack.name}@${pack.version}`,
          [201],
          'PUT',
          `${server.url}/v2/${repository(pack)}/manifests/${pack.version}`,
          { headers: { 'Content-Type': OCI_MANIFEST }, body: manifest, agent },
        );
      },
      download: (pack) =>
        fetchCounting(
          `distribution: download ${pack.name}@${pack.version}`,
          `${server.url}/v2/${repository(pack)}/blobs/${pack.digest}`,
          pack.size,
        ),
      async restart() {
        await server.stop();
        agent.destroy();
        agent = keepAliveAgent();
        const started = await start();
        server = started.server;
        return started.readyMs;
      },
      async stop() {
        agent.destroy();
        await server.stop();
      },
      paths: { search: () => '/v2/_catalog' },
    },
    () => server,
  );
}
