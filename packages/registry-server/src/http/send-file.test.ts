import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { createServer, get, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendFile } from './send-file.js';

let dir: string;
let file: string;
const bytes = randomBytes(5 * 1024 * 1024 + 333);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'packyard-send-file-'));
  file = path.join(dir, 'archive.zip');
  await writeFile(file, bytes);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A loopback server whose one response is written by `respond`; resolves with its outcome. */
async function serve(respond: (res: ServerResponse) => Promise<unknown>) {
  let outcome!: Promise<unknown>;
  const server: Server = createServer((_req, res) => {
    outcome = respond(res).then(
      (value) => {
        res.end();
        return value;
      },
      (err: unknown) => {
        res.destroy();
        return err;
      },
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, outcome: () => outcome, close: () => server.close() };
}

function download(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        resolve(Buffer.concat(chunks));
      });
      res.on('error', reject);
    }).on('error', reject);
  });
}

describe('sendFile', () => {
  it.each([
    [0, bytes.length - 1],
    [1024 * 1024 - 1, 3 * 1024 * 1024 + 5],
    [17, 17],
  ])('sends bytes %i to %i exactly', async (start, end) => {
    const server = await serve((res) => sendFile(file, res, { start, end }));
    try {
      const body = await download(server.url);
      expect(body.equals(bytes.subarray(start, end + 1))).toBe(true);
      expect(await server.outcome()).toBe(end - start + 1);
    } finally {
      server.close();
    }
  });

  it('sends from a descriptor it is given, and closes it', async () => {
    const handle = await open(file, 'r');
    const server = await serve((res) => sendFile(handle, res, { start: 5, end: 2 * 1024 * 1024 }));
    try {
      const body = await download(server.url);
      expect(body.equals(bytes.subarray(5, 2 * 1024 * 1024 + 1))).toBe(true);
      expect(await server.outcome()).toBe(2 * 1024 * 1024 - 4);
      // A closed FileHandle reports fd -1.
      expect(handle.fd).toBe(-1);
    } finally {
      server.close();
    }
  });

  it('fails when the file is shorter than the range', async () => {
    const server = await serve((res) => sendFile(file, res, { start: 0, end: bytes.length + 10 }));
    try {
      await download(server.url).catch(() => undefined);
      expect(await server.outcome()).toMatchObject({ message: /ended at byte/ });
    } finally {
      server.close();
    }
  });

  it('stops when the client goes away', async () => {
    const large = path.join(dir, 'large.zip');
    await writeFile(large, Buffer.alloc(64 * 1024 * 1024));
    const server = await serve((res) => sendFile(large, res, { start: 0, end: 64 * 1024 * 1024 - 1 }));
    try {
      await new Promise<void>((resolve) => {
        const request = get(server.url, (res) => {
          res.once('data', () => {
            request.destroy();
            resolve();
          });
        });
        request.on('error', () => undefined);
      });
      expect(await server.outcome()).toMatchObject({ message: /closed before the file was sent/ });
    } finally {
      server.close();
    }
  });
});
