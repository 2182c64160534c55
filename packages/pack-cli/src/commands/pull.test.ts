/**
 * `packctl pull --extract` when the extraction fails for a reason other than pack-core's checks (a
 * full disk, a file system error): nothing of the pull is kept either. Such failures cannot be made
 * on demand (root writes anywhere), so pack-core's extraction is replaced by one that fails as a
 * full disk would, after writing a file; test/cli-hostile-server.test.ts covers refused archives.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as packCore from '@packyard/pack-core';
import { craftZip } from '../../../pack-core/src/test-support/craft-zip.js';
import { pullExtracting, versionRecordOf } from '../test-support/pull-fixtures.js';

vi.mock('@packyard/pack-core', async (importOriginal) => ({
  ...(await importOriginal<typeof packCore>()),
  // Writes a file, then fails as a full disk does: a system error, not a PackError.
  extractPackArchive: async (_file: string, dest: string) => {
    await mkdir(dest, { recursive: true });
    await writeFile(path.join(dest, 'pack.json'), '{');
    throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC' });
  },
}));

const PACK = craftZip([{ name: 'pack.json', data: '{"name":"demo","version":"1.0.0"}' }]);
const RECORD = versionRecordOf(PACK);

let server: Server;
let url: string;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'packctl-pull-'));
  server = createServer((req, res) => {
    req.resume();
    if (req.url?.endsWith('/archive')) res.writeHead(200, { 'Content-Type': 'application/zip' }).end(PACK);
    else res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(RECORD));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await rm(work, { recursive: true, force: true });
});

const pull = (out: string) => pullExtracting(url, work, out);

describe('packctl pull --extract', () => {
  it('keeps neither the archive nor the directory it made when the extraction fails (not refused)', async () => {
    const out = path.join(work, 'fresh');
    const result = await pull(out);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('ENOSPC');
    // -o too: this run made it, and nothing else put files there.
    expect(await readdir(work)).not.toContain('fresh');
  });

  it('keeps a directory that was there, and not the archive', async () => {
    const out = path.join(work, 'existing');
    await mkdir(path.join(out, 'demo-1.0.0'), { recursive: true });
    const result = await pull(out);
    expect(result.status).toBe(1);
    // The mocked extraction wrote into it and does not clean up: packctl leaves a directory it did
    // not make where it was, and removes only the archive.
    expect(await readdir(out)).toEqual(['demo-1.0.0']);
  });
});
