/**
 * A local disk cache of pack archives, for registries on S3. Archives are immutable and named by
 * their sha256, so a copy is never stale: the upload of a publish is kept (it was hashed on the
 * way in), and an archive fetched from the bucket is kept once its bytes hash to its name. Later
 * downloads and single-file reads come from local disk instead of a round trip to the bucket.
 *
 * Layout: `<dir>/<ab>/<hex>` per archive, `<dir>/tmp/` for fills in progress. Each process has its
 * own cache (under its data directory); the least recently used archives are removed past
 * `maxBytes`. An archive removed while a download still reads it stays readable (POSIX unlink).
 *
 * The cache only ever helps: a fill that fails (a full disk, say) is dropped with a warning and
 * the download it follows goes on; no failure of the cache fails a request or goes unhandled.
 * Everything in it is owner-only (0600 files, 0700 directories; see storage/file-modes.ts).
 */
import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { untilClosed } from '@packyard/pack-core';
import { makePrivateDir, PRIVATE_FILE_MODE, securePrivateTree } from '../storage/file-modes.js';
import { tempName } from '../storage/temp-files.js';

/** Writes an archive fetched from storage into the cache as it streams past. */
export interface CacheFill {
  /** Takes the next bytes; false when the fill gave up (it never holds the stream back). */
  write(chunk: Buffer): boolean;
  /**
   * Keeps the archive if every byte arrived and they hash to its digest; drops it otherwise.
   * Never rejects: a cache that cannot keep a copy (a full disk) logs it and resolves false.
   */
  end(): Promise<boolean>;
  abort(): void;
}

/** Bytes a fill may buffer ahead of the disk before it gives up rather than hold up a download. */
const MAX_FILL_BACKLOG = 16 * 1024 * 1024;

export class BlobCache {
  /** Archive sizes by hex digest, least recently used evicted past `maxBytes`. */
  private readonly entries: LRUCache<string, number>;
  /** Files of evicted archives being removed. */
  private readonly removing = new Set<Promise<void>>();

  private constructor(
    readonly dir: string,
    readonly maxBytes: number,
    private readonly logger: Logger,
  ) {
    this.entries = new LRUCache<string, number>({
      maxSize: maxBytes,
      sizeCalculation: (size) => Math.max(1, size),
      dispose: (_size, hex, reason) => {
        if (reason === 'evict') this.remove(hex);
      },
    });
  }

  private remove(hex: string): void {
    const removal = rm(this.fileOf(hex), { force: true }).catch((err: unknown) => {
      this.logger.warn({ err }, 'could not remove an archive evicted from the blob cache');
    });
    this.removing.add(removal);
    void removal.finally(() => this.removing.delete(removal));
  }

  /** Waits for the files of evicted archives to be gone. */
  private async evicted(): Promise<void> {
    await Promise.all([...this.removing]);
  }

  /**
   * Opens (creating) the cache in `dir`, removing fills left unfinished. What a previous process
   * left there is indexed later (a cache of thousands of archives takes a few hundred milliseconds
   * to list, which start-up need not wait for): by {@link startIndexing} once the registry has
   * loaded, or by the first lookup or adoption, which wait for it. A fill started meanwhile at
   * worst writes an archive that was already there again.
   */
  static async open(dir: string, maxBytes: number, logger: Logger): Promise<BlobCache> {
    const cache = new BlobCache(dir, maxBytes, logger);
    await securePrivateTree(dir, 'the blob cache', logger);
    await rm(path.join(dir, 'tmp'), { recursive: true, force: true });
    await makePrivateDir(path.join(dir, 'tmp'));
    return cache;
  }

  /** The index of what an earlier process left, once started (it never rejects). */
  private indexing: Promise<void> | null = null;

  /** Indexes the archives an earlier process left, if not started yet; resolves once done. */
  startIndexing(): Promise<void> {
    this.indexing ??= this.index().catch((err: unknown) => {
      // The cache only ever helps: what was not indexed is fetched from storage again.
      this.logger.warn({ err }, 'could not index the blob cache left by an earlier process');
    });
    return this.indexing;
  }

