/**
 * The embedded driver: objects are files under `<root>/objects`, written through `<root>/tmp` and
 * renamed into place, so a reader sees either the old or the new bytes. Conditional writes hold
 * across processes sharing the directory (several registry processes on one host, or on NFS):
 * create-once is an atomic `link`, compare-and-swap runs under a per-key lock file
 * (./fs-locks.ts); file-level helpers (ETags, mtimes, fsyncs) are in ./fs-files.ts, and how the
 * write paths' calls are made (directly on a local disk, through the thread pool otherwise) in
 * ./fs-calls.ts.
 */
import { constants as fsConstants, createWriteStream, type BigIntStats, type Dirent } from 'node:fs';
import { chmod, copyFile, open, readdir, rm, rmdir, stat, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import type { Logger } from 'pino';
import {
  PreconditionFailedError,
  isPreconditionFailed,
  assertValidKey,
  assertValidPrefix,
  diskFullAsStorageFull,
  invalidKey,
  storageUnavailable,
  type Committed,
  type ListOptions,
  type LocalObject,
  type ObjectRead,
  type ObjectStore,
  type PutFileOptions,
  type PutOptions,
  type StageOptions,
  type StagedObject,
  type StoredObject,
} from './object-store.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, makePrivateDir, securePrivateTree } from './file-modes.js';
import { fsCallsFor, openInPool, type FsCalls, type FsCallsKind, type WritableFile } from './fs-calls.js';
import {
  byteOrder,
  errorCode,
  etagOf,
  isMissing,
  nowNs,
  removeFile as removeTemp,
  stampMtime,
  storedObject,
  syncDir as syncDirEntries,
} from './fs-files.js';
import { keyLocks } from './fs-locks.js';
import { removeOrphanedTempFiles, tempName } from './temp-files.js';

/** Reads of large objects go in 1 MiB pieces: the 64 KiB default costs a callback per piece. */
const READ_CHUNK_BYTES = 1024 * 1024;

export interface FsStoreOptions {
  /** The store's directory; created when missing. */
  root: string;
  /** Told when the directory had to be made owner-only at start-up. */
  logger?: Logger;
  /** How its file-system calls are made (./fs-calls.ts); by default, as the filesystem suits. */
  calls?: FsCallsKind | 'auto';
}

export async function createFsStore({ root, logger, calls: choice = 'auto' }: FsStoreOptions): Promise<ObjectStore> {
  const rootDir = path.resolve(root);
  const objectsDir = path.join(rootDir, 'objects');
  const tmpDir = path.join(rootDir, 'tmp');
  const readyDir = path.join(rootDir, 'ready');
  const locksDir = path.join(rootDir, 'locks');
  const description = `fs ${rootDir}`;

  // Every file is 0600 and every directory 0700 (file-modes.ts); a store left accessible to
  // others (by an older version, or a restore) is fixed before anything is served from it.
  await securePrivateTree(rootDir, 'the fs store', logger);
  for (const dir of [objectsDir, tmpDir, readyDir, locksDir]) await makePrivateDir(dir);
  await removeOrphanedTempFiles(tmpDir);
  await removeOrphanedTempFiles(readyDir);
  const calls = await fsCallsFor(rootDir, choice);
  const withLock = keyLocks({ locksDir, tmpDir, description, calls });
  const removeFile = (file: string) => removeTemp(file, calls);
  const syncDir = (dir: string) => syncDirEntries(dir, calls);
  const readyTemps = tempFilesAhead(readyDir, calls);
  /**
   * Directories this store made whose entries in their parents are still being flushed: a durable
   * file placed in one by another put (which found it there) waits for that flush too.
   */
  const unsyncedDirs = new Map<string, Promise<void>>();

  function fileOf(key: string): string {
    assertValidKey(key);
    const file = path.resolve(objectsDir, key);
    // assertValidKey already rules out "..": this is the second lock on the door.
    if (!file.startsWith(objectsDir + path.sep)) throw invalidKey();
    return file;
  }

  function conflict(key: string, cause: unknown): Error {
    return new Error(
      `cannot store ${key}: a parent of the key is an object, or the key has objects below it, which a directory tree cannot hold`,
      { cause },
    );
  }

  /**
   * Creates `dir` (and any missing parents). Returns the fsyncs that make the new directory
   * entries durable, under way (`synced`): the caller may place its file in the new directory
   * meanwhile, and must await them before it reports the file placed.
   */
  async function ensureDir(key: string, dir: string): Promise<{ synced: Promise<void> }> {
    let first: string | undefined;
    try {
      first = await calls.mkdir(dir, PRIVATE_DIR_MODE);
    } catch (err) {
      if (errorCode(err) === 'ENOTDIR' || errorCode(err) === 'EEXIST') throw conflict(key, err);
      throw err;
    }
    if (first === undefined) return { synced: Promise.resolve() };
    const top = path.dirname(first);
    const parents: string[] = [];
    for (let parent = dir; parent !== top;) {
      parent = path.dirname(parent);
      parents.push(parent);
    }
    const synced = Promise.all(parents.map((parent) => syncDir(parent))).then(() => undefined);
    // Awaited by placeFile, unless the placing fails first: never left unhandled.
    synced.catch(() => undefined);
    const made = [dir, ...parents.slice(0, -1)];
    for (const madeDir of made) unsyncedDirs.set(madeDir, synced);
    void synced
      .finally(() => {
        for (const madeDir of made) if (unsyncedDirs.get(madeDir) === synced) unsyncedDirs.delete(madeDir);
      })
      .catch(() => undefined);
    return { synced };
  }

  /** Writes `body` to a fresh temporary file (see {@link writeFresh}); returns its path and ETag. */
  async function writeTemp(body: Buffer | string, durable = true): Promise<{ temp: string; etag: string }> {
    const made = readyTemps.take();
    const temp = made?.file ?? path.join(tmpDir, tempName());
    return { temp, etag: await writeFresh(temp, body, durable, made?.handle) };
  }

  /**
   * Creates `file` (it must not exist) holding `body` through one descriptor: written, stamped
   * with a fresh mtime (see {@link stampMtime}), fsynced unless not `durable`. Returns its ETag;
   * on failure, a file it created is removed again.
   */
  async function writeFresh(
    file: string,
    body: Buffer | string,
    durable: boolean,
    opened?: WritableFile,
  ): Promise<string> {
    const handle = opened ?? (await calls.open(file, 'wx', PRIVATE_FILE_MODE));
    try {
      if (body.length > 0) await handle.writeFile(body);
      await stampMtime(handle, nowNs());
      if (durable) await handle.sync();
      return etagOf(await handle.stat({ bigint: true }));
    } catch (err) {
      await removeFile(file);
      throw err;
    } finally {
      await handle.close();
    }
  }

  /** Moves `temp` to `key`'s file, unless `ifMatch` no longer holds; always consumes `temp`. */
  async function replace(key: string, temp: string, ifMatch?: string, durable = true): Promise<{ etag: string }> {
    const file = fileOf(key);
    try {
      return await withLock(key, async () => {
        const current = await calls.stat(file, { bigint: true }).catch((err: unknown) => {
          if (isMissing(err)) return null;
          throw err;
        });
        if (current?.isDirectory()) throw conflict(key, null);
        if (ifMatch !== undefined && (!current || etagOf(current) !== ifMatch)) throw new PreconditionFailedError(key);
        if (current) {
          // The new ETag must differ from every earlier one even if the inode number comes back.
          const written = await calls.stat(temp, { bigint: true });
          if (written.mtimeNs <= current.mtimeNs) await stampMtime(temp, current.mtimeNs + 1000n, calls);
        }
        await placeFile(key, file, durable, () => calls.rename(temp, file));
        return { etag: etagOf(await calls.stat(file, { bigint: true })) };
      });
    } finally {
      await removeFile(temp);
    }
  }

  /**
   * Creates `key`'s file from `temp` only if it does not exist yet: `link` fails on an existing
   * name. `etag` is temp's, when the caller has it (a link changes neither inode, mtime nor size).
   */
  async function create(key: string, temp: string, etag?: string, durable = true): Promise<{ etag: string }> {
    try {
      await linkNew(key, temp, durable);
      // The temporary name is a second link to the new file: its ETag cannot be one of a
      // replace that came after.
      return { etag: etag ?? etagOf(await calls.stat(temp, { bigint: true })) };
    } finally {
      await removeFile(temp);
    }
  }

  /**
   * Gives `source` the name of `key`'s file, which must not exist yet, and makes that name durable
   * (unless not `durable`).
   */
  async function linkNew(key: string, source: string, durable = true): Promise<void> {
    const file = fileOf(key);
    await placeFile(key, file, durable, async () => {
      try {
        await calls.link(source, file);
      } catch (err) {
        if (errorCode(err) !== 'EEXIST') throw err;
        const existing = await calls.lstat(file);
        throw existing.isDirectory() ? conflict(key, err) : new PreconditionFailedError(key);
      }
    });
  }

  /**
   * Creates `key`'s file empty, only if it does not exist yet (markers: links, index entries).
   * An empty file cannot be seen half-written, so it is made in place, without a temporary file;
   * with no data to flush, the directory's fsync (which commits the new inode with its entry) is
   * the one that makes it durable. Its mtime is not stamped: an empty object is a marker, whose
   * ETag nobody compares.
   */
  async function createEmpty(key: string): Promise<{ etag: string }> {
    const file = fileOf(key);
    let etag = '';
    await placeFile(key, file, true, async () => {
      let handle: WritableFile;
      try {
        handle = await calls.open(file, 'wx', PRIVATE_FILE_MODE);
      } catch (err) {
        if (errorCode(err) !== 'EEXIST') throw err;
        const existing = await calls.lstat(file);
        throw existing.isDirectory() ? conflict(key, err) : new PreconditionFailedError(key);
      }
      try {
        etag = etagOf(await handle.stat({ bigint: true }));
      } finally {
        await handle.close();
      }
    });
    return { etag };
  }

  /**
   * The flushes still under way of the entries of `dir` and its parents that this store made (a
   * concurrent put made them, and is flushing them into their parents).
   */
  function unsyncedParents(dir: string): Promise<void>[] {
    const pending: Promise<void>[] = [];
    if (unsyncedDirs.size === 0) return pending;
    for (let at = dir; at.length > objectsDir.length; at = path.dirname(at)) {
      const flush = unsyncedDirs.get(at);
      if (flush) pending.push(flush);
    }
    return pending;
  }

  /**
   * Puts a file in place with `move` and fsyncs its directory (unless the file is not `durable`).
   * The directory usually exists, so it is only made (and made durable, always: a durable file
   * placed in it later fsyncs only the directory itself, and waits for a flush of its entries
   * another put has under way) when the move finds it missing; a concurrent delete may also remove
   * a freshly made, still empty parent directory in between: then it is made again. The fsyncs of
   * new directories' parents run alongside the move and the directory's own fsync: the file
   * counts as placed only once all of them are done, and until then nothing depends on which of
   * them reached the disk first.
   */
  async function placeFile(key: string, file: string, durable: boolean, move: () => Promise<void>): Promise<void> {
    const dir = path.dirname(file);
    const madeDurable: Promise<void>[] = [];
    for (let attempt = 1; ; attempt++) {
      try {
        await move();
        break;
      } catch (err) {
        const code = errorCode(err);
        if (code === 'EISDIR') throw conflict(key, err);
        // ENOTDIR: a parent is a file; ensureDir says so as a conflict.
        if ((code !== 'ENOENT' && code !== 'ENOTDIR') || attempt === 3) throw err;
      }
      madeDurable.push((await ensureDir(key, dir)).synced);
    }
    await Promise.all(durable ? [syncDir(dir), ...madeDurable, ...unsyncedParents(dir)] : madeDurable);
  }

  /** A full disk (ENOSPC, EDQUOT) is a 507 for the client, not a 500: nothing was stored. */
  async function diskFullMapped<T>(operation: Promise<T>): Promise<T> {
    try {
      return await operation;
    } catch (err) {
      throw diskFullAsStorageFull(err);
    }
  }

  async function put(key: string, body: Buffer | string, options: PutOptions = {}): Promise<{ etag: string }> {
    fileOf(key);
    // Both at once can never hold: the key would have to be missing and have a given ETag.
    if (options.ifNoneMatch !== undefined && options.ifMatch !== undefined) throw new PreconditionFailedError(key);
    if (options.ifNoneMatch === '*' && body.length === 0) {
      await options.after;
      return createEmpty(key);
    }
    const durable = options.durable ?? true;
    // The temporary file is written while `after` is under way: it shows nothing until placed.
    const written = writeTemp(body, durable);
    if (options.after) {
      written.catch(() => undefined);
      try {
        await options.after;
      } catch (err) {
        await written.then(({ temp }) => removeFile(temp)).catch(() => undefined);
        throw err;
      }
    }
    const { temp, etag } = await written;
    return options.ifNoneMatch === '*'
      ? create(key, temp, etag, durable)
      : replace(key, temp, options.ifMatch, durable);
  }

  /**
   * Appends `body` to `key`'s file if its ETag is still `ifMatch`: one write at its end and a
   * flush, without a temporary file, lock or rename (the directory entry does not change). The
   * ETag is compared on the open descriptor, not under a key lock: see ObjectStore.append.
   */
  async function append(key: string, body: Buffer, { ifMatch }: { ifMatch: string }): Promise<{ etag: string }> {
    const file = fileOf(key);
    let handle: WritableFile;
    try {
      handle = await calls.open(file, fsConstants.O_WRONLY | fsConstants.O_APPEND);
    } catch (err) {
      if (isMissing(err) || errorCode(err) === 'EISDIR') throw new PreconditionFailedError(key);
      throw err;
    }
    try {
      if (etagOf(await handle.stat({ bigint: true })) !== ifMatch) throw new PreconditionFailedError(key);
      await handle.writeFile(body);
      await handle.datasync();
      return { etag: etagOf(await handle.stat({ bigint: true })) };
    } finally {
      await handle.close();
    }
  }

  /** Creates `key` from `temp`, or keeps the object already there (content-addressed keys only). */
  async function createOrKeep(key: string, temp: string): Promise<Committed> {
    try {
      return { ...(await create(key, temp)), created: true };
    } catch (err) {
      return keptOr(key, err);
    }
  }

  /**
   * After a create of a content-addressed `key` failed with `err`: the ETag of the object already
   * there, which holds the same bytes; `err` again for any other failure (or if it is gone).
   */
  async function keptOr(key: string, err: unknown): Promise<Committed> {
    if (!isPreconditionFailed(err)) throw err;
    const existing = await head(key);
    if (!existing) throw err;
    return { etag: existing.etag };
  }

  /** How a finished temporary file becomes `key`: kept if there (content-addressed), else replaced. */
  function placerFor(options: StageOptions): (key: string, temp: string) => Promise<Committed> {
    return options.contentAddressed === true ? createOrKeep : replace;
  }

  function stage(key: string, options: StageOptions = {}): StagedObject {
    fileOf(key);
    const temp = path.join(tmpDir, tempName());
    // `flush`: fsynced before it is closed, through the stream's own descriptor.
    const stream = createWriteStream(temp, { flags: 'wx', mode: PRIVATE_FILE_MODE, flush: true });
    const written = finished(stream);
    // Failures surface in commit; until then nobody may be left with an unhandled rejection.
    written.catch(() => undefined);
    const place = placerFor(options);
    return {
      stream,
      async commit() {
        try {
          await written;
          // A content-addressed key always holds the same bytes: an ETag of it never goes stale.
          if (options.contentAddressed !== true) await stampMtime(temp, nowNs(), calls);
        } catch (err) {
          await removeFile(temp);
          throw diskFullAsStorageFull(err);
        }
        return diskFullMapped(place(key, temp));
      },
      async abort() {
        stream.destroy();
        await written.catch(() => undefined);
        await removeFile(temp);
      },
    };
  }

  async function putFile(key: string, file: string, options: PutFileOptions = {}): Promise<Committed> {
    fileOf(key);
    if (options.contentAddressed === true) {
      const taken = await takeOver(key, file, options.flushed);
      if (taken) return taken;
    }
    const temp = path.join(tmpDir, tempName());
    try {
      // A second name for the caller's file: no byte is copied. Another filesystem gets a copy.
      await calls.link(file, temp).catch(async (err: unknown) => {
        if (errorCode(err) !== 'EXDEV' && errorCode(err) !== 'EPERM') throw err;
        await copyFile(file, temp, fsConstants.COPYFILE_EXCL);
        await chmod(temp, PRIVATE_FILE_MODE);
      });
      const handle = await calls.open(temp, 'r+');
      try {
        await stampMtime(handle, nowNs());
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (err) {
      await removeFile(temp);
      throw diskFullAsStorageFull(err);
    }
    return diskFullMapped(placerFor(options)(key, temp));
  }

  /**
   * A content-addressed file taken over under its key itself, without a temporary name: its bytes
   * are flushed (or the caller's flush of them, `flushed`, awaited), then it is linked into place, so no
   * name ever shows bytes that are not on disk. Its mtime is stamped now, as every new object's
   * is: gc's grace period counts from it, and the file may have been written long before (an OCI
   * upload finished hours after its last chunk). An object already there is kept. Null when the
   * file cannot be linked there (another filesystem, or none of its hard links allowed).
   */
  async function takeOver(key: string, file: string, flushed?: Promise<void>): Promise<Committed | null> {
    let info: BigIntStats;
    try {
      const handle = await calls.open(file, 'r');
      try {
        await stampMtime(handle, nowNs());
        // The new mtime needs no flush of its own: an fdatasync would not write it either.
        await (flushed ? flushed.catch(() => handle.datasync()) : handle.datasync());
        info = await handle.stat({ bigint: true });
      } finally {
        await handle.close();
      }
      await linkNew(key, file);
    } catch (err) {
      if (errorCode(err) === 'EXDEV' || errorCode(err) === 'EPERM') return null;
      return keptOr(key, diskFullAsStorageFull(err));
    }
    // A link changes neither the inode, the mtime nor the size: the ETag is the file's.
    return { etag: etagOf(info), created: true };
  }

  /**
   * Opens `key`'s file and stats it through the descriptor, so that the bytes read later are
   * those of this version even if the key is replaced meanwhile; null when there is no object.
   */
  async function openObject(key: string): Promise<{ handle: FileHandle; info: BigIntStats } | null> {
    const handle = await open(fileOf(key), 'r').catch((err: unknown) => {
      if (isMissing(err)) return null;
      throw err;
    });
    if (!handle) return null;
    try {
      const info = await handle.stat({ bigint: true });
      if (info.isFile()) return { handle, info };
    } catch (err) {
      await handle.close();
      throw err;
    }
    await handle.close();
    return null;
  }

  async function get(
    key: string,
    options: { range?: { start: number; end?: number } } = {},
  ): Promise<ObjectRead | null> {
    const opened = await openObject(key);
    if (!opened) return null;
    const { handle, info } = opened;
    const object = storedObject(key, info);
    const { range } = options;
    if (!range) return { ...object, body: handle.createReadStream({ highWaterMark: READ_CHUNK_BYTES }) };
    const end = Math.min(range.end ?? object.size - 1, object.size - 1);
    if (range.start < 0 || range.start > end) {
      await handle.close();
      throw new Error(
        `range ${range.start}-${range.end ?? ''} is outside ${key} (${object.size} bytes): check the size first`,
      );
    }
    return {
      ...object,
      body: handle.createReadStream({ start: range.start, end, highWaterMark: READ_CHUNK_BYTES }),
      range: { start: range.start, end },
    };
  }

  async function openLocal(key: string): Promise<LocalObject | null> {
    const opened = await openObject(key);
    return opened && { ...storedObject(key, opened.info), handle: opened.handle };
  }

  async function getBuffer(key: string): Promise<{ body: Buffer; etag: string } | null> {
    const opened = await openObject(key);
    if (!opened) return null;
    try {
      return { body: await opened.handle.readFile(), etag: etagOf(opened.info) };
    } finally {
      await opened.handle.close();
    }
  }

  async function head(key: string): Promise<StoredObject | null> {
    const file = fileOf(key);
    try {
      const info = await calls.stat(file, { bigint: true });
      return info.isFile() ? storedObject(key, info) : null;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async function remove(key: string): Promise<void> {
    const file = fileOf(key);
    await withLock(key, async () => {
      try {
        await calls.unlink(file);
      } catch (err) {
        // EISDIR: the key only has objects below it, so there is nothing to delete.
        if (isMissing(err) || errorCode(err) === 'EISDIR') return;
        throw err;
      }
      try {
        await syncDir(path.dirname(file));
      } catch (err) {
        // Removed meanwhile by a delete that emptied it (below): rmdir removes only an empty
        // directory, so this entry's removal holds.
        if (!isMissing(err)) throw err;
      }
    });
    // Best effort: a directory that a concurrent put has just filled is not empty, and stays.
    for (let dir = path.dirname(file); dir !== objectsDir; dir = path.dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        break;
      }
    }
  }

  /**
   * Keys under `dir` (whose keys start with `rel`) in byte order, skipping those up to `startAfter`,
   * and the files of folders not modified since `since` (ms).
   */
  async function* walk(
    dir: string,
    rel: string,
    namePrefix: string,
    startAfter?: string,
    since?: number,
  ): AsyncGenerator<string> {
    let entries: Dirent[];
    let filesUnchanged = false;
    try {
      if (since !== undefined) filesUnchanged = (await stat(dir)).mtimeMs < since;
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    if (filesUnchanged) entries = entries.filter((entry) => entry.isDirectory());
    // A directory sorts as its name plus "/": the keys below "a" all start with "a/", and "a-b"
    // comes before them because "-" < "/".
    const items = entries
      .filter((entry) => entry.name.startsWith(namePrefix) && (entry.isFile() || entry.isDirectory()))
      .map((entry) => ({
        name: entry.name,
        isDir: entry.isDirectory(),
        sortKey: rel + entry.name + (entry.isDirectory() ? '/' : ''),
      }))
      .sort((a, b) => byteOrder(a.sortKey, b.sortKey));
    for (const item of items) {
      if (startAfter !== undefined && item.sortKey <= startAfter) {
        // A directory whose prefix the bound starts with still holds keys after it.
        if (!item.isDir || !startAfter.startsWith(item.sortKey)) continue;
      }
      if (item.isDir) yield* walk(path.join(dir, item.name), item.sortKey, '', startAfter, since);
      else yield item.sortKey;
    }
  }

  async function* list(prefix: string, options: ListOptions = {}): AsyncGenerator<StoredObject> {
    assertValidPrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    const rel = prefix.slice(0, slash + 1);
    let remaining = options.limit ?? Infinity;
    if (remaining <= 0) return;
    const folder = path.join(objectsDir, rel);
    for await (const key of walk(folder, rel, prefix.slice(slash + 1), options.startAfter, options.modifiedSince)) {
      if (options.keysOnly) {
        yield { key, size: 0, etag: '', lastModified: new Date(0) };
        if (--remaining === 0) return;
        continue;
      }
      // Through the pool even on a local disk: a directory of many thousand keys would otherwise be
      // stat-ed in one go, without the event loop getting a turn.
      const info = await stat(path.join(objectsDir, key), { bigint: true }).catch(() => null);
      if (!info?.isFile()) continue; // deleted since the directory was read
      yield storedObject(key, info);
      if (--remaining === 0) return;
    }
  }

  async function ping(): Promise<void> {
    const probe = path.join(tmpDir, tempName('.ping'));
    try {
      await writeFile(probe, '', { flag: 'wx', mode: PRIVATE_FILE_MODE });
      await rm(probe);
    } catch (err) {
      throw storageUnavailable(description, err);
    }
  }

  return {
    description,
    conditionalWrites: true,
    put: (key, body, options) => diskFullMapped(put(key, body, options)),
    append: (key, body, options) => diskFullMapped(append(key, body, options)),
    stage,
    putFile,
    get,
    openLocal,
    getBuffer,
    head,
    delete: (key) => diskFullMapped(remove(key)),
    list,
    ping,
    close: () => readyTemps.close(),
  };
}

/** Temporary files made ahead of their use by a store making its file-system calls directly. */
const TEMP_FILES_AHEAD = 4;

/**
 * Fresh, empty temporary files made ahead on the thread pool in `dir` (`<root>/ready`), for a store
 * whose calls are direct: creating a file waits 0.5-0.8 ms on ext4 whenever a journal commit
 * (which any fsync starts) is under way, and a publish writes four of them; made ahead, that wait
 * is off the event loop. A file taken is replaced at once; those left are removed on close, and
 * those of a process that died, by the next store opened on the root. With pooled calls nothing
 * is made ahead (the open is pooled already).
 */
function tempFilesAhead(
  dir: string,
  calls: FsCalls,
): { take(): { file: string; handle: WritableFile } | undefined; close(): Promise<void> } {
  const ready: Array<{ file: string; handle: WritableFile }> = [];
  let making = 0;
  let closed = false;
  const discard = async ({ file, handle }: { file: string; handle: WritableFile }): Promise<void> => {
    await handle.close().catch(() => undefined);
    await removeTemp(file, calls);
  };
  const refill = (): void => {
    while (calls.kind === 'direct' && !closed && ready.length + making < TEMP_FILES_AHEAD) {
      making++;
      const file = path.join(dir, tempName());
      openInPool(file, 'wx', PRIVATE_FILE_MODE).then(
        (handle) => {
          making--;
          if (closed) void discard({ file, handle });
          else ready.push({ file, handle });
        },
        () => {
          // A write that finds none ready makes its own file, and says what fails.
          making--;
        },
      );
    }
  };
  return {
    take() {
      const made = ready.shift();
      refill();
      return made;
    },
    async close() {
      closed = true;
      await Promise.all(ready.splice(0).map(discard));
    },
  };
}
