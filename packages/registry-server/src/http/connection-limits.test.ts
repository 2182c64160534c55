import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { limitConnectionsPerAddress } from './connection-limits.js';

let server: Server | null = null;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = null;
});

/** A connection from `from` (another loopback address is another client) that sends nothing. */
async function idle(port: number, from: string): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1', localAddress: from });
  socket.on('error', () => undefined);
  sockets.push(socket);
  await new Promise((resolve) => socket.once('connect', resolve));
  return socket;
}

/** A request from `from` on a connection of its own: its status, or the error that ended it. */
function get(port: number, from: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request({ port, host: '127.0.0.1', localAddress: from, path: '/', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      resolve(err.code ?? err.message);
    });
    req.end();
  });
}

describe('limitConnectionsPerAddress', () => {
  it("closes an address's connections past the cap, serves other addresses, and frees a slot when one goes", async () => {
    server = createServer((_req, res) => res.end('ok'));
    limitConnectionsPerAddress(server, 2, pino({ level: 'silent' }));
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const first = await idle(port, '127.0.0.1');
    await idle(port, '127.0.0.1');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await get(port, '127.0.0.1')).toMatch(/ECONNRESET|socket hang up/);
    // Another client is not locked out by the first one's connections.
    expect(await get(port, '127.0.0.2')).toBe(200);
    first.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await get(port, '127.0.0.1')).toBe(200);
  });

  it('caps nothing at 0', async () => {
    server = createServer((_req, res) => res.end('ok'));
    limitConnectionsPerAddress(server, 0, pino({ level: 'silent' }));
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    for (let i = 0; i < 5; i++) await idle(port, '127.0.0.1');
    expect(await get(port, '127.0.0.1')).toBe(200);
  });
});
