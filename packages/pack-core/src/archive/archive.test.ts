import { chmod, mkdir, readFile, readdir, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listPackFiles } from '../pack-dir.js';
import { craftZip, type CraftEntry } from '../test-support/craft-zip.js';
import { tempDir, writeValidPack } from '../test-support/valid-pack.js';
import { BlockChecksummer } from './crc32-blocks.js';
import {
  extractPackArchive,
  MAX_ENTRY_NAME_BYTES,
  MAX_ENTRY_SEGMENT_BYTES,
  MAX_TOTAL_NAME_BYTES,
  openPackArchive,
  unsafeEntryName,
} from './read-archive.js';
import { archiveTimestamp, writePackArchive, ZIP_EPOCH } from './write-archive.js';

let dir: string;
let cleanup: () => Promise<void>;
let pack: string;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  pack = path.join(dir, 'pack');
  await writeValidPack(pack);
});
afterEach(() => cleanup());

async function build(out: string, options: { mtime?: Date } = {}) {
  const { files } = await listPackFiles(pack);
  return writePackArchive(files, path.join(dir, out), options);
}

async function filesOf(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(root, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await filesOf(root, rel)));
    else out.push(rel);
  }
  return out.sort();
}

describe('writePackArchive', () => {
  it('writes the same bytes whatever the files’ times and permission bits', async () => {
    const first = await build('a.zip');
    await utimes(path.join(pack, 'values.yaml'), new Date('2031-05-05'), new Date('2031-05-05'));
    await chmod(path.join(pack, 'README.md'), 0o600);
    const second = await build('b.zip');
    expect(second.digest).toBe(first.digest);
    expect(await readFile(path.join(dir, 'b.zip'))).toEqual(await readFile(path.join(dir, 'a.zip')));
    expect(first.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(first.size).toBe((await readFile(path.join(dir, 'a.zip'))).length);
  });

  it('records sorted entries, one timestamp, normalised modes and no directories', async () => {
    await chmod(path.join(pack, 'README.md'), 0o700);
    await build('a.zip');
    const archive = await openPackArchive(path.join(dir, 'a.zip'));
    expect(archive.entries.map((e) => e.path)).toEqual([
      'README.md',
      'charts/demo-1.4.2.tgz',
      'logo.png',
      'manifests/demo-config.yaml',
      'pack.json',
      'presets.yaml',
      'schema.yaml',
      'values.yaml',
    ]);
    expect(archive.get('README.md')?.mode).toBe(0o755);
    expect(archive.get('pack.json')?.mode).toBe(0o644);
    // Already-compressed files are stored, text is deflated.
    expect(archive.get('logo.png')?.compressedSize).toBe(archive.get('logo.png')?.size);
    expect(archive.get('values.yaml')?.compressedSize).toBeLessThan(archive.get('values.yaml')?.size ?? 0);
  });

  it('takes entry times from SOURCE_DATE_EPOCH, else 1980-01-01, clamped to the zip range', () => {
    expect(archiveTimestamp(undefined)).toEqual(ZIP_EPOCH);
    expect(archiveTimestamp('1700000000').toISOString()).toBe('2023-11-14T22:13:20.000Z');
    expect(archiveTimestamp('0')).toEqual(ZIP_EPOCH);
    expect(archiveTimestamp('soon')).toEqual(ZIP_EPOCH);
  });

  it('changes bytes only when the timestamp or content changes', async () => {
    const base = await build('a.zip');
    const later = await build('b.zip', { mtime: archiveTimestamp('1700000000') });
    expect(later.digest).not.toBe(base.digest);
    await writeFile(path.join(pack, 'README.md'), '# changed\n');
    expect((await build('c.zip')).digest).not.toBe(base.digest);
  });

  it('round-trips: extracting gives back exactly the source files', async () => {
    await build('a.zip');
    const out = path.join(dir, 'out');
    await extractPackArchive(path.join(dir, 'a.zip'), out);
    const names = await filesOf(pack);
    expect(await filesOf(out)).toEqual(names);
    for (const name of names) {
      expect(await readFile(path.join(out, name)), name).toEqual(await readFile(path.join(pack, name)));
    }
  });

  it('leaves .packignore matches and default excludes out', async () => {
    await mkdir(path.join(pack, '.git'), { recursive: true });
    await writeFile(path.join(pack, '.git/HEAD'), 'ref: refs/heads/main\n');
    await mkdir(path.join(pack, 'node_modules/x'), { recursive: true });
    await writeFile(path.join(pack, 'node_modules/x/index.js'), '');
    await writeFile(path.join(pack, '.DS_Store'), '');
    await writeFile(path.join(pack, '._values.yaml'), '\x00\x05\x16\x07');
    await mkdir(path.join(pack, '__MACOSX'));
    await writeFile(path.join(pack, '__MACOSX/._pack.json'), '');
    await writeFile(path.join(pack, 'notes.tmp'), '');
    await mkdir(path.join(pack, 'scratch'));
    await writeFile(path.join(pack, 'scratch/a.txt'), '');
    await writeFile(path.join(pack, '.packignore'), '# scratch files\n*.tmp\nscratch/\n');
    const { files } = await listPackFiles(pack);
    const names = files.map((f) => f.path);
    for (const excluded of [
      '.git/HEAD',
      'node_modules/x/index.js',
      '.DS_Store',
      '._values.yaml',
      '__MACOSX/._pack.json',
      'notes.tmp',
      'scratch/a.txt',
      '.packignore',
    ]) {
      expect(names).not.toContain(excluded);
    }
    expect(names).toContain('pack.json');
  });

  it('leaves no partial file behind when a source disappears mid-build', async () => {
    const { files } = await listPackFiles(pack);
    const gone = { path: 'zz-gone.txt', source: path.join(dir, 'missing'), size: 1, mode: 0o644, dev: 0n, ino: 0n };
    const broken = [...files, gone];
    await expect(writePackArchive(broken, path.join(dir, 'x.zip'))).rejects.toThrow();
    expect((await readdir(dir)).filter((n) => n.includes('x.zip'))).toEqual([]);
  });
});

describe('writePackArchive packs the files listed, and only those', () => {
  const zips = async () => (await readdir(dir)).filter((name) => name.endsWith('.zip') || name.includes('.partial'));

  /** The pack with docs/notes.txt, and a folder outside it holding a docs/notes.txt of its own. */
  async function withOutsideTwin(): Promise<{ outside: string }> {
    await mkdir(path.join(pack, 'docs'));
    await writeFile(path.join(pack, 'docs/notes.txt'), 'inside\n');
    const outside = path.join(dir, 'outside');
    await mkdir(outside);
    await writeFile(path.join(outside, 'notes.txt'), 'SECRET from outside the pack\n');
    return { outside };
  }

  it('refuses a file whose folder was swapped for a link since the listing (dev and inode differ)', async () => {
    const { outside } = await withOutsideTwin();
    const { files } = await listPackFiles(pack);
    // What renameat2(RENAME_EXCHANGE) does in one step, in two: the listed folder becomes a link.
    await rename(path.join(pack, 'docs'), path.join(dir, 'docs-listed'));
    await symlink(outside, path.join(pack, 'docs'));
    await expect(writePackArchive(files, path.join(dir, 'x.zip'))).rejects.toMatchObject({
      code: 'PATH_NOT_IN_PACK',
      message: expect.stringContaining(
        'docs/notes.txt changed after the pack directory was listed (another file now)',
      ) as string,
    });
    expect(await zips()).toEqual([]);
  });

  it('refuses a file that became a link, or another file, since the listing', async () => {
    await withOutsideTwin();
    const { files } = await listPackFiles(pack);
    await rm(path.join(pack, 'docs/notes.txt'));
    await symlink(path.join(dir, 'outside/notes.txt'), path.join(pack, 'docs/notes.txt'));
    await expect(writePackArchive(files, path.join(dir, 'x.zip'))).rejects.toThrow('(a symbolic link now)');
    // Made while the listed file is still there, so it cannot reuse its inode.
    await writeFile(path.join(dir, 'replacement.txt'), 'replaced\n');
    await rename(path.join(dir, 'replacement.txt'), path.join(pack, 'docs/notes.txt'));
    await expect(writePackArchive(files, path.join(dir, 'x.zip'))).rejects.toThrow('(another file now)');
    expect(await zips()).toEqual([]);
  });

  it('refuses a file whose size changed since the listing, reading no more than it listed', async () => {
    await withOutsideTwin();
    const { files } = await listPackFiles(pack);
    // A file growing during the build (a log written to) would make the archive endless.
    await writeFile(path.join(pack, 'docs/notes.txt'), 'x'.repeat(1024 * 1024), { flag: 'a' });
    await expect(writePackArchive(files, path.join(dir, 'x.zip'))).rejects.toMatchObject({
      code: 'PATH_NOT_IN_PACK',
      message: expect.stringContaining('docs/notes.txt changed after the pack directory was listed') as string,
    });
    await writeFile(path.join(pack, 'docs/notes.txt'), 'in');
    await expect(writePackArchive(files, path.join(dir, 'x.zip'))).rejects.toThrow('(2 bytes now, 7 when listed)');
    expect(await zips()).toEqual([]);
    await writeFile(path.join(pack, 'docs/notes.txt'), 'inside\n');
    const zip = await writePackArchive(files, path.join(dir, 'x.zip'));
    const archive = await openPackArchive(zip.path);
    expect((await archive.read('docs/notes.txt')).toString()).toBe('inside\n');
  });

  it.each([
    ['..\\values.yaml', 'contains a backslash'],
    ['..\\..\\evil.bat', 'contains a backslash'],
    ['C:evil.txt', 'starts with a drive letter'],
    ['ab:values.yaml', 'starts with a "name:" prefix'],
    ['notes\x1b]0;owned\x07.txt', 'contains a control character'],
    ['bell\x07.txt', 'contains a control character'],
    ['rtl\u202etxt.exe', 'contains a control character'],
  ])('refuses the file name %j before writing anything', async (name, why) => {
    await writeFile(path.join(pack, name), 'x\n');
    const { files } = await listPackFiles(pack);
    await expect(writePackArchive(files, path.join(dir, 'x.zip'))).rejects.toMatchObject({
      code: 'ARCHIVE_UNSAFE_PATH',
      message: expect.stringContaining(why) as string,
    });
    expect(await zips()).toEqual([]);
  });

  it('checks the written archive against the listing before putting it in place', async () => {
    const { files } = await listPackFiles(pack);
    // Names no listing makes, each one zip tools or the reader take otherwise: a folder entry, and
    // two names one case-insensitive disk cannot tell apart.
    const readme = files.find((file) => file.path === 'README.md');
    if (readme === undefined) throw new Error('the valid pack has a README.md');
    await expect(writePackArchive([...files, { ...readme, path: 'notes/' }], path.join(dir, 'x.zip'))).rejects.toThrow(
      'the archive written holds',
    );
    await expect(
      writePackArchive([...files, { ...readme, path: 'readme.md' }], path.join(dir, 'x.zip')),
    ).rejects.toMatchObject({ code: 'ARCHIVE_DUPLICATE_ENTRY', message: expect.stringContaining('would be refused') });
    expect(await zips()).toEqual([]);
  });

  it('leaves .packctl/ out by default', async () => {
    await mkdir(path.join(pack, '.packctl'));
    await writeFile(path.join(pack, '.packctl/config.json'), '{"auths":{"https://x":{"token":"pya_t"}}}');
    const { files } = await listPackFiles(pack);
    expect(files.map((file) => file.path).filter((name) => name.includes('packctl'))).toEqual([]);
  });
});

// Small archives are read into memory whole, larger ones where they lie: both paths are checked.
describe.each([
  ['read whole', {}],
  ['read in place', { inMemoryBytes: 0 }],
])('openPackArchive refuses hostile archives (%s)', (_how, reading) => {
  async function open(entries: CraftEntry[] | Buffer, limits = {}) {
    const file = path.join(dir, 'hostile.zip');
    await writeFile(file, Buffer.isBuffer(entries) ? entries : craftZip(entries));
    return openPackArchive(file, limits, reading);
  }
  const ok = { name: 'pack.json', data: '{}' };

  it.each([
    ['zip-slip', [{ name: '../../etc/cron.d/x', data: 'x' }], 'ARCHIVE_UNSAFE_PATH'],
    ['absolute path', [{ name: '/etc/passwd', data: 'x' }], 'ARCHIVE_UNSAFE_PATH'],
    ['backslash', [{ name: '..\\..\\x', data: 'x' }], 'ARCHIVE_UNSAFE_PATH'],
    ['drive letter', [{ name: 'C:/Windows/x', data: 'x' }], 'ARCHIVE_UNSAFE_PATH'],
    ['NUL byte', [{ name: 'a\0b', data: 'x' }], 'ARCHIVE_UNSAFE_PATH'],
    ['invalid UTF-8 name', [{ name: Buffer.from([0x61, 0xff, 0xfe]), data: 'x' }], 'ARCHIVE_UNSAFE_PATH'],
    ['symlink', [ok, { name: 'README.md', data: '/etc/passwd', unixMode: 0o120777 }], 'ARCHIVE_SPECIAL_ENTRY'],
    ['FIFO', [ok, { name: 'fifo', unixMode: 0o010644 }], 'ARCHIVE_SPECIAL_ENTRY'],
    ['duplicate', [ok, { name: 'pack.json', data: '{"a":1}' }], 'ARCHIVE_DUPLICATE_ENTRY'],
    ['case-folded duplicate', [ok, { name: 'PACK.json', data: '{}' }], 'ARCHIVE_DUPLICATE_ENTRY'],
    ['encrypted', [{ ...ok, flags: 0x801 }], 'ARCHIVE_ENCRYPTED'],
  ] as Array<[string, CraftEntry[], string]>)('%s', async (_label, entries, code) => {
    await expect(open(entries)).rejects.toMatchObject({ code, status: 422 });
  });

  it.each([
    ['a 300-byte file name', `${'a'.repeat(300)}.txt`],
    ['a 300-byte directory name', `${'d'.repeat(300)}/x.txt`],
    ['a 5,400-byte path', `${Array.from({ length: 27 }, () => 'd'.repeat(199)).join('/')}/x.txt`],
  ])('refuses %s before extracting, naming it clipped', async (_label, name) => {
    const refused = await open([ok, { name, data: 'x' }]).then(
      () => null,
      (err: unknown) => err as { code: string; message: string },
    );
    expect(refused).toMatchObject({ code: 'ARCHIVE_UNSAFE_PATH' });
    expect(refused?.message).toContain('the limit is');
    // The name is clipped: the message stays readable whatever the archive holds.
    expect(refused?.message.length).toBeLessThan(200);
  });

  it('refuses too many entries', async () => {
    const entries = Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, data: 'x' }));
    await expect(open(entries, { maxEntries: 10 })).rejects.toMatchObject({ code: 'ARCHIVE_TOO_MANY_ENTRIES' });
  });

  it('refuses entry names that take more than MAX_TOTAL_NAME_BYTES in all', async () => {
    // 600 names of ~3.6 KB (each within the per-name limits): a version's record lists them all.
    const name = (i: number) => `${String(i)}/${Array.from({ length: 15 }, () => 'd'.repeat(240)).join('/')}`;
    const entries = Array.from({ length: 600 }, (_, i) => ({ name: name(i), data: 'x' }));
    await expect(open(entries)).rejects.toMatchObject({ code: 'ARCHIVE_TOO_MANY_ENTRIES' });
    await expect(open(entries.slice(0, 500))).resolves.toBeDefined();
    expect(500 * Buffer.byteLength(name(0))).toBeLessThan(MAX_TOTAL_NAME_BYTES);
  });

  it('refuses a small zip that inflates to a gigabyte', async () => {
    // 8 MiB of zeros declared; the ratio check trips before anything is inflated.
    const zeros = Buffer.alloc(8 * 1024 * 1024);
    await expect(open([{ name: 'bomb.bin', data: zeros }])).rejects.toMatchObject({ code: 'ARCHIVE_RATIO' });
    await expect(
      open([{ name: 'big.bin', data: 'x', declaredSize: 2 ** 31 }], { maxEntrySize: 2 ** 30 }),
    ).rejects.toMatchObject({
      code: 'ARCHIVE_ENTRY_TOO_LARGE',
    });
    // 1 MiB of deflate data can hold 1 GiB (no more than 1032:1), so these sizes are not lies.
    const many = Array.from({ length: 3 }, (_, i) => ({
      name: `f${i}`,
      raw: Buffer.alloc(2 ** 20),
      declaredSize: 2 ** 30,
    }));
    await expect(open(many, { maxTotalSize: 2 ** 31, maxCompressionRatio: 2 ** 40 })).rejects.toMatchObject({
      code: 'ARCHIVE_TOO_LARGE',
    });
  });

  it.each([
    ['another name in the local header', [ok, { name: 'values.yaml', data: 'a: 1\n', localName: 'evil.sh' }]],
    ['another size in the local header', [ok, { name: 'values.yaml', data: 'a: 1\n', localDeclaredSize: 99 }]],
    ['a directory offset with no local header', [ok, { name: 'values.yaml', data: 'a: 1\n', centralOffset: 3 }]],
  ] as Array<[string, CraftEntry[]]>)('refuses %s', async (_label, entries) => {
    await expect(open(entries)).rejects.toMatchObject({ code: 'ARCHIVE_HEADER_MISMATCH', status: 422 });
  });

  it('refuses entries that overlap (one local header hidden inside another entry)', async () => {
    // A stored entry whose data is a complete local record of a second entry; the directory then
    // lists both, the second pointing inside the first: the classic overlapping-entry zip bomb.
    const inner: CraftEntry = { name: 'values.yaml', data: 'a: 1\n', method: 0 };
    const innerLocal = craftZip([inner]).subarray(0, 30 + 'values.yaml'.length + 5);
    const outerHeader = 30 + 'pack.json'.length;
    const entries: CraftEntry[] = [
      { name: 'pack.json', data: innerLocal, method: 0 },
      { ...inner, centralOffset: outerHeader },
    ];
    await expect(open(entries)).rejects.toMatchObject({ code: 'ARCHIVE_HEADER_MISMATCH' });
  });

  it('stops reading an entry that inflates past its declared size', async () => {
    const archive = await open([{ name: 'liar.txt', data: 'x'.repeat(5000), declaredSize: 10 }]);
    await expect(archive.read('liar.txt')).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT' });
  });

  it('reports deflate data that does not decode as a corrupt entry', async () => {
    const archive = await open([{ name: 'a.txt', raw: Buffer.from([0xff, 0xff, 0xff, 0x00]), declaredSize: 10 }]);
    await expect(archive.read('a.txt')).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT', status: 422 });
  });

  it('detects a CRC mismatch', async () => {
    const archive = await open([{ name: 'a.txt', data: 'hello', declaredCrc: 1234 }]);
    await expect(archive.read('a.txt')).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT' });
  });

  it('refuses an entry whose data inflates to fewer bytes than it declares', async () => {
    const archive = await open([{ name: 'short.txt', data: 'x'.repeat(50), declaredSize: 60 }]);
    await expect(archive.read('short.txt')).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT' });
    await expect(archive.verify()).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT' });
  });

  it('ends the stream of a corrupt entry with ARCHIVE_CORRUPT, on every read', async () => {
    const archive = await open([{ name: 'a.txt', data: 'hello', declaredCrc: 1234 }]);
    for (let i = 0; i < 2; i++) {
      await expect(finished(archive.stream('a.txt').resume())).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT' });
    }
  });

  it('gives the same bytes to every read, stream and check of an entry', async () => {
    const text = 'replicas: 3\n'.repeat(200);
    const archive = await open([
      { name: 'values.yaml', data: text },
      { name: 'empty.txt', data: '' },
    ]);
    await archive.verify();
    for (let i = 0; i < 2; i++) {
      expect((await archive.read('values.yaml')).toString('utf8')).toBe(text);
      const chunks: Buffer[] = [];
      for await (const chunk of archive.stream('values.yaml')) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString('utf8')).toBe(text);
      expect((await archive.read('empty.txt')).length).toBe(0);
    }
    await archive.verify();
  });

  // verify() reads stored entries in place (its own path), or combines the file's block checksums
  // when it has them, and streams deflated ones.
  const big = randomBytes(3 * 1024 * 1024 + 17);
  async function blocksOf(file: string) {
    const summer = new BlockChecksummer(64 * 1024);
    summer.update(await readFile(file));
    return summer.result();
  }
  const withBlocks = [false, true];
  it.each<[string, CraftEntry[]]>([
    ['a stored entry with another CRC', [{ name: 'b.tgz', data: big, method: 0, declaredCrc: 1234 }]],
    [
      'a stored entry whose data differs from its bytes',
      [
        {
          name: 'b.tgz',
          method: 0,
          // One byte flipped (not set to a value the random data may already hold there).
          raw: Buffer.from(big).fill((big[5] ?? 0) ^ 0xff, 5, 6),
          declaredSize: big.length,
          declaredCrc: crc32(big),
        },
      ],
    ],
    ['a deflated entry with another CRC', [{ name: 'b.txt', data: big, declaredCrc: 1234 }]],
  ])('verify() finds %s, after entries that are fine', async (_label, bad) => {
    const archive = await open([{ name: 'a.tgz', data: big, method: 0 }, { name: 'a.txt', data: 'fine' }, ...bad]);
    const blocks = await blocksOf(path.join(dir, 'hostile.zip'));
    for (const useBlocks of withBlocks) {
      await expect(archive.verify(useBlocks ? { blocks } : {})).rejects.toMatchObject({
        code: 'ARCHIVE_CORRUPT',
        message: /^b\.t/,
      });
    }
  });

  it('verify() passes an archive whose every entry is intact', async () => {
    const archive = await open([
      { name: 'a.tgz', data: big, method: 0 },
      { name: 'empty.tgz', data: '', method: 0 },
      { name: 'small.tgz', data: 'x', method: 0 },
      { name: 'a.txt', data: big },
    ]);
    const blocks = await blocksOf(path.join(dir, 'hostile.zip'));
    for (const useBlocks of withBlocks)
      await expect(archive.verify(useBlocks ? { blocks } : {})).resolves.toBeUndefined();
  });

  it.each([
    ['a non-zip body', Buffer.from('GET / HTTP/1.1\r\n\r\nnot a zip at all')],
    ['an empty body', Buffer.alloc(0)],
    ['a truncated zip', craftZip([ok, { name: 'values.yaml', data: 'a: 1\n' }]).subarray(0, 60)],
  ])('refuses %s', async (_label, body) => {
    await expect(open(body)).rejects.toMatchObject({ code: 'ARCHIVE_INVALID' });
  });

  it('extracts only into a new or empty directory', async () => {
    await writeFile(path.join(dir, 'a.zip'), craftZip([ok]));
    await mkdir(path.join(dir, 'full'));
    await writeFile(path.join(dir, 'full/existing'), '');
    await expect(extractPackArchive(path.join(dir, 'a.zip'), path.join(dir, 'full'))).rejects.toMatchObject({
      code: 'EXTRACT_TARGET_NOT_EMPTY',
    });
  });

  it('never extracts through a symbolic link at the target, and leaves only the target behind', async () => {
    await writeFile(path.join(dir, 'a.zip'), craftZip([ok, { name: 'values.yaml', data: 'a: 1\n' }]));
    const victim = path.join(dir, 'victim');
    await mkdir(victim);
    await symlink(victim, path.join(dir, 'out'));
    await expect(extractPackArchive(path.join(dir, 'a.zip'), path.join(dir, 'out'))).rejects.toMatchObject({
      code: 'EXTRACT_TARGET_NOT_EMPTY',
    });
    expect(await readdir(victim)).toEqual([]);
    await extractPackArchive(path.join(dir, 'a.zip'), path.join(dir, 'new/deeper/out'));
    expect(await readdir(path.join(dir, 'new/deeper'))).toEqual(['out']);
    expect((await readdir(path.join(dir, 'new/deeper/out'))).sort()).toEqual(['pack.json', 'values.yaml']);
  });
});

