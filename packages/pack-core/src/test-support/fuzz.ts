/**
 * Small tools for fuzz tests: a seeded random generator (a failure replays exactly), damaged
 * copies of bytes, and a case runner that tells a PackError from anything else: another error, a
 * hang, or an error that escaped every promise (an 'error' event nobody listened to, which would
 * take a server down). While a guard is installed, such escaped errors are recorded instead of
 * reaching the test runner, so that the test that caused them fails with its case named.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { isPackError } from '../errors.js';

/** mulberry32: a tiny, fast, seeded generator of floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A copy of `bytes` with 1 to `most` random bytes replaced by random values. */
export function flipBytes(bytes: Buffer, random: () => number, most = 4): Buffer {
  const copy = Buffer.from(bytes);
  const count = 1 + Math.floor(random() * most);
  for (let i = 0; i < count; i++) {
    const at = Math.floor(random() * copy.length);
    copy[at] = Math.floor(random() * 256) ^ (copy[at] === 0 ? 1 : 0);
  }
  return copy;
}

/** Lengths to cut `length` bytes at: every `step`-th, and each of the last `tail`. */
export function truncations(length: number, step = 1, tail = 0): number[] {
  const lengths = new Set<number>();
  for (let at = 0; at < length; at += step) lengths.add(at);
  for (let at = Math.max(0, length - tail); at < length; at++) lengths.add(at);
  return [...lengths].sort((a, b) => a - b);
}

export interface ProcessGuard {
  /** Errors that escaped since the last call (uncaught exceptions, unhandled rejections). */
  take(): unknown[];
  restore(): void;
}

/** Records escaped errors instead of letting the runner (or the process) see them. */
export function guardProcess(): ProcessGuard {
  let escaped: unknown[] = [];
  const record = (err: unknown): void => {
    escaped.push(err);
  };
  const uncaught = process.listeners('uncaughtException');
  const unhandled = process.listeners('unhandledRejection');
  process.removeAllListeners('uncaughtException').removeAllListeners('unhandledRejection');
  process.on('uncaughtException', record).on('unhandledRejection', record);
  return {
    take() {
      const taken = escaped;
      escaped = [];
      return taken;
    },
    restore() {
      process.off('uncaughtException', record).off('unhandledRejection', record);
      for (const listener of uncaught) process.on('uncaughtException', listener);
      for (const listener of unhandled) process.on('unhandledRejection', listener);
    },
  };
}

/**
 * Runs one case: null when it succeeded or failed with a PackError, else what went wrong (another
 * error, a timeout, or errors that escaped while it ran or just after).
 */
export async function runCase(
  guard: ProcessGuard,
  run: () => Promise<unknown>,
  timeoutMs: number,
): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      resolve('timeout');
    }, timeoutMs);
  });
  let problem: string | null = null;
  try {
    const outcome = await Promise.race([run().then(() => 'done' as const), timeout]);
    if (outcome === 'timeout') problem = `no answer within ${timeoutMs} ms`;
  } catch (err) {
    if (!isPackError(err)) problem = `threw ${String(err)}`;
  } finally {
    clearTimeout(timer);
  }
  // Stray 'error' events fire on later turns.
  await nextTurn();
  await nextTurn();
  const escaped = guard.take();
  if (escaped.length > 0) problem = `${problem ?? ''} escaped: ${escaped.map(String).join('; ')}`.trim();
  return problem;
}
