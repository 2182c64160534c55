/**
 * Helpers for the end-to-end tests: run the built packctl binary exactly as a user would.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('..', import.meta.url));
export const PACKCTL = path.join(REPO, 'packages/pack-cli/dist/bin.js');
export const SAMPLE_PACKS = path.join(REPO, 'sample-packs');

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `packctl ARGS` through the bin file's own shebang, with a clean, colourless environment. */
export function packctl(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): RunResult {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'], ...options.env };
  const result = spawnSync(PACKCTL, args, {
    cwd: options.cwd ?? REPO,
    env,
    encoding: 'utf8',
    timeout: 120_000,
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

// The caller names the shape it expects; the tests' assertions are what check it.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
export function packctlJson<T = Record<string, unknown>>(
  args: string[],
  options: Parameters<typeof packctl>[1] = {},
): T & { status: number | null } {
  const result = packctl([...args, '--format', 'json'], options);
  try {
    return { ...(JSON.parse(result.stdout) as T), status: result.status };
  } catch {
    throw new Error(
      `packctl ${args.join(' ')} printed no JSON (exit ${result.status}):\n${result.stdout}\n${result.stderr}`,
    );
  }
}

export function sha256File(file: string): string {
  return `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
}
