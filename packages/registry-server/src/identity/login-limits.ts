/**
 * What keeps password checks from being an amplifier. A password check costs one scrypt hash
 * (128 MiB and a libuv thread for a few hundred ms at the default cost), and the libuv pool also
 * serves the fs store: unbounded, a burst of sign-ins fills memory and stalls every other request.
 *
 * - HashQueue bounds the hashes running at once in this process (by default half the libuv pool,
 *   so I/O keeps threads), queues a bounded number more, and gives each client address a fair
 *   share: one address cannot fill the queue, and turns go round-robin between addresses. Past the
 *   bound the answer is 429 LOGIN_BUSY with Retry-After, before any hashing or storage I/O.
 * - AttemptLedger counts attempts per username and per client address in storage (one small
 *   document per key, changed by compare-and-swap), so that N replicas allow the same number of
 *   attempts as one. An attempt is reserved before its hash starts and counts as a failure until
 *   it succeeds; a burst beyond the limit is refused without being hashed, and the right password
 *   sent within a burst is refused while the burst counts. While storage takes no writes (a full
 *   or read-only disk), attempts are counted in the process's memory on top of those stored, so
 *   signing in with a password still works (reads need no write), and the limit holds per process.
 */
import { randomBytes } from 'node:crypto';
import type { PackError } from '@packyard/pack-core';
import { readJson, updateJson } from '../storage/json-documents.js';
import { isDiskFull, isDiskRefusing, type ObjectStore } from '../storage/object-store.js';
import { KeyedLock } from '../storage/keyed-lock.js';
import { LOGIN_ATTEMPTS_PREFIX } from '../storage/layout.js';
import { registryError } from '../errors.js';

export interface HashQueueOptions {
  /** Password hashes running at once in this process. */
  concurrency: number;
  /** Password checks admitted and waiting for a turn; past it, 429 LOGIN_BUSY. */
  maxWaiting: number;
  /** Password checks one client address may have running or waiting. */
  maxPerClient: number;
}

/** Half of libuv's thread pool (UV_THREADPOOL_SIZE, 4 by default), at least one. */
export function defaultHashConcurrency(): number {
  const pool = Number.parseInt(process.env['UV_THREADPOOL_SIZE'] ?? '', 10);
  return Math.max(1, Math.floor((Number.isFinite(pool) && pool > 0 ? pool : 4) / 2));
}

export const HASH_QUEUE_DEFAULTS: HashQueueOptions = {
  concurrency: defaultHashConcurrency(),
  maxWaiting: 32,
  maxPerClient: 4,
};

/** A place in the queue, taken before anything else is done for a password check. */
export interface HashTicket {
  /** Waits for a turn and runs the hash; once. */
  run<T>(hash: () => Promise<T>): Promise<T>;
  /** Gives the place up without hashing. Harmless after run. */
  cancel(): void;
}

interface ClientTurns {
  /** Tickets of this client admitted and not finished. */
  held: number;
  /** Tickets waiting for a turn. */
  queued: Array<() => void>;
}

/** The client key of hashes made for an authorized change (a new password), not a sign-in. */
const TRUSTED = '';

export class HashQueue {
  private running = 0;
  private waiting = 0;
  private readonly clients = new Map<string, ClientTurns>();
  /** Clients with queued tickets, in the order they get their next turn. */
  private readonly turns: string[] = [];
  /** How long a hash takes, as a moving average: Retry-After is estimated from it. */
  private averageMs = 250;

  constructor(private readonly options: HashQueueOptions = HASH_QUEUE_DEFAULTS) {}

