/**
 * Reading a server's answer with a cap. A hostile or broken server can send an endless or huge
 * body; `res.json()` would hold all of it (and its parsed form) in memory. Every answer packctl
 * reads whole goes through {@link readBounded}: a Content-Length over the cap is refused before
 * any byte is read, and reading stops, cancelling the request, at the first byte past the cap.
 * Archives are not read here: they stream to disk, bounded by their record's size (./../commands/pull.ts).
 */
import type { ReadableStream } from 'node:stream/web';
import type { Response } from 'undici';
import { CliError } from '../errors.js';
import { formatSize } from '../output/terminal.js';

/** The largest JSON or text answer packctl reads: a catalog page of 500 packs is far below it. */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;
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
 * client's own timeout only counts the pause before each byte.
 */
export const SLOWEST = { bytes: 60 * 1024, windowMs: 60_000 };

export function tooSlow(what: string, slowest = SLOWEST): CliError {
  return new CliError(
    `${what}: the server sent less than ${formatSize(slowest.bytes)} in ${slowest.windowMs / 1000} s: given up`,
    { hint: 'try again; if it persists, check the network and the registry' },
  );
}

/** Counts what arrives; calls `onSlow` (once) when a whole window brings less than `slowest.bytes`. */
export function rateFloor(onSlow: () => void, slowest = SLOWEST): { add(bytes: number): void; stop(): void } {
  let inWindow = 0;
  const timer = setInterval(() => {
    if (inWindow < slowest.bytes) {
      clearInterval(timer);
      onSlow();
    }
    inWindow = 0;
  }, slowest.windowMs);
  return {
    add: (bytes) => {
      inWindow += bytes;
    },
    stop: () => {
      clearInterval(timer);
    },
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
  const state = { slow: false };
  const rate = rateFloor(() => {
    state.slow = true;
    reader.cancel().catch(() => undefined);
  }, options.slowest);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      // A cancelled read ends as if the body had: the flag tells the two apart.
      if (state.slow) throw tooSlow(options.what, options.slowest);
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
  const text = await readText(res, options);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CliError(`${options.what}: the server's answer is not JSON`, {
      hint: 'check that --server names a Packyard registry (and not a proxy or a web page)',
    });
  }
}
