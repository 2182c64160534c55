// @ts-check
/**
 * The HTTP calls the peers bench makes, one small layer over node:http: a request with a buffer
 * or a file streamed as its body (answer text kept), a GET whose body is counted and dropped, and
 * keep-alive agents (one per registry), as npm, docker and packctl keep their connections.
 */
import { createReadStream } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

/** A keep-alive agent for one registry's client connections. */
export const keepAliveAgent = () => new http.Agent({ keepAlive: true, maxSockets: 64 });

/**
 * @typedef {{ status: number, text: string, headers: import('node:http').IncomingHttpHeaders, seconds: number }} Answer
 */

/**
 * Sends a request; the body is a buffer, a `{ file, size }` streamed from disk, or none.
 * @param {string} method
 * @param {string} url
 * @param {{ headers?: Record<string, string>, body?: Buffer | { file: string, size: number }, agent?: http.Agent, timeoutMs?: number }} [init]
 * @returns {Promise<Answer>}
 */
export async function send(method, url, init = {}) {
  try {
    return await sendOnce(method, url, init);
  } catch (err) {
    // A kept-alive socket the server closed just as it was reused (its keep-alive timeout ran out
    // while the bench waited for another registry): the request never reached the server, so it
    // goes again once, on a new connection (Node's documented remedy, `req.reusedSocket`).
    if (!(err instanceof ReusedSocketReset)) throw err;
    return sendOnce(method, url, init);
  }
}

/** A reset on a reused keep-alive socket before any answer. */
class ReusedSocketReset extends Error {}

/** @param {string} method @param {string} url @param {NonNullable<Parameters<typeof send>[2]>} init @returns {Promise<Answer>} */
function sendOnce(method, url, init) {
  const start = performance.now();
  const body = init.body;
  /** @type {Record<string, string>} */
  const headers = { ...init.headers };
  if (body !== undefined) headers['Content-Length'] = String(Buffer.isBuffer(body) ? body.length : body.size);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: init.agent ?? false });
    let answered = false;
    req.once('error', (/** @type {NodeJS.ErrnoException} */ err) => {
      reject(
        !answered && req.reusedSocket && err.code === 'ECONNRESET'
          ? new ReusedSocketReset(err.message, { cause: err })
          : err,
      );
    });
    if (init.timeoutMs !== undefined) {
      req.setTimeout(init.timeoutMs, () =>
        req.destroy(new Error(`${method} ${url}: no answer in ${init.timeoutMs} ms`)),
      );
    }
    req.once('response', (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8').on('data', (/** @type {string} */ chunk) => (text += chunk));
      res.once('error', reject);
      res.once('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          text,
          headers: res.headers,
          seconds: (performance.now() - start) / 1000,
        }),
      );
    });
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else createReadStream(body.file).once('error', reject).pipe(req);
  });
}

/**
 * `send`, and an error with the answer's start unless its status is one of `ok`.
 * @param {string} what
 * @param {number[]} ok
 * @param {Parameters<typeof send>} args
 */
export async function sendExpecting(what, ok, ...args) {
  // A connection that fails says which registry and which call (the bare error names neither).
  const answer = await send(...args).catch((/** @type {Error} */ err) => {
    throw new Error(`${what}: ${err.message}`, { cause: err });
  });
  if (!ok.includes(answer.status)) throw new Error(`${what}: answered ${answer.status}: ${answer.text.slice(0, 400)}`);
  return answer;
}

/**
 * GETs a URL and counts the body's bytes without keeping them; an error unless it is 200 with
 * `size` bytes.
 * @param {string} what
 * @param {string} url
 * @param {number} size
 * @param {{ headers?: Record<string, string>, agent?: http.Agent }} [init]
 * @returns {Promise<number>} seconds
 */
export function fetchCounting(what, url, size, init = {}) {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: init.headers, agent: init.agent ?? false }, (res) => {
        let bytes = 0;
        res.on('data', (/** @type {Buffer} */ chunk) => (bytes += chunk.length));
        res.once('error', (/** @type {Error} */ err) => reject(new Error(`${what}: ${err.message}`, { cause: err })));
        res.once('end', () => {
          if (res.statusCode !== 200 || bytes !== size) {
            reject(new Error(`${what}: answered ${res.statusCode} with ${bytes} of ${size} bytes`));
          } else resolve((performance.now() - start) / 1000);
        });
      })
      .once('error', (/** @type {Error} */ err) => reject(new Error(`${what}: ${err.message}`, { cause: err })));
  });
}
