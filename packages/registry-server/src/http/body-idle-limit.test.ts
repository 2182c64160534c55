/**
 * A request body that stops coming, outside /v2: its connection is closed after the idle limit,
 * whatever the route (a JSON body, a publish), and a publish's temporary file goes with it.
 */
import { readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenOnLoopback, type ListeningApp } from '../test-support/listening-app.js';
import { ADMIN_TOKEN, startTestRegistry, type TestRegistry } from '../test-support/test-registry.js';

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

describe('request bodies that stop coming', () => {
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

  it('closes the connection of a JSON body that sends nothing more', async () => {
    const head = 'POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000';
    const ms = await stallAfter(port, head, '{');
    expect(ms).toBeGreaterThan(900);
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