  /** Takes a place for one check of `client`, or throws 429 LOGIN_BUSY. */
  admit(client: string): HashTicket {
    const turns = this.clients.get(client) ?? { held: 0, queued: [] };
    const full = this.waiting >= this.options.maxWaiting || turns.held >= this.options.maxPerClient;
    if (client !== TRUSTED && full) throw this.busy();
    turns.held += 1;
    this.waiting += 1;
    this.clients.set(client, turns);
    let state: 'admitted' | 'running' | 'done' = 'admitted';
    const leave = () => {
      turns.held -= 1;
      if (turns.held === 0) this.clients.delete(client);
    };
    return {
      run: async <T>(hash: () => Promise<T>): Promise<T> => {
        if (state !== 'admitted') throw new Error('a hash ticket runs once');
        state = 'running';
        await this.turn(client, turns);
        const start = Date.now();
        try {
          return await hash();
        } finally {
          this.averageMs = 0.8 * this.averageMs + 0.2 * (Date.now() - start);
          this.running -= 1;
          state = 'done';
          leave();
          this.dispatch();
        }
      },
      cancel: () => {
        if (state !== 'admitted') return;
        state = 'done';
        this.waiting -= 1;
        leave();
      },
    };
  }

  /** Runs a hash for an authorized change: it waits its turn like any other, but is never refused. */
  run<T>(hash: () => Promise<T>): Promise<T> {
    return this.admit(TRUSTED).run(hash);
  }

  private turn(client: string, turns: ClientTurns): Promise<void> {
    // Nothing is queued while a hash slot is free: dispatch() fills free slots at once.
    if (this.running < this.options.concurrency) {
      this.waiting -= 1;
      this.running += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      turns.queued.push(resolve);
      if (turns.queued.length === 1) this.turns.push(client);
    });
  }

  private dispatch(): void {
    while (this.running < this.options.concurrency) {
      const client = this.turns.shift();
      if (client === undefined) return;
      const turns = this.clients.get(client);
      const next = turns?.queued.shift();
      if (!turns || !next) continue;
      // Round-robin: a client with more queued goes to the back of the line.
      if (turns.queued.length > 0) this.turns.push(client);
      this.waiting -= 1;
      this.running += 1;
      next();
    }
  }

  private busy(): PackError {
    const seconds = Math.max(1, Math.ceil(((this.waiting / this.options.concurrency + 1) * this.averageMs) / 1000));
    return registryError('LOGIN_BUSY', 'too many password checks are waiting: try again shortly', {
      hint: `retry in ${seconds} s (Retry-After); each address gets a fair share of the password checks`,
      details: { retryAfterSeconds: seconds },
    });
  }
}

interface AttemptsDocument {
  attempts: Array<{ id: string; at: number }>;
}

/** Attempts counted under one storage key, as reserve() left them. */
export type Reservation = { key: string; id: string } | { retryAfterMs: number };

/** Keys whose attempts a process keeps in memory while storage takes no writes (a few dozen bytes each). */
const MAX_UNSTORED_KEYS = 100_000;

export class AttemptLedger {
  /** One process's attempts on a key do not race each other's compare-and-swap. */
  private readonly locks = new KeyedLock();
  private lastSweep = Date.now();
  /** Attempts storage would not take (a full or read-only disk), by key, oldest key first. */
  private readonly unstored = new Map<string, Array<{ id: string; at: number }>>();

  constructor(
    private readonly store: ObjectStore,
    private readonly windowMs: number,
  ) {}

  /**
   * Removes the documents whose every attempt has left the window: each username or address tried
   * once would otherwise keep its document for good (one object per name an anonymous caller
   * makes up). A document is rewritten by every attempt it counts, so one last modified before the
   * window holds none in it, and is removed without being read. Run at most once per window, in
   * the background of an attempt; returns how many went.
   */
  async sweep(now = Date.now()): Promise<number> {
    this.lastSweep = now;
    let removed = 0;
    for await (const object of this.store.list(LOGIN_ATTEMPTS_PREFIX)) {
      if (now - object.lastModified.getTime() < this.windowMs) continue;
      await this.locks.run(object.key, async () => {
        // Looked at again under the lock: an attempt of this process may have rewritten it.
        const current = await this.store.head(object.key);
        if (current && now - current.lastModified.getTime() >= this.windowMs) {
          await this.store.delete(object.key);
          removed++;
        }
      });
    }
    return removed;
  }

