/**
 * Zip bombs refused from the central directory alone, before a byte is inflated: one entry
 * compressed too far, many small entries that add up (the aggregate bomb), and sizes that no real
 * zip can declare. Every extraction path refuses them before writing anything.
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { craftZip, zerosEntry, type CraftEntry } from '../test-support/craft-zip.js';
import { tempDir } from '../test-support/valid-pack.js';
import { extractPackArchive, MAX_ENTRY_DEPTH, openPackArchive } from './read-archive.js';
import { resolveLimits } from './limits.js';

const MIB = 1024 * 1024;
let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

async function zip(entries: CraftEntry[]): Promise<string> {
  const file = path.join(dir, `a-${randomBytes(4).toString('hex')}.zip`);
  await writeFile(file, craftZip(entries));
  return file;
}

const pack = { name: 'pack.json', data: '{}' };
/** Entries just under the per-entry exemption, each about 1 KiB of deflate data. */
const exempt = (count: number): CraftEntry[] =>
  Array.from({ length: count }, (_, i) => zerosEntry(`data/${i}.bin`, MIB - 1));

describe('aggregate zip bombs', () => {
  it('refuses many exempt entries that together inflate over 50 times the archive', async () => {
    // 60 entries of 1 MiB - 1 from about 60 KiB: each alone is harmless, together 1,000:1.
    const file = await zip([pack, ...exempt(60)]);
    await expect(openPackArchive(file)).rejects.toMatchObject({ code: 'ARCHIVE_TOTAL_RATIO', status: 422 });
  });

  it('packctl pull --extract refuses it before writing anything', async () => {
    const file = await zip([pack, ...exempt(60)]);
    const dest = path.join(dir, 'out');
    await expect(extractPackArchive(file, dest)).rejects.toMatchObject({ code: 'ARCHIVE_TOTAL_RATIO' });
    await expect(access(dest)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('accepts archives that inflate to under 8 MiB whatever their ratio', async () => {
    const archive = await openPackArchive(await zip([pack, ...exempt(7)]));
    expect(archive.entries).toHaveLength(8);
    await expect(archive.verify()).resolves.toBeUndefined();
  });

  it('takes the overall ratio from the limits', async () => {
    const file = await zip([pack, ...exempt(60)]);
    await expect(openPackArchive(file, { maxArchiveRatio: 2000 })).resolves.toBeDefined();
    await expect(openPackArchive(file, { maxArchiveRatio: undefined })).rejects.toMatchObject({
      code: 'ARCHIVE_TOTAL_RATIO',
    });
  });

  it('accepts a large pack of text that deflates like real YAML', async () => {
    // 12 MiB of manifests (about 6:1), plus an already-compressed chart stored as it is.
    const lines: string[] = [];
    for (let i = 0; lines.length * 40 < 12 * MIB; i++) {
      lines.push(`  - name: item-${i}\n    id: ${(Math.imul(i, 2654435761) >>> 0).toString(16)}\n`);
    }
    const yaml = Buffer.from(`items:\n${lines.join('')}`);
    const file = await zip([
      pack,
      { name: 'manifests/big.yaml', data: yaml },
      { name: 'charts/c.tgz', data: randomBytes(MIB), method: 0 },
    ]);
    const archive = await openPackArchive(file);
    expect(archive.get('manifests/big.yaml')?.size).toBe(yaml.length);
  });
});

describe('the per-entry ratio cap', () => {
  it('applies to an entry of exactly 1 MiB (only smaller ones are exempt)', async () => {
    await expect(openPackArchive(await zip([pack, zerosEntry('a.bin', MIB)]))).rejects.toMatchObject({
      code: 'ARCHIVE_RATIO',
    });
    await expect(openPackArchive(await zip([pack, zerosEntry('a.bin', MIB - 1)]))).resolves.toBeDefined();
  });

  it.each<[string, CraftEntry]>([
    ['a deflated entry declaring more than 1032:1', { name: 'a.bin', data: 'x', declaredSize: 100_000 }],
    ['a stored entry declaring more than it stores', { name: 'a.bin', data: 'xy', method: 0, declaredSize: 3 }],
    ['a stored entry declaring less than it stores', { name: 'a.bin', data: 'xyz', method: 0, declaredSize: 2 }],
  ])('refuses %s, even under the exemption', async (_label, entry) => {
    await expect(openPackArchive(await zip([pack, entry]))).rejects.toMatchObject({
      code: 'ARCHIVE_CORRUPT',
      message: /no zip can hold/,
    });
  });
});

describe('extraction never leaves a partial tree', () => {
  it('removes what it wrote when an entry turns out corrupt, and the directory it made', async () => {
    const file = await zip([
      pack,
      { name: 'a/ok.txt', data: 'fine' },
      { name: 'z/bad.txt', data: 'x', declaredCrc: 1 },
    ]);
    const dest = path.join(dir, 'new', 'out');
    await expect(extractPackArchive(file, dest)).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT' });
    await expect(access(path.join(dir, 'new'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('leaves an empty target directory empty', async () => {
    const file = await zip([
      pack,
      { name: 'a/ok.txt', data: 'fine' },
      { name: 'z/bad.txt', data: 'x', declaredCrc: 1 },
    ]);
    const dest = path.join(dir, 'empty');
    await mkdir(dest);
    await expect(extractPackArchive(file, dest)).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT' });
    expect(await readdir(dest)).toEqual([]);
  });

  it.each<[string, CraftEntry[]]>([
    ['a file inside another file', [pack, { name: 'a', data: 'x' }, { name: 'a/b', data: 'y' }]],
    ['a file inside another, differently cased', [pack, { name: 'A', data: 'x' }, { name: 'a/b', data: 'y' }]],
    [
      'names equal once Unicode-normalised',
      [pack, { name: 'caf\u00e9', data: 'x' }, { name: 'cafe\u0301', data: 'y' }],
    ],
  ])('refuses %s when opening', async (_label, entries) => {
    await expect(openPackArchive(await zip(entries))).rejects.toMatchObject({ code: 'ARCHIVE_DUPLICATE_ENTRY' });
  });

  it('refuses a file that a directory entry lies inside', async () => {
    const entries = [pack, { name: 'a', data: 'x' }, { name: 'A/b/', data: '' }];
    await expect(openPackArchive(await zip(entries))).rejects.toMatchObject({ code: 'ARCHIVE_DUPLICATE_ENTRY' });
  });
});

describe('folders', () => {
  const deep = (levels: number, file = 'f') => `${Array.from({ length: levels }, () => 'a').join('/')}/${file}`;

  it(`refuses an entry more than MAX_ENTRY_DEPTH (${MAX_ENTRY_DEPTH}) folders deep, and takes one that deep`, async () => {
    await expect(
      openPackArchive(await zip([pack, { name: deep(MAX_ENTRY_DEPTH + 1), data: 'x' }])),
    ).rejects.toMatchObject({
      code: 'ARCHIVE_UNSAFE_PATH',
      message: expect.stringContaining(`65 folders deep; the limit is ${MAX_ENTRY_DEPTH}`) as unknown,
    });
    const archive = await openPackArchive(await zip([pack, { name: deep(MAX_ENTRY_DEPTH), data: 'x' }]));
    expect(archive.entries.map((e) => e.path)).toContain(deep(MAX_ENTRY_DEPTH));
  });

  it('refuses names that lie in more folders than the archive may have entries', async () => {
    // Two files, each 64 folders deep in folders of their own: 128 folders, over 100.
    const entries = [pack, { name: deep(64, 'x'), data: '1' }, { name: `b/${deep(63, 'y')}`, data: '2' }];
    await expect(openPackArchive(await zip(entries), { maxEntries: 100 })).rejects.toMatchObject({
      code: 'ARCHIVE_TOO_MANY_ENTRIES',
      message: "the entries' names lie in more than 100 folders",
    });
    // Folders shared by many files count once.
    const shared = Array.from({ length: 50 }, (_, i) => ({ name: deep(60, `f${String(i)}`), data: 'x' }));
    await expect(openPackArchive(await zip([pack, ...shared]), { maxEntries: 100 })).resolves.toBeDefined();
  });
});

describe('resolveLimits', () => {
  it('keeps defaults for missing and undefined fields', () => {
    expect(resolveLimits({ maxEntries: 5, maxArchiveRatio: undefined })).toMatchObject({
      maxEntries: 5,
      maxArchiveRatio: 50,
      maxCompressionRatio: 200,
    });
  });
});
