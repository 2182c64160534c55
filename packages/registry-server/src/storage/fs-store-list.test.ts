/** The fs store's listings for polls: keys only, and only the folders written to since a time. */
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFsStore } from './fs-store.js';
import type { ObjectStore } from './object-store.js';

let root: string;
let store: ObjectStore;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'packyard-fs-list-'));
  store = await createFsStore({ root, logger: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await store.close();
  await rm(root, { recursive: true, force: true });
});

async function keys(prefix: string, options = {}): Promise<string[]> {
  const listed: string[] = [];
  for await (const object of store.list(prefix, options)) listed.push(object.key);
  return listed;
}

describe('fs store listings', () => {
  it('leaves out the files of folders untouched since a time, and still looks into their subfolders', async () => {
    for (const key of ['p/a/1.json', 'p/a/2.json', 'p/b/1.json', 'p/c/1.json']) await store.put(key, '{}');
    // Everything as written an hour ago; then a version added to b and c's one replaced.
    const hourAgo = new Date(Date.now() - 3_600_000);
    for (const folder of ['p', 'p/a', 'p/b', 'p/c']) await utimes(path.join(root, 'objects', folder), hourAgo, hourAgo);
    const since = Date.now() - 60_000;
    await store.put('p/b/2.json', '{}');
    await store.put('p/c/1.json', '{"changed":true}');
    await store.put('p/d/1.json', '{}');
    expect(await keys('p/', { modifiedSince: since })).toEqual([
      'p/b/1.json',
      'p/b/2.json',
      'p/c/1.json',
      'p/d/1.json',
    ]);
    expect(await keys('p/')).toHaveLength(7 - 1);
    // A removal moves its folder's time too.
    await utimes(path.join(root, 'objects', 'p', 'a'), hourAgo, hourAgo);
    await store.delete('p/a/2.json');
    expect(await keys('p/a/', { modifiedSince: since })).toEqual(['p/a/1.json']);
  });

  it('lists keys only, without the rest, when asked', async () => {
    await store.put('k/x.json', '{"a":1}');
    const listed = [];
    for await (const object of store.list('k/', { keysOnly: true })) listed.push(object);
    expect(listed).toEqual([{ key: 'k/x.json', size: 0, etag: '', lastModified: new Date(0) }]);
  });
});
