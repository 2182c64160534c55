/**
 * Helpers for end-to-end tests of the `pack-registry` binary: spawn it as an operator would, with
 * PACKYARD_* variables, read its JSON log lines, stop it gracefully or kill it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { inject } from 'vitest';
import { REPO } from './helpers.js';

export const PACK_REGISTRY = path.join(REPO, 'packages/registry-server/bundle/bin.js');
export const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef';
export const AUTH = { Authorization: `Bearer ${ADMIN_TOKEN}` };

export type Backend = 'fs' | 's3rver' | 'ceph';
export const BACKENDS: Backend[] = process.env['S3_TEST_ENDPOINT'] ? ['fs', 's3rver', 'ceph'] : ['fs', 's3rver'];

/** Environment for a backend: a shared fs root, or a fresh bucket on s3rver or Ceph. */
export function storageEnv(backend: Backend, dir: string, endpoint?: string): Record<string, string> {
  if (backend === 'fs') return { PACKYARD_STORAGE: 'fs', PACKYARD_DATA_DIR: dir };
  const ceph = backend === 'ceph';
  return {
    PACKYARD_STORAGE: 's3',
    PACKYARD_S3_ENDPOINT: endpoint ?? (ceph ? (process.env['S3_TEST_ENDPOINT'] ?? '') : inject('s3rverEndpoint')),
    PACKYARD_S3_BUCKET: `packyard-e2e-${randomBytes(5).toString('hex')}`,
    PACKYARD_S3_FORCE_PATH_STYLE: 'true',
    PACKYARD_S3_CREATE_BUCKET: 'true',
    AWS_ACCESS_KEY_ID: ceph ? (process.env['S3_TEST_ACCESS_KEY'] ?? 'AKTEST') : 'S3RVER',
    AWS_SECRET_ACCESS_KEY: ceph ? (process.env['S3_TEST_SECRET_KEY'] ?? 'SKTEST') : 'S3RVER',
  };
}

export interface RegistryProcess {
  url: string;
  dataDir: string;
  child: ChildProcess;
  /** Every line the process wrote to stdout and stderr so far. */
  output(): string;
  logs(): Array<Record<string, unknown>>;
  /** SIGTERM, then resolves with the exit code. */
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

/**
 * Starts `pack-registry --port 0` and resolves once it logs the URL it listens on. `dataDir` is
 * the process's own data directory (uploads in flight, the admin token file).
 */
export async function startRegistryProcess(options: {
  dataDir: string;
  env: Record<string, string>;
  args?: string[];
}): Promise<RegistryProcess> {
  const child = spawn(process.execPath, [PACK_REGISTRY, '--port', '0', ...(options.args ?? [])], {
    env: {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      PACKYARD_DATA_DIR: options.dataDir,
      PACKYARD_ADMIN_TOKEN: ADMIN_TOKEN,
      // Cheap password hashes: the tests sign users in by the dozen (production uses 17).
      PACKYARD_PASSWORD_HASH_COST: '12',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      resolve(code);
    });
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`pack-registry did not start within 30 s:\n${output}`));
    }, 30_000);
    const check = () => {
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`pack-registry exited with ${code} before listening:\n${output}`));
    });
  });
  const logs = () =>
    output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    url,
    dataDir: options.dataDir,
    child,
    output: () => output,
    logs,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * A loopback TCP proxy in front of a storage endpoint, which a test can cut (every connection
 * dropped, new ones refused) and restore: storage becoming unreachable and coming back.
 */
export async function storageProxy(target: string): Promise<{
  endpoint: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let listenPort = 0;
  const listen = async () => {
    const next = createServer((client) => {
      const upstream = connect(Number(port), hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => next.listen(listenPort, '127.0.0.1', resolve));
    const address = next.address();
    if (address !== null && typeof address === 'object') listenPort = address.port;
    server = next;
  };
  const cut = async () => {
    const current = server;
    server = null;
    for (const socket of sockets) socket.destroy();
    if (current) await new Promise((resolve) => current.close(resolve));
  };
  await listen();
  return { endpoint: `http://127.0.0.1:${listenPort}`, cut, restore: listen, close: cut };
}

/** Polls `check` every 50 ms until it returns true; resolves with the time it took. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
