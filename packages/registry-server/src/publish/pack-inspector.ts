/**
 * Inspecting uploads off the main thread, each within a time budget. Archive limits bound what an
 * upload may make the registry inflate, but a hostile pack within them can still cost seconds of
 * CPU (YAML to parse, charts to gunzip, entries to CRC): on the main thread that time would be
 * taken from every other request. A small pool of worker threads (piscina) runs inspect-pack.ts
 * instead; an inspection that outlives its budget has its worker terminated (and replaced) and
 * the publish fails with 422 PACK_TOO_EXPENSIVE. The budget counts from the moment a worker takes
 * the task, so a publish queued behind others is not charged for the wait. A worker that runs out
 * of memory is likewise the pack's fault, not the registry's.
 *
 * The pool starts with the first publish; one worker then stays (a worker costs a few hundred
 * milliseconds to start, which a publish should not pay each time), others leave after a minute
 * of idleness. Idle workers do not keep the process alive.
 *
 * Inspections wait for a worker in one queue per caller, served in turn: a publisher sending many
 * packs that are costly to check (each within the budget) delays their own publishes, not
 * everyone's by the sum of theirs. An inspection whose client has gone away leaves the queue, or
 * is stopped if it runs: nobody waits for its answer.
 */
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { revivePackError, type ArchiveLimits, type BlockChecksums, type PackError } from '@packyard/pack-core';
import type { InspectedPack } from './inspect-pack.js';
import type { InspectReply, InspectTask } from './inspect-worker.js';
import { registryError } from '../errors.js';
import { WORKER_YOUNG_MB, workerEntry } from './worker-entry.js';

export interface PackInspectorOptions {
  /**
   * Worker threads, hence inspections at once (default 1: each thread is an isolate of ~25 MB, and
   * on the bench's 2 cores a second one gave fewer small publishes per second, not more).
   */
  threads?: number;
  /** How long one inspection may run, in milliseconds (default 60 s). */
  timeBudgetMs?: number;
  /** Heap of each worker, in MiB (default 2048): a pack that needs more is refused. */
  maxMemoryMb?: number;
}

export const DEFAULT_INSPECTION = {
  threads: 1,
  timeBudgetMs: 60_000,
  maxMemoryMb: 2048,
} as const;

/** The worker module, compiled or (tests) from the sources: see worker-entry.ts. */
const WORKER = workerEntry(new URL('./inspect-worker.js', import.meta.url));
const IDLE_TIMEOUT_MS = 60_000;

function tooExpensive(why: string): PackError {
  return registryError('PACK_TOO_EXPENSIVE', `the pack is too expensive to check: ${why}`);
}

function clientGone(): PackError {
  return registryError('UPLOAD_ABORTED', 'the client closed the connection before the pack was checked');
}

/** Whose inspection this is (its turn is taken among that caller's), and when its client went away. */
export interface InspectionTurn {
  caller: string;
  signal?: AbortSignal;
}

export class PackInspector {
  readonly options: Required<PackInspectorOptions>;
  private pool: Piscina<InspectTask, InspectReply> | null = null;
  private closed = false;
  /** Inspections running. */
  private running = 0;
  /** Inspections waiting for a worker, per caller; callers in the order they are served next. */
  private readonly waiting = new Map<string, Array<() => void>>();
  private lastServed: string | null = null;

  constructor(options: PackInspectorOptions = {}) {
    this.options = {
      threads: options.threads ?? DEFAULT_INSPECTION.threads,
      timeBudgetMs: options.timeBudgetMs ?? DEFAULT_INSPECTION.timeBudgetMs,
      maxMemoryMb: options.maxMemoryMb ?? DEFAULT_INSPECTION.maxMemoryMb,
    };
  }

  private start(): Piscina<InspectTask, InspectReply> {
    if (this.closed) throw new Error('the pack inspector is closed');
    this.pool ??= new Piscina({
      filename: WORKER.filename.href,
      workerData: WORKER.workerData,
      minThreads: 1,
      maxThreads: this.options.threads,
      idleTimeout: IDLE_TIMEOUT_MS,
      // Inspections do asynchronous I/O; a worker that sleeps between tasks would stall it.
      atomics: 'disabled',
      resourceLimits: { maxOldGenerationSizeMb: this.options.maxMemoryMb, maxYoungGenerationSizeMb: WORKER_YOUNG_MB },
    });
    return this.pool;
  }

