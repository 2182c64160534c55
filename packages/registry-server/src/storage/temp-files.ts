/**
 * Temporary files named after the process that writes them (`<host>.<pid>.<random><suffix>`), so
 * that a process starting after a crash can remove the orphans of dead processes without touching
 * the files a live neighbour sharing the directory is still writing.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { randomHex } from '../random-hex.js';

/** This host, as a file name and storage key segment may hold it. */
export const HOST = hostname().replace(/[^A-Za-z0-9-]/g, '-');
/** Files of other hosts (a shared NFS directory) are only removed once this old. */
const FOREIGN_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/** This process's id, read once (`process.pid` asks the kernel each time). */
export const PID = process.pid;
const NAME_PREFIX = `${HOST}.${PID}.`;

/** A fresh temporary file name owned by this process. */
export function tempName(suffix = ''): string {
  return `${NAME_PREFIX}${randomHex(8)}${suffix}`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether what process `pid` of `host` left, `ageMs` ago, is an orphan: on this host, the process
 * is gone; on another (a shared directory or bucket), it is older than a day.
 */
export function ownerGone(host: string, pid: number, ageMs: number): boolean {
  if (host !== HOST) return ageMs > FOREIGN_MAX_AGE_MS;
  return pid !== PID && !processAlive(pid);
}

/** Whether a file of {@link tempName}'s form belongs to a process that no longer runs. */
function orphaned(name: string, ageMs: number): boolean {
  const match = /^(.+)\.(\d+)\.[0-9a-f]{16}/.exec(name);
  if (!match) return ageMs > FOREIGN_MAX_AGE_MS;
  const [, host = '', pid] = match;
  return ownerGone(host, Number(pid), ageMs);
}

/**
 * Removes the orphaned temporary files in `dir` (not recursive); returns how many were removed.
 * A missing directory has none.
 */
export async function removeOrphanedTempFiles(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  let removed = 0;
  const now = Date.now();
  for (const name of names) {
    const file = path.join(dir, name);
    const info = await stat(file).catch(() => null);
    if (!info || !orphaned(name, now - info.mtimeMs)) continue;
    await rm(file, { recursive: true, force: true });
    removed++;
  }
  return removed;
}
