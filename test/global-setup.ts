/**
 * Started once for the whole test run: an s3rver (fake S3) on a free loopback port, with its data
 * in a temporary directory, and a `pack-registry` process on S3 over it, as the server packctl's
 * end-to-end tests talk to (pnpm's with-registry preset). Tests find them with
 * `inject('s3rverEndpoint')` and `inject('registryUrl')` / `inject('registryAdminToken')`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** "http://127.0.0.1:PORT"; keys S3RVER / S3RVER. */
    s3rverEndpoint: string;
    /** The shared pack-registry (S3 driver over the s3rver), and its bootstrap admin token. */
    registryUrl: string;
    registryAdminToken: string;
  }
}

const S3RVER_BIN = path.join(
  path.dirname(createRequire(import.meta.url).resolve('s3rver/package.json')),
  'bin/s3rver.js',
);

const PACK_REGISTRY = fileURLToPath(new URL('../packages/registry-server/bundle/bin.js', import.meta.url));
const REGISTRY_ADMIN_TOKEN = `e2e-registry-${randomBytes(12).toString('hex')}`;

/** `pack-registry --port 0` on a fresh bucket of the s3rver; resolves once it listens. */
async function startRegistry(endpoint: string, directory: string) {
  const child = spawn(process.execPath, [PACK_REGISTRY, '--port', '0'], {
    env: {
      PATH: process.env['PATH'],
      PACKYARD_DATA_DIR: path.join(directory, 'registry-data'),
      PACKYARD_ADMIN_TOKEN: REGISTRY_ADMIN_TOKEN,
      PACKYARD_PASSWORD_HASH_COST: '12',
      PACKYARD_STORAGE: 's3',
      PACKYARD_S3_ENDPOINT: endpoint,
      PACKYARD_S3_BUCKET: 'packyard-e2e-shared',
      PACKYARD_S3_FORCE_PATH_STYLE: 'true',
      PACKYARD_S3_CREATE_BUCKET: 'true',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => {
      reject(new Error(`pack-registry exited (${code}) before listening:\n${output}`));
    });
  });
  // Its log is not wanted once it listens; keep the pipe drained.
  child.stdout.resume();
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const directory = await mkdtemp(path.join(tmpdir(), 'packyard-s3rver-'));
  // A process of its own: s3rver encrypts its ListObjectsV2 continuation tokens with DES, which
  // OpenSSL 3 (Node >= 17) only offers with the legacy provider; in-process, every truncated
  // listing would answer 500 InternalError.
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', S3RVER_BIN, '-d', directory, '-a', '127.0.0.1', '-p', '0', '--silent'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on [\d.]+:(\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      reject(new Error(`s3rver exited (${code}) before listening:\n${output}`));
    });
  });
  const endpoint = `http://127.0.0.1:${port}`;
  project.provide('s3rverEndpoint', endpoint);
  const registry = await startRegistry(endpoint, directory);
  project.provide('registryUrl', registry.url);
  project.provide('registryAdminToken', REGISTRY_ADMIN_TOKEN);
  return async () => {
    await registry.stop();
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill();
      await exited;
    }
    await rm(directory, { recursive: true, force: true });
  };
}
