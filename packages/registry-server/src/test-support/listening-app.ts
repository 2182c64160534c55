/**
 * An app listening on a loopback port for a whole test file. Given the express app itself,
 * supertest starts and closes a server for every request; a file that sends hundreds of requests
 * passes `server` to supertest instead.
 */
import { once } from 'node:events';
import type { RequestListener, Server } from 'node:http';
import { createServer } from 'node:http';

export interface ListeningApp {
  server: Server;
  close(): Promise<void>;
}

export async function listenOnLoopback(app: RequestListener): Promise<ListeningApp> {
  const server = createServer(app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    close: async () => {
      // supertest's requests keep their connections alive: end them with the server.
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await closed;
    },
  };
}
