/**
 * Where a worker thread of this package starts. Built, a worker is its compiled module next to
 * the caller's. Run from the sources (the tests run the .ts files, and a worker thread runs
 * JavaScript only), it starts from source-worker.mjs instead, a plain-JS launcher that compiles
 * each .ts module as the worker loads it: the tests exercise the worker of the current sources,
 * never a stale build in dist/.
 */
import { existsSync } from 'node:fs';

export interface WorkerEntry {
  /** The module a Worker (or a piscina pool) starts from. */
  filename: URL;
  /** The worker's `workerData`: which module source-worker.mjs runs, when it is the entry. */
  workerData?: { sourceWorker: string };
}

/**
 * The entry of the worker module `compiled` (a .js URL next to the calling module).
 *
 * @example
 * const { filename, workerData } = workerEntry(new URL('./hash-worker.js', import.meta.url));
 * new Worker(filename, { workerData });
 */
export function workerEntry(compiled: URL): WorkerEntry {
  if (existsSync(compiled)) return { filename: compiled };
  const source = new URL(compiled.href.replace(/\.js$/, '.ts'));
  if (!existsSync(source)) throw new Error(`no worker module at ${compiled.href}`);
  return { filename: new URL('./source-worker.mjs', import.meta.url), workerData: { sourceWorker: source.href } };
}

/**
 * The young generation of each worker thread, in MiB. V8's default lets it grow to 48 MiB per
 * isolate under a burst of publishes, which showed as resident memory (the bench's peak with 8
 * concurrent publishes); what a worker allocates is short-lived, and a small nursery collects it
 * as cheaply.
 */
export const WORKER_YOUNG_MB = 6;
