import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { directCalls, fsCallsFor, pooledCalls } from './fs-calls.js';

const root = await mkdtemp(path.join(tmpdir(), 'packyard-fs-calls-'));
afterAll(() => rm(root, { recursive: true, force: true }));

describe('fsCallsFor', () => {
  it('makes direct calls on a local filesystem, and takes a choice as given', async () => {
    // The tests' temporary directory is on a local disk (ext4, overlayfs or tmpfs) on Linux.
    const local = process.platform === 'linux' && [0xef53, 0x794c7630, 0x01021994].includes(statfsSync(root).type);
    if (local) expect((await fsCallsFor(root)).kind).toBe('direct');
    expect(await fsCallsFor(root, 'pooled')).toBe(pooledCalls);
    expect(await fsCallsFor(root, 'direct')).toBe(directCalls);
  });
});

describe.each([directCalls, pooledCalls])('$kind calls', (calls) => {
  it('write a file through an open one, and answer a failure with a rejection, as fs/promises does', async () => {
    const file = path.join(root, `${calls.kind}-file`);
    const handle = await calls.open(file, 'wx', 0o600);
    await handle.writeFile('small');
    await handle.utimes(1_000, 2_000);
    await handle.sync();
    const info = await handle.stat({ bigint: true });
    await handle.close();
    expect(info.mtimeMs).toBe(2_000_000n);
    expect(await readFile(file, 'utf8')).toBe('small');
    // A failing call rejects; it never throws where the caller awaits it.
    const again = calls.open(file, 'wx', 0o600);
    await expect(again).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(calls.link(path.join(root, 'missing'), path.join(root, 'x'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    await expect(calls.unlink(path.join(root, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(calls.stat(path.join(root, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('write a large body whole, and make directories as mkdir -p does', async () => {
    const dir = path.join(root, `${calls.kind}-a`, 'b');
    expect(await calls.mkdir(dir, 0o700)).toBe(path.join(root, `${calls.kind}-a`));
    expect(await calls.mkdir(dir, 0o700)).toBeUndefined();
    const body = Buffer.alloc(3 * 1024 * 1024 + 7, 'z');
    const handle = await calls.open(path.join(dir, 'large'), 'wx', 0o600);
    await handle.writeFile(body);
    await handle.close();
    expect((await readFile(path.join(dir, 'large'))).equals(body)).toBe(true);
  });
});
