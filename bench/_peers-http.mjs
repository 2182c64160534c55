// @ts-check
/**
 * The HTTP calls the peers bench makes, one small layer over node:http: a request with a buffer
 * or a file streamed as its body (answer text kept), and keep-alive agents (one per registry), as
 * npm, docker and packctl keep their connections; and downloads, timed by curl.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

/** A keep-alive agent for one registry's client connections. */
export const keepAliveAgent = () => new http.Agent({ keepAlive: true, maxSockets: 64 });

/**
 * @typedef {{ status: number, text: string, headers: import('node:http').IncomingHttpHeaders, seconds: number }} Answer
 */

/**
 * Sends a request; the body is a buffer, a `{ file, size }` streamed from disk (by curl), or none.
 * @param {string} method
 * @param {string} url
 * @param {{ headers?: Record<string, string>, body?: Buffer | { file: string, size: number }, agent?: http.Agent, timeoutMs?: number }} [init]
 * @returns {Promise<Answer>}
 */
export async function send(method, url, init = {}) {
  const { body } = init;
  if (body !== undefined && !Buffer.isBuffer(body)) {
    return sendFileWithCurl(method, url, init.headers ?? {}, body.file, init.timeoutMs);
  }
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
  // A file body went to curl (send).
  const body = /** @type {Buffer | undefined} */ (init.body);
  /** @type {Record<string, string>} */
  const headers = { ...init.headers };
  if (body !== undefined) headers['Content-Length'] = String(body.length);
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
    req.end(body);
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
 * Runs curl, in a process of its own, with the URL and headers on its standard input (`--config
 * -`, not in its argument list); resolves with what it wrote to standard output.
 * @param {string} what
 * @param {string} url
 * @param {Record<string, string>} headers
 * @param {string[]} args
 * @returns {Promise<string>}
 */
function curl(what, url, headers, args) {
  const quoted = (/** @type {string} */ text) => `"${text.replace(/["\\]/g, '\\$&')}"`;
  const config = [
    `url = ${quoted(url)}`,
    ...Object.entries(headers).map(([name, value]) => `header = ${quoted(`${name}: ${value}`)}`),
    '',
  ].join('\n');
  return new Promise((resolve, reject) => {
    const child = execFile(
      'curl',
      ['--silent', '--show-error', '--config', '-', ...args],
      { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${what}: curl: ${stderr.trim() || err.message}`, { cause: err }));
        else resolve(stdout);
      },
    );
    child.stdin?.end(config);
  });
}

/** What curl writes after the answer's body: the status and its time for the transfer. */
const CURL_STATUS = '\n%{http_code} %{size_download} %{time_total}';

/**
 * Sends a file as a request's body with curl (streamed, without `Expect: 100-continue`): big
 * uploads are made by a client that is nothing else, as downloads are (see fetchCounting). The
 * answer carries its status, text and curl's time, not its headers (no caller of a file body
 * reads them).
 * @param {string} method
 * @param {string} url
 * @param {Record<string, string>} headers
 * @param {string} file
 * @param {number} [timeoutMs]
 * @returns {Promise<Answer>}
 */
async function sendFileWithCurl(method, url, headers, file, timeoutMs) {
  // curl appends the file's name to a URL whose path ends in a slash.
  if (new URL(url).pathname.endsWith('/')) throw new Error(`${method} ${url}: a file body needs a URL not ending in /`);
  const out = await curl(`${method} ${url}`, url, { ...headers, Expect: '' }, [
    '--request',
    method,
    '--upload-file',
    file,
    '--output',
    '-',
    '--write-out',
    CURL_STATUS,
    ...(timeoutMs === undefined ? [] : ['--max-time', String(timeoutMs / 1000)]),
  ]);
  const at = out.lastIndexOf('\n');
  const [status, , seconds] = out
    .slice(at + 1)
    .split(' ')
    .map(Number);
  return { status: Number(status), text: out.slice(0, at), headers: {}, seconds: Number(seconds) };
}

/**
 * GETs a URL (or reads a file: URL) with curl, the body thrown away; resolves with curl's own
 * time for the transfer (connection to last byte) and rejects unless it is 200 with `size` bytes.
 * Downloads are timed by a client that is nothing else, as a registry's clients are: a Node
 * client inside the bench spent 2-3 times the CPU per byte once the bench had built a pack
 * (240-350 ms per 100 MB against ~100 ms in a fresh process; docs/registry.md, "Performance"), and
 * on two cores the client's CPU is taken from the registry's.
 * @param {string} what
 * @param {string} url
 * @param {number} size
 * @param {{ headers?: Record<string, string> }} [init]
 * @returns {Promise<number>} seconds
 */
export async function fetchCounting(what, url, size, init = {}) {
  const out = await curl(what, url, init.headers ?? {}, ['--output', '/dev/null', '--write-out', CURL_STATUS]);
  const [status, bytes, seconds] = out.trim().split(' ').map(Number);
  // A file: URL (a floor read) has no status.
  if (status !== (url.startsWith('file:') ? 0 : 200) || bytes !== size) {
    throw new Error(`${what}: answered ${status} with ${bytes} of ${size} bytes`);
  }
  return Number(seconds);
}
