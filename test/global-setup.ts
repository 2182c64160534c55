/**
 * Started once for the whole test run: an s3rver (fake S3) on a free loopback port, with its data
 * in a temporary directory. Tests find it with `inject('s3rverEndpoint')`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** "http://127.0.0.1:PORT"; keys S3RVER / S3RVER. */
    s3rverEndpoint: string;
  }
}

const S3RVER_BIN = path.join(
  path.dirname(createRequire(import.meta.url).resolve('s3rver/package.json')),
  'bin/s3rver.js',
);

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
  project.provide('s3rverEndpoint', `http://127.0.0.1:${port}`);
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill();
      await exited;
    }
    await rm(directory, { recursive: true, force: true });
  };
}
