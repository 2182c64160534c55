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
 * the registry owns these directories. An entry the registry's user does not own (a volume's
 * root in a container, say) cannot be changed: it is named in the warning, and left as it is.
 */
import { chmod, lstat, readdir, stat } from 'node:fs/promises';
import { makeDir } from '@packyard/pack-core';
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
  const first = await makeDir(dir, PRIVATE_DIR_MODE);
  if (first === undefined) return;
  // mkdir -p returns the first directory it made: every one from there down to `dir` is new,
  // and ours (a neighbour process racing us to make it could own it instead: left as it is).
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    await chmodIfOwner(at, PRIVATE_DIR_MODE);
    if (at === path.resolve(first) || at === path.dirname(at)) break;
  }
}

/** Whether `mode` lets the group or others in. */
export function isShared(mode: number): boolean {
  return (mode & SHARED_BITS) !== 0;
}

/** What {@link restrictTree} did: entries changed, and entries it was not allowed to change. */
export interface Restricted {
  changed: number;
  refused: string[];
}

/** chmod that reports "not the owner" (EPERM) as false instead of failing. */
async function chmodIfOwner(file: string, mode: number): Promise<boolean> {
  try {
    await chmod(file, mode);
    return true;
  } catch (err) {
    if (errorCode(err) === 'EPERM') return false;
    throw err;
  }
}

/**
 * Removes the group and other bits of `root` and of everything below it (symlinks are neither
 * followed nor changed). A missing root has nothing to change.
 */
export async function restrictTree(root: string, done: Restricted = { changed: 0, refused: [] }): Promise<Restricted> {
  let info;
  try {
    info = await lstat(root);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return done;
    throw err;
  }
  if (info.isSymbolicLink()) return done;
  if (isShared(info.mode)) {
    if (await chmodIfOwner(root, info.mode & 0o7700 & ~SHARED_BITS)) done.changed++;
    else done.refused.push(root);
  }
  if (!info.isDirectory()) return done;
  const names = await readdir(root).catch((err: unknown) => {
    // Removed meanwhile (a temporary directory of a neighbour process): nothing to fix.
    if (errorCode(err) === 'ENOENT') return [];
    throw err;
  });
  for (const name of names) await restrictTree(path.join(root, name), done);
  return done;
}

function warnRefused(logger: Logger | undefined, refused: string[]): void {
  if (refused.length === 0) return;
  logger?.warn(
    { refused: refused.slice(0, 20) },
    `${refused.length} files or directories stay accessible to other local users: the registry's user does not own them; chmod go-rwx them`,
  );
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
  const { changed, refused } = await restrictTree(dir);
  logger?.warn(
    { dir, changed },
    `${what} at ${dir} was accessible to other local users; made ${changed} files and directories owner-only (0600/0700)`,
  );
  warnRefused(logger, refused);
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
    const { changed, refused } = await restrictTree(path.join(dataDir, name));
    if (changed > 0) logger.warn({ file: path.join(dataDir, name) }, `made ${name} owner-only (0600)`);
    warnRefused(logger, refused);
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
  if (!(await chmodIfOwner(dataDir, PRIVATE_DIR_MODE))) {
    warnRefused(logger, [dataDir]);
    return;
  }
  logger.warn({ dataDir }, `the data directory ${dataDir} was accessible to other local users; made it 0700`);
}
