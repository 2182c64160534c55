/**
 * Time bounds for calls to a remote store, so that a stalled backend (one that accepts
 * connections and then never answers, or stops sending in the middle of a body) costs each
 * request a few seconds and a 503, instead of holding it, and its client, forever.
 *
 * Two rules, because a bound on the whole call would cut off a large transfer on a slow link:
 * - a deadline: the call (every retry included) must be over within a fixed time; for metadata
 *   calls, and for the wait until a download's headers arrive;
 * - an idle bound: the call fails when no bytes have moved for a while; for the parts of an
 *   upload, and for a download's body while its reader is asking for bytes (a slow client
 *   holding the download back is not the backend stalling).
 */
import { Readable } from 'node:stream';

/** Why a storage call was cut short. Not a name the AWS SDK retries (it would retry in vain). */
export class StorageTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageTimeoutError';
  }
}

/** An abort signal that fires unless it is re-armed (or disarmed) in time. */
export class Watchdog {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Aborts in `ms` milliseconds, with `why`, unless armed again or disarmed before. */
  arm(ms: number, why: string): void {
    clearTimeout(this.timer);
    if (this.controller.signal.aborted) return;
    this.timer = setTimeout(() => {
      this.controller.abort(new StorageTimeoutError(why));
    }, ms);
    // A watchdog alone must not keep the process alive (a shutdown waits for requests instead).
    this.timer.unref();
  }

  disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * Runs `call` under a deadline: its signal aborts after `ms` milliseconds.
 *
 * @example
 * await withDeadline(10_000, (abortSignal) => client.send(new HeadObjectCommand(input), { abortSignal }));
 */
export async function withDeadline<T>(ms: number, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const watchdog = new Watchdog();
  watchdog.arm(ms, `storage gave no answer within ${ms} ms`);
  try {
    return await call(watchdog.signal);
  } finally {
    watchdog.disarm();
  }
}

/**
 * A byte array as a stream that tells `onProgress` each time the reader (an HTTP request being
 * sent) takes more, and `onEnd` once it has taken everything: how an upload shows it is moving.
 */
export function progressStream(
  bytes: Uint8Array,
  onProgress: () => void,
  onEnd: () => void,
  chunkBytes = 64 * 1024,
): Readable {
  let at = 0;
  return new Readable({
    read() {
      if (at >= bytes.length) {
        onEnd();
        this.push(null);
        return;
      }
      onProgress();
      const end = Math.min(at + chunkBytes, bytes.length);
      this.push(bytes.subarray(at, end));
      at = end;
    },
  });
}

/**
 * `source` with a bound on how long its reader waits for the next bytes: when the reader asks
 * and nothing arrives within `idleMs`, the stream fails with `onIdle()` and `source` is
 * destroyed (which closes its connection). Destroying the result destroys `source`.
 */
export function idleBounded(source: Readable, idleMs: number, onIdle: () => Error): Readable {
  // One timer for the stream's life, re-armed only when it fires early: a timer set and cleared
  // per chunk cost a relayed 100 MB body thousands of them.
  let waitingSince: number | null = null;
  let timer: NodeJS.Timeout | undefined;
  const check = (): void => {
    timer = undefined;
    if (waitingSince === null) return;
    const left = waitingSince + idleMs - Date.now();
    if (left <= 0) out.destroy(onIdle());
    else timer = setTimeout(check, left);
  };
  const stop = (): void => {
    waitingSince = null;
    clearTimeout(timer);
    timer = undefined;
  };
  const out = new Readable({
    highWaterMark: source.readableHighWaterMark,
    read() {
      waitingSince ??= Date.now();
      timer ??= setTimeout(check, idleMs);
      source.resume();
    },
    destroy(err, callback) {
      stop();
      source.destroy();
      callback(err);
    },
  });
  source.on('data', (chunk: Buffer) => {
    waitingSince = null;
    if (!out.push(chunk)) source.pause();
  });
  source.once('end', () => {
    stop();
    out.push(null);
  });
  source.once('error', (err: Error) => out.destroy(err));
  source.once('close', () => {
    if (!source.readableEnded) out.destroy(new Error('the storage connection closed before the body ended'));
  });
  // Nothing flows until the reader asks: that is when the wait starts to count.
  source.pause();
  return out;
}
