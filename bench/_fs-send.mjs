// @ts-check
/**
 * The least a Node server can do to send a file, for the peers bench's fs download row: an HTTP
 * server that answers GET /NAME with the file NAME of its directory through Packyard's own
 * `sendFile` (positional reads into two reused 1 MiB buffers, written to the response as they
 * fill: how Packyard sends a file of its fs store), without auth, routing, checks or counting.
 * Run as its own process, as a registry is, it shows what sending through Node costs on this
 * machine against the same client (curl): Node has no sendfile, which CNCF distribution (Go) uses.
 *
 * Usage: node bench/_fs-send.mjs DIR; prints its port.
 */
import { stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { sendFile } from '@packyard/registry-server';

const [dir = '.'] = process.argv.slice(2);
const root = path.resolve(dir);

/**
 * @param {import('node:http').ServerResponse} res
 * @param {string} file
 */
async function send(res, file) {
  const { size } = await stat(file);
  res.writeHead(200, { 'Content-Length': String(size), 'Content-Type': 'application/zip' });
  await sendFile(file, res, { start: 0, end: size - 1 });
  res.end();
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
