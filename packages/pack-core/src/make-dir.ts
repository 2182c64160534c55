/**
 * `mkdir -p` that always ends. Node's own (`mkdir(dir, { recursive: true })`, sync or not, in Node
 * 20 and 22) spins for ever at full CPU when a directory on the path exists but cannot hold the
 * next one and says ENOENT instead: a path under /proc, or below a symbolic link to nowhere (a
 * volume that is not mounted). It takes the ENOENT for a missing parent, makes the parent (EEXIST:
 * it is there) and tries again. Here an ENOENT once the parent is there is final, so `packctl build
 * -o`, `packctl init -d`, `pull -o` and the registry's data directory fail with an error instead.
 *
 * Every directory-making call of the project goes through here (a guard in make-dir.test.ts). The
 * two functions are the same walk written twice, with calls that wait and with blocking ones: keep
 * them alike.
 *
 * @example
 * await makeDir('dist/packs'); // dist's path when it made dist and dist/packs, undefined when there
 */
import { lstatSync, mkdirSync, statSync } from 'node:fs';
import { lstat, mkdir, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';

const errorCode = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | null)?.code;

/**
 * The error for something at `target` that is not a directory: mkdir's EEXIST for a file, but
 * ENOENT for a symbolic link to nowhere (what the directory would be made below does not exist).
 */
function inTheWay(err: unknown, target: string, isLink: boolean): unknown {
  if (!isLink) return err;
  return Object.assign(new Error(`ENOENT: ${target} is a symbolic link to nothing, mkdir '${target}'`), {
    code: 'ENOENT',
    errno: -2,
    syscall: 'mkdir',
    path: target,
  });
}

/** Makes `dir` and its missing parents (each with `mode`): the first one made, undefined when there. */
export async function makeDir(dir: string, mode = 0o777): Promise<string | undefined> {
  const target = path.resolve(dir);
  const isDirectory = () =>
    stat(target).then(
      (info) => info.isDirectory(),
      () => false,
    );
  const isLink = () =>
    lstat(target).then(
      (info) => info.isSymbolicLink(),
      () => false,
    );
  try {
    await mkdir(target, { mode });
    return target;
  } catch (err) {
    const parent = path.dirname(target);
    if (errorCode(err) === 'ENOENT' && parent !== target) {
      const first = await makeDir(parent, mode);
      try {
        await mkdir(target, { mode });
        return first ?? target;
      } catch (again) {
        // Made meanwhile (another process): as good. ENOENT again, the parent being there, is final.
        if (errorCode(again) === 'EEXIST' && (await isDirectory())) return first;
        throw again;
      }
    }
    if (errorCode(err) !== 'EEXIST') throw err;
    if (await isDirectory()) return undefined;
    throw inTheWay(err, target, await isLink());
  }
}

/** {@link makeDir} with blocking calls. */
export function makeDirSync(dir: string, mode = 0o777): string | undefined {
  const target = path.resolve(dir);
  const isDirectory = () => statSync(target, { throwIfNoEntry: false })?.isDirectory() === true;
  const isLink = () => lstatSync(target, { throwIfNoEntry: false })?.isSymbolicLink() === true;
  try {
    mkdirSync(target, { mode });
    return target;
  } catch (err) {
    const parent = path.dirname(target);
    if (errorCode(err) === 'ENOENT' && parent !== target) {
      const first = makeDirSync(parent, mode);
      try {
        mkdirSync(target, { mode });
        return first ?? target;
      } catch (again) {
        if (errorCode(again) === 'EEXIST' && isDirectory()) return first;
        throw again;
      }
    }
    if (errorCode(err) !== 'EEXIST') throw err;
    if (isDirectory()) return undefined;
    throw inTheWay(err, target, isLink());
  }
}

/**
 * Undoes {@link makeDir} for what stayed empty: removes `from` and its parents up to `upTo` (the
 * first directory makeDir made; included) while they are empty directories, so a failed run takes
 * away the folders it made and never what another run put in them meanwhile.
 */
export async function removeEmptyDirs(from: string, upTo: string): Promise<void> {
  const top = path.resolve(upTo);
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    try {
      await rmdir(dir);
    } catch {
      return;
    }
    if (dir === top || path.dirname(dir) === dir) return;
  }
}
