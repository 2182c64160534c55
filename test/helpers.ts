/**
 * Helpers for the CLI tests: run packctl in this process through its exported `run(argv, io)`
 * (most tests), or run the built binary exactly as a user would (the end-to-end ones: the bin
 * entry, exit codes of a real process, the process environment).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { run } from '../packages/pack-cli/src/cli.js';

export const REPO = fileURLToPath(new URL('..', import.meta.url));
export const PACKCTL = path.join(REPO, 'packages/pack-cli/dist/bin.js');
export const SAMPLE_PACKS = path.join(REPO, 'sample-packs');

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
}

/** A clean, colourless environment, as a user's shell with only PATH and HOME would give. */
function cleanEnv(env: NodeJS.ProcessEnv | undefined): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env };
}

/** Runs `packctl ARGS` through the bin file's own shebang, in a process of its own. */
export function packctl(args: string[], options: RunOptions = {}): RunResult {
  const result = spawnSync(PACKCTL, args, {
    cwd: options.cwd ?? REPO,
    env: cleanEnv(options.env),
    encoding: 'utf8',
    timeout: 120_000,
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Runs `command ARGS` with its stdout a pipe closed before anything is written to it (as `| head
 * -0` would leave it); resolves with its exit code and what it wrote to stderr.
 */
export function intoClosedPipe(command: string, args: string[]): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(command, args, { cwd: REPO, env: cleanEnv(undefined), stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status) => {
      resolve({ status, stderr });
    });
  });
}

/** A stream that keeps what is written to it, as text. */
function captured(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/**
 * Runs `packctl ARGS` in this process, with the same clean environment as {@link packctl}, its
 * output captured and `input` as its stdin; it does not block the event loop, so servers the test
 * runs keep answering.
 */
export async function runPackctl(args: string[], options: RunOptions = {}): Promise<RunResult> {
  const stdout = captured();
  const stderr = captured();
  const status = await run(args, {
    stdout: stdout.stream,
    stderr: stderr.stream,
    stdin: Readable.from(options.input === undefined ? [] : [Buffer.from(options.input)]),
    env: cleanEnv(options.env),
    cwd: options.cwd ?? REPO,
  });
  return { status, stdout: stdout.text(), stderr: stderr.text() };
}

/** The JSON a run printed with `--format json`, with its exit status. */
// The caller names the shape it expects; the tests' assertions are what check it.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
function parsed<T>(args: string[], result: RunResult): T & { status: number | null } {
  try {
    return { ...(JSON.parse(result.stdout) as T), status: result.status };
  } catch {
    throw new Error(
      `packctl ${args.join(' ')} printed no JSON (exit ${result.status}):\n${result.stdout}\n${result.stderr}`,
    );
  }
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
export function packctlJson<T = Record<string, unknown>>(
  args: string[],
  options: RunOptions = {},
): T & { status: number | null } {
  return parsed<T>(args, packctl([...args, '--format', 'json'], options));
}

export async function runPackctlJson<T = Record<string, unknown>>(
  args: string[],
  options: RunOptions = {},
): Promise<T & { status: number | null }> {
  return parsed<T>(args, await runPackctl([...args, '--format', 'json'], options));
}

export function sha256File(file: string): string {
  return `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
}
