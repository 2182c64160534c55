/**
 * A registry whose S3 backend stalls (issue 11): requests that need storage answer 503
 * STORAGE_UNAVAILABLE with Retry-After within seconds, a download whose body stalls is cut off,
 * no answer shows the endpoint or the bucket, and service resumes when the backend does. The
 * backend is an s3rver behind a loopback proxy that can stop passing answers on.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  AUTH,
  buildTestPack,
  startTestRegistry,
  tempDir,
  type TestPack,
  type TestRegistry,
} from '../test-support/test-registry.js';

type Mode = 'pass' | 'blackhole' | 'stall-body';

/**
 * A TCP proxy to `target`. Requests always go through; answers are passed on ('pass'), dropped
 * ('blackhole': the backend never answers), or cut after their first 64 KiB ('stall-body': small
 * answers and the headers of large ones arrive, then a large body stops).
 */
async function switchableProxy(target: string): Promise<{
  endpoint: string;
  set(mode: Mode): void;
  close(): Promise<void>;
}> {
  const { hostname, port } = new URL(target);
  let mode: Mode = 'pass';
  /** Bumped at every switch: each connection's budget starts again then. */
  let switches = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    let budget = 0;
    let seen = -1;
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (mode === 'pass') client.write(chunk);
      else if (mode === 'stall-body') {
        if (seen !== switches) {
          seen = switches;
          budget = 64 * 1024;
        }
        const part = chunk.subarray(0, Math.max(0, budget));
        budget -= part.length;
        if (part.length > 0) client.write(part);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    set: (next) => {
      mode = next;
      switches++;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('a registry whose S3 backend stalls', () => {
  let proxy: Awaited<ReturnType<typeof switchableProxy>>;
  let registry: TestRegistry;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let pack: TestPack;
  const bucket = `packyard-stall-${randomBytes(5).toString('hex')}`;
  const url = '/v1/registries/public/packs/stalled/1.0.0';

  beforeAll(async () => {
    proxy = await switchableProxy(inject('s3rverEndpoint'));
    registry = await startTestRegistry('s3rver', {
      config: {
        storage: {
          driver: 's3',
          s3: {
            endpoint: proxy.endpoint,
            bucket,
            forcePathStyle: true,
            createBucket: true,
            accessKeyId: 'S3RVER',
            secretAccessKey: 'S3RVER',
            deadlineSeconds: 1,
            idleSeconds: 1,
          },
        },
        // Every read goes to the bucket.
        blobCache: { maxBytes: 0 },
      },
    });
    work = await tempDir();
    pack = await buildTestPack(work.dir, {
      name: 'stalled',
      version: '1.0.0',
      files: { 'data/big.bin': randomBytes(4 * 1024 * 1024) },
    });
    const res = await request(registry.app).post('/v1/registries/public/packs').set(AUTH).send(pack.bytes);
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    proxy.set('pass');
    await registry.close();
    await proxy.close();
    await work.cleanup();
  });

  /** Expects a 503 STORAGE_UNAVAILABLE with Retry-After within 4 s, naming no storage detail. */
  async function expectUnavailable(call: () => request.Test): Promise<void> {
    const started = Date.now();
    const res = await call();
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toMatchObject({ error: { code: 'STORAGE_UNAVAILABLE' } });
    expect(typeof res.body.error.hint).toBe('string');
    const text = JSON.stringify(res.body);
    for (const detail of [proxy.endpoint, bucket, '127.0.0.1', 's3 ', 'Request aborted']) {
      expect(text).not.toContain(detail);
    }
  }

  it('answers 503 within seconds when the backend never answers, naming no endpoint or bucket', async () => {
    proxy.set('blackhole');
    try {
      await expectUnavailable(() => request(registry.app).get(`${url}/archive`).set(AUTH));
      // A single file: the zip reader's failure is the storage's, not an unreadable archive (422).
      await expectUnavailable(() => request(registry.app).get(`${url}/files/README.md`).set(AUTH));
      await expectUnavailable(() =>
        request(registry.app).post('/v1/registries/public/packs').set(AUTH).send(pack.bytes),
      );
      const ready = await request(registry.app).get('/readyz');
      expect(ready.status).toBe(503);
      expect(JSON.stringify(ready.body)).not.toContain(bucket);
      expect(JSON.stringify(ready.body)).not.toContain(proxy.endpoint);
    } finally {
      proxy.set('pass');
    }
  });

  it('cuts off a download whose body stalls after the headers', async () => {
    const server = registry.app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    proxy.set('stall-body');
    try {
      const res = await fetch(`${base}${url}/archive`, { headers: AUTH });
      expect(res.status).toBe(200);
      const started = Date.now();
      await expect(res.arrayBuffer()).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(4_000);
    } finally {
      proxy.set('pass');
      server.closeAllConnections();
      server.close();
    }
  });

  it('serves again as soon as the backend answers', async () => {
    const res = await request(registry.app).get(`${url}/files/README.md`).set(AUTH);
    expect(res.status).toBe(200);
    const archive = await request(registry.app).get(`${url}/archive`).set(AUTH).buffer(true);
    expect(archive.status).toBe(200);
  });
});
