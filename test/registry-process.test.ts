/**
 * The `pack-registry` binary run as an operator runs it: several processes sharing one store,
 * crashes in the middle of uploads, storage going away and coming back, graceful shutdown, gc.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildTestPack, tempDir, type TestPack } from '../packages/registry-server/src/test-support/test-registry.js';
import {
  ADMIN_TOKEN,
  AUTH,
  BACKENDS,
  PACK_REGISTRY,
  eventually,
  startRegistryProcess,
  storageEnv,
  storageProxy,
  type RegistryProcess,
} from './registry-process.js';

let work: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  work = await tempDir('packyard-e2e-');
});
afterAll(() => work.cleanup());

async function publish(registry: RegistryProcess, pack: TestPack) {
  const res = await fetch(`${registry.url}/v1/registries/public/packs`, {
    method: 'POST',
    headers: { ...AUTH, 'Content-Type': 'application/zip' },
    body: pack.bytes,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

async function getJson(
  url: string,
  headers: Record<string, string> = AUTH,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function send(
  registry: RegistryProcess,
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = AUTH,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${registry.url}${path}`, {
    method,
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

/** Sends the first `bytes` of an upload and leaves the request open. */
function partialUpload(registry: RegistryProcess, pack: TestPack, bytes: number): Promise<void> {
  return new Promise((resolve) => {
    const req = httpRequest(`${registry.url}/v1/registries/public/packs`, {
      method: 'POST',
      headers: { ...AUTH, 'Content-Type': 'application/zip', 'Content-Length': String(pack.bytes.length) },
    });
    req.on('error', () => undefined);
    req.write(pack.bytes.subarray(0, bytes), () => {
      setTimeout(resolve, 300);
    });
  });
}

const dataDir = (label: string) => path.join(work.dir, `${label}-${randomBytes(3).toString('hex')}`);

