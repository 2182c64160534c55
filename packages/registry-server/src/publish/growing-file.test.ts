/**
 * A GrowingFile destroyed while a write is in the thread pool (a client that leaves mid-upload)
 * closes its descriptor only once that write has ended: closed under it, the descriptor's number
 * could be handed to another file before the write runs, and the bytes land there.
 */
import type * as Fs from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GrowingFile } from './growing-file.js';

/** While `held` is set, pooled writes wait for it; `log` tells the order of writes and closes. */
const gate = vi.hoisted(() => ({ held: null as Promise<void> | null, log: [] as string[] }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof Fs>();
  const writev = ((
    fd: number,
    buffers: NodeJS.ArrayBufferView[],
    position: number,
    done: (err: NodeJS.ErrnoException | null, bytes: number) => void,
  ) => {
    gate.log.push('writev');
    const call = (): void => {
      fs.writev(fd, buffers, position, (err, bytes) => {
        gate.log.push(err ? `writev failed: ${err.code ?? err.message}` : 'writev done');
        done(err, bytes);
      });
    };
    if (gate.held) void gate.held.then(call);
    else call();
  }) as typeof fs.writev;
  const close = ((fd: number, done: (err: NodeJS.ErrnoException | null) => void) => {
    gate.log.push('close');
    fs.close(fd, done);
  }) as typeof fs.close;
  const closeSync = (fd: number): void => {
    gate.log.push('close');
    fs.closeSync(fd);
  };
  const calls = { writev, close, closeSync };
  return { ...fs, ...calls, default: { ...fs, ...calls } };
});

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'packyard-growing-'));
});
afterAll(async () => {
  gate.held = null;
  await rm(dir, { recursive: true, force: true });
});

describe.each(['direct', 'pooled'] as const)('a growing file destroyed during a pooled write (%s calls)', (calls) => {
  it('closes its descriptor only after the write ends, and writes nothing after it', async () => {
    let release = (): void => undefined;
    gate.held = new Promise((resolve) => {
      release = resolve;
    });
    gate.log = [];
    const file = path.join(dir, `${calls}.bin`);
    const sink = new GrowingFile(file, { calls });
    const failed = new Promise<Error>((resolve) => sink.once('error', resolve));
    const closed = new Promise<void>((resolve) => sink.once('close', resolve));
    // Past the 256 KiB a direct file writes synchronously: this write goes through the pool.
    const body = Buffer.alloc(300 * 1024, 7);
    sink.write(body);
    while (!gate.log.includes('writev')) await sleep(5);
    sink.destroy(new Error('the client left'));
    await sleep(50);
    expect(gate.log).toEqual(['writev']);
    gate.held = null;
    release();
    await closed;
    expect((await failed).message).toBe('the client left');
    expect(gate.log).toEqual(['writev', 'writev done', 'close']);
    expect(await readFile(file)).toEqual(body);
  });
});
