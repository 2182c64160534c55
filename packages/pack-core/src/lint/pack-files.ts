/**
 * What lint reads a pack through. The same rules run over a directory (packctl) and over an
 * uploaded archive (the registry), so they see files only through this small interface.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { type PackError, packError } from '../errors.js';
import { resolveInsidePack } from '../pack-dir.js';

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
  async function absolute(path: string): Promise<string> {
    const resolved = await resolveInsidePack(root, path);
    if (!resolved.ok) throw packError('PATH_NOT_IN_PACK', `${path} is not a file inside the pack`);
    return resolved.absolute;
  }
  return {
    async check(path) {
      const resolved = await resolveInsidePack(root, path);
      if (!resolved.ok) return resolved.reason;
      const handle = await open(resolved.absolute, 'r').catch(() => null);
      if (!handle) return 'missing';
      const isFile = (await handle.stat()).isFile();
      await handle.close();
      return isFile ? 'ok' : 'missing';
    },
    async read(path, maxBytes) {
      const handle = await open(await absolute(path), 'r');
      try {
        const { size } = await handle.stat();
        if (size > maxBytes) throw fileTooLarge(path, maxBytes);
        return await handle.readFile();
      } finally {
        await handle.close();
      }
    },
    async stream(path) {
      return createReadStream(await absolute(path));
    },
  };
}
