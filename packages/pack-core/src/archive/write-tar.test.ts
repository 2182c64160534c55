/**
 * The tar.gz a registry serves through OCI for a pack published as a zip: the same bytes on every
 * call (and so on every replica and restart), pinned for a sample pack so that a library upgrade
 * that changes them is noticed, and a layout that reads back as the same pack.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listPackFiles } from '../pack-dir.js';
import { useTempDir } from '../test-support/valid-pack.js';
import { fileDigest } from './digest.js';
import { packLayerArchive } from './pack-layer.js';
import { openPackArchive } from './read-archive.js';
import { writePackArchive, ZIP_EPOCH } from './write-archive.js';
import { archiveTarSources, writePackTarGz, type TarSourceFile } from './write-tar.js';

const SAMPLE = fileURLToPath(new URL('../../../../sample-packs/cni-calico', import.meta.url));
/**
 * writePackTarGz of sample-packs/cni-calico. A change here means the bytes served for packs not
 * yet materialised would differ from those of packs that were: check tar-stream's and zlib's
 * release notes before updating it.
 */
const GOLDEN_DIGEST = 'sha256:906acefdfd3d72427e186f1d9297d5401da806ffc2c372f3c7ff9430f3b666fd';

const tempDir = useTempDir();

async function sampleSources(): Promise<TarSourceFile[]> {
  const { files } = await listPackFiles(SAMPLE);
  return files.map((file) => ({ ...file, open: () => createReadStream(file.source) }));
}

describe('writePackTarGz', () => {
  it('writes the same bytes on every call, pinned by digest', async () => {
    const sources = await sampleSources();
    const first = await writePackTarGz(sources, { folder: 'cni-calico', outFile: path.join(tempDir(), 'a.tar.gz') });
    const second = await writePackTarGz(sources, { folder: 'cni-calico', outFile: path.join(tempDir(), 'b.tar.gz') });
    expect(second).toEqual({ ...first, path: path.join(tempDir(), 'b.tar.gz') });
    expect(await fileDigest(first.path)).toBe(first.digest);
    expect(first.digest).toBe(GOLDEN_DIGEST);
  });

  it('gives from the pack zip the bytes it gives from the directory, and reads back as the same pack', async () => {
    const { files } = await listPackFiles(SAMPLE);
    const zip = await writePackArchive(files, path.join(tempDir(), 'pack.zip'), { mtime: ZIP_EPOCH });
    const fromZip = await writePackTarGz(archiveTarSources(await openPackArchive(zip.path)), {
      folder: 'cni-calico',
      outFile: path.join(tempDir(), 'from-zip.tar.gz'),
    });
    const fromDir = await writePackTarGz(await sampleSources(), {
      folder: 'cni-calico',
      outFile: path.join(tempDir(), 'from-dir.tar.gz'),
    });
    expect(fromZip.digest).toBe(fromDir.digest);
    // Pushed back through OCI, the layer becomes the very zip it was made from.
    const work = path.join(tempDir(), 'work');
    await mkdir(work);
    const { archive } = await packLayerArchive(fromZip.path, work);
    expect(await fileDigest(archive)).toBe(zip.digest);
  });

  it('leaves no file behind when a source fails', async () => {
    const sources = await sampleSources();
    const broken = [
      ...sources,
      { path: 'zz-missing', size: 10, mode: 0o644, open: () => createReadStream(path.join(tempDir(), 'nope')) },
    ];
    const outFile = path.join(tempDir(), 'broken.tar.gz');
    await expect(writePackTarGz(broken, { folder: 'cni-calico', outFile })).rejects.toThrow(/ENOENT/);
    expect(await readdir(tempDir())).toEqual([]);
  });
});
