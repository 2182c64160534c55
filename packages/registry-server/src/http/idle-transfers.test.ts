/**
 * Transfers that stop: a request body that stops coming (outside /v2) and an answer the client
 * stops taking close their connection after the idle limit, whatever the route, and a publish's
 * temporary file goes with it.
 */
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { get } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenOnLoopback, type ListeningApp } from '../test-support/listening-app.js';
import request from 'supertest';
import {
  ADMIN_TOKEN,
  AUTH,
  buildTestPack,
  startTestRegistry,
  tempDir,
  type TestRegistry,
} from '../test-support/test-registry.js';

/** Sends `head` and the first bytes of a body, then nothing; resolves with ms until the server closes. */
function stallAfter(port: number, head: string, firstBytes: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`${head}\r\n\r\n${firstBytes}`);
    });
    const start = performance.now();
    socket.on('error', () => undefined);
    socket.on('close', () => {
      resolve(performance.now() - start);
    });
    setTimeout(() => {
      socket.destroy();
      reject(new Error('the server kept a stalled body open for 20 s'));
    }, 20_000).unref();
  });
}

/**
 * Sends `head`, then `body` a byte every `everyMs`, and `after` (the client's own bound); resolves
 * with ms until the server closes the connection, or rejects if it is still open after `patienceMs`.
 */
function trickle(port: number, head: string, everyMs: number, patienceMs = 20_000): Promise<number> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`${head}\r\n\r\n`);
      timer = setInterval(() => socket.write(' '), everyMs);
    });
    const start = performance.now();
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve(performance.now() - start);
    });
    setTimeout(() => {
      clearInterval(timer);
      socket.destroy();
      reject(new Error(`the server kept a trickling body open for ${patienceMs} ms`));
    }, patienceMs).unref();
  });
}

describe('transfers that stop', () => {
  let registry: TestRegistry;
  let listening: ListeningApp;
  let port: number;

  beforeAll(async () => {
    registry = await startTestRegistry('fs', { config: { oci: { bodyIdleSeconds: 1 } } });
    listening = await listenOnLoopback(registry.app);
    port = (listening.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await listening.close();
    await registry.close();
  });

  it('closes the connection of a download whose client stops reading', async () => {
    const work = await tempDir();
    try {
      // Incompressible and larger than the socket buffers on both sides of the loopback.
      const pack = await buildTestPack(work.dir, { name: 'big-one', files: { 'images/a.bin': randomBytes(24 << 20) } });
      await request(registry.app).post('/v1/registries/public/packs').set(AUTH).send(pack.bytes).expect(201);
      // Told on the server's side: the paused client does not read as far as the connection's end.
      const serverClosed = new Promise<number>((resolve) => {
        listening.server.once('request', (_req, res) => {
          const started = performance.now();
          res.once('close', () => {
            resolve(performance.now() - started);
          });
        });
      });
      const client = get(`http://127.0.0.1:${port}/v1/registries/public/packs/big-one/1.0.0/archive`, (res) => {
        res.once('data', () => res.pause());
        res.on('error', () => undefined);
      });
      client.on('error', () => undefined);
      const timeout = new Promise<never>((_resolve, reject) => {
        setTimeout(() => {
          reject(new Error('the server kept sending to a client that read nothing for 20 s'));
        }, 20_000).unref();
      });
      const closedAfter = await Promise.race([serverClosed, timeout]).finally(() => client.destroy());
      // The answer's limit is twice the body's: 2 s here.
      expect(closedAfter).toBeGreaterThan(1500);
    } finally {
      await work.cleanup();
    }
  });

  it('closes the connection of a JSON body that sends nothing more', async () => {
    const head = 'POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000';
    const ms = await stallAfter(port, head, '{');
    expect(ms).toBeGreaterThan(900);
  });

  it('closes the connection of a body that trickles a byte now and then, slower than the floor', async () => {
    // 1 KiB a second is the floor: a byte every 200 ms keeps a pause under the 1 s window, never the pace.
    const head = 'POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000';
    expect(await trickle(port, head, 200)).toBeGreaterThan(900);
  });

  it('closes the connection of a /v2/token form that sends nothing (the /v2 backstop: twice the window)', async () => {
    const head =
      'POST /v2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000';
    expect(await stallAfter(port, head, 'grant_type=')).toBeGreaterThan(1900);
  });

  it('closes the connection once answered when the unread rest of the body keeps trickling', async () => {
    const head = 'GET /v1/packs HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000';
    expect(await trickle(port, head, 200)).toBeGreaterThan(900);
  });

  it('closes a publish whose body stalls, leaving no temporary file', async () => {
    const head = [
      'POST /v1/registries/public/packs HTTP/1.1',
      'Host: x',
      `Authorization: Bearer ${ADMIN_TOKEN}`,
      'Content-Type: application/zip',
      'Content-Length: 1000000',
    ].join('\r\n');
    await stallAfter(port, head, 'PK\u0003\u0004');
    const uploads = registry.services.uploadDir;
    for (let tries = 0; tries < 50 && (await readdir(uploads).catch(() => [])).length > 0; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await readdir(uploads).catch(() => [])).toEqual([]);
  });
});
