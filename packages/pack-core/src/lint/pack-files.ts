/**
 * What lint reads a pack through. The same rules run over a directory (packctl) and over an
 * uploaded archive (the registry), so they see files only through this small interface.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { type PackError, packError } from '../errors.js';
import { openRegular, readAtMost, resolveInsidePack } from '../pack-dir.js';

export type PathStatus = 'ok' | 'missing' | 'escapes' | 'absolute' | 'invalid';

export interface PackFiles {
  /** Whether a pack-relative path names a file inside the pack. */
  check(path: string): Promise<PathStatus>;
  /** Reads a file that {@link check} found; throws PackError `FILE_TOO_LARGE` past `maxBytes`. */
  read(path: string, maxBytes: number): Promise<Buffer>;
  /** Streams a file that {@link check} found. */
  stream(path: string): Promise<Readable>;
  /** Every file of the pack (pack-relative paths), when the source knows them: what ships. */
  paths?: readonly string[];
}

export function fileTooLarge(path: string, maxBytes: number): PackError {
  return packError('FILE_TOO_LARGE', `${path} is larger than ${Math.round(maxBytes / 1024)} KiB`);
}

/** {@link PackFiles} over a pack directory, refusing paths that leave it. */
export function directoryPackFiles(root: string): PackFiles {
  /** The open file at a pack-relative path: inside the pack and a regular file, or PackError. */
  async function opened(path: string): Promise<FileHandle> {
    const resolved = await resolveInsidePack(root, path);
    const handle = resolved.ok ? await openRegular(resolved.absolute) : 'missing';
    if (handle === 'special') throw packError('NOT_A_REGULAR_FILE', `${path} is not a regular file`);
    if (handle === 'missing') throw packError('PATH_NOT_IN_PACK', `${path} is not a file inside the pack`);
    return handle;
  }
  return {
    async check(path) {
      const resolved = await resolveInsidePack(root, path);
      if (!resolved.ok) return resolved.reason;
      // A file that cannot be opened (or is not a regular one) is missing to the rules.
      const handle = await openRegular(resolved.absolute).catch(() => 'missing' as const);
      if (typeof handle === 'string') return 'missing';
      await handle.close();
      return 'ok';
    },
    async read(path, maxBytes) {
      const handle = await opened(path);
      try {
        const bytes = await readAtMost(handle, maxBytes);
        if (bytes === null) throw fileTooLarge(path, maxBytes);
        return bytes;
      } finally {
        await handle.close();
      }
    },
    async stream(path) {
      // The stream owns the descriptor from here: it closes it when it ends or is destroyed.
      return (await opened(path)).createReadStream();
    },
  };
}
