/**
 * Connections per client address. `server.maxConnections` keeps the process's descriptors for
 * the store; alone, it lets one client take all of them (4096 connections that each send a
 * request a minute, or a body at the 1 KiB/s floor, cost a client next to nothing) and lock every
 * other client out. So a connection past `limit` from one address is closed as soon as it is
 * accepted, the way a reverse proxy's per-address connection limit does; the others' connections
 * go on being accepted. The address is the TCP peer's: behind a proxy that is the proxy, hence no
 * cap by default there (config.ts).
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';

/** At most one warning per this long: a client being refused would otherwise fill the log. */
const WARN_EVERY_MS = 60_000;

/** Closes a connection from an address that already holds `limit` of them; 0: no cap. */
export function limitConnectionsPerAddress(server: Server, limit: number, logger: Logger): void {
  if (limit <= 0) return;
  const held = new Map<string, number>();
  let refused = 0;
  let warnedAt = -Infinity;
  // Before node's own listener: a refused connection gets no HTTP parser.
  server.prependListener('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const count = held.get(address) ?? 0;
    if (count >= limit) {
      refused++;
      if (Date.now() - warnedAt >= WARN_EVERY_MS) {
        warnedAt = Date.now();
        logger.warn(
          { address, held: count, refused },
          `closed connections of ${address}: it holds ${count} (server.maxConnectionsPerAddress)`,
        );
        refused = 0;
      }
      socket.destroy();
      return;
    }
    held.set(address, count + 1);
    socket.once('close', () => {
      const left = (held.get(address) ?? 1) - 1;
      if (left > 0) held.set(address, left);
      else held.delete(address);
    });
  });
}