  private sweepWhenDue(): void {
    if (Date.now() - this.lastSweep < this.windowMs) return;
    this.lastSweep = Date.now();
    this.sweep().catch(() => {
      // Left for the next one: a document kept a while longer costs nothing.
    });
  }

  /**
   * Counts one more attempt under `key` unless `limit` attempts are already counted in the window;
   * then says how long until the oldest leaves it.
   */
  reserve(key: string, limit: number): Promise<Reservation> {
    this.sweepWhenDue();
    return this.locks.run(key, async () => {
      const id = randomBytes(6).toString('hex');
      let retryAfterMs = 0;
      // Attempts kept in memory while storage took no writes still count, with the stored ones.
      const held = this.recentUnstored(key, Date.now());
      try {
        await updateJson<AttemptsDocument>(
          this.store,
          key,
          (doc) => {
            const now = Date.now();
            const stored = doc.attempts.filter((a) => now - a.at < this.windowMs);
            const recent = [...stored, ...held];
            if (recent.length >= limit) {
              retryAfterMs = this.retryAfter(recent, now);
              return undefined;
            }
            retryAfterMs = 0;
            return { attempts: [...stored, { id, at: now }] };
          },
          () => ({ attempts: [] }),
        );
      } catch (err) {
        unlessStorageTakesNoWrites(err);
        return this.reserveUnstored(key, limit, id);
      }
      return retryAfterMs > 0 ? { retryAfterMs } : { key, id };
    });
  }

  /** {@link reserve} when storage takes no writes: counted in memory, with what storage holds. */
  private async reserveUnstored(key: string, limit: number, id: string): Promise<Reservation> {
    const stored = (await readJson<AttemptsDocument>(this.store, key))?.value.attempts ?? [];
    const now = Date.now();
    const held = this.recentUnstored(key, now);
    const recent = [...stored.filter((a) => now - a.at < this.windowMs), ...held].sort((a, b) => a.at - b.at);
    if (recent.length >= limit) return { retryAfterMs: this.retryAfter(recent, now) };
    this.unstored.delete(key);
    this.unstored.set(key, [...held, { id, at: now }]);
    for (const oldest of this.unstored.keys()) {
      if (this.unstored.size <= MAX_UNSTORED_KEYS) break;
      this.unstored.delete(oldest);
    }
    return { key, id };
  }

  /** The attempts under `key` kept in memory and still in the window (the rest forgotten). */
  private recentUnstored(key: string, now: number): Array<{ id: string; at: number }> {
    const recent = (this.unstored.get(key) ?? []).filter((a) => now - a.at < this.windowMs);
    if (recent.length === 0) this.unstored.delete(key);
    return recent;
  }

  private retryAfter(recent: ReadonlyArray<{ at: number }>, now: number): number {
    const oldest = Math.min(...recent.map((a) => a.at));
    return Math.max(1, oldest + this.windowMs - now);
  }

  /** Takes one reservation back: the attempt was not made. */
  release(key: string, id: string): Promise<void> {
    return this.locks.run(key, async () => {
      const held = this.unstored.get(key);
      if (held?.some((a) => a.id === id)) {
        this.unstored.set(
          key,
          held.filter((a) => a.id !== id),
        );
        return;
      }
      await updateJson<AttemptsDocument>(this.store, key, (doc) =>
        doc.attempts.some((a) => a.id === id) ? { attempts: doc.attempts.filter((a) => a.id !== id) } : undefined,
      ).catch(unlessStorageTakesNoWrites);
    });
  }

  /** Forgets every attempt under `key` (a successful sign-in of that username). */
  clear(key: string): Promise<void> {
    return this.locks.run(key, async () => {
      this.unstored.delete(key);
      await this.store.delete(key).catch(unlessStorageTakesNoWrites);
    });
  }
}

/**
 * Passes over a write storage would not take (a full or read-only disk): an attempt left counted
 * leaves the window on its own. Any other failure is thrown again.
 */
function unlessStorageTakesNoWrites(err: unknown): void {
  if (!isDiskFull(err) && !isDiskRefusing(err)) throw err;
}
