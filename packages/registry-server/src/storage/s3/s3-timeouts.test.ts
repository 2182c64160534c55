/**
 * The S3 driver against backends that stall (issue 11): every call ends within its bound with
 * STORAGE_UNAVAILABLE, whose answer names no endpoint or bucket, while transfers that are merely
 * slow, or held back by their reader, are left alone.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { buffer } from 'node:stream/consumers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ObjectStore } from '../object-store.js';
import { createS3Store } from './s3-store.js';
import { listKeys } from '../test-support/conformance.js';

const BUCKET = 'stalled-bucket';
const DEADLINE_MS = 1_000;
const IDLE_MS = 1_000;

interface FakeS3 {
  endpoint: string;
  /** Connections the fake has seen close (the client gave up and hung up). */
  closed(): number;
  close(): Promise<void>;
}

/** A loopback HTTP server that answers S3 requests with `handle`. */
async function fakeS3(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<FakeS3> {
  const sockets = new Set<Socket>();
  let closed = 0;
  const server: Server = createServer(handle);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      closed++;
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    closed: () => closed,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

const open: Array<{ store: ObjectStore; fake: FakeS3 }> = [];
afterEach(async () => {
  for (const { store, fake } of open.splice(0)) {
    await store.close();
    await fake.close();
  }
});

/** The store under test, created without I/O (conditional writes known), with short bounds. */
async function storeOver(fake: FakeS3, deadlineMs = DEADLINE_MS, idleMs = IDLE_MS): Promise<ObjectStore> {
  const store = await createS3Store({
    endpoint: fake.endpoint,
    bucket: BUCKET,
    forcePathStyle: true,
    accessKeyId: 'AK',
    secretAccessKey: 'SK',
    conditionalWrites: { enforced: true, ifMatch: 'quoted' },
    partSizeBytes: 5 * 1024 * 1024,
    deadlineMs,
    idleTimeoutMs: idleMs,
  });
  open.push({ store, fake });
  return store;
}

/** Expects `call` to fail with STORAGE_UNAVAILABLE within `withinMs`, naming no storage detail. */
async function expectUnavailableWithin(call: () => Promise<unknown>, withinMs: number, fake: FakeS3): Promise<void> {
  const started = Date.now();
  const error = await call().then(
    () => null,
    (err: unknown) => err,
  );
  const elapsed = Date.now() - started;
  expect(error).toMatchObject({ code: 'STORAGE_UNAVAILABLE', status: 503 });
  expect(elapsed).toBeLessThan(withinMs);
  const { message, hint } = error as { message: string; hint: string };
  for (const detail of [fake.endpoint, BUCKET, '127.0.0.1']) {
    expect(message).not.toContain(detail);
    expect(hint).not.toContain(detail);
  }
  // The log keeps the detail, through the cause.
  expect(String((error as Error).cause)).toContain(BUCKET);
}

describe('an S3 backend that accepts connections and never answers', () => {
  it('fails every metadata call within the deadline, retries included', async () => {
    const fake = await fakeS3(() => undefined);
    const store = await storeOver(fake);
    const bound = DEADLINE_MS + 1_500;
    await expectUnavailableWithin(() => store.put('records/a.json', '{}'), bound, fake);
    await expectUnavailableWithin(() => store.put('records/b.json', '{}', { ifNoneMatch: '*' }), bound, fake);
    await expectUnavailableWithin(() => store.getBuffer('records/a.json'), bound, fake);
    await expectUnavailableWithin(() => store.head('records/a.json'), bound, fake);
    await expectUnavailableWithin(() => store.delete('records/a.json'), bound, fake);
    await expectUnavailableWithin(() => listKeys(store, 'records/'), bound, fake);
    await expectUnavailableWithin(() => store.get('blobs/x', { range: { start: 0, end: 9 } }), bound, fake);
    await expectUnavailableWithin(() => store.ping(), bound, fake);
  });

  it('fails a staged upload whose parts get no answer within the idle time and the deadline', async () => {
    // The multipart upload starts; its parts are never answered.
    const fake = await fakeS3((req, res) => {
      if (req.method === 'POST' && new URL(req.url ?? '/', 'http://x').searchParams.has('uploads')) {
        res.end('<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>');
      }
    });
    const store = await storeOver(fake);
    const staged = store.stage('blobs/staged');
    staged.stream.on('error', () => undefined);
    staged.stream.end(Buffer.alloc(6 * 1024 * 1024, 1));
    // The part: idle time (or, once the connection took it all, idle time plus deadline); then
    // the abort of the upload, itself a metadata call that gets no answer.
    await expectUnavailableWithin(() => staged.commit(), IDLE_MS + 2 * DEADLINE_MS + 1_500, fake);
  });
});

describe('an S3 backend that sends the headers of a download, then stalls its body', () => {
  it('fails the read within the idle time and closes the connection', async () => {
    const fake = await fakeS3((_req, res) => {
      res.writeHead(200, { 'Content-Length': '1000000', ETag: '"abc"', 'Last-Modified': new Date().toUTCString() });
      res.write(Buffer.alloc(1000, 1));
    });
    const store = await storeOver(fake);
    const read = await store.get('blobs/stalls');
    if (!read) throw new Error('no object');
    const closedBefore = fake.closed();
    await expectUnavailableWithin(() => buffer(read.body), IDLE_MS + 1_500, fake);
    await expect.poll(() => fake.closed()).toBeGreaterThan(closedBefore);
  });

  it('does not count the time a slow reader holds the body back', async () => {
    const body = Buffer.alloc(4 * 1024 * 1024, 7);
    const fake = await fakeS3((_req, res) => {
      res.writeHead(200, { 'Content-Length': String(body.length), ETag: '"abc"' });
      res.end(body);
    });
    const store = await storeOver(fake);
    const read = await store.get('blobs/slow-reader');
    if (!read) throw new Error('no object');
    // The reader takes nothing for twice the idle time, then everything.
    await new Promise((resolve) => setTimeout(resolve, 2 * IDLE_MS));
    expect((await buffer(read.body)).equals(body)).toBe(true);
  });
});

describe('an S3 backend that is slow but keeps moving', () => {
  it('completes an upload part that takes longer than the idle time in all', async () => {
    let partBytes = 0;
    const fake = await fakeS3((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'POST' && url.searchParams.has('uploads')) {
        res.end('<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>');
        return;
      }
      if (req.method === 'PUT' && url.searchParams.has('partNumber')) {
        // 3 MiB/s: the 5 MiB part takes well over the idle time, with bytes moving all along.
        req.on('data', (chunk: Buffer) => {
          partBytes += chunk.length;
          req.pause();
          setTimeout(() => req.resume(), (chunk.length / (3 * 1024 * 1024)) * 1000);
        });
        req.on('end', () => {
          res.writeHead(200, { ETag: '"part"' }).end();
        });
        return;
      }
      if (req.method === 'POST' && url.searchParams.has('uploadId')) {
        req.resume();
        req.on('end', () => {
          res.end('<CompleteMultipartUploadResult><ETag>"whole"</ETag></CompleteMultipartUploadResult>');
        });
        return;
      }
      res.writeHead(500).end();
    });
    // Loopback buffers take the whole part at once: the answer may take the time the backend
    // needs to read them, within the idle time plus the deadline after the last byte.
    const store = await storeOver(fake, 3_000);
    const staged = store.stage('blobs/slow-part');
    staged.stream.end(Buffer.alloc(5 * 1024 * 1024 + 10, 3));
    const started = Date.now();
    // The 10 bytes past the first part go up as a second part.
    await expect(staged.commit()).resolves.toEqual({ etag: 'whole' });
    expect(Date.now() - started).toBeGreaterThan(IDLE_MS);
    expect(partBytes).toBeGreaterThanOrEqual(5 * 1024 * 1024 + 10);
  });

  /** A backend whose first answer to an upload part is 503 SlowDown; `received` gets each part attempt's size. */
  function throttlingOnce(received: number[]): Promise<FakeS3> {
    return fakeS3((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'POST' && url.searchParams.has('uploads')) {
        res.end('<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>');
        return;
      }
      let bytes = 0;
      req.on('data', (chunk: Buffer) => (bytes += chunk.length));
      req.on('end', () => {
        if (req.method === 'PUT') {
          received.push(bytes);
          // The first attempt of the first part fails as a busy backend would.
          if (received.length === 1) res.writeHead(503).end('<Error><Code>SlowDown</Code></Error>');
          else res.writeHead(200, { ETag: '"part"' }).end();
          return;
        }
        res.end('<CompleteMultipartUploadResult><ETag>"whole"</ETag></CompleteMultipartUploadResult>');
      });
    });
  }

  it('sends a part again, whole, when its first attempt fails', async () => {
    const received: number[] = [];
    const fake = await throttlingOnce(received);
    const store = await storeOver(fake);
    const staged = store.stage('blobs/retried');
    staged.stream.end(Buffer.alloc(5 * 1024 * 1024, 9));
    await expect(staged.commit()).resolves.toEqual({ etag: 'whole' });
    expect(received).toEqual([5 * 1024 * 1024, 5 * 1024 * 1024]);
  });

  it("does not take the SDK's wait before a retry for a stall", async () => {
    // The SDK backs a throttled part off for random() x 1 s before its first retry: at 0.99, 990
    // ms, three times the idle time of this store.
    vi.spyOn(Math, 'random').mockReturnValue(0.99);
    try {
      const received: number[] = [];
      const store = await storeOver(await throttlingOnce(received), DEADLINE_MS, 300);
      const staged = store.stage('blobs/backed-off');
      staged.stream.end(Buffer.alloc(5 * 1024 * 1024, 4));
      const started = Date.now();
      await expect(staged.commit()).resolves.toEqual({ etag: 'whole' });
      expect(Date.now() - started).toBeGreaterThan(900);
      expect(received).toEqual([5 * 1024 * 1024, 5 * 1024 * 1024]);
    } finally {
      vi.restoreAllMocks();
    }
  });
});
