// @ts-check
/**
 * Small pieces the registry-server benches (publish, catalog, cold-start) share: option parsing,
 * medians and tables, and a scope that removes temp dirs and stops child processes however a run
 * ends (return, throw or Ctrl-C).
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

export const MB = 1024 * 1024;

export class UsageError extends Error {}

/**
 * @typedef {{ kind: 'integer' | 'number' | 'string' | 'flag', default?: number | string | boolean, min?: number }} OptionSpec
 */

/**
 * Parses `--name value`, `--name=value` and `--flag` against `specs` (kebab-case names; the result
 * uses the same names). `-h`/`--help` set `help`. Throws UsageError for anything unknown or bad.
 * @param {string[]} args
 * @param {Record<string, OptionSpec>} specs
 * @returns {Record<string, number | string | boolean | undefined> & { help: boolean }}
 */
export function parseOptions(args, specs) {
  /** @type {NonNullable<Parameters<typeof parseArgs>[0]>['options']} */
  const config = { help: { type: 'boolean', short: 'h' } };
  for (const [name, spec] of Object.entries(specs))
    config[name] = { type: spec.kind === 'flag' ? 'boolean' : 'string' };
  /** @type {Record<string, string | boolean | undefined>} */
  let values;
  try {
    // No option is `multiple`, so no value is an array.
    values = /** @type {Record<string, string | boolean | undefined>} */ (
      parseArgs({ args, options: config, strict: true, allowPositionals: false }).values
    );
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  /** @type {Record<string, number | string | boolean | undefined> & { help: boolean }} */
  const options = { help: values['help'] === true };
  for (const [name, spec] of Object.entries(specs)) {
    const raw = values[name];
    if (raw === undefined) {
      options[name] = spec.default ?? (spec.kind === 'flag' ? false : undefined);
      continue;
    }
    if (spec.kind === 'flag' || spec.kind === 'string') {
      if (raw === '') throw new UsageError(`--${name} needs a value`);
      options[name] = raw;
      continue;
    }
    const number = Number(raw);
    const min = spec.min ?? (spec.kind === 'integer' ? 1 : Number.MIN_VALUE);
    if (
      raw === '' ||
      !Number.isFinite(number) ||
      number < min ||
      (spec.kind === 'integer' && !Number.isInteger(number))
    ) {
      throw new UsageError(`--${name} must be ${spec.kind === 'integer' ? 'a whole number' : 'a number'} >= ${min}`);
    }
    options[name] = number;
  }
  return options;
}

/**
 * Parses the options or prints usage; the benches' common preamble.
 * @param {string} bench
 * @param {string[]} args
 * @param {Record<string, OptionSpec>} specs
 * @param {string} usage
 * @returns {{ options: ReturnType<typeof parseOptions> } | { code: number }}
 */
export function optionsOrExit(bench, args, specs, usage) {
  try {
    const options = parseOptions(args, specs);
    if (options.help) {
      console.log(usage);
      return { code: 0 };
    }
    return { options };
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${bench}: ${err.message}\n\n${usage}`);
    return { code: 2 };
  }
}

/** @param {number[]} values */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** @param {string[][]} rows @returns {string} rows with columns padded to a common width */
export function table(rows) {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => row[col].length)));
  const line = (/** @type {string[]} */ row) => row.map((cell, col) => cell.padEnd(widths[col])).join('   ');
  return rows.map((row) => line(row).trimEnd()).join('\n');
}

/** A `check / value / target / result` row; MISS rather than FAIL, since benches report. */
export const checkRow = (
  /** @type {string} */ check,
  /** @type {string} */ value,
  /** @type {string} */ target,
  /** @type {boolean} */ pass,
) => [check, value, target, pass ? 'PASS' : 'MISS'];

/** Runs `task` on every item with at most `limit` in flight. @template T @param {T[]} items @param {number} limit @param {(item: T) => Promise<unknown>} task */
export async function inParallel(items, limit, task) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export const round = (/** @type {number} */ n, digits = 3) => Number(n.toFixed(digits));

/** Progress and diagnostics go to stderr; stdout carries the tables and the BENCH_RESULT line. */
export const log = (/** @type {string} */ message) => process.stderr.write(`${message}\n`);

/**
 * @typedef {{
 *   tempDir(prefix: string): Promise<string>,
 *   track(child: import('node:child_process').ChildProcess): void,
 *   defer(task: () => Promise<unknown>): void,
 * }} Scope
 */

/**
 * Runs `fn` with a scope whose temp dirs are removed, deferred tasks run (last first) and tracked
 * child processes killed when it ends, and on Ctrl-C / SIGTERM as well (then synchronously: the
 * deferred tasks are skipped, so a bucket on an external S3 endpoint may be left behind).
 * @template T
 * @param {(scope: Scope) => Promise<T>} fn
 * @returns {Promise<T>}
 */
export async function withScope(fn) {
  /** @type {Set<import('node:child_process').ChildProcess>} */
  const children = new Set();
  /** @type {string[]} */
  const dirs = [];
  /** @type {Array<() => Promise<unknown>>} */
  const tasks = [];
  /** @type {Scope} */
  const scope = {
    async tempDir(prefix) {
      const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    },
    track(child) {
      children.add(child);
      child.once('exit', () => children.delete(child));
    },
    defer(task) {
      tasks.push(task);
    },
  };
  const onSignal = (/** @type {NodeJS.Signals} */ signal) => {
    for (const child of children) child.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await fn(scope);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const task of tasks.reverse()) {
      await task().catch((/** @type {unknown} */ err) => log(`cleanup: ${err instanceof Error ? err.message : err}`));
    }
    for (const child of children) child.kill('SIGKILL');
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  }
}
