import { ReadableStream } from 'node:stream/web';
import { Response } from 'undici';
import { describe, expect, it } from 'vitest';
import { readBounded, readJson } from './bounded-body.js';

const CHUNK = 64 * 1024;

/** An endless body of 64 KiB chunks that counts what was pulled from it and whether it was cancelled. */
function endless() {
  const seen = { bytes: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      seen.bytes += CHUNK;
      controller.enqueue(new Uint8Array(CHUNK).fill(0x20));
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  return { seen, body };
}

/** A body that sends one byte every `ms` for ever (a server dripping its answer). */
function dripping(ms: number) {
  const seen = { cancelled: false };
  let timer: NodeJS.Timeout | undefined;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      return new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          controller.enqueue(new Uint8Array([0x20]));
          resolve();
        }, ms);
      });
    },
    cancel() {
      seen.cancelled = true;
      clearTimeout(timer);
    },
  });
  return { seen, body };
}

describe('readBounded', () => {
  it('gives up on an answer that arrives slower than the floor, and cancels it', async () => {
    const { seen, body } = dripping(5);
    const slowest = { bytes: 1024, windowMs: 300 };
    await expect(readBounded(new Response(body), { what: 'searching', slowest })).rejects.toThrow(
      'searching: the server sent less than 1.0 KiB in 0.3 s: given up',
    );
    expect(seen.cancelled).toBe(true);
  });

  it('gives up on an answer that keeps above the floor but past the deadline, and cancels it', async () => {
    const { seen, body } = dripping(2);
    const slowest = { bytes: 10, windowMs: 200, deadlineMs: 700 };
    const started = Date.now();
    await expect(readBounded(new Response(body), { what: 'searching', slowest })).rejects.toThrow(
      'searching: the transfer took longer than 1 s in all: given up',
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(650);
    expect(seen.cancelled).toBe(true);
  });

  it('refuses a JSON answer nested deeper than any answer of a registry, before parsing it', async () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    await expect(readJson(new Response(deep), { what: 'showing x' })).rejects.toThrow(
      "showing x: the server's answer nests more than 128 levels deep: refused",
    );
    // A pack.json as deep as the registry takes it, inside a record, is read.
    const manifest = `${'{"a":'.repeat(64)}1${'}'.repeat(64)}`;
    const record = `{"name":"x","manifest":${manifest},"files":[{"path":"[{"}]}`;
    expect(await readJson(new Response(record), { what: 'showing x' })).toMatchObject({ name: 'x' });
  });

  it('returns a body within the cap', async () => {
    const res = new Response('{"ok":true}');
    expect((await readBounded(res, { what: 'asking', maxBytes: 11 })).toString()).toBe('{"ok":true}');
  });

  it('stops at the first chunk past the cap and cancels the body', async () => {
    const { seen, body } = endless();
    const res = new Response(body);
    await expect(readBounded(res, { what: 'searching', maxBytes: 1024 * 1024 })).rejects.toThrow(
      "searching: the server's answer is larger than 1.0 MiB: refused",
    );
    // Pulled ahead by at most a few chunks of the stream's queue, never the whole (endless) body.
    expect(seen.bytes).toBeLessThanOrEqual(1024 * 1024 + 4 * CHUNK);
    expect(seen.cancelled).toBe(true);
  });

  it('refuses a declared Content-Length over the cap before reading a byte', async () => {
    const { seen, body } = endless();
    const res = new Response(body, { headers: { 'Content-Length': String(300 * 1024 * 1024) } });
    const before = seen.bytes;
    await expect(readBounded(res, { what: 'asking', maxBytes: 1024 })).rejects.toThrow('larger than 1.0 KiB');
    // The stream may have been primed with one chunk by the Response; nothing was read past that.
    expect(seen.bytes - before).toBeLessThanOrEqual(CHUNK);
    expect(seen.cancelled).toBe(true);
  });
});

describe('readJson', () => {
  it('parses JSON, and refuses other text without quoting it', async () => {
    expect(await readJson(new Response('[1,2]'), { what: 'asking' })).toEqual([1, 2]);
    const refused = readJson(new Response('\x1b[2J<html>not json'), { what: 'asking' });
    await expect(refused).rejects.toThrow("asking: the server's answer is not JSON");
    await expect(readJson(new Response('\x1b[2J<html>'), { what: 'asking' })).rejects.not.toThrow('html');
  });
});