  /**
   * Inspects an uploaded archive on a worker thread; throws PackError (4xx) for any problem of the
   * pack, PACK_TOO_EXPENSIVE when it takes longer than the budget or more memory than allowed.
   */
  async inspect(
    file: string,
    limits: ArchiveLimits,
    blocks?: BlockChecksums,
    turn: InspectionTurn = { caller: '' },
  ): Promise<InspectedPack> {
    await this.turnOf(turn);
    try {
      return await this.run(file, limits, blocks, turn.signal);
    } finally {
      this.next();
    }
  }

  /** Resolves when a worker is free for this caller's turn; rejects if its client goes first. */
  private turnOf({ caller, signal }: InspectionTurn): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(clientGone());
    if (this.running < this.options.threads && this.waiting.size === 0) {
      this.running++;
      this.lastServed = caller;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const queue = this.waiting.get(caller) ?? [];
      this.waiting.set(caller, queue);
      const gone = () => {
        const at = queue.indexOf(take);
        if (at === -1) return;
        queue.splice(at, 1);
        if (queue.length === 0 && this.waiting.get(caller) === queue) this.waiting.delete(caller);
        reject(clientGone());
      };
      const take = () => {
        signal?.removeEventListener('abort', gone);
        resolve();
      };
      queue.push(take);
      signal?.addEventListener('abort', gone, { once: true });
    });
  }

  /** Hands the worker to the next caller in turn, who goes to the back of the line if they wait more. */
  private next(): void {
    this.running--;
    // The caller served last waits behind the others who are waiting.
    const last = this.lastServed === null ? undefined : this.waiting.get(this.lastServed);
    if (last && this.lastServed !== null && this.waiting.size > 1) {
      this.waiting.delete(this.lastServed);
      this.waiting.set(this.lastServed, last);
    }
    for (const [caller, queue] of this.waiting) {
      this.waiting.delete(caller);
      const take = queue.shift();
      if (queue.length > 0) this.waiting.set(caller, queue);
      if (take) {
        this.running++;
        this.lastServed = caller;
        take();
        return;
      }
    }
  }

  private async run(
    file: string,
    limits: ArchiveLimits,
    blocks: BlockChecksums | undefined,
    signal: AbortSignal | undefined,
  ): Promise<InspectedPack> {
    const { timeBudgetMs } = this.options;
    const abort = new AbortController();
    const gone = () => {
      abort.abort();
    };
    signal?.addEventListener('abort', gone, { once: true });
    const { port1: started, port2 } = new MessageChannel();
    // Held in an object: TypeScript does not see assignments made inside the callbacks.
    const budget: { timer?: NodeJS.Timeout; overran: boolean } = { overran: false };
    started.once('message', () => {
      budget.timer = setTimeout(() => {
        budget.overran = true;
        abort.abort();
      }, timeBudgetMs);
    });
    const task: InspectTask = { file, limits, started: port2, ...(blocks ? { blocks } : {}) };
    try {
      const reply = await this.start().run(task, { transferList: [port2], signal: abort.signal });
      if ('inspected' in reply) return reply.inspected;
      throw revivePackError(reply.refused);
    } catch (err) {
      if (budget.overran) throw tooExpensive(`checking it took more than ${Math.round(timeBudgetMs / 1000)} s`);
      if (signal?.aborted === true) throw clientGone();
      if ((err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY') {
        throw tooExpensive(`checking it needed more than ${this.options.maxMemoryMb} MiB of memory`);
      }
      throw err;
    } finally {
      signal?.removeEventListener('abort', gone);
      clearTimeout(budget.timer);
      started.close();
    }
  }

  /** Stops the workers; inspections under way fail. */
  async close(): Promise<void> {
    this.closed = true;
    await this.pool?.destroy();
  }
}
