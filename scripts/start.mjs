#!/usr/bin/env node
/* global fetch, setTimeout */
/**
 * `npm start`: runs pack-registry (the embedded filesystem store in ./data, or whatever the
 * PACKYARD_* variables and the arguments say) and, the first time, fills its empty public registry
 * with the sample packs (sample-packs/), so that the web catalog at the printed address has
 * something to show. PACKYARD_NO_SAMPLES=1 skips that. The registry's own output passes through;
 * Ctrl-C stops it.
 *
 * Usage: npm start [-- pack-registry arguments]
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
// The `pack-registry` command: the server with the node flags and malloc settings it ships with.
const server = path.join(repo, 'packages/registry-server/bin/pack-registry');
const packctl = path.join(repo, 'packages/pack-cli/dist/bin.js');
const samples = path.join(repo, 'sample-packs');

// The launcher runs the node on the PATH: this one.
const env = { ...process.env, PATH: [path.dirname(process.execPath), process.env['PATH'] ?? ''].join(path.delimiter) };
const child = spawn(server, process.argv.slice(2), { env, stdio: ['inherit', 'pipe', 'inherit'] });
// Ctrl-C reaches the registry from the terminal itself (it signals the whole process group): a
// second SIGINT from here would make it exit at once instead of finishing its requests.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.once('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

/** Where the registry listens: its --port/--host arguments, PACKYARD_PORT/HOST, or the defaults. */
function address() {
  const args = process.argv.slice(2);
  const flag = (/** @type {string[]} */ names) => {
    const at = args.findIndex((arg) => names.includes(arg));
    return at === -1 ? undefined : args[at + 1];
  };
  const host = flag(['--host', '-H']) ?? process.env['PACKYARD_HOST'] ?? '127.0.0.1';
  const port = flag(['--port', '-p']) ?? process.env['PACKYARD_PORT'] ?? '5080';
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The registry's output passes through; the URL it logs (at info level) is the address to use. */
let logged = '';
let url = address();
child.stdout.on('data', (/** @type {Buffer} */ chunk) => {
  process.stdout.write(chunk);
  if (logged.length < 65536) {
    logged += chunk.toString();
    url = /"url":"(http:\/\/[^"]+)"/.exec(logged)?.[1] ?? url;
  }
});

/** Resolves once the registry answers /readyz (for up to a minute). */
async function ready() {
  for (let waited = 0; waited < 60_000; waited += 250) {
    const ok = await fetch(`${url}/readyz`).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the registry did not answer ${url}/readyz within a minute`);
}

ready()
  .then(() => seedSamples(url))
  .catch((/** @type {unknown} */ err) => {
    process.stderr.write(
      `npm start: the sample packs were not published: ${err instanceof Error ? err.message : err}\n`,
    );
  });

/** The admin token: PACKYARD_ADMIN_TOKEN, or the one the registry generated in its data directory. */
function adminToken() {
  if (process.env['PACKYARD_ADMIN_TOKEN']) return process.env['PACKYARD_ADMIN_TOKEN'];
  const dataDir = path.resolve(process.env['PACKYARD_DATA_DIR'] ?? 'data');
  return readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
}

/** Publishes every sample pack with packctl when the public registry holds no pack yet. */
async function seedSamples(/** @type {string} */ url) {
  if (process.env['PACKYARD_NO_SAMPLES']) return;
  const token = adminToken();
  const headers = { Authorization: `Bearer ${token}` };
  const listing = await fetch(`${url}/v1/registries/public/packs?limit=1`, { headers });
  if (!listing.ok) throw new Error(`GET /v1/registries/public/packs answered ${listing.status}`);
  if (/** @type {{ total: number }} */ (await listing.json()).total > 0) return;
  const packs = readdirSync(samples, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('_'))
    .map((entry) => entry.name);
  for (const pack of packs) {
    await new Promise((resolve, reject) => {
      const push = spawn(process.execPath, [packctl, 'push', path.join(samples, pack), '--server', url], {
        env: {
          ...process.env,
          PACKCTL_TOKEN: token,
          PACKCTL_CONFIG: path.join(tmpdir(), 'packyard-start-packctl.json'),
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      push.once('error', reject);
      push.once('exit', (code) =>
        code === 0 ? resolve(undefined) : reject(new Error(`packctl push ${pack} exited ${code}`)),
      );
    });
  }
  process.stdout.write(`npm start: published the ${packs.length} sample packs; the catalog is at ${url}/\n`);
}
