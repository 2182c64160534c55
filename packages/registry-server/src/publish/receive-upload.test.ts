/**
 * Receiving an upload leaves nothing behind when it fails, even when the temporary file's open is
 * still queued at the moment of failure (the thread pool busy, a client that leaves at once): the
 * file must not be made after it was removed. On a local filesystem (direct calls) a small upload
 * makes no trip through the thread pool but its flush, and its directory is made when missing.
 */
import { once } from 'node:events';
import type * as Fs from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { receiveFile, startUpload } from './receive-upload.js';
import { UploadHasher } from './upload-hasher.js';
import { bodyCollections } from '../v8-policy.js';

/**
 * While `held` is set, an exclusive open through the pool (a new temporary file) waits for it.
 * `pooled` counts the pool's calls on upload files (opens, writes, closes, flushes) by name,
 * `direct` the synchronous writes and closes.
 */
const gate = vi.hoisted(() => ({
  held: null as Promise<void> | null,
  pooled: new Map<string, number>(),
  direct: new Map<string, number>(),
}));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof Fs>();
  const count = (counts: Map<string, number>, name: string): void => {
    counts.set(name, (counts.get(name) ?? 0) + 1);
  };
  /** `real`, counting its calls under `name` in `counts`. */
  const counted = <F extends (...args: never[]) => unknown>(counts: Map<string, number>, name: string, real: F): F =>
    ((...args: Parameters<F>) => {
      count(counts, name);
      return real(...args);
    }) as F;
  // GrowingFile's open: (file, flags, mode, callback).
  const open = ((
    file: Fs.PathLike,
    flags: Fs.OpenMode,
    mode: Fs.Mode,
    done: (err: Error | null, fd: number) => void,
  ) => {
    const call = (): void => {
      fs.open(file, flags, mode, done);
    };
    if (flags === 'wx') count(gate.pooled, 'open');
    if (flags === 'wx' && gate.held) void gate.held.then(call);
    else call();
  }) as typeof fs.open;
  const writev = counted(gate.pooled, 'writev', fs.writev);
  const close = counted(gate.pooled, 'close', fs.close);
  const fdatasync = counted(gate.pooled, 'fdatasync', fs.fdatasync);
  const writevSync = counted(gate.direct, 'writev', fs.writevSync);
  const closeSync = counted(gate.direct, 'close', fs.closeSync);
  const calls = { open, writev, close, fdatasync, writevSync, closeSync };
  return { ...fs, ...calls, default: { ...fs, ...calls } };
});

/** Holds new files' opens until the returned function is called. */
function holdOpens(): () => void {
  let release = (): void => undefined;
  gate.held = new Promise((resolve) => {
    release = () => {
      gate.held = null;
      resolve();
    };
  });
  return release;
}

let dir: string;
let server: Server;
const hasher = new UploadHasher();
let received: ((request: IncomingMessage) => void) | null = null;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'packyard-receive-'));
  server = createServer((req) => received?.(req));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
});
afterEach(() => {
  gate.held = null;
});
afterAll(async () => {
  server.close();
  await hasher.close();
  await rm(dir, { recursive: true, force: true });
});

/** The upload directory's files, once whatever was still queued has had time to land. */
async function leftBehind(work: string): Promise<string[]> {
  await sleep(100);
  return readdir(work);
}

/**
 * Lets the held opens go once a failure that does not wait for them would have been answered
 * (and its file "removed"), then: the upload's error, and the files left in `work`.
 */
async function outcome(upload: Promise<unknown>, release: () => void, work: string) {
  upload.catch(() => undefined);
  await sleep(50);
  release();
  const error = await upload.then(
    () => null,
    (err: unknown) => err,
  );
  return { error, left: await leftBehind(work) };
}