describe('unsafeEntryName', () => {
  it.each(['pack.json', 'charts/a-1.0.0.tgz', 'dir/'])('accepts %j', (name) => {
    expect(unsafeEntryName(name)).toBeNull();
  });
  it.each(['', '..', 'a/../b', './a', 'a//b', '/a', 'C:x', 'a\\b'])('refuses %j', (name) => {
    expect(unsafeEntryName(name)).not.toBeNull();
  });
  it('takes names up to the limits of a file system (255 bytes a segment, 4096 a path), in UTF-8 bytes', () => {
    const segment = 'a'.repeat(MAX_ENTRY_SEGMENT_BYTES);
    expect(unsafeEntryName(`dir/${segment}`)).toBeNull();
    expect(unsafeEntryName(`dir/${segment}a`)).toMatch(/name of 256 bytes in its path; the limit is 255/);
    // 128 two-byte characters: 128 characters, but 256 bytes.
    expect(unsafeEntryName('é'.repeat(128))).toMatch(/name of 256 bytes/);
    expect(unsafeEntryName(`${'é'.repeat(127)}a`)).toBeNull();
    const path4096 = `${Array.from({ length: 16 }, () => 'd'.repeat(255)).join('/')}/${'f'.repeat(4096 - 16 * 256)}`;
    expect(Buffer.byteLength(path4096)).toBe(MAX_ENTRY_NAME_BYTES);
    expect(unsafeEntryName(path4096)).toBeNull();
    expect(unsafeEntryName(`${path4096}f`)).toBe('is 4097 bytes long; the limit is 4096');
  });
});

describe('extractPackArchive and names too long for the disk', () => {
  it('refuses as ARCHIVE_UNSAFE_PATH a name within the limits that the file system cannot take there', async () => {
    // 4,000 bytes is a valid entry name, but not below a directory path of 200 bytes or more.
    const deep = `${Array.from({ length: 16 }, () => 'd'.repeat(240)).join('/')}/${'f'.repeat(100)}`;
    expect(unsafeEntryName(deep)).toBeNull();
    const dest = path.join(dir, 'x'.repeat(200), 'out');
    await writeFile(
      path.join(dir, 'long.zip'),
      craftZip([
        { name: 'pack.json', data: '{}' },
        { name: deep, data: 'x' },
      ]),
    );
    const refused = await extractPackArchive(path.join(dir, 'long.zip'), dest).then(
      () => null,
      (err: unknown) => err as { code: string; message: string },
    );
    expect(refused).toMatchObject({ code: 'ARCHIVE_UNSAFE_PATH' });
    expect(refused?.message).toContain('is too long a path to extract here');
    expect(refused?.message.length).toBeLessThan(200);
    // What was extracted before it is gone, as for any refused entry.
    expect(await readdir(path.join(dir, 'x'.repeat(200))).catch(() => [])).toEqual([]);
  });
});
