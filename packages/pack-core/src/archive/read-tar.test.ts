/**
 * Tar pack layers (a pack pushed through OCI): hostile ones refused with a stable code and nothing
 * left behind, good ones turned into exactly the zip `packctl build` writes.
 */
import { execFileSync } from 'node:child_process';
import { access, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { listPackFiles } from '../pack-dir.js';
import { craftTar, packTar, tarHeader } from '../test-support/craft-tar.js';
import { useTempDir } from '../test-support/valid-pack.js';
import { detectLayerFormat, packLayerArchive } from './pack-layer.js';
import { openPackArchive } from './read-archive.js';
import { extractTarLayer } from './read-tar.js';
import { writePackArchive, ZIP_EPOCH } from './write-archive.js';
import { fileDigest } from './digest.js';

const SAMPLE = fileURLToPath(new URL('../../../../sample-packs/cni-calico', import.meta.url));
const MIB = 1024 * 1024;

const tempDir = useTempDir();

async function layerFile(bytes: Buffer, name = 'layer.tar.gz'): Promise<string> {
  const file = path.join(tempDir(), name);
  await writeFile(file, bytes);
  return file;
}

async function extract(bytes: Buffer, gzip = true): Promise<string> {
  const dest = path.join(tempDir(), 'out');
  const file = await layerFile(gzip ? gzipSync(bytes) : bytes);
  await extractTarLayer(file, dest, { gzip });
  return dest;
}

async function refusedWith(
  bytes: Buffer,
  code: string,
  options: { gzip?: boolean; limits?: object } = {},
): Promise<void> {
  const gzip = options.gzip ?? true;
  const dest = path.join(tempDir(), 'out');
  const file = await layerFile(gzip ? gzipSync(bytes) : bytes);
  await expect(extractTarLayer(file, dest, { gzip, limits: options.limits ?? {} })).rejects.toMatchObject({
    code,
    status: 422,
  });
  // Nothing half-extracted stays behind.
  await expect(access(dest)).rejects.toThrow();
}

const packJson = { name: 'pack/pack.json', data: '{}' };

describe('hostile tar layers', () => {
  it('refuses a ".." path', () =>
    refusedWith(craftTar([packJson, { name: 'pack/../../evil', data: 'x' }]), 'ARCHIVE_UNSAFE_PATH'));
  it('refuses an absolute path', () =>
    refusedWith(craftTar([{ name: '/etc/passwd', data: 'x' }]), 'ARCHIVE_UNSAFE_PATH'));
  it('refuses a backslash and a drive letter', async () => {
    await refusedWith(craftTar([{ name: 'pack\\..\\evil', data: 'x' }]), 'ARCHIVE_UNSAFE_PATH');
    await refusedWith(craftTar([{ name: 'C:/evil', data: 'x' }]), 'ARCHIVE_UNSAFE_PATH');
  });
  it('refuses a symlink out of the pack', async () => {
    const bytes = await packTar([packJson, { name: 'pack/out', type: 'symlink', linkname: '../../../etc/passwd' }]);
    await refusedWith(bytes, 'ARCHIVE_SPECIAL_ENTRY');
  });
  it('refuses a symlink inside the pack too, as the zip rules do', async () => {
    const bytes = await packTar([packJson, { name: 'pack/in', type: 'symlink', linkname: 'pack.json' }]);
    await refusedWith(bytes, 'ARCHIVE_SPECIAL_ENTRY');
  });
  it('refuses a hard link', async () => {
    const bytes = await packTar([packJson, { name: 'pack/hard', type: 'link', linkname: '/etc/shadow' }]);
    await refusedWith(bytes, 'ARCHIVE_SPECIAL_ENTRY');
  });
  it('refuses a character device and a FIFO', async () => {
    await refusedWith(
      await packTar([packJson, { name: 'pack/null', type: 'character-device', devmajor: 1, devminor: 3 }]),
      'ARCHIVE_SPECIAL_ENTRY',
    );
    await refusedWith(await packTar([packJson, { name: 'pack/pipe', type: 'fifo' }]), 'ARCHIVE_SPECIAL_ENTRY');
  });
  it('refuses a pax header whose path climbs out, whatever the ustar name says', async () => {
    // A pax record "path=../../evil" overrides the harmless ustar name of the entry after it.
    const record = ' path=../../evil\n';
    const pax = `${record.length + String(record.length + 2).length}${record}`;
    await refusedWith(
      craftTar([packJson, { name: 'PaxHeader', type: 'x', data: pax }, { name: 'pack/ok', data: 'x' }]),
      'ARCHIVE_UNSAFE_PATH',
    );
    // tar-stream writes a pax header itself for a name too long for ustar.
    const long = `pack/${'d'.repeat(120)}/../../../evil`;
    await refusedWith(await packTar([packJson, { name: long, data: 'x' }]), 'ARCHIVE_UNSAFE_PATH');
  });
  it('refuses a name too long to extract, showing it clipped', async () => {
    const long = `pack/${'n'.repeat(300)}`;
    const dest = path.join(tempDir(), 'out');
    const file = await layerFile(gzipSync(await packTar([packJson, { name: long, data: 'x' }])));
    const refused = await extractTarLayer(file, dest, { gzip: true, limits: {} }).catch((err: unknown) => err);
    expect(refused).toMatchObject({ code: 'ARCHIVE_UNSAFE_PATH', status: 422 });
    expect((refused as Error).message.length).toBeLessThan(200);
  });
  it('refuses duplicate names, also when they differ only in case', async () => {
    await refusedWith(
      craftTar([packJson, { name: 'pack/a', data: '1' }, { name: 'pack/a', data: '2' }]),
      'ARCHIVE_DUPLICATE_ENTRY',
    );
    await refusedWith(
      craftTar([packJson, { name: 'pack/A', data: '1' }, { name: 'pack/a', data: '2' }]),
      'ARCHIVE_DUPLICATE_ENTRY',
    );
  });
  it('refuses a file inside another file', () =>
    refusedWith(
      craftTar([packJson, { name: 'pack/a', data: '1' }, { name: 'pack/a/b', data: '2' }]),
      'ARCHIVE_DUPLICATE_ENTRY',
    ));
  it('refuses an entry too many folders deep, before making any of them', () =>
    refusedWith(craftTar([packJson, { name: `pack/${'a/'.repeat(70)}f`, data: 'x' }]), 'ARCHIVE_UNSAFE_PATH'));
  it('refuses names that lie in more folders than the layer may have entries', () =>
    refusedWith(
      craftTar([
        packJson,
        ...Array.from({ length: 4 }, (_, i) => ({ name: `pack/${String(i)}/${'a/'.repeat(8)}f`, data: 'x' })),
      ]),
      'ARCHIVE_TOO_MANY_ENTRIES',
      { limits: { maxEntries: 20 } },
    ));
  it('refuses too many entries', () =>
    refusedWith(
      craftTar(Array.from({ length: 11 }, (_, i) => ({ name: `pack/${i}`, data: 'x' }))),
      'ARCHIVE_TOO_MANY_ENTRIES',
      { limits: { maxEntries: 10 } },
    ));
  it('refuses entry names that take more than MAX_TOTAL_NAME_BYTES in all', () =>
    refusedWith(
      // 9,000 names of 245 bytes (ustar's prefix and name fields), fewer than the 10,000 entries allowed.
      craftTar(
        Array.from({ length: 9_000 }, (_, i) => ({
          name: `pack/${'p'.repeat(140)}/${String(i).padStart(104 - 5, '0')}`,
          data: '',
        })),
      ),
      'ARCHIVE_TOO_MANY_ENTRIES',
    ));
  it('refuses an entry over the per-entry cap from its header, before reading it', () =>
    refusedWith(Buffer.concat([tarHeader('pack/huge', 2 * MIB), Buffer.alloc(512)]), 'ARCHIVE_ENTRY_TOO_LARGE', {
      limits: { maxEntrySize: MIB },
    }));
  it('refuses files over the total cap', () =>
    refusedWith(
      craftTar([
        { name: 'pack/a', data: Buffer.alloc(600) },
        { name: 'pack/b', data: Buffer.alloc(600) },
      ]),
      'ARCHIVE_TOO_LARGE',
      { limits: { maxTotalSize: 1000 } },
    ));
  it('stops a gzip bomb at the inflation cap', async () => {
    // 64 MiB of zeros gzip to about 64 KiB: past the 8 MiB exemption and 50 times the layer.
    const bomb = Buffer.concat([tarHeader('pack/zeros', 64 * MIB), Buffer.alloc(64 * MIB)]);
    await refusedWith(bomb, 'ARCHIVE_TOTAL_RATIO');
  });
  it('refuses bytes that are not a tar, a truncated tar and a tar without files', async () => {
    await refusedWith(Buffer.from('not a tar at all, not at all'.repeat(40)), 'TAR_INVALID');
    await refusedWith(craftTar([{ name: 'pack/a', data: 'x', declaredSize: 4096 }], { end: false }), 'TAR_INVALID');
    await refusedWith(craftTar([{ name: 'pack/', type: '5' }]), 'TAR_INVALID');
  });
});

describe('extracting tar layers', () => {
  it('strips the one top-level folder of `tar -czf x.tar.gz <pack dir>`', async () => {
    const dest = await extract(
      craftTar([
        { name: 'pack/', type: '5' },
        { name: 'pack/pack.json', data: '{}' },
        { name: 'pack/charts/a.tgz', data: 'x' },
      ]),
    );
    const file = await layerFile(gzipSync(craftTar([{ name: 'p/pack.json', data: '{}' }])), 'again.tar.gz');
    const { root } = await extractTarLayer(file, path.join(tempDir(), 'again'), { gzip: true });
    expect(root).toBe(path.join(tempDir(), 'again', 'p'));
    expect(await readdir(path.join(dest, 'pack', 'charts'))).toEqual(['a.tgz']);
  });
  it("leaves out macOS's metadata (`._` files beside each file, the pack folder's included, and __MACOSX/)", async () => {
    const file = await layerFile(
      gzipSync(
        craftTar([
          { name: '._pack', data: '\x00\x05\x16\x07 Finder info' },
          { name: 'pack/', type: '5' },
          { name: 'pack/pack.json', data: '{}' },
          { name: 'pack/._pack.json', data: '\x00\x05\x16\x07' },
          { name: '__MACOSX/pack/x', data: 'y' },
        ]),
      ),
      'mac.tar.gz',
    );
    const dest = path.join(tempDir(), 'mac');
    const { root, files } = await extractTarLayer(file, dest, { gzip: true });
    // The one folder is the pack's: its `._` sibling does not make it one of two.
    expect(root).toBe(path.join(dest, 'pack'));
    expect(files).toBe(1);
    expect(await readdir(root)).toEqual(['pack.json']);
    expect(await readdir(dest)).toEqual(['pack']);
  });
  it('keeps entries at the root (and `./` names) where they are', async () => {
    const file = await layerFile(
      craftTar([
        { name: './', type: '5' },
        { name: './pack.json', data: '{}' },
        { name: './charts/a.tgz', data: 'x' },
      ]),
      'plain.tar',
    );
    const { root } = await extractTarLayer(file, path.join(tempDir(), 'plain'), { gzip: false });
    expect(root).toBe(path.join(tempDir(), 'plain'));
    expect(await readFile(path.join(root, 'pack.json'), 'utf8')).toBe('{}');
  });
});

describe('pack layers', () => {
  it('tells the format from the first bytes', async () => {
    const plain = craftTar([packJson]);
    expect(detectLayerFormat(plain)).toBe('tar');
    expect(detectLayerFormat(gzipSync(plain))).toBe('tar+gzip');
    expect(detectLayerFormat(Buffer.from('PK\x03\x04rest', 'latin1'))).toBe('zip');
    expect(detectLayerFormat(Buffer.from('{"not":"a pack"}'))).toBeNull();
    await writeFile(path.join(tempDir(), 'json'), '{"not":"a pack"}');
    await expect(packLayerArchive(path.join(tempDir(), 'json'), tempDir())).rejects.toMatchObject({
      code: 'ARCHIVE_FORMAT_UNKNOWN',
    });
  });

  it('turns `tar -czf` of a sample pack into the very zip `packctl build` writes', async () => {
    const layer = path.join(tempDir(), 'cni-calico.tar.gz');
    execFileSync('tar', ['-czf', layer, '-C', path.dirname(SAMPLE), path.basename(SAMPLE)]);
    const work = path.join(tempDir(), 'work');
    await mkdir(work);
    const { format, archive } = await packLayerArchive(layer, work);
    expect(format).toBe('tar+gzip');
    const { files } = await listPackFiles(SAMPLE);
    const built = await writePackArchive(files, path.join(tempDir(), 'built.zip'), { mtime: ZIP_EPOCH });
    expect(await fileDigest(archive)).toBe(built.digest);
    // The extracted copy is gone; the archive reads as a pack.
    expect((await readdir(work)).sort()).toEqual(['pack.zip']);
    const opened = await openPackArchive(archive);
    expect(opened.get('pack.json')).toBeDefined();
    // A plain tar of the pack's contents (entries at the root) gives the same archive.
    const plain = path.join(tempDir(), 'plain.tar');
    execFileSync('tar', ['-cf', plain, '-C', SAMPLE, '.']);
    const again = path.join(tempDir(), 'again');
    await mkdir(again);
    expect(await fileDigest((await packLayerArchive(plain, again)).archive)).toBe(built.digest);
  });
});