  /** Indexes the archives in the cache's directory, least recently used first, the shards at once. */
  private async index(): Promise<void> {
    const shards = (await readdir(this.dir)).filter((shard) => /^[0-9a-f]{2}$/.test(shard));
    const perShard = await Promise.all(
      shards.map(async (shard) => {
        const names = (await readdir(path.join(this.dir, shard))).filter(
          (name) => /^[0-9a-f]{64}$/.test(name) && name.startsWith(shard),
        );
        // One file at a time per shard: at most 256 stats in flight, however large the cache.
        const found: Array<{ hex: string; size: number; used: number }> = [];
        for (const hex of names) {
          const info = await stat(path.join(this.dir, shard, hex));
          found.push({ hex, size: info.size, used: info.atimeMs });
        }
        return found;
      }),
    );
    // Oldest first, so that the most recently read archive ends up the most recently used; one
    // kept or filled since the cache opened is newer than all of them.
    for (const { hex, size } of perShard.flat().sort((a, b) => a.used - b.used)) {
      if (!this.entries.has(hex)) this.entries.set(hex, size);
    }
    await this.evicted();
  }

  private fileOf(hex: string): string {
    return path.join(this.dir, hex.slice(0, 2), hex);
  }

  get bytes(): number {
    return this.entries.calculatedSize;
  }

  /** The cached archive of `digest` ("sha256:<hex>"), or null. */
  async get(digest: string): Promise<{ file: string; size: number } | null> {
    await this.startIndexing();
    const hex = digest.slice('sha256:'.length);
    const size = this.entries.get(hex);
    if (size === undefined) return null;
    const file = this.fileOf(hex);
    try {
      const info = await stat(file);
      if (info.size !== size) throw new Error('size changed');
    } catch {
      // Removed or damaged behind the cache's back: forget it.
      this.entries.delete(hex);
      return null;
    }
    return { file, size };
  }

  /** Moves a file whose sha256 is known to be `digest` (a verified upload) into the cache. */
  async adopt(digest: string, file: string, size: number): Promise<void> {
    if (size > this.maxBytes) return;
    await this.startIndexing();
    const hex = digest.slice('sha256:'.length);
    if (this.entries.has(hex)) return;
    const target = this.fileOf(hex);
    await makePrivateDir(path.dirname(target));
    await rename(file, target);
    this.entries.set(hex, size);
    await this.evicted();
  }

  /** Starts keeping a copy of the archive `digest` of `size` bytes that is being read from storage. */
  fill(digest: string, size: number): CacheFill | null {
    const hex = digest.slice('sha256:'.length);
    if (size > this.maxBytes || this.entries.has(hex)) return null;
    const temp = path.join(this.dir, 'tmp', tempName());
    const out: WriteStream = createWriteStream(temp, { flags: 'wx', mode: PRIVATE_FILE_MODE });
    const hash: Hash = createHash('sha256');
    let received = 0;
    // An object, not a local: the write stream's error handler changes it between awaits.
    const state = { failed: false };
    const gaveUp = (): boolean => state.failed;
    out.on('error', (err) => {
      state.failed = true;
      this.logger.warn({ err }, 'could not write to the blob cache');
    });
    const drop = async (): Promise<void> => {
      // Closed first: an open still queued would make the file again after it was removed.
      await untilClosed(out);
      await rm(temp, { force: true }).catch((err: unknown) => {
        this.logger.warn({ err }, 'could not remove an unfinished blob cache file');
      });
    };
    const keep = async (): Promise<boolean> => {
      await new Promise<void>((resolve) => out.end(resolve));
      if (gaveUp() || received !== size || hash.digest('hex') !== hex) {
        await drop();
        return false;
      }
      const target = this.fileOf(hex);
      await makePrivateDir(path.dirname(target));
      await rename(temp, target);
      this.entries.set(hex, size);
      await this.evicted();
      return true;
    };
    return {
      write: (chunk) => {
        if (state.failed) return false;
        if (out.writableLength > MAX_FILL_BACKLOG) {
          state.failed = true;
          void drop();
          return false;
        }
        received += chunk.length;
        hash.update(chunk);
        out.write(chunk);
        return true;
      },
      end: async () => {
        if (state.failed) {
          await drop();
          return false;
        }
        try {
          return await keep();
        } catch (err) {
          this.logger.warn({ err }, 'could not keep an archive in the blob cache');
          await drop();
          return false;
        }
      },
      abort: () => {
        state.failed = true;
        void drop();
      },
    };
  }
}
