// @ts-check
/**
 * Pack archives for the benches, as an air-gapped pack looks: a scaffolded pack (pack-core
 * `scaffoldPack`) plus `images/*.tar.gz` files of random bytes, incompressible, so that the archive
 * stores them as they are and its size is the requested size.
 */
import { randomFillSync } from 'node:crypto';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildPack, scaffoldPack } from '@packyard/pack-core';
import { MB } from './_util.mjs';

/** Image bundles of at most this size; the archive limit per entry is 1 GiB. */
const DATA_FILE_BYTES = 64 * MB;

/**
 * Writes `bytes` of random data as images/bundle-NN.tar.gz files into `dir`.
 * @param {string} dir
 * @param {number} bytes
 */
export async function writeImageBundles(dir, bytes) {
  await mkdir(path.join(dir, 'images'), { recursive: true });
  const chunk = Buffer.allocUnsafe(MB);
  for (let index = 0, left = bytes; left > 0; index++) {
    const size = Math.min(left, DATA_FILE_BYTES);
    const handle = await open(path.join(dir, 'images', `bundle-${String(index).padStart(2, '0')}.tar.gz`), 'w');
    try {
      for (let written = 0; written < size;) {
        const n = Math.min(MB, size - written);
        randomFillSync(chunk, 0, n);
        await handle.write(chunk, 0, n);
        written += n;
      }
    } finally {
      await handle.close();
    }
    left -= size;
  }
}

/**
 * (Re)writes the scaffolded files of `name@version` into `dir` (the image bundles stay) and builds
 * the archive into `outDir`.
 * @param {string} dir
 * @param {string} outDir
 * @param {{ name: string, version: string }} pack
 */
export async function buildVersion(dir, outDir, { name, version }) {
  for (const file of await scaffoldPack({ name, layer: 'addon', content: 'manifest', version })) {
    await mkdir(path.dirname(path.join(dir, file.path)), { recursive: true });
    await writeFile(path.join(dir, file.path), file.content);
  }
  const { lint, archive } = await buildPack(dir, { outDir });
  if (!archive) {
    const errors = lint.findings.filter((f) => f.severity === 'error').map((f) => `${f.file}: ${f.message}`);
    throw new Error(`the generated pack does not lint clean:\n${errors.join('\n')}`);
  }
  return archive;
}

/**
 * Small packs, built once per use and kept in memory: every registry gets the same bytes.
 * @param {string} dir
 * @param {number} payloadBytes
 */
export function smallPackBuilder(dir, payloadBytes) {
  let next = 0;
  return async (/** @type {string} */ name) => {
    const packDir = path.join(dir, `p${next++}`);
    await writeImageBundles(packDir, payloadBytes);
    const archive = await buildVersion(packDir, path.join(dir, 'out'), { name, version: '1.0.0' });
    const data = await readFile(archive.path);
    await rm(packDir, { recursive: true, force: true });
    await rm(archive.path, { force: true });
    return /** @type {import('./_peers-servers.mjs').Pack} */ ({
      name,
      version: '1.0.0',
      size: archive.size,
      digest: archive.digest,
      data,
    });
  };
}
