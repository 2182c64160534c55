/**
 * A pack directory on disk: which files belong to the pack (.packignore plus default excludes),
 * and resolution of pack-relative paths that refuses anything leaving the directory, through
 * `..` or through a symlink.
 */
import { constants } from 'node:fs';
import { lstat, open, readdir, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { packError } from './errors.js';
import { MAX_PACKIGNORE_BYTES, packIgnore, type PackIgnore } from './packignore.js';

/** Always left out of a built pack, whatever .packignore says. */
export const DEFAULT_EXCLUDES: readonly string[] = [
  '.git/',
  '.DS_Store',
  'node_modules/',
  '.packignore',
  // packctl's own folder (~/.packctl: its credentials), should a pack directory hold one.
  '.packctl/',
  // macOS's metadata beside files (AppleDouble) and its archiver's folder of them; tar layers
  // leave them out too (archive/read-tar.ts).
  '._*',
  '__MACOSX/',
];

export interface PackFile {
  /** Path inside the pack, with forward slashes ("charts/calico-3.27.2.tgz"). */
  path: string;
  /** Where the bytes are read from (the symlink target for a symlink inside the pack). */
  source: string;
  size: number;
  /** Normalised permissions: 0o755 when any execute bit is set, else 0o644. */
  mode: number;
  /**
   * Device and inode of the file listed: writing the archive reads only this file (its
   * descriptor's fstat must match), so a path swapped since the listing is refused.
   */
  dev: bigint;
  ino: bigint;
}

export interface PackTreeProblem {
  kind: 'symlink-escapes' | 'special-file';
  path: string;
  /** For a symlink: where it points. */
  target?: string;
}

export interface PackTree {
  /** Files sorted by path (byte order), so every walk of the same tree lists them alike. */
  files: PackFile[];
  problems: PackTreeProblem[];
  /** What .packignore and the default excludes left out, in walk order: files, and folders as `dir/` (not walked). */
  ignored: string[];
}

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Opens a file for reading without ever waiting: `O_NONBLOCK`, so that a FIFO (whose open would
 * wait for a writer, forever) opens at once and is then refused, with every other file that is not
 * a regular one, as `'special'`. `'missing'` when there is nothing at the path. For a regular file
 * the flag changes nothing.
 */
export async function openRegular(file: string): Promise<FileHandle | 'missing' | 'special'> {
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
    throw err;
  }
  if ((await handle.stat()).isFile()) return handle;
  await handle.close();
  return 'special';
}

async function loadIgnore(root: string, extra: readonly string[]): Promise<PackIgnore> {
  const matcher = packIgnore().add([...DEFAULT_EXCLUDES, ...extra]);
  const handle = await openRegular(path.join(root, '.packignore'));
  if (handle === 'missing') return matcher;
  if (handle === 'special') throw packError('NOT_A_REGULAR_FILE', '.packignore is not a regular file');
  try {
    const text = await readAtMost(handle, MAX_PACKIGNORE_BYTES);
    if (text === null) {
      throw packError('PACKIGNORE_TOO_LARGE', `.packignore is larger than ${String(MAX_PACKIGNORE_BYTES / 1024)} KiB`);
    }
    return matcher.add(text.toString('utf8'));
  } finally {
    await handle.close();
  }
}

/**
 * The bytes of an open file, read to its end but never past `maxBytes`: null when it holds more.
 * Its size is not trusted (a file still growing, or one that says 0 and has more): one byte past
 * the bound tells a larger file without reading it whole.
 */
export async function readAtMost(handle: FileHandle, maxBytes: number): Promise<Buffer | null> {
  const { size } = await handle.stat();
  if (size > maxBytes) return null;
  let buffer = Buffer.alloc(Math.min(maxBytes, size) + 1);
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (length > maxBytes) return null;
      // Grew since the stat: room for the rest, up to the bound and one byte.
      const larger = Buffer.alloc(Math.min(maxBytes + 1, length * 2));
      buffer.copy(larger);
      buffer = larger;
    }
    const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
    if (bytesRead === 0) return buffer.subarray(0, length);
    length += bytesRead;
    if (length > maxBytes) return null;
  }
}

