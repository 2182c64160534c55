/**
 * `packctl pull --extract` writes only inside the directory it was given and removes only what it
 * created: the archive and the extracted directory are made in a staging directory of the run's
 * own and renamed into place. The server holds each archive until the test releases it, so that
 * what a concurrent process does during the download happens at a known point.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { craftZip } from '../../../pack-core/src/test-support/craft-zip.js';
import { pullExtracting, versionRecordOf } from '../test-support/pull-fixtures.js';

const PACK = craftZip([
  { name: 'pack.json', data: '{"name":"demo","version":"1.0.0"}' },
  { name: 'values.yaml', data: 'a: 1\n' },
]);
const RECORD = versionRecordOf(PACK);

let server: Server;
let url: string;
let work: string;
/** Archive requests held until released, and those waiting for one to arrive. */
const held: ServerResponse[] = [];
const waiting: Array<() => void> = [];

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'packctl-pull-staging-'));
  server = createServer((req, res) => {
    req.resume();
    if (req.url?.endsWith('/archive')) {
      held.push(res);
      waiting.shift()?.();
    } else res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(RECORD));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await rm(work, { recursive: true, force: true });
});

/** The next archive request held by the server (waits for it to arrive). */
async function nextArchive(): Promise<ServerResponse> {
  if (held.length === 0) await new Promise<void>((resolve) => waiting.push(resolve));
  const res = held.shift();
  if (!res) throw new Error('no archive request');
  return res;
}

const send = (res: ServerResponse) => res.writeHead(200, { 'Content-Type': 'application/zip' }).end(PACK);

const pull = (out: string) => pullExtracting(url, work, out);

describe('packctl pull --extract stages what it writes', () => {
  it('does not extract through a link planted where the directory goes during the download', async () => {
    const out = path.join(work, 'shared');
    const victim = path.join(work, 'victim');
    await mkdir(out);
    await mkdir(victim);
    const running = pull(out);
    const res = await nextArchive();
    // Checked before the download: nothing there. Planted now, as another local user could.
    await symlink(victim, path.join(out, 'demo-1.0.0'));
    send(res);
    const result = await running;
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('demo-1.0.0 is not empty: nothing was pulled or extracted');
    expect(await readdir(victim)).toEqual([]);
    expect(await readdir(out)).toEqual(['demo-1.0.0']);
  });

  it('two concurrent pulls into one directory: the loser removes nothing the winner reported', async () => {
    const out = path.join(work, 'concurrent');
    const first = pull(out);
    const firstRes = await nextArchive();
    const second = pull(out);
    const secondRes = await nextArchive();
    // Both checked the target (nothing there) before either download ends.
    send(firstRes);
    expect((await first).status).toBe(0);
    send(secondRes);
    const lost = await second;
    // What the winner reported is all there, and nothing else (no staging left behind).
    expect((await readdir(out)).sort()).toEqual(['demo-1.0.0', 'demo-1.0.0.zip']);
    expect(await readFile(path.join(out, 'demo-1.0.0.zip'))).toEqual(PACK);
    expect((await readdir(path.join(out, 'demo-1.0.0'))).sort()).toEqual(['pack.json', 'values.yaml']);
    expect(lost.status).toBe(1);
    expect(lost.stderr).toContain('demo-1.0.0 is not empty: nothing was pulled or extracted');
  });
});
