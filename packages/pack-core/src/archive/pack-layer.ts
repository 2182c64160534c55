/**
 * A pack that arrives as an OCI layer (a zip, a tar, or a gzip-compressed tar), turned into the
 * pack archive `packctl build` would have written for the same directory, so that a pack pushed
 * through OCI is inspected, stored and downloaded exactly like one published through /v1.
 *
 * The format is told by the layer's first bytes, never by its media type alone: ORAS labels a
 * .tar.gz `application/vnd.oci.image.layer.v1.tar`, and clients label things as they like.
 */
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { packError } from '../errors.js';
import { listPackFiles } from '../pack-dir.js';
import type { ArchiveLimits } from './limits.js';
import { shownName } from './read-archive.js';
import { extractTarLayer } from './read-tar.js';
import { writePackArchive, ZIP_EPOCH, type WrittenArchive } from './write-archive.js';

export type PackLayerFormat = 'zip' | 'tar' | 'tar+gzip';

/**
 * Names a pack leaves out that a tar layer may hold all the same (it is served as pushed): Finder's
 * metadata (`._*` and `__MACOSX/` are left out when the layer is read, read-tar.ts) and the
 * `.packignore` itself. Anything else left out would reach OCI clients without the checks.
 */
const SERVED_AS_PUSHED = new Set(['.DS_Store', '.packignore']);

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
/** A zip's first local header, or the end record of an empty zip (which inspection refuses). */
const ZIP_MAGICS = [Buffer.from('PK\x03\x04', 'latin1'), Buffer.from('PK\x05\x06', 'latin1')];
/** POSIX ustar and GNU tar headers both carry "ustar" at offset 257. */
const TAR_MAGIC = Buffer.from('ustar', 'latin1');
const TAR_MAGIC_OFFSET = 257;
/** How much of a layer {@link detectLayerFormat} needs to see. */
export const LAYER_HEAD_BYTES = 512;

/**
 * The format of a pack layer from its first bytes (at least {@link LAYER_HEAD_BYTES} of them when
 * the layer is that long), or null when it is none of the three.
 *
 * @example
 * detectLayerFormat(gzipSync(tarBytes)); // 'tar+gzip'
 */
export function detectLayerFormat(head: Buffer): PackLayerFormat | null {
  if (head.subarray(0, 2).equals(GZIP_MAGIC)) return 'tar+gzip';
  if (ZIP_MAGICS.some((magic) => head.subarray(0, 4).equals(magic))) return 'zip';
  if (head.subarray(TAR_MAGIC_OFFSET, TAR_MAGIC_OFFSET + TAR_MAGIC.length).equals(TAR_MAGIC)) return 'tar';
  return null;
}

async function readHead(file: string): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(LAYER_HEAD_BYTES);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export interface PackLayerArchive {
  format: PackLayerFormat;
  /**
   * The pack archive to inspect and publish: `layer` itself for a zip (it is checked like any
   * upload), else the canonical zip written into the work directory.
   */
  archive: string;
}

/**
 * Turns the pack layer in `layer` into a pack archive. A tar layer is extracted under the rules
 * of read-tar.ts into `workDir` (an empty directory; it is the caller's to remove), its single
 * top-level folder stripped, and written as a zip exactly as `packctl build` writes it (the same
 * files: .packignore and the default excludes apply; fixed timestamps), so that the same layer
 * always gives the same archive and digest. Throws PackError for a layer that is not a pack
 * archive or is hostile.
 *
 * @example
 * const { archive } = await packLayerArchive('layer.tar.gz', '/tmp/work-1');
 * await inspectPack(archive, limits); // the same checks as a /v1 publish
 */
export async function packLayerArchive(
  layer: string,
  workDir: string,
  options: { limits?: Partial<ArchiveLimits> } = {},
): Promise<PackLayerArchive> {
  const format = detectLayerFormat(await readHead(layer));
  if (format === null) {
    throw packError('ARCHIVE_FORMAT_UNKNOWN', 'the pack layer is neither a zip, a tar nor a gzip-compressed tar');
  }
  if (format === 'zip') return { format, archive: layer };
  const extracted = path.join(workDir, 'pack');
  const { root } = await extractTarLayer(layer, extracted, {
    gzip: format === 'tar+gzip',
    ...(options.limits === undefined ? {} : { limits: options.limits }),
  });
  const { files, ignored } = await listPackFiles(root);
  // The layer is served to OCI clients as pushed: what the pack leaves out would reach them
  // unchecked, but for Finder's .DS_Store and the .packignore itself.
  const unchecked = ignored.filter((p) => !SERVED_AS_PUSHED.has(p.split('/').at(-1) ?? ''));
  if (unchecked.length > 0) {
    const shown = unchecked.slice(0, 5).map(shownName).join(', ');
    throw packError(
      'LAYER_FILES_LEFT_OUT',
      `the layer holds ${String(unchecked.length)} file(s) or folder(s) a pack leaves out (${shown}${unchecked.length > 5 ? ', ...' : ''}): OCI clients would be served them unchecked`,
    );
  }
  const written: WrittenArchive = await writePackArchive(files, path.join(workDir, 'pack.zip'), { mtime: ZIP_EPOCH });
  // The extracted files are no longer needed: only the archive is read from here on.
  await rm(extracted, { recursive: true, force: true });
  return { format, archive: written.path };
}
