/**
 * Writing a pack as a gzip-compressed tar, byte-reproducibly: the layer a registry serves through
 * OCI for a pack published as a zip (what `tar -czf NAME-VERSION.tar.gz <pack dir>` would give,
 * minus everything that varies). The same files give the same bytes on every call, machine and
 * restart: entries sorted by path (byte order) under one top-level folder `<name>/`, with their
 * directories; a fixed mtime (the zip epoch, as the pack's zip), owner 0:0 without names, modes
 * 0644/0755; ustar headers (pax only for names too long for them); gzip at a fixed level with no
 * name and no timestamp in its header.
 *
 * The bytes depend on tar-stream's header encoding and zlib's deflate; a test pins the digest of
 * a sample pack, so that an upgrade that changes them is noticed (registries that materialised a
 * layer keep serving the stored bytes, whatever a later version would write).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { loadTarStream } from '../lazy-deps.js';
import { pipelineUntilClosed } from '../streams.js';
import { digestingStream } from './digest.js';
import { ImpliedFolders, type PackArchive } from './read-archive.js';
import { ZIP_EPOCH, type WrittenArchive } from './write-archive.js';

/** One file of the pack, read when its turn comes. */
export interface TarSourceFile {
  /** Path inside the pack, forward slashes. */
  path: string;
  size: number;
  /** 0o755 when executable, else 0o644. */
  mode: number;
  open(): Readable;
}

/** zlib's default: most of level 9's ratio for a fraction of its time on large packs. */
const GZIP_LEVEL = 6;

/** Characters whose UTF-16 order is not their UTF-8 order: surrogates sort below U+E000 in one only. */
const WIDE = /[\uD800-\uFFFF]/;

/**
 * The byte order of two names' UTF-8. For names without {@link WIDE} characters (`wide`, found once
 * per name) it is their string order, which compares without encoding them: names sharing long
 * folder paths are compared many times in a sort.
 */
function byteOrder(a: { name: string; wide: boolean }, b: { name: string; wide: boolean }): number {
  if (a.wide || b.wide) return Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Every folder that holds a file, with a trailing slash, the top-level one included. */
function folders(top: string, files: readonly TarSourceFile[]): string[] {
  const implied = new ImpliedFolders();
  for (const file of files) implied.add(file.path);
  return [`${top}/`, ...[...implied.found].map((folder) => `${top}/${folder}/`)];
}

/**
 * Writes `files` as `<folder>/<path>` entries of a gzip-compressed tar at `outFile` (through a
 * temporary file, renamed into place once complete).
 *
 * @example
 * const archive = await openPackArchive('cni-calico-3.27.2.zip');
 * const layer = await writePackTarGz(archiveTarSources(archive), { folder: 'cni-calico', outFile: 'layer.tar.gz' });
 * layer.digest; // the same on every call
 */
export async function writePackTarGz(
  files: readonly TarSourceFile[],
  options: { folder: string; outFile: string },
): Promise<WrittenArchive> {
  const { folder, outFile } = options;
  const temporary = path.join(
    path.dirname(outFile),
    `.${path.basename(outFile)}.${randomBytes(6).toString('hex')}.partial`,
  );
  const entries = [
    ...folders(folder, files).map((name) => ({ name, file: null })),
    ...files.map((file) => ({ name: `${folder}/${file.path}`, file })),
  ]
    .map((entry) => ({ ...entry, wide: WIDE.test(entry.name) }))
    .sort(byteOrder);
  const pack = loadTarStream().pack();
  const measure = digestingStream();
  const done = pipelineUntilClosed([
    pack,
    createGzip({ level: GZIP_LEVEL }),
    measure.stream,
    createWriteStream(temporary, { flags: 'wx' }),
  ]);
  const fixed = { mtime: ZIP_EPOCH, uid: 0, gid: 0, uname: '', gname: '' };
  // The file being read, held in an object: TypeScript does not see assignments in callbacks.
  const current: { source: Readable | null } = { source: null };
  try {
    const written = (async () => {
      // One entry at a time: tar is sequential, and only one file is open at once.
      for (const { name, file } of entries) {
        if (file === null) {
          pack.entry({ ...fixed, name, type: 'directory', mode: 0o755 });
          continue;
        }
        await new Promise<void>((resolve, reject) => {
          const sink = pack.entry(
            { ...fixed, name, type: 'file', mode: file.mode & 0o111 ? 0o755 : 0o644, size: file.size },
            (err) => {
              if (err) reject(err);
              else resolve();
            },
          );
          // Piped (tar-stream's way): node's pipeline does not always settle with its streams.
          // A failure reaches this promise; destroying the pack then fails the entry once more.
          sink.on('error', () => undefined);
          const source = file.open();
          current.source = source;
          source.once('error', reject);
          source.pipe(sink);
        });
      }
      pack.finalize();
    })();
    // Awaited below; a failure of the output first must not leave this rejection unhandled.
    written.catch(() => undefined);
    await Promise.all([written, done]);
    await rename(temporary, outFile);
  } catch (err) {
    current.source?.destroy();
    pack.destroy(err as Error);
    await done.catch(() => undefined);
    await rm(temporary, { force: true });
    throw err;
  }
  return { path: outFile, ...measure.result() };
}

/**
 * The files of an opened pack archive as {@link writePackTarGz} reads them (each entry checked
 * against its size and CRC-32 as it streams).
 */
export function archiveTarSources(archive: PackArchive): TarSourceFile[] {
  return archive.entries.map((entry) => ({
    path: entry.path,
    size: entry.size,
    mode: entry.mode,
    open: () => archive.stream(entry.path),
  }));
}
