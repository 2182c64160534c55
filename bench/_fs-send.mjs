// @ts-check
/**
 * The least a Node server can do to send a file, for the peers bench's fs download row: an HTTP
 * server that answers GET /NAME with the file NAME of its directory, read by positional reads into
 * two reused 1 MiB buffers and written to the response as they fill (the way Packyard sends a
 * file of its fs store), without auth, routing, checks or counting. Run as its own process, as a
 * registry is, it shows what sending through Node costs on this machine against the same client
 * (curl): Node has no sendfile, which CNCF distribution (Go) uses.
 *
 * Usage: node bench/_fs-send.mjs DIR; prints its port.
 */
import { open } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';

const BUFFER_BYTES = 1024 * 1024;
const [dir = '.'] = process.argv.slice(2);
const root = path.resolve(dir);

/**
 * Resolves once `res` has taken `chunk` (its write callback).
 * @param {import('node:http').ServerResponse} res
 * @param {Buffer} chunk
 * @returns {Promise<void>}
 */
function write(res, chunk) {
  return new Promise((resolve, reject) => {
    res.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
}

/**
 * @param {import('node:http').ServerResponse} res
 * @param {string} file
 */
async function send(res, file) {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    res.writeHead(200, { 'Content-Length': String(size), 'Content-Type': 'application/zip' });
    const buffers = [Buffer.allocUnsafe(BUFFER_BYTES), Buffer.allocUnsafe(BUFFER_BYTES)];
    let writing = Promise.resolve();
    for (let position = 0, turn = 0; position < size; turn ^= 1) {
      const buffer = /** @type {Buffer} */ (buffers[turn]);
      const { bytesRead } = await handle.read(buffer, 0, Math.min(BUFFER_BYTES, size - position), position);
      if (bytesRead === 0) throw new Error(`${file} ended early`);
      position += bytesRead;
      // The other buffer must be sent before the next read refills it.
      await writing;
      writing = write(res, buffer.subarray(0, bytesRead));
    }
    await writing;
    res.end();
  } finally {
    await handle.close();
  }
}

const server = http.createServer((req, res) => {
  const file = path.resolve(root, decodeURIComponent((req.url ?? '/').slice(1)));
  if (!file.startsWith(root + path.sep)) {
    res.writeHead(404).end();
    return;
  }
  send(res, file).catch((/** @type {unknown} */ err) => {
    process.stderr.write(`sender: ${err instanceof Error ? err.message : String(err)}\n`);
    res.destroy();
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
