/**
 * Reading a server's answer with a cap. A hostile or broken server can send an endless or huge
 * body; `res.json()` would hold all of it (and its parsed form) in memory. Every answer packctl
 * reads whole goes through {@link readBounded}: a Content-Length over the cap is refused before
 * any byte is read, and reading stops, cancelling the request, at the first byte past the cap.
 * Archives are not read here: they stream to disk, bounded by their record's size (./../commands/pull.ts).
 */
import type { ReadableStream } from 'node:stream/web';
import type { Response } from 'undici';
import { jsonNestsDeeperThan } from '@packyard/pack-core';
import { CliError } from '../errors.js';
import { formatSize } from '../output/terminal.js';

/** The largest JSON or text answer packctl reads: a catalog page of 500 packs is far below it. */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;
/**
 * The deepest nesting of a JSON answer packctl parses: a version record carries pack.json, which
 * the registry takes up to 64 levels deep (pack-core's MAX_MANIFEST_DEPTH), two levels down.
 */
export const MAX_ANSWER_DEPTH = 128;
/** The largest error envelope packctl reads; past it, the status line alone is reported. */
export const MAX_ERROR_BYTES = 64 * 1024;

export interface ReadOptions {
  /** What was being done, for the message: "looking up cni-calico in public". */
  what: string;
  /** The cap in bytes (default {@link MAX_ANSWER_BYTES}). */
  maxBytes?: number;
  /** The slowest transfer waited for (default {@link SLOWEST}). */
  slowest?: typeof SLOWEST;
}

function tooLarge(what: string, maxBytes: number): CliError {
  return new CliError(`${what}: the server's answer is larger than ${formatSize(maxBytes)}: refused`, {
    hint: 'check that --server names a Packyard registry; a registry should never answer this much',
  });
}

/**
 * The slowest transfer packctl waits for, as curl's `--speed-limit 1024 --speed-time 60`: a window
 * of a minute in which fewer than 60 KiB arrive ends the transfer. A server dripping a byte a
 * second would otherwise keep packctl (and the CI job around it) waiting for days: the HTTP
 * client's own timeout only counts the pause before each byte. `deadlineMs` bounds the whole
 * transfer as well, so that a server dripping just above the floor cannot hold it for hours.
 */
export const SLOWEST: { bytes: number; windowMs: number; deadlineMs?: number } = {
  bytes: 60 * 1024,
  windowMs: 60_000,
};

/** How long an answer read whole (JSON, text: at most {@link MAX_ANSWER_BYTES}) may take in all. */
export const ANSWER_DEADLINE_MS = 5 * 60_000;

/**
 * How long a download or upload of `bytes` may take in all: ten minutes, and a second for every
 * 32 KiB (a 100 MB pack: an hour); a link slower than that on average is given up.
 */
export function transferDeadlineMs(bytes: number): number {
  return 10 * 60_000 + Math.ceil(bytes / (32 * 1024)) * 1000;
}

export function tooSlow(what: string, slowest = SLOWEST): CliError {
  return new CliError(
    `${what}: the server sent less than ${formatSize(slowest.bytes)} in ${slowest.windowMs / 1000} s: given up`,
    { hint: 'try again; if it persists, check the network and the registry' },
  );
}

function tooLong(what: string, deadlineMs: number): CliError {
  return new CliError(`${what}: the transfer took longer than ${Math.round(deadlineMs / 1000)} s in all: given up`, {
    hint: 'try again; if it persists, check the network and the registry',
  });
}

/**
 * Counts what arrives; calls `onSlow` (once) with the error to end the transfer with when a whole
 * window brings less than `slowest.bytes`, or when `slowest.deadlineMs` has passed.
 */
export function rateFloor(
  what: string,
  onSlow: (error: CliError) => void,
  slowest = SLOWEST,
): { add(bytes: number): void; stop(): void } {
  let inWindow = 0;
  const stop = () => {
    clearInterval(timer);
    clearTimeout(deadline);
  };
  const timer = setInterval(() => {
    if (inWindow < slowest.bytes) {
      stop();
      onSlow(tooSlow(what, slowest));
    }
    inWindow = 0;
  }, slowest.windowMs);
  const deadline =
    slowest.deadlineMs === undefined
      ? undefined
      : setTimeout(() => {
          stop();
          onSlow(tooLong(what, slowest.deadlineMs ?? 0));
        }, slowest.deadlineMs);
  return {
    add: (bytes) => {
      inWindow += bytes;
    },
    stop,
  };
}

/** Drops a response's body unread, closing the request (a redirect's or an error's body). */
export async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined);
}

/** The body of `res`, at most `maxBytes`; throws a CliError (and cancels the request) past that. */
export async function readBounded(res: Response, options: ReadOptions): Promise<Buffer> {
  const maxBytes = options.maxBytes ?? MAX_ANSWER_BYTES;
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await discard(res);
    throw tooLarge(options.what, maxBytes);
  }
  if (!res.body) return Buffer.alloc(0);
  // undici types the body as a stream of `any`; fetch bodies are streams of bytes.
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const state: { slow: CliError | null } = { slow: null };
  const rate = rateFloor(
    options.what,
    (error) => {
      state.slow = error;
      reader.cancel().catch(() => undefined);
    },
    options.slowest ?? { ...SLOWEST, deadlineMs: ANSWER_DEADLINE_MS },
  );
  try {
    for (;;) {
      const { done, value } = await reader.read();
      // A cancelled read ends as if the body had: the state tells the two apart.
      if (state.slow) throw state.slow;
      if (done) break;
      size += value.byteLength;
      rate.add(value.byteLength);
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge(options.what, maxBytes);
      }
      chunks.push(value);
    }
  } finally {
    rate.stop();
  }
  return Buffer.concat(chunks, size);
}

/** The body of `res` as UTF-8 text, bounded as {@link readBounded}. */
export async function readText(res: Response, options: ReadOptions): Promise<string> {
  return (await readBounded(res, options)).toString('utf8');
}

/**
 * The body of `res` parsed as JSON, bounded as {@link readBounded}. The parser's own message is
 * not repeated: it quotes the text, which the server chose.
 */
export async function readJson(res: Response, options: ReadOptions): Promise<unknown> {
  const body = await readBounded(res, options);
  if (jsonNestsDeeperThan(body, MAX_ANSWER_DEPTH)) {
    throw new CliError(
      `${options.what}: the server's answer nests more than ${MAX_ANSWER_DEPTH} levels deep: refused`,
      {
        hint: 'check that --server names a Packyard registry; none of its answers nests more than a few levels',
      },
    );
  }
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new CliError(`${options.what}: the server's answer is not JSON`, {
      hint: 'check that --server names a Packyard registry (and not a proxy or a web page)',
    });
  }
}