function byteOrder(a: PackFile, b: PackFile): number {
  return Buffer.compare(Buffer.from(a.path), Buffer.from(b.path));
}

/**
 * Lists the files of a pack directory, honouring `.packignore` (gitignore syntax) and
 * {@link DEFAULT_EXCLUDES}. Symlinks that stay inside the pack are followed (their target's bytes
 * are packed); symlinks that leave it, and sockets, FIFOs or devices, are reported as problems.
 *
 * @example
 * const { files } = await listPackFiles('sample-packs/cni-calico');
 * files.map((f) => f.path); // ['README.md', 'charts/tigera-operator-v3.27.2.tgz', ...]
 */
export async function listPackFiles(dir: string, options: { exclude?: readonly string[] } = {}): Promise<PackTree> {
  const root = await realpath(dir);
  const matcher = await loadIgnore(root, options.exclude ?? []);
  const files: PackFile[] = [];
  const problems: PackTreeProblem[] = [];
  const ignored: string[] = [];
  const visited = new Set<string>([root]);

  async function walk(absDir: string, relDir: string): Promise<void> {
    const entries = await readdir(absDir, { withFileTypes: true });
    for (const entry of entries) {
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
      const abs = path.join(absDir, entry.name);
      let info = await lstat(abs, { bigint: true });
      let source = abs;
      if (info.isSymbolicLink()) {
        const target = await realpath(abs).catch(() => null);
        if (target === null || !isInside(root, target)) {
          if (matcher.ignores(rel)) ignored.push(rel);
          else problems.push({ kind: 'symlink-escapes', path: rel, target: target ?? abs });
          continue;
        }
        info = await stat(target, { bigint: true });
        source = target;
      }
      if (info.isDirectory()) {
        if (matcher.ignores(rel, true)) {
          ignored.push(`${rel}/`);
          continue;
        }
        // A symlinked directory seen before (a loop, or two links to one place) is walked once.
        const real = await realpath(source);
        if (visited.has(real)) continue;
        visited.add(real);
        await walk(source, rel);
      } else if (matcher.ignores(rel)) {
        ignored.push(rel);
      } else if (info.isFile()) {
        const mode = info.mode & 0o111n ? 0o755 : 0o644;
        files.push({ path: rel, source, size: Number(info.size), mode, dev: info.dev, ino: info.ino });
      } else {
        problems.push({ kind: 'special-file', path: rel });
      }
    }
  }

  await walk(root, '');
  files.sort(byteOrder);
  return { files, problems, ignored };
}

export type ResolvedPath =
  { ok: true; absolute: string } | { ok: false; reason: 'absolute' | 'escapes' | 'invalid' | 'missing' };

/**
 * Resolves a path written in pack.json ("charts/x.tgz") against the pack directory, refusing
 * absolute paths, backslashes, NUL bytes, and anything that leaves the directory lexically or
 * through a symlink.
 */
export async function resolveInsidePack(root: string, relative: string): Promise<ResolvedPath> {
  if (relative.includes('\0') || relative.includes('\\')) return { ok: false, reason: 'invalid' };
  if (path.posix.isAbsolute(relative) || /^[A-Za-z]:/.test(relative)) return { ok: false, reason: 'absolute' };
  const realRoot = await realpath(root);
  const lexical = path.resolve(realRoot, relative);
  if (!isInside(realRoot, lexical)) return { ok: false, reason: 'escapes' };
  const real = await realpath(lexical).catch((err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  });
  if (real === null) {
    // A dangling symlink that points outside still counts as leaving the pack.
    const link = await lstat(lexical).catch(() => null);
    if (link?.isSymbolicLink()) {
      const target = path.resolve(path.dirname(lexical), await readlink(lexical));
      if (!isInside(realRoot, target)) return { ok: false, reason: 'escapes' };
    }
    return { ok: false, reason: 'missing' };
  }
  if (!isInside(realRoot, real)) return { ok: false, reason: 'escapes' };
  return { ok: true, absolute: real };
}