describe('receiving an upload that fails before its file is open', () => {
  it('leaves no file when the client leaves mid-body', async () => {
    const work = path.join(dir, 'torn');
    const arrived = new Promise<IncomingMessage>((resolve) => {
      received = resolve;
    });
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    client.write('POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/zip\r\n');
    client.write(`Content-Length: ${1024 * 1024}\r\n\r\n`);
    client.write(Buffer.alloc(64 * 1024, 1));
    const req = await arrived;
    const started = await startUpload(req, { dir: work, maxBytes: 2 * 1024 * 1024, hasher });
    const release = holdOpens();
    const upload = started.receive(null);
    // Not events.once: it listens for 'error', which the torn request then emits.
    const closed = new Promise((resolve) => req.once('close', resolve));
    client.destroy();
    await closed;
    const { error, left } = await outcome(upload, release, work);
    expect(error).toMatchObject({ code: 'UPLOAD_ABORTED' });
    expect(left).toEqual([]);
  });

  it('leaves no file when the archive to take in cannot be read', async () => {
    const work = path.join(dir, 'unreadable');
    const release = holdOpens();
    const upload = receiveFile(path.join(dir, 'no-such-pack.zip'), { dir: work, maxBytes: 1024, hasher });
    const { error, left } = await outcome(upload, release, work);
    expect(error).toMatchObject({ code: 'ENOENT' });
    expect(left).toEqual([]);
  });

  it('still receives a whole body into a file of its own', async () => {
    const work = path.join(dir, 'whole');
    const arrived = new Promise<IncomingMessage>((resolve) => {
      received = resolve;
    });
    const body = Buffer.alloc(300 * 1024, 7);
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    client.write(`POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\n\r\n`);
    client.write(body);
    const req = await arrived;
    const counted = bodyCollections.total;
    const upload = await (await startUpload(req, { dir: work, maxBytes: body.length, hasher })).receive(null);
    expect(upload.size).toBe(body.length);
    // Counted toward the young-generation collections of received bodies (v8-policy.ts).
    expect(bodyCollections.total - counted).toBe(body.length);
    expect(await readdir(work)).toEqual([path.basename(upload.file)]);
    await upload.discard();
    client.destroy();
    expect(await leftBehind(work)).toEqual([]);
  });
});

describe('receiving an upload on a local filesystem (direct calls)', () => {
  /** Sends `body` and receives it into `work` with `calls`, flushed. */
  async function receiveBody(work: string, body: Buffer, calls: 'direct' | 'pooled') {
    const arrived = new Promise<IncomingMessage>((resolve) => {
      received = resolve;
    });
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    client.write(`POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\n\r\n`);
    client.write(body);
    const req = await arrived;
    gate.pooled.clear();
    gate.direct.clear();
    const started = await startUpload(req, { dir: work, maxBytes: body.length, hasher, calls, flush: true });
    const upload = await started.receive(null);
    await upload.flushed;
    client.destroy();
    return { upload, pooled: Object.fromEntries(gate.pooled), direct: Object.fromEntries(gate.direct) };
  }

  it('writes a small upload without the thread pool, flushes it there once, and makes its directory', async () => {
    const work = path.join(dir, 'direct-small', 'uploads');
    const body = Buffer.alloc(100 * 1024, 3);
    const { upload, pooled, direct } = await receiveBody(work, body, 'direct');
    expect(pooled).toEqual({ fdatasync: 1 });
    expect(direct['writev']).toBeGreaterThan(0);
    expect(direct['close']).toBe(1);
    expect(await readFile(upload.file)).toEqual(body);
    expect((await stat(work)).mode & 0o777).toBe(0o700);
    expect(upload.digest).toBe((await receiveBody(path.join(dir, 'pooled-small'), body, 'pooled')).upload.digest);
    await upload.discard();
  });

  it('writes the bytes of a larger upload past 256 KiB through the pool, in order', async () => {
    const body = Buffer.alloc(600 * 1024);
    for (let i = 0; i < body.length; i += 4) body.writeUInt32LE(i, i);
    const { upload, pooled, direct } = await receiveBody(path.join(dir, 'direct-large'), body, 'direct');
    expect(pooled['open']).toBeUndefined();
    expect(pooled['writev']).toBeGreaterThan(0);
    expect(direct['close']).toBe(1);
    expect(await readFile(upload.file)).toEqual(body);
    expect(upload.size).toBe(body.length);
    await upload.discard();
  });

  it('makes every call of a pooled upload through the pool', async () => {
    const work = path.join(dir, 'pooled');
    await mkdir(work);
    const { upload, pooled, direct } = await receiveBody(work, Buffer.alloc(10 * 1024, 5), 'pooled');
    expect(pooled).toMatchObject({ open: 1, fdatasync: 1, close: 1 });
    expect(direct).toEqual({});
    expect(pooled['writev']).toBeGreaterThan(0);
    await upload.discard();
  });
});
