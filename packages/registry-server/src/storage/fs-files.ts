/**
 * File-level helpers of the fs driver: errno tests, ETags from file stats, nanosecond mtimes and
 * directory fsyncs.
 */
import type { BigIntStats } from 'node:fs';
import { pooledCalls, type FsCalls, type WritableFile } from './fs-calls.js';
import type { StoredObject } from './object-store.js';

export function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

export function isMissing(err: unknown): boolean {
  const code = errorCode(err);
  // ENOTDIR: a parent of the key is an object, so the key itself cannot exist.
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Opaque ETag from the inode, the nanosecond mtime and the size. The inode alone is not enough:
 * ext4 hands a freed inode number to the next new file, so a replace could come back to an ETag
 * seen before (ABA) if the mtime did not move, which {@link stampMtime} makes sure of.
 */
export function etagOf(info: BigIntStats): string {
  return `${info.ino.toString(16)}-${info.mtimeNs.toString(16)}-${info.size.toString(16)}`;
}

export function storedObject(key: string, info: BigIntStats): StoredObject {
  return { key, size: Number(info.size), etag: etagOf(info), lastModified: new Date(Number(info.mtimeMs)) };
}

// Kernel file times tick only every few milliseconds; a nanosecond wall clock keeps the ETags of
// two quick writes apart.
const CLOCK_OFFSET_NS = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
export function nowNs(): bigint {
  return CLOCK_OFFSET_NS + process.hrtime.bigint();
}

/** Sets a file's mtime (and atime) to `ns` nanoseconds since the epoch, by path or open file. */
export async function stampMtime(file: string | WritableFile, ns: bigint, calls: FsCalls = pooledCalls): Promise<void> {
  const seconds = Number(ns) / 1e9;
  await (typeof file === 'string' ? calls.utimes(file, seconds, seconds) : file.utimes(seconds, seconds));
}

/**
 * Removes a file; a missing one is not an error. `rm(file, { force: true })` does the same with
 * an lstat first, which costs a second trip to the thread pool on every temporary file.
 */
export async function removeFile(file: string, calls: FsCalls = pooledCalls): Promise<void> {
  try {
    await calls.unlink(file);
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') throw err;
  }
}

/** A directory's fsync under way, and the one queued behind it. */
interface DirSync {
  running: Promise<void>;
  queued: Promise<void> | null;
}

/** Directory fsyncs in this process, by directory: concurrent callers share them (group commit). */
const dirSyncs = new Map<string, DirSync>();

/**
 * Makes the entries of `dir` durable. An fsync already under way may have started before the
 * caller's change, so the caller waits for the next one instead, which every caller arriving
 * meanwhile shares: a few pushes at once into one directory cost one or two fsyncs, not one each.
 */
export function syncDir(dir: string, calls: FsCalls = pooledCalls): Promise<void> {
  const state = dirSyncs.get(dir);
  if (state === undefined) return startDirSync(dir, calls);
  state.queued ??= state.running.catch(() => undefined).then(() => startDirSync(dir, calls));
  return state.queued;
}

function startDirSync(dir: string, calls: FsCalls): Promise<void> {
  const state: DirSync = { running: fsyncDir(dir, calls), queued: null };
  dirSyncs.set(dir, state);
  state.running
    .finally(() => {
      if (dirSyncs.get(dir) === state) dirSyncs.delete(dir);
    })
    .catch(() => undefined);
  return state.running;
}

async function fsyncDir(dir: string, calls: FsCalls): Promise<void> {
  const handle = await calls.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function byteOrder(a: string, b: string): number {
  // Keys are ASCII, so UTF-16 order is byte order; localeCompare would not be.
  return a < b ? -1 : a > b ? 1 : 0;
}
