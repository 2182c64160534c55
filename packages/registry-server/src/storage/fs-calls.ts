/**
 * The fs driver's file-system calls, made one of two ways, chosen once per store root:
 *
 * - **direct** (a local filesystem: ext4, XFS, btrfs, tmpfs, ...): the metadata calls (open,
 *   link, rename, unlink, stat, mkdir, utimes, close) and the writes of small bodies are made
 *   synchronously on the calling thread. Each takes a few microseconds there, while a trip through
 *   libuv's thread pool costs 30-60 µs of CPU between queueing and wake-up on a 2-core machine,
 *   and a write of a record is a dozen such calls. The calls that wait on the disk (fsync,
 *   fdatasync) and the writes of large bodies still go through the pool.
 * - **pooled** (a network filesystem, or one not known to be local: NFS, SMB, CephFS, FUSE, ...):
 *   every call goes through the pool, so that a slow or stalled server holds up only the requests
 *   that touch it, never the event loop.
 *
 * Reads of objects (downloads, record reads) use `node:fs/promises` either way: they are not in
 * this module.
 */
import * as fs from 'node:fs';
import type { BigIntStats, Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { makeDir, makeDirSync } from '@packyard/pack-core';

/**
 * A written body of up to this many bytes goes down in one synchronous write (direct calls): a
 * write to the page cache takes microseconds, a trip through the pool tens of them.
 */
export const DIRECT_WRITE_MAX_BYTES = 256 * 1024;

/** An open file as the write paths use it: the subset of `FileHandle` they need. */
export interface WritableFile {
  writeFile(body: Buffer | string): Promise<void>;
  utimes(atime: number, mtime: number): Promise<void>;
  sync(): Promise<void>;
  datasync(): Promise<void>;
  stat(options: { bigint: true }): Promise<BigIntStats>;
  stat(): Promise<Stats>;
  close(): Promise<void>;
}

export interface FsCalls {
  readonly kind: FsCallsKind;
  open(file: string, flags: string | number, mode?: number): Promise<WritableFile>;
  link(existing: string, name: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(file: string): Promise<void>;
  stat(file: string, options: { bigint: true }): Promise<BigIntStats>;
  stat(file: string): Promise<Stats>;
  lstat(file: string): Promise<Stats>;
  /** `mkdir -p`: the first directory it made, undefined when `dir` was there. */
  mkdir(dir: string, mode: number): Promise<string | undefined>;
  utimes(file: string, atime: number, mtime: number): Promise<void>;
}

export type FsCallsKind = 'direct' | 'pooled';

export const pooledCalls: FsCalls = {
  kind: 'pooled',
  open: (file, flags, mode) => fsp.open(file, flags, mode),
  link: fsp.link,
  rename: fsp.rename,
  unlink: fsp.unlink,
  stat: fsp.stat,
  lstat: (file) => fsp.lstat(file),
  mkdir: (dir, mode) => makeDir(dir, mode),
  utimes: fsp.utimes,
};

/** Runs `call` now; its error, if any, comes back as a rejection like the pooled call's. */
// eslint-disable-next-line @typescript-eslint/require-await -- async: a throw becomes a rejection
export async function now<T>(call: () => T): Promise<T> {
  return call();
}

/** A pool call of the callback API (one trip, without a FileHandle's promise machinery). */
export function pooled<T = void>(
  call: (done: (err: NodeJS.ErrnoException | null, value: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    call((err, value) => {
      if (err) reject(err);
      else resolve(value);
    });
  });
}

function directFile(fd: number): WritableFile {
  let closed = false;
  const writeAll = async (buffer: Buffer): Promise<void> => {
    if (buffer.length <= DIRECT_WRITE_MAX_BYTES) {
      for (let done = 0; done < buffer.length;) done += fs.writeSync(fd, buffer, done, buffer.length - done);
      return;
    }
    for (let done = 0; done < buffer.length;) {
      done += await pooled<number>((wrote) => {
        fs.write(fd, buffer, done, buffer.length - done, null, wrote);
      });
    }
  };
  return {
    writeFile: (body) => writeAll(typeof body === 'string' ? Buffer.from(body) : body),
    utimes: (atime, mtime) =>
      now(() => {
        fs.futimesSync(fd, atime, mtime);
      }),
    sync: () =>
      pooled((done) => {
        fs.fsync(fd, done);
      }),
    datasync: () =>
      pooled((done) => {
        fs.fdatasync(fd, done);
      }),
    stat: ((options?: { bigint: true }) =>
      now(() => (options ? fs.fstatSync(fd, options) : fs.fstatSync(fd)))) as WritableFile['stat'],
    close: () =>
      now(() => {
        if (closed) return;
        closed = true;
        fs.closeSync(fd);
      }),
  };
}

export const directCalls: FsCalls = {
  kind: 'direct',
  open: (file, flags, mode) => now(() => directFile(fs.openSync(file, flags, mode))),
  link: (existing, name) =>
    now(() => {
      fs.linkSync(existing, name);
    }),
  rename: (from, to) =>
    now(() => {
      fs.renameSync(from, to);
    }),
  unlink: (file) =>
    now(() => {
      fs.unlinkSync(file);
    }),
  stat: ((file: string, options?: { bigint: true }) =>
    now(() => (options ? fs.statSync(file, options) : fs.statSync(file)))) as FsCalls['stat'],
  lstat: (file) => now(() => fs.lstatSync(file)),
  mkdir: (dir, mode) => now(() => makeDirSync(dir, mode)),
  utimes: (file, atime, mtime) =>
    now(() => {
      fs.utimesSync(file, atime, mtime);
    }),
};

/**
 * A file opened on the thread pool, then written with the direct calls: for a file made ahead of
 * its use by a store whose calls are direct, whose open may wait on the disk.
 */
export async function openInPool(file: string, flags: string, mode?: number): Promise<WritableFile> {
  const fd = await pooled<number>((done) => {
    fs.open(file, flags, mode, done);
  });
  return directFile(fd);
}

/**
 * Linux filesystems (statfs `f_type`) whose metadata calls never leave the machine. Anything
 * else (NFS, SMB/CIFS, CephFS, GlusterFS and other FUSE mounts, 9p, another OS) is treated as
 * possibly remote.
 */
const LOCAL_FILESYSTEMS = new Set([
  0xef53, // ext2, ext3, ext4
  0x58465342, // XFS
  0x9123683e, // btrfs
  0x01021994, // tmpfs
  0x794c7630, // overlayfs (a container's root)
  0x2fc12fc1, // ZFS
  0xf2f52010, // F2FS
  0xca451a4e, // bcachefs
  0x3153464a, // JFS
  0x52654973, // ReiserFS
]);

/**
 * The calls for a store rooted at `dir` (which must exist): direct on a local filesystem, pooled
 * otherwise, or as `choice` says.
 */
export async function fsCallsFor(dir: string, choice: FsCallsKind | 'auto' = 'auto'): Promise<FsCalls> {
  if (choice !== 'auto') return choice === 'direct' ? directCalls : pooledCalls;
  if (process.platform !== 'linux') return pooledCalls;
  const { type } = await fsp.statfs(dir);
  return LOCAL_FILESYSTEMS.has(type) ? directCalls : pooledCalls;
}
