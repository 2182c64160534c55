/**
 * Owner-only modes for everything the registry writes on local disk: the fs store (version
 * records, password hashes, the token signing key, private packs), temporary uploads, the blob
 * cache and the first-start secrets. A signing key readable by another local user lets that user
 * forge a SuperAdmin token, so nothing may depend on the umask: files are created 0600 and
 * directories 0700 (a mode given at creation can only be narrowed by the umask, never widened),
 * and directories made by `mkdir -p` are chmod-ed afterwards in case the umask took owner bits.
 *
 * At start-up, a registry directory found group- or world-accessible (written by an older
 * version, restored from a backup, created by hand) is fixed, everything below it included, and
 * the fix is logged as a warning: refusing to start would turn a hardening into an outage, and
 * the registry owns these directories.
 */
import { chmod, lstat, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
/** Group and other bits: none may be set on anything the registry writes. */
const SHARED_BITS = 0o077;

function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

/** `mkdir -p dir` where every directory it creates is 0700, whatever the umask. */
export async function makePrivateDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (first === undefined) return;
  // mkdir -p returns the first directory it made: every one from there down to `dir` is new.
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    await chmod(at, PRIVATE_DIR_MODE);
    if (at === path.resolve(first) || at === path.dirname(at)) break;
  }
}

/** Whether `mode` lets the group or others in. */
export function isShared(mode: number): boolean {
  return (mode & SHARED_BITS) !== 0;
}

/**
 * Removes the group and other bits of `root` and of everything below it (symlinks are neither
 * followed nor changed); returns how many entries were changed. A missing root has none.
 */
export async function restrictTree(root: string): Promise<number> {
  let info;
  try {
    info = await lstat(root);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return 0;
    throw err;
  }
  if (info.isSymbolicLink()) return 0;
  let changed = 0;
  if (isShared(info.mode)) {
    await chmod(root, info.mode & 0o7700 & ~SHARED_BITS);
    changed++;
  }
  if (!info.isDirectory()) return changed;
  const names = await readdir(root).catch((err: unknown) => {
    // Removed meanwhile (a temporary directory of a neighbour process): nothing to fix.
    if (errorCode(err) === 'ENOENT') return [];
    throw err;
  });
  for (const name of names) changed += await restrictTree(path.join(root, name));
  return changed;
}

/**
 * Makes `dir` (created when missing) and everything below it owner-only when `dir` itself is
 * group- or world-accessible, logging what was fixed. A directory that is owner-only already
 * shields what is below it, so a healthy start costs one stat.
 *
 * @example
 * await securePrivateTree('/var/lib/packyard/store', 'the fs store', logger);
 */
export async function securePrivateTree(dir: string, what: string, logger?: Logger): Promise<number> {
  await makePrivateDir(dir);
  const info = await stat(dir);
  if (!isShared(info.mode)) return 0;
  const changed = await restrictTree(dir);
  logger?.warn(
    { dir, changed },
    `${what} at ${dir} was accessible to other local users; made ${changed} files and directories owner-only (0600/0700)`,
  );
  return changed;
}

/** The entries a data directory holds when only the registry uses it. */
const DATA_DIR_ENTRIES = new Set(['store', 'tmp', 'blob-cache', 'admin-token', 'superadmin-password']);
/** The data directory's entries the registry owns (and fixes) whatever else the directory holds. */
const SECRET_FILES = ['admin-token', 'superadmin-password'];

/**
 * The data directory at start-up: created 0700 when missing; its temporary files and secrets
 * made owner-only. The directory itself is only changed when it holds nothing but the
 * registry's own entries: a data directory pointed at a shared parent (a home directory, say) is
 * reported, never chmod-ed.
 */
export async function secureDataDir(dataDir: string, logger: Logger): Promise<void> {
  await makePrivateDir(dataDir);
  await securePrivateTree(path.join(dataDir, 'tmp'), 'the temporary upload directory', logger);
  for (const name of SECRET_FILES) {
    const changed = await restrictTree(path.join(dataDir, name));
    if (changed > 0) logger.warn({ file: path.join(dataDir, name) }, `made ${name} owner-only (0600)`);
  }
  const info = await stat(dataDir);
  if (!isShared(info.mode)) return;
  const foreign = (await readdir(dataDir)).filter((name) => !DATA_DIR_ENTRIES.has(name));
  if (foreign.length > 0) {
    logger.warn(
      { dataDir },
      `the data directory ${dataDir} is accessible to other local users and holds files that are not the registry's; the registry's own files are owner-only, but give it a directory of its own (chmod 700)`,
    );
    return;
  }
  await chmod(dataDir, PRIVATE_DIR_MODE);
  logger.warn({ dataDir }, `the data directory ${dataDir} was accessible to other local users; made it 0700`);
}