describe.each(BACKENDS.filter((b) => b !== 's3rver'))('two pack-registry processes on one store (%s)', (backend) => {
  let a: RegistryProcess;
  let b: RegistryProcess;

  beforeAll(async () => {
    const shared = storageEnv(backend, dataDir('shared'));
    a = await startRegistryProcess({ dataDir: shared['PACKYARD_DATA_DIR'] ?? dataDir('a'), env: shared });
    b = await startRegistryProcess({ dataDir: shared['PACKYARD_DATA_DIR'] ?? dataDir('b'), env: shared });
  });
  afterAll(async () => {
    await a.stop();
    await b.stop();
  });

  it('gives exactly one 201 and 31 conflicts to 32 concurrent publishes of one name@version', async () => {
    const packs = await Promise.all(
      Array.from({ length: 32 }, (_, i) =>
        buildTestPack(work.dir, { name: 'contended', version: '1.0.0', readme: `# contender ${i}\n` }),
      ),
    );
    const results = await Promise.all(packs.map((pack, i) => publish(i % 2 === 0 ? a : b, pack)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(31);
    const winner = results.find((r) => r.status === 201)?.body['digest'];
    for (const registry of [a, b]) {
      const stored = await getJson(`${registry.url}/v1/registries/public/packs/contended/1.0.0`);
      expect(stored.body['digest']).toBe(winner);
    }
  });

  it('shows a version published through one process in the catalog of the other within 2 seconds', async () => {
    const pack = await buildTestPack(work.dir, { name: 'fresh', version: '3.1.4' });
    expect((await publish(a, pack)).status).toBe(201);
    const waited = await eventually(async () => {
      const page = await getJson(`${b.url}/v1/packs?name=fresh`);
      return page.body['total'] === 1;
    }, 2000);
    expect(waited).toBeLessThan(2000);
  });

  it('applies a role change made through one process in the other within 2 seconds', async () => {
    expect((await send(a, 'POST', '/v1/tenants', { name: 'shared-co' })).status).toBe(201);
    const user = { username: 'dev@shared.co', password: 'two processes, one bucket' };
    expect((await send(a, 'POST', '/v1/tenants/shared-co/users', user)).status).toBe(201);
    expect(
      (await send(a, 'POST', '/v1/registries', { name: 'shared-co-packs', scope: 'tenant', tenant: 'shared-co' }))
        .status,
    ).toBe(201);
    // Signed in through b, with a token that a signed: the key is in the shared storage.
    let login = await send(b, 'POST', '/v1/auth/login', user, {});
    for (let tries = 0; login.status === 401 && tries < 40; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      login = await send(b, 'POST', '/v1/auth/login', user, {});
    }
    expect(login.status).toBe(200);
    const dev = { Authorization: `Bearer ${String(login.body['token'])}` };
    // b learns of the new registry through the catalog's change log (404 until then), then refuses.
    await eventually(async () => (await getJson(`${b.url}/v1/registries/shared-co-packs`, dev)).status === 403, 2000);
    expect((await getJson(`${b.url}/v1/registries/shared-co-packs`, dev)).status).toBe(403);

    const bound = await send(a, 'POST', '/v1/tenants/shared-co/bindings', {
      role: 'Tenant Viewer',
      subject: { kind: 'user', name: user.username },
    });
    expect(bound.status).toBe(201);
    const granted = await eventually(
      async () => (await getJson(`${b.url}/v1/registries/shared-co-packs`, dev)).status === 200,
      2000,
    );
    expect(granted).toBeLessThan(2000);

    expect((await send(a, 'DELETE', `/v1/tenants/shared-co/bindings/${String(bound.body['id'])}`, {})).status).toBe(
      204,
    );
    const revoked = await eventually(
      async () => (await getJson(`${b.url}/v1/registries/shared-co-packs`, dev)).status === 403,
      2000,
    );
    expect(revoked).toBeLessThan(2000);
  });
});

describe('pack-registry with server.maxConnections', () => {
  it('closes connections past the cap as they come, and takes new ones once others went', async () => {
    const registry = await startRegistryProcess({
      dataDir: dataDir('capped'),
      env: { ...storageEnv('fs', dataDir('capped-store')), PACKYARD_MAX_CONNECTIONS: '3' },
    });
    const { port } = new URL(registry.url);
    const held: Socket[] = [];
    try {
      // Three connections that send nothing: what thousands of idle clients would do to descriptors.
      for (let i = 0; i < 3; i++) {
        const socket = connect(Number(port), '127.0.0.1');
        socket.on('error', () => undefined);
        await new Promise((resolve) => socket.once('connect', resolve));
        held.push(socket);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      // A plain request (fetch would wait and try again): the server resets it at once.
      const livez = () =>
        new Promise<number>((resolve, reject) => {
          const req = httpRequest(`${registry.url}/livez`, { agent: false }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          req.end();
        });
      await expect(livez()).rejects.toThrow(/ECONNRESET|socket hang up/);
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await livez()).toBe(200);
    } finally {
      for (const socket of held) socket.destroy();
      await registry.stop();
    }
  });
});

describe('pack-registry on a backend that ignores conditional writes (s3rver)', () => {
  it('says at start-up that it serialises writes and supports one process only', async () => {
    const registry = await startRegistryProcess({ dataDir: dataDir('s3rver'), env: storageEnv('s3rver', '') });
    try {
      expect(registry.output()).toContain('does not enforce conditional writes');
      expect(registry.output()).toContain('run only ONE registry process');
    } finally {
      await registry.stop();
    }
  });
});

describe.each(BACKENDS)('pack-registry killed in the middle of uploads (%s)', (backend) => {
  it('shows no partial version after a restart, and leaves no temporary files', async () => {
    const own = dataDir('crash');
    const env = storageEnv(backend, own);
    const pack = await buildTestPack(work.dir, {
      name: 'crashy',
      version: '1.0.0',
      files: { 'data/payload.bin': randomBytes(8 * 1024 * 1024) },
    });
    for (const offset of [1024, Math.floor(pack.bytes.length / 2), pack.bytes.length - 1]) {
      const registry = await startRegistryProcess({ dataDir: own, env });
      await partialUpload(registry, pack, offset);
      await registry.kill();
    }
    // One more, killed right after the whole body went out: it either landed whole or not at all.
    const last = await startRegistryProcess({ dataDir: own, env });
    void publish(last, pack).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await last.kill();

    const restarted = await startRegistryProcess({ dataDir: own, env });
    try {
      expect(await readdir(path.join(own, 'tmp', 'uploads'))).toEqual([]);
      if (backend === 'fs') expect(await readdir(path.join(own, 'store', 'tmp'))).toEqual([]);
      const record = await getJson(`${restarted.url}/v1/registries/public/packs/crashy/1.0.0`);
      if (record.status === 200) {
        const archive = await fetch(`${restarted.url}/v1/registries/public/packs/crashy/1.0.0/archive`, {
          headers: AUTH,
        });
        expect(Buffer.from(await archive.arrayBuffer()).equals(pack.bytes)).toBe(true);
      } else {
        expect(record.status).toBe(404);
      }
      // And the registry takes the upload once it is sent whole.
      expect([200, 201]).toContain((await publish(restarted, pack)).status);
    } finally {
      await restarted.stop();
    }
  });
});

describe('pack-registry when storage becomes unreachable', () => {
  it('answers 503 STORAGE_UNAVAILABLE with Retry-After, fails /readyz, and recovers on its own', async () => {
    const proxy = await storageProxy(inject('s3rverEndpoint'));
    const registry = await startRegistryProcess({
      dataDir: dataDir('outage'),
      env: storageEnv('s3rver', '', proxy.endpoint),
    });
    try {
      const before = await buildTestPack(work.dir, { name: 'outage', version: '1.0.0' });
      expect((await publish(registry, before)).status).toBe(201);

      await proxy.cut();
      const during = await buildTestPack(work.dir, { name: 'outage', version: '1.0.1' });
      const refused = await publish(registry, during);
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ error: { code: 'STORAGE_UNAVAILABLE' } });
      expect(refused.headers.get('retry-after')).toBe('5');
      expect((await fetch(`${registry.url}/readyz`)).status).toBe(503);
      expect((await fetch(`${registry.url}/livez`)).status).toBe(200);

      await proxy.restore();
      await eventually(async () => (await fetch(`${registry.url}/readyz`)).status === 200, 15_000);
      expect((await publish(registry, during)).status).toBe(201);
      const page = await getJson(`${registry.url}/v1/packs?name=outage`);
      expect(page.body['items']).toEqual([expect.objectContaining({ versions: ['1.0.0', '1.0.1'] })]);
    } finally {
      await registry.stop();
      await proxy.close();
    }
  });
});

describe('pack-registry shutdown, gc and logs (fs)', () => {
  it('finishes an upload in flight when asked to stop, then exits 0', async () => {
    const registry = await startRegistryProcess({ dataDir: dataDir('graceful'), env: {} });
    const pack = await buildTestPack(work.dir, {
      name: 'graceful',
      version: '1.0.0',
      files: { 'data/payload.bin': randomBytes(2 * 1024 * 1024) },
    });
    let stopped: Promise<number | null> | undefined;
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${registry.url}/v1/registries/public/packs`, {
        method: 'POST',
        headers: { ...AUTH, 'Content-Type': 'application/zip', 'Content-Length': String(pack.bytes.length) },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body });
        });
      });
      req.on('error', reject);
      req.write(pack.bytes.subarray(0, 1024 * 1024), () => {
        // SIGTERM with half the body sent; the rest follows half a second later.
        stopped = registry.stop();
        setTimeout(() => req.end(pack.bytes.subarray(1024 * 1024)), 500);
      });
    });
    const result = await response;
    expect(result.status).toBe(201);
    expect(await stopped).toBe(0);
    expect(registry.output()).toContain('shutting down');
  });

  it('gc removes the archives no live version points at, and keeps the others', async () => {
    const own = dataDir('gc');
    const registry = await startRegistryProcess({ dataDir: own, env: {} });
    const kept = await buildTestPack(work.dir, { name: 'keep', version: '1.0.0' });
    const dropped = await buildTestPack(work.dir, { name: 'drop', version: '1.0.0' });
    expect((await publish(registry, kept)).status).toBe(201);
    expect((await publish(registry, dropped)).status).toBe(201);
    const removed = await fetch(`${registry.url}/v1/registries/public/packs/drop/1.0.0`, {
      method: 'DELETE',
      headers: AUTH,
    });
    expect(removed.status).toBe(200);
    const gc = (args: string[]) =>
      spawnSync(process.execPath, [PACK_REGISTRY, 'gc', ...args], {
        env: { PATH: process.env['PATH'], PACKYARD_DATA_DIR: own, PACKYARD_ADMIN_TOKEN: ADMIN_TOKEN },
        encoding: 'utf8',
      });
    // gc listens nowhere: its help offers no --port or --host.
    const help = gc(['--help']);
    expect(help.stdout).toContain('--data-dir');
    expect(help.stdout).not.toMatch(/--port|--host/);
    // A second registry on the first one's port fails before it creates anything, and says what to do.
    const port = new URL(registry.url).port;
    const second = dataDir('busy-port');
    const busy = spawnSync(process.execPath, [PACK_REGISTRY, '--port', port], {
      env: { PATH: process.env['PATH'], PACKYARD_DATA_DIR: second },
      encoding: 'utf8',
    });
    expect(busy.status).toBe(1);
    expect(busy.stderr).toContain(`error: port ${port} on 127.0.0.1 is in use by another program`);
    expect(busy.stderr).toContain('hint: pick another port with --port N (or PACKYARD_PORT)');
    await expect(readdir(second)).rejects.toMatchObject({ code: 'ENOENT' });
    const young = gc([]);
    expect(young.status).toBe(0);
    expect(JSON.parse(young.stdout)).toMatchObject({ removed: 0, young: 1, referenced: 1 });
    const report = gc(['--grace-minutes', '0']);
    expect(report.status, report.stderr).toBe(0);
    expect(JSON.parse(report.stdout)).toMatchObject({ blobs: 2, referenced: 1, removed: 1, dryRun: false });
    const archive = await fetch(`${registry.url}/v1/registries/public/packs/keep/1.0.0/archive`);
    expect(Buffer.from(await archive.arrayBuffer()).equals(kept.bytes)).toBe(true);
    await registry.stop();
  });

  it('logs JSON lines with request ids and never a credential; counts requests in /metrics', async () => {
    const registry = await startRegistryProcess({ dataDir: dataDir('logs'), env: {} });
    const res = await fetch(`${registry.url}/v1/packs`, { headers: { ...AUTH, 'X-Request-Id': 'trace-me-123' } });
    expect(res.headers.get('x-request-id')).toBe('trace-me-123');
    await fetch(`${registry.url}/v1/packs`, { headers: { Authorization: 'Bearer not-the-token-but-secret' } });
    expect((await publish(registry, await buildTestPack(work.dir, { name: 'metered' }))).status).toBe(201);
    expect((await fetch(`${registry.url}/metrics`)).status).toBe(401);
    const metrics = await (await fetch(`${registry.url}/metrics`, { headers: AUTH })).text();
    expect(metrics).toMatch(
      /packyard_http_request_duration_seconds_count\{method="GET",route="\/v1\/packs",status="200"\} 1/,
    );
    expect(metrics).toContain('packyard_publishes_total{outcome="created"} 1');
    expect(metrics).toMatch(/packyard_upload_bytes_total \d+/);
    // The generated SuperAdmin password: printed once on stderr, in a 0600 file, never in the log.
    const file = path.join(registry.dataDir, 'superadmin-password');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const superPassword = (await readFile(file, 'utf8')).trim();
    const superLogin = await send(
      registry,
      'POST',
      '/v1/auth/login',
      { username: 'admin', password: superPassword },
      {},
    );
    expect(superLogin.status).toBe(200);
    const superToken = String(superLogin.body['token']);
    expect(
      (await send(registry, 'POST', '/v1/tenants', { name: 'logged' }, { Authorization: `Bearer ${superToken}` }))
        .status,
    ).toBe(201);
    // Once the SuperAdmin changes it, the generated password leaves the data directory.
    const changed = await send(
      registry,
      'POST',
      '/v1/auth/password',
      { currentPassword: superPassword, newPassword: 'the SuperAdmin chose this one' },
      { Authorization: `Bearer ${superToken}` },
    );
    expect(changed.status).toBe(204);
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    const userPassword = 'a password that must never be logged';
    expect(
      (await send(registry, 'POST', '/v1/tenants/logged/users', { username: 'quiet', password: userPassword })).status,
    ).toBe(201);
    const userLogin = await send(registry, 'POST', '/v1/auth/login', { username: 'quiet', password: userPassword }, {});
    const userToken = String(userLogin.body['token']);
    const key = await send(
      registry,
      'POST',
      '/v1/tenants/logged/users/quiet/api-keys',
      { name: 'ci' },
      {
        Authorization: `Bearer ${userToken}`,
      },
    );
    const apiKey = String(key.body['key']);
    expect((await getJson(`${registry.url}/v1/auth/me`, { Authorization: `Bearer ${apiKey}` })).status).toBe(200);
    await registry.stop();
    const output = registry.output();
    expect(output.split(superPassword)).toHaveLength(2);
    expect(output).toContain(`changed the generated password: removed ${file}`);
    const logText = registry
      .logs()
      .map((line) => JSON.stringify(line))
      .join('\n');
    for (const secret of [
      ADMIN_TOKEN,
      'not-the-token-but-secret',
      superPassword,
      userPassword,
      superToken,
      userToken,
      apiKey,
    ]) {
      expect(logText).not.toContain(secret);
    }
    for (const secret of [ADMIN_TOKEN, 'not-the-token-but-secret', userPassword, userToken, apiKey]) {
      expect(output).not.toContain(secret);
    }
    const lines = registry.logs();
    expect(lines.some((line) => (line['req'] as { id?: string } | undefined)?.id === 'trace-me-123')).toBe(true);
  });

  it('refuses to start with a clear message when the configuration is wrong', () => {
    const result = spawnSync(process.execPath, [PACK_REGISTRY, '--port', 'eighty'], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('--port eighty is not a number');
    expect(result.stderr).toContain('hint:');
    const s3 = spawnSync(process.execPath, [PACK_REGISTRY], {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'], PACKYARD_STORAGE: 's3' },
    });
    expect(s3.status).toBe(1);
    expect(s3.stderr).toContain('no bucket is configured');
  });

  it('refuses to start with what to do when the data directory or the host cannot be used', async () => {
    const start = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(process.execPath, [PACK_REGISTRY, ...args], {
        encoding: 'utf8',
        timeout: 30_000,
        env: { PATH: process.env['PATH'], PACKYARD_ADMIN_TOKEN: ADMIN_TOKEN, ...env },
      });
    const file = dataDir('a-file');
    await writeFile(file, 'not a directory\n');
    for (const dir of [file, path.join(file, 'below')]) {
      const result = start(['--port', '0'], { PACKYARD_DATA_DIR: dir });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(`^error: cannot use the data directory ${dir}: a file is (there|on its path)`),
      );
      expect(result.stderr).toContain('hint: set --data-dir (PACKYARD_DATA_DIR) to a directory');
      expect(result.stderr).not.toMatch(/\n {4}at /);
    }
    // Below a link to a volume that is not mounted: node's own mkdir -p would spin for ever.
    const volume = dataDir('unmounted');
    await symlink(path.join(volume, 'missing'), `${volume}-link`);
    const unmounted = start(['--port', '0'], { PACKYARD_DATA_DIR: path.join(`${volume}-link`, 'data') });
    expect(unmounted.status).toBe(1);
    expect(unmounted.stderr).toContain('it cannot be made there (below a symbolic link to nothing, or under /proc)');
    const unknown = start(['--port', '1', '--host', 'no-such-host.invalid'], { PACKYARD_DATA_DIR: dataDir('host') });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('error: cannot listen on no-such-host.invalid: no such address or host name here');
    expect(unknown.stderr).toContain('hint: set --host (PACKYARD_HOST) to an address of this machine');
  });
});
