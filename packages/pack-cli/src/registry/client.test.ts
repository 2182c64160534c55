import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { discard, readText } from './bounded-body.js';
import { DEADLINES, RegistryClient } from './client.js';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

/** A loopback server that records every request and answers with `handler`. */
async function recordingServer(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, seen, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

let registry: Awaited<ReturnType<typeof recordingServer>>;
let elsewhere: Awaited<ReturnType<typeof recordingServer>>;

beforeAll(async () => {
  elsewhere = await recordingServer((_req, res) => res.writeHead(200).end('bytes from elsewhere'));
  const redirects = new Map([
    ['/away', `${elsewhere.url}/took`],
    ['/here', '/v1/auth/me'],
    ['/loop', '/loop'],
    ['/plain-remote', 'http://packs.example.invalid/archive'],
  ]);
  registry = await recordingServer((req, res) => {
    const url = req.url ?? '';
    const location = url.endsWith('/archive')
      ? `${elsewhere.url}/bucket/object?X-Amz-Signature=abc`
      : redirects.get(url);
    if (location !== undefined) res.writeHead(307, { Location: location }).end();
    else res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
  });
});
beforeEach(() => {
  registry.seen.length = 0;
  elsewhere.seen.length = 0;
});
afterAll(() => {
  registry.server.close();
  elsewhere.server.close();
});

const tls = { insecure: false };

describe('RegistryClient redirects', () => {
  it('refuses a credentialed JSON request redirected to another origin, sending it nothing', async () => {
    const client = RegistryClient.connect(registry.url, tls, 'pya_secret');
    await expect(client.json('GET', '/away', 'asking')).rejects.toThrow(
      `${registry.url} redirected GET /away to ${elsewhere.url}, another server`,
    );
    expect(elsewhere.seen).toEqual([]);
  });

  it('refuses to send a password body to another origin', async () => {
    const client = RegistryClient.connect(registry.url, tls);
    const body = { username: 'alice', password: 'hunter2 hunter2' };
    await expect(client.json('POST', '/away', 'logging in', body)).rejects.toThrow('with your credentials or password');
    expect(elsewhere.seen).toEqual([]);
    expect(registry.seen).toHaveLength(1);
  });

  it('follows a redirect within the origin with the credential, and resends a JSON body on a 307', async () => {
    const client = RegistryClient.connect(registry.url, tls, 'pya_secret');
    expect(await client.json('GET', '/here', 'asking')).toEqual({ ok: true });
    expect(registry.seen.map((s) => [s.url, s.authorization])).toEqual([
      ['/here', 'Bearer pya_secret'],
      ['/v1/auth/me', 'Bearer pya_secret'],
    ]);
    registry.seen.length = 0;
    await client.json('POST', '/here', 'asking', { a: 1 });
    expect(registry.seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ['POST', '/here', '{"a":1}'],
      ['POST', '/v1/auth/me', '{"a":1}'],
    ]);
  });

  it('follows a download to another origin without the Authorization header', async () => {
    const client = RegistryClient.connect(registry.url, tls, 'pya_secret');
    const res = await client.send('GET', client.api.archivePath('public', 'cni-calico', '3.27.2'), {
      otherOrigins: true,
    });
    expect(await readText(res, { what: 'downloading' })).toBe('bytes from elsewhere');
    expect(registry.seen[0]?.authorization).toBe('Bearer pya_secret');
    expect(elsewhere.seen).toEqual([
      { method: 'GET', url: '/bucket/object?X-Amz-Signature=abc', authorization: undefined, body: '' },
    ]);
  });

  it('refuses a download redirected to plain HTTP on a remote host, and redirect loops', async () => {
    const client = RegistryClient.connect(registry.url, tls, 'pya_secret');
    await expect(client.send('GET', '/plain-remote', { otherOrigins: true })).rejects.toThrow('which is not https');
    registry.seen.length = 0;
    await expect(client.send('GET', '/loop')).rejects.toThrow('more than 5 times');
    // The first request and five redirects followed.
    expect(registry.seen.length).toBe(6);
  });

  it('refuses "." and ".." as path segments, which URL parsing would resolve', () => {
    const api = RegistryClient.connect(registry.url, tls).api;
    expect(() => api.packPath('..', 'x')).toThrow('not a valid registry name');
    expect(() => api.packPath('public', 'cni-calico', '..')).toThrow('not a valid version');
    expect(api.packPath('public', 'cni-calico', '3.27.x')).toBe('/v1/registries/public/packs/cni-calico/3.27.x');
  });
});

describe('RegistryClient errors', () => {
  it('reads an error envelope with a small cap and reports the status past it', async () => {
    const big = await recordingServer((_req, res) => {
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'X', message: 'y'.repeat(1024 * 1024) } }));
    });
    try {
      const client = RegistryClient.connect(big.url, tls);
      const res = await client.send('GET', '/');
      await expect(client.check(res, 'asking')).rejects.toThrow(/^asking: 500 Internal Server Error$/);
      await discard(res);
    } finally {
      big.server.close();
    }
  });
});

describe('RegistryClient deadlines', () => {
  it('gives up on a server that sends 103 Early Hints for ever and never answers', async () => {
    const timers: NodeJS.Timeout[] = [];
    const server = createServer((_req, res) => {
      // Each interim answer restarts the HTTP client's own header timeout.
      timers.push(
        setInterval(() => {
          res.writeEarlyHints({ link: '</x>; rel=preload' });
        }, 50),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const saved = DEADLINES.answerMs;
    DEADLINES.answerMs = 400;
    try {
      const client = RegistryClient.connect(url, tls, 'pya_secret');
      const started = Date.now();
      await expect(client.json('GET', '/v1/search', 'searching')).rejects.toMatchObject({
        message: `${url} did not answer GET /v1/search within 400 ms: given up`,
        hint: expect.stringContaining('try again') as string,
      });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      DEADLINES.answerMs = saved;
      for (const timer of timers) clearInterval(timer);
      server.closeAllConnections();
      server.close();
    }
  });
});
