/**
 * The S3 driver's own small-object requests against a loopback fake: what they send (the path,
 * signed headers, conditions), which answers they try again, and the errors they give, which
 * ./errors.ts must read as it reads the AWS SDK's. (Against real S3 services they run in the
 * store's conformance suite: s3rver and Ceph RGW.)
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { StorageTimeoutError, withDeadline } from '../watchdog.js';
import { httpStatus, isConditionFailure, isNotFound, isUnavailable } from './errors.js';
import { objectRequests, type ObjectRequests } from './object-requests.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server | null = null;
let requests: ObjectRequests | null = null;

afterEach(async () => {
  requests?.close();
  requests = null;
  server?.closeAllConnections();
  await new Promise<void>((resolve) => {
    if (server) {
      server.close(() => {
        resolve();
      });
    } else resolve();
  });
  server = null;
});

/** A fake S3 answering the n-th request (from 0) with `answer(n, seen)`; resolves with the requests seen. */
async function fake(answer: (n: number, seen: Seen, res: ServerResponse) => void): Promise<Seen[]> {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const one = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(one);
      answer(seen.length - 1, one, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  requests = objectRequests({
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket: 'bucket',
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: () => Promise.resolve({ accessKeyId: 'AKID', secretAccessKey: 'SECRET', sessionToken: 'TOKEN' }),
  });
  return seen;
}

function s3Error(res: ServerResponse, status: number, code: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>m</Message></Error>`);
}

const signal = () => new AbortController().signal;

describe('small object requests', () => {
  it('sends a signed, conditional put to the path-style key, and gives the ETag unquoted', async () => {
    const seen = await fake((_n, _seen, res) => {
      res.writeHead(200, { etag: '"abc123"' });
      res.end();
    });
    const put = await requests?.put(
      'pre/fix/a@b+c=d%e~f',
      Buffer.from('{"a":1}'),
      { 'content-type': 'application/json', 'if-none-match': '*' },
      signal(),
    );
    expect(put).toEqual({ etag: 'abc123' });
    const [request] = seen;
    expect(request).toMatchObject({ method: 'PUT', url: '/bucket/pre/fix/a%40b%2Bc%3Dd%25e~f', body: '{"a":1}' });
    expect(request?.headers).toMatchObject({
      'content-type': 'application/json',
      'if-none-match': '*',
      'content-length': '7',
      'x-amz-security-token': 'TOKEN',
      'x-amz-content-sha256': '015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862',
    });
    expect(request?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKID\/\d{8}\/us-east-1\/s3\/aws4_request, SignedHeaders=[a-z0-9;-]*if-none-match[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
  });

  it('tries an unavailable backend again (Ceph answers some losers of an If-Match race 500), up to three times', async () => {
    const seen = await fake((n, _seen, res) => {
      if (n < 2) s3Error(res, 500, 'InternalError');
      else s3Error(res, 412, 'PreconditionFailed');
    });
    const failed = await requests
      ?.put('k', Buffer.from('x'), { 'if-match': 'e' }, signal())
      .catch((err: unknown) => err);
    expect(seen).toHaveLength(3);
    expect(isConditionFailure(failed)).toBe(true);
    expect(failed).toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
  });

  it('gives up on a backend that stays unavailable after three tries, with its error', async () => {
    const seen = await fake((_n, _seen, res) => {
      s3Error(res, 503, 'SlowDown');
    });
    const unavailable = await requests?.get('k', signal()).catch((err: unknown) => err);
    expect(seen).toHaveLength(3);
    expect(isUnavailable(unavailable)).toBe(true);
    expect((unavailable as Error).name).toBe('SlowDown');
  });

  it('sends a delete asked to go once a single time, whatever the answer', async () => {
    const seen = await fake((_n, _seen, res) => {
      s3Error(res, 503, 'SlowDown');
    });
    const once = await requests?.delete('k', signal(), true).catch((err: unknown) => err);
    expect(seen).toHaveLength(1);
    expect(isUnavailable(once)).toBe(true);
    await requests?.delete('k', signal()).catch(() => undefined);
    expect(seen).toHaveLength(4);
  });

  it('does not try a refusal again, and names a missing object as the SDK does', async () => {
    const seen = await fake((_n, { method }, res) => {
      if (method === 'HEAD') {
        res.writeHead(404);
        res.end();
      } else s3Error(res, 404, 'NoSuchKey');
    });
    const missing = await requests?.get('gone', signal()).catch((err: unknown) => err);
    expect(missing).toMatchObject({ name: 'NoSuchKey' });
    expect(isNotFound(missing)).toBe(true);
    const headless = await requests?.head('gone', signal()).catch((err: unknown) => err);
    expect(httpStatus(headless)).toBe(404);
    expect(isNotFound(headless)).toBe(true);
    expect(seen).toHaveLength(2);
  });

  it('reads an object and its facts', async () => {
    await fake((_n, { method }, res) => {
      res.writeHead(200, { etag: '"e1"', 'content-length': '5', 'last-modified': 'Tue, 01 Dec 2026 10:00:00 GMT' });
      res.end(method === 'HEAD' ? undefined : 'hello');
    });
    const read = await requests?.get('k', signal());
    expect(read?.body.toString()).toBe('hello');
    expect(read?.etag).toBe('e1');
    expect(await requests?.head('k', signal())).toEqual({
      size: 5,
      etag: 'e1',
      lastModified: new Date('2026-12-01T10:00:00Z'),
    });
  });

  it('ends with the deadline, failing with its reason, and never tries again after it', async () => {
    const seen = await fake(() => undefined); // never answers
    const began = Date.now();
    const stalled = await withDeadline(
      300,
      (abortSignal) => requests?.delete('k', abortSignal) ?? Promise.resolve(),
    ).catch((err: unknown) => err);
    expect(stalled).toBeInstanceOf(StorageTimeoutError);
    expect(Date.now() - began).toBeLessThan(3_000);
    expect(seen).toHaveLength(1);
  });

  it('gives a refused connection as the network error it is, after trying again', async () => {
    await fake(() => undefined);
    const address = server?.address();
    server?.close();
    server = null;
    if (address === null || address === undefined || typeof address === 'string') throw new Error('no port');
    const closed = objectRequests({
      endpoint: `http://127.0.0.1:${address.port}`,
      bucket: 'bucket',
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: () => Promise.resolve({ accessKeyId: 'AKID', secretAccessKey: 'SECRET' }),
    });
    try {
      const refused = await closed.head('k', signal()).catch((err: unknown) => err);
      expect(refused).toMatchObject({ code: 'ECONNREFUSED' });
      expect(isUnavailable(refused)).toBe(true);
    } finally {
      closed.close();
    }
  });
});
