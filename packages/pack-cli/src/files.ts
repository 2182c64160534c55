/**
 * How packctl reads and writes files outside a pack:
 *
 * - Paths it builds from names it did not choose (a server's version record, a profile): the name
 *   must be one plain file name, and the path, once resolved, must sit directly inside the
 *   directory it was meant for. This holds whatever the name's grammar was checked against
 *   elsewhere: a second, independent guard that no output escapes its directory.
 * - Every file it writes is a new file put in place by rename ({@link replaceFile}): what was at
 *   the path (a symbolic link to a file elsewhere, a FIFO) is replaced, never written through.
 * - A command that writes several files (init's pack, profile pull's archives and lock) writes them
 *   into a staging directory of its own ({@link stage}), put in place only once all are written: a
 *   failure half-way (a full disk, a refused archive) leaves what was there before, and nothing else.
 * - Every file a user names that it reads (a profile, a lock, the configuration) is read only if it
 *   is a regular file, and only up to a size ({@link readUserFile}): a FIFO would wait for a writer
 *   for ever, /dev/zero would never end.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { makeDir, removeEmptyDirs } from '@packyard/pack-core/make-dir';
import { CliError } from './errors.js';

/**
 * `dir` joined with `name`, after checking that the result lies directly inside `dir` (no
 * separator, no "..", not empty); the path is returned as `path.join` spells it.
 *
 * @example
 * fileInside('vendor', 'cni-calico-3.27.2.zip'); // 'vendor/cni-calico-3.27.2.zip'
 * fileInside('vendor', '../escape.zip'); // throws
 */
export function fileInside(dir: string, name: string): string {
  const root = path.resolve(dir);
  const resolved = path.resolve(root, name);
  if (path.dirname(resolved) !== root || path.basename(resolved) !== name) {
    throw new CliError(`refusing to write ${JSON.stringify(name)}: it is not a file name inside ${dir}`, {
      hint: 'the name came from the server or the profile; check that they are the ones you meant',
    });
  }
  return path.join(dir, name);
}

/**
 * Writes `data` as `file`: a temporary file created exclusively beside it, then renamed over it, so
 * that whatever `file` was (a symbolic link into someone's home, a FIFO) is replaced, not written
 * through, and no reader sees it half-written. The temporary file is removed on failure (a full
 * disk, a directory where `file` goes): a secret's copy is not left beside it.
 *
 * `mode`, when given, is the file's mode exactly, whatever the umask (a secret's 0o600), set before
 * a byte is written; without it the file gets 0o666 less the umask, as any new file.
 */
export async function replaceFile(file: string, data: string | Uint8Array, mode?: number): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', mode ?? 0o666);
    try {
      // Through the handle: on the file just made, not on whatever the name stands for by now.
      if (mode !== undefined) await handle.chmod(mode);
      await handle.writeFile(data);
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/**
 * Runs `write` with a new, empty staging directory made in `parent` (`.<label>.<random>.partial`,
 * created exclusively: this run's own; `parent` and its missing parents made), then `place`s what
 * it wrote; on any failure of either the staging directory goes, and so do the parents this call
 * made while they are empty (another run may have put its files there meanwhile: those stay).
 * Nothing of a failed run stays, and nothing it did not create is removed. The staging directory
 * is also removed once placed (empty by then, or put in place whole).
 */
export async function stage<T>(
  parent: string,
  label: string,
  write: (staging: string) => Promise<T>,
  place: (staging: string) => Promise<void>,
): Promise<T> {
  const madeParent = await makeDir(parent);
  const staging = path.join(parent, `.${label}.${randomBytes(6).toString('hex')}.partial`);
  let made = false;
  try {
    // Not recursive: fails if anything is there, so what is removed below is this run's own.
    await mkdir(staging);
    made = true;
    const result = await write(staging);
    await place(staging);
    await rm(staging, { recursive: true, force: true });
    return result;
  } catch (err) {
    if (made) await rm(staging, { recursive: true, force: true });
    if (madeParent !== undefined) await removeEmptyDirs(parent, madeParent);
    throw err;
  }
}

/**
 * Puts the directory `staging` in place as `target`, which must be missing or an empty directory
 * (rename replaces an empty directory, atomically); anything else there is a CliError, and
 * `staging` stays for its caller ({@link stage}) to remove.
 */
export async function placeDirectory(staging: string, target: string): Promise<void> {
  try {
    await rename(staging, target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR' && code !== 'EISDIR') throw err;
    throw new CliError(`${target} already exists and is not an empty directory`, {
      hint: 'choose another path, or remove what is there',
    });
  }
}

/**
 * Moves every file of `staging` into `dir` (each rename replaces a file of the same name there, as
 * {@link replaceFile} would); `staging` is left empty. Renames within one file system: `staging`
 * must be in `dir` ({@link stage} with `dir` as the parent).
 */
export async function placeFiles(staging: string, dir: string): Promise<void> {
  for (const name of await readdir(staging)) await rename(path.join(staging, name), fileInside(dir, name));
}

/**
 * A file the user named (a profile, a lock, the configuration, a CA bundle), as text; null when
 * nothing is there. Refused (a CliError whose hint asks for `what`) unless it is a regular
 * file of at most `maxBytes`: opened `O_NONBLOCK`, so a FIFO is refused at once instead of waiting
 * for a writer, and never read past the limit, so /dev/zero ends. Synchronous: a command reads it
 * before it does anything else.
 */
export function readUserFile(file: string, maxBytes: number, what: string): string | null {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
  try {
    if (!fstatSync(fd).isFile()) {
      throw new CliError(`${file} is not a regular file`, { hint: `pass the path of ${what}` });
    }
    // One byte more than allowed tells a file that is too large, whatever its size said.
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length < buffer.length; length += read) {
      read = readSync(fd, buffer, length, buffer.length - length, length);
    }
    if (length > maxBytes) {
      throw new CliError(`${file} is larger than ${maxBytes} bytes`, { hint: `pass the path of ${what}` });
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

/** {@link readUserFile} for a file that must be there: nothing at the path is a CliError too. */
export function readRequiredUserFile(file: string, maxBytes: number, what: string): string {
  const text = readUserFile(file, maxBytes, what);
  if (text === null) throw new CliError(`${file}: no such file`, { hint: `pass the path of ${what}` });
  return text;
}
