/**
 * Keeps the in-memory {@link CatalogIndex} of every server process current without re-reading
 * records:
 *
 * - every write appends a small change object `changes/<minute>/<ms>-<id>.json` carrying the new
 *   summary;
 * - every process polls `ListObjectsV2 StartAfter=changes/<minute>/<last seen ms - window>` and applies the
 *   changes it has not seen (the window absorbs clock skew and slow writers between replicas);
 *   applying is idempotent and order-free, because each summary carries its record's revision;
 * - after `snapshotEveryChanges` changes (its own and others') and when it stops, a process writes
 *   a compacted, gzipped snapshot of the whole index, `snapshots/<ms covered>-<id>.json.gz`
 *   (listing the changes of the look-back window it holds, which a start need not read again),
 *   and prunes older snapshots and changes;
 * - a cold start loads the newest snapshot and the changes after it; with no snapshot at all (a
 *   new or migrated bucket) it reads every record once and writes the first snapshot.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createGunzip, createGzip } from 'node:zlib';
import { isJsonObject } from '@packyard/pack-core';
import type { Logger } from 'pino';
import { readJson } from '../storage/json-documents.js';
import {
  CHANGES_PREFIX,
  REGISTRIES_PREFIX,
  SNAPSHOTS_PREFIX,
  VERSIONS_PREFIX,
  changeKey,
  changesFrom,
  parseVersionKey,
  snapshotKey,
  timeOfKey,
  UNGROUPED_CHANGES_PREFIX,
} from '../storage/layout.js';
import type { ObjectStore } from '../storage/object-store.js';
import { CatalogIndex } from './catalog-index.js';
import { summarise, type RegistryRecord, type VersionRecord, type VersionSummary } from './records.js';
import { forEachLimited } from '../storage/for-each-limited.js';
import { randomHex } from '../random-hex.js';

export type Change = { kind: 'version'; summary: VersionSummary } | { kind: 'registry'; registry: RegistryRecord };

/**
 * A snapshot's first line (format 2: gzipped JSON Lines, then one version summary per line, so
 * that it is written and read a line at a time, never as one string the size of the catalog); a
 * format 1 snapshot (earlier releases) is this object, with `versions`, as its only line.
 */
interface SnapshotHeader {
  format: 1 | 2;
  createdAt: string;
  /** Every change up to this time (ms) is in the snapshot. */
  changesThrough: number;
  /**
   * The changes within the look-back window before `changesThrough` that are in it too: a start
   * from the snapshot need not read them again (absent from older snapshots).
   */
  seen?: string[];
  registries: RegistryRecord[];
  /** Format 1 only. */
  versions?: VersionSummary[];
}

/** How far before the last reconcile began the next one looks (clock skew between writers). */
const RECONCILE_MARGIN_MS = 60_000;

/** Summaries applied (and their packs refreshed) this many at a time while a snapshot loads. */
const LOAD_BATCH = 1000;

export interface CatalogSyncOptions {
  logger: Logger;
  pollIntervalMs: number;
  snapshotEveryChanges: number;
  /** How far before the last change seen each poll looks again (clock skew between writers). */
  windowMs?: number;
  /** Changes are kept at least this long after a snapshot covers them. */
  changeRetentionMs?: number;
  /** A replica that could not poll for this long reloads from the newest snapshot. */
  reloadAfterMs?: number;
  /** How often storage is compared with the index to repair missed changes (default 10 min). */
  reconcileIntervalMs?: number;
  /** Catalog answers cached for repeated queries (default 256). */
  queryCacheSize?: number;
}

const FETCH_CONCURRENCY = 16;
const SNAPSHOTS_KEPT = 2;

function newId(): string {
  return randomHex(6);
}

/**
 * Whether `item` has what the index keys and orders a summary or registry by: string `fields`
 * and a numeric revision. The rest is what a replica wrote, and is not checked.
 */
function isKeyed(item: unknown, ...fields: string[]): boolean {
  return (
    isJsonObject(item) && fields.every((field) => typeof item[field] === 'string') && Number.isFinite(item['revision'])
  );
}

/**
 * A change entry's bytes as a change, or null when they are not one: an entry damaged on disk
 * (empty, cut short, zeroed) or of another kind than this release writes.
 */
function parseChange(body: Buffer): Change | null {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (!isJsonObject(value)) return null;
  if (value['kind'] === 'version' && isKeyed(value['summary'], 'registry', 'name', 'version')) return value as Change;
  if (value['kind'] === 'registry' && isKeyed(value['registry'], 'name')) return value as Change;
  return null;
}

/**
 * Whether a change may be appended without a flush: only a version's first publish, whose entry,
 * if the machine stops before it reaches the disk, leaves that version out of the catalog until
 * the next reconcile (as if it were published a moment later). A registry made private, a
 * version deleted, deprecated or replaced must not come back from the snapshot before it.
 */
function mayAppendUnflushed(change: Change): boolean {
  return change.kind === 'version' && change.summary.revision === 1 && !change.summary.deleted;
}

/** A snapshot whose bytes are not one (cut short, corrupted on disk): passed over for an older one. */
class DamagedSnapshot extends Error {
  constructor(key: string, cause: unknown) {
    super(`catalog snapshot ${key} is damaged: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Whether `err` is zlib's, about the bytes it was given (not a failure of the stream feeding it). */
function isZlibDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

export class CatalogSync {
  readonly index: CatalogIndex;
  private readonly windowMs: number;
  private readonly retentionMs: number;
  private readonly reloadAfterMs: number;
  private readonly reconcileIntervalMs: number;
  private reconciling: Promise<void> | null = null;
  private lastReconcile = 0;
  /** Time (ms) of the newest change applied. */
  private cursor = 0;
  /** Change keys applied within the window, so a poll does not fetch them again. */
  private readonly seen = new Map<string, number>();
  private changesSinceSnapshot = 0;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  /** The poll that starts once the one under way ends (see {@link poll}). */
  private nextPoll: Promise<void> | null = null;
  private snapshotting: Promise<void> | null = null;
  /** The last snapshot write asked for, settled (see {@link writeSnapshot}). */
  private snapshotWrite: Promise<unknown> = Promise.resolve();
  private lastPoll = 0;
  private pending: Change[] = [];
  private started = false;
  /** Set by stop(): a reconcile in progress gives up between requests. */
  private stopping = false;
  /** The last poll's failure, or null when it succeeded. */
  lastError: Error | null = null;

  constructor(
    private readonly store: ObjectStore,
    private readonly options: CatalogSyncOptions,
  ) {
    this.index = new CatalogIndex(options.queryCacheSize);
    this.windowMs = options.windowMs ?? 10_000;
    this.retentionMs = options.changeRetentionMs ?? 60 * 60 * 1000;
    this.reloadAfterMs = options.reloadAfterMs ?? 30 * 60 * 1000;
    this.reconcileIntervalMs = options.reconcileIntervalMs ?? 10 * 60 * 1000;
  }

  get ready(): boolean {
    return this.started;
  }

  /** Loads the catalog (snapshot + changes, or a full scan) and starts polling. */
  async start(): Promise<void> {
    const began = Date.now();
    this.index.adopt(await this.load());
    this.started = true;
    // A snapshot start trusts the change log; check it against storage in the background.
    if (this.lastReconcile === 0) this.startReconcile();
    const { registries, packs, versions } = this.index.stats();
    this.options.logger.info(
      { registries, packs, versions, ms: Date.now() - began },
      `catalog loaded: ${versions} versions of ${packs} packs in ${Date.now() - began} ms`,
    );
    this.schedule();
  }

  async stop(): Promise<void> {
    const wasStarted = this.started;
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.started = false;
    await this.nextPoll;
    await this.polling;
    await this.snapshotting;
    await this.reconciling;
    // The next start then reads one snapshot instead of every change since the last one (on S3,
    // a GET each: 1.8 s for ~250 changes on Ceph RGW).
    if (wasStarted && this.changesSinceSnapshot > 0) {
      await this.writeSnapshot().catch((err: unknown) => {
        this.options.logger.warn({ err }, 'could not write a catalog snapshot on the way out');
      });
    }
  }

  /** Resolves once the reconcile running in the background (the start's, or a poll's), if any, ends. */
  async reconciled(): Promise<void> {
    await this.reconciling;
  }

  private startReconcile(): void {
    if (this.reconciling) return;
    const began = Date.now();
    this.reconciling = this.reconcile()
      .then((repaired) => {
        this.lastReconcile = began;
        if (repaired > 0) {
          this.options.logger.info({ repaired, ms: Date.now() - began }, 'reconciled the catalog with storage');
        }
      })
      .catch((err: unknown) => {
        this.options.logger.warn({ err }, 'could not reconcile the catalog with storage');
      })
      .finally(() => {
        this.reconciling = null;
      });
  }

  /**
   * Applies a change made by this process to its index, at once (a failure to apply throws, not
   * rejects), and appends it to the shared change log: the promise returned is the append's, and
   * never rejects (a failed append is retried by the poll loop).
   */
  record(change: Change): Promise<void> {
    // Counted like a change read from the log: a process alone compacts the log too.
    if (this.apply(this.index, change)) this.changesSinceSnapshot++;
    return this.append(change).catch((err: unknown) => {
      // The record itself is written: only other replicas' view lags. The poll loop retries.
      this.options.logger.warn({ err }, 'could not append to the change log; will retry');
      this.pending.push(change);
    });
  }

  /**
   * Reads the change log; resolves once every change written before the call is applied. A poll
   * under way may have listed the log before the caller's change: the caller then waits for the
   * next one, which every caller arriving meanwhile shares.
   */
  poll(): Promise<void> {
    if (this.polling === null) {
      this.polling = this.pollOnce().finally(() => {
        this.polling = null;
      });
      return this.polling;
    }
    this.nextPoll ??= this.polling.then(() => {
      this.nextPoll = null;
      return this.poll();
    });
    return this.nextPoll;
  }

  private schedule(): void {
    if (!this.started) return;
    this.timer = setTimeout(() => {
      void this.poll().finally(() => {
        this.schedule();
      });
    }, this.options.pollIntervalMs);
    this.timer.unref();
  }

  private async pollOnce(): Promise<void> {
    try {
      if (this.lastPoll !== 0 && Date.now() - this.lastPoll > this.reloadAfterMs) {
        // Changes this replica missed may have been pruned: start again from a snapshot.
        this.index.adopt(await this.load());
      } else {
        await this.flushPending();
        await this.readChanges(this.index);
      }
      this.lastPoll = Date.now();
      this.lastError = null;
      if (this.started && Date.now() - this.lastReconcile > this.reconcileIntervalMs) this.startReconcile();
      if (this.changesSinceSnapshot >= this.options.snapshotEveryChanges && !this.snapshotting) {
        this.snapshotting = this.writeSnapshot()
          .then(() => undefined)
          .catch((err: unknown) => {
            this.options.logger.warn({ err }, 'could not write a catalog snapshot');
          })
          .finally(() => {
            this.snapshotting = null;
          });
      }
    } catch (err) {
      this.lastError = err instanceof Error ? err : new Error(String(err));
      this.options.logger.warn({ err }, 'catalog poll failed');
    }
  }

  private async flushPending(): Promise<void> {
    while (this.pending.length > 0) {
      await this.append(this.pending[0] as Change);
      this.pending.shift();
    }
  }

  private async append(change: Change): Promise<void> {
    const time = Date.now();
    const key = changeKey(time, newId());
    // A fresh key (time and random id): written create-once, which takes no lock on the fs store.
    // A first publish's entry is not flushed: the record it summarises is, and an entry lost (or
    // damaged) by the machine stopping is made up for by the reconcile every process runs at start
    // and every ten minutes.
    await this.store.put(key, JSON.stringify(change), {
      contentType: 'application/json',
      ifNoneMatch: '*',
      durable: !mayAppendUnflushed(change),
    });
    // Applied already: the poll need not read it back, and looks back from here.
    this.seen.set(key, time);
    if (time > this.cursor) this.cursor = time;
  }

  private apply(index: CatalogIndex, change: Change): boolean {
    return change.kind === 'version' ? index.applyVersion(change.summary) : index.applyRegistry(change.registry);
  }

  private async readChanges(index: CatalogIndex): Promise<void> {
    const since = Math.max(0, this.cursor - this.windowMs);
    const fresh: string[] = [];
    for await (const object of this.store.list(CHANGES_PREFIX, { startAfter: changesFrom(since), keysOnly: true })) {
      // Changes of earlier releases (ungrouped) sort after the rest: taken by their time.
      if (!this.seen.has(object.key) && timeOfKey(object.key) >= since) fresh.push(object.key);
    }
    await forEachLimited(fresh, FETCH_CONCURRENCY, async (key) => {
      const found = await this.store.getBuffer(key);
      const time = timeOfKey(key);
      this.seen.set(key, time);
      if (found) {
        const change = parseChange(found.body);
        if (change === null) {
          // Its record, if it reached storage, is taken by the next reconcile instead.
          this.options.logger.warn({ key, bytes: found.body.length }, 'skipped a damaged change entry');
        } else if (this.apply(index, change)) this.changesSinceSnapshot++;
      }
      if (time > this.cursor) this.cursor = time;
    });
    for (const [key, time] of this.seen) if (time < this.cursor - 2 * this.windowMs) this.seen.delete(key);
  }

  /**
   * The catalog read afresh into an index of its own (the caller adopts it): the newest snapshot
   * and the changes after it, or every record.
   */
  private async load(): Promise<CatalogIndex> {
    this.seen.clear();
    this.cursor = 0;
    const snapshotKeys: string[] = [];
    for await (const object of this.store.list(SNAPSHOTS_PREFIX)) snapshotKeys.push(object.key);
    // The newest snapshot that reads whole; one that does not (damaged on disk) is passed over.
    for (const key of snapshotKeys.reverse()) {
      const index = new CatalogIndex(this.options.queryCacheSize);
      let header: SnapshotHeader | null;
      try {
        header = await this.readSnapshot(key, index);
      } catch (err) {
        // Storage failing is not the snapshot's damage: the start fails rather than scan on.
        if (!(err instanceof DamagedSnapshot)) throw err;
        this.options.logger.warn({ err, key }, 'skipped a catalog snapshot that could not be read');
        continue;
      }
      if (!header) continue;
      // Registries are few, and decide who sees what: read from storage before the catalog is
      // served, not left to the background reconcile (a registry made private must not be served
      // as public from the snapshot by a process killed before its change entry was written).
      await this.readRegistries(index);
      this.cursor = header.changesThrough;
      for (const seenKey of header.seen ?? []) this.seen.set(seenKey, timeOfKey(seenKey));
      await this.readChanges(index);
      return index;
    }
    const index = new CatalogIndex(this.options.queryCacheSize);
    const scanStart = Date.now();
    await this.reconcile(index);
    this.lastReconcile = scanStart;
    this.cursor = scanStart;
    await this.readChanges(index);
    // The next cold start should not scan again. Only that is at stake: a snapshot storage will not
    // take (a full disk, a read-only one) leaves the next start to scan again, not this one failed.
    if (index.stats().versions > 0 || index.stats().registries > 0) {
      await this.writeSnapshot(index).catch((err: unknown) => {
        this.options.logger.warn(
          { err },
          'could not write a catalog snapshot after a full scan; the next start scans again',
        );
      });
    }
    return index;
  }

  /**
   * Compares the records in storage with the index and reads the ones it lacks or holds an older
   * ETag of: every registry (there are few), and every version whose listed ETag differs. On an
   * empty index this is the full scan of a store without snapshots; on a loaded one it repairs
   * what the change log missed (a process killed between writing a record and its change).
   * Returns how many versions were read.
   */
  async reconcile(index: CatalogIndex = this.index): Promise<number> {
    await this.readRegistries(index);
    const stale: string[] = [];
    // After a full pass, only what changed since it began (with a margin for the clocks of other
    // processes writing to a shared folder): the fs store then skips the folders of packs
    // untouched since, instead of a look at every record (24 CPU-seconds at 300,000 versions).
    const since = index === this.index && this.lastReconcile > 0 ? this.lastReconcile - RECONCILE_MARGIN_MS : undefined;
    for await (const object of this.store.list(VERSIONS_PREFIX, since === undefined ? {} : { modifiedSince: since })) {
      if (this.stopping) return 0;
      const id = parseVersionKey(object.key);
      if (!id) continue;
      const known = index.version(id.registry, id.name, id.version);
      if (known?.etag !== object.etag) stale.push(object.key);
    }
    await forEachLimited(stale, FETCH_CONCURRENCY * 2, async (key) => {
      if (this.stopping) return;
      const found = await readJson<VersionRecord>(this.store, key);
      if (!found) return;
      const summary = summarise(found.value, found.etag);
      const known = index.version(summary.registry, summary.name, summary.version);
      // Same revision, same content: only the ETag was not known (a snapshot from before it was kept).
      if (known && known.revision === summary.revision) known.etag = found.etag;
      else index.applyVersion(summary);
    });
    return stale.length;
  }

  /** Applies every registry record in storage to `index` (a newer revision known is kept). */
  private async readRegistries(index: CatalogIndex): Promise<void> {
    const registryKeys: string[] = [];
    for await (const object of this.store.list(REGISTRIES_PREFIX)) registryKeys.push(object.key);
    await forEachLimited(registryKeys, FETCH_CONCURRENCY, async (key) => {
      const found = await readJson<RegistryRecord>(this.store, key);
      if (found) index.applyRegistry(found.value);
    });
  }

  /**
   * Writes a snapshot of the index and prunes what it makes redundant; returns its key. One at a
   * time in a process: a call while another snapshot is being written (the poll loop's, say)
   * starts once that one is done, so that each covers what the one before it did and prunes what
   * it left (two at once both wrote the same index, and a listing between them found three).
   */
  writeSnapshot(index: CatalogIndex = this.index): Promise<string> {
    const write = this.snapshotWrite.then(() => this.writeSnapshotNow(index));
    this.snapshotWrite = write.catch(() => undefined);
    return write;
  }

  private async writeSnapshotNow(index: CatalogIndex): Promise<string> {
    const covered = this.cursor;
    this.changesSinceSnapshot = 0;
    const { registries, versions } = index.contents();
    const header: SnapshotHeader = {
      format: 2,
      createdAt: new Date().toISOString(),
      changesThrough: covered,
      seen: [...this.seen.keys()].filter((key) => timeOfKey(key) >= covered - this.windowMs),
      registries,
    };
    // Compressed a thousand lines at a time; only the compressed bytes are held whole.
    const gzip = createGzip();
    const compressed: Buffer[] = [];
    gzip.on('data', (chunk: Buffer) => compressed.push(chunk));
    const ended = once(gzip, 'end');
    gzip.write(`${JSON.stringify(header)}\n`);
    for (let i = 0; i < versions.length; i += LOAD_BATCH) {
      const lines = versions.slice(i, i + LOAD_BATCH).map((summary) => `${JSON.stringify(summary)}\n`);
      if (!gzip.write(lines.join(''))) await once(gzip, 'drain');
    }
    gzip.end();
    await ended;
    const key = snapshotKey(covered, newId());
    await this.store.put(key, Buffer.concat(compressed), { contentType: 'application/gzip' });
    this.options.logger.info({ key, versions: versions.length }, 'wrote a catalog snapshot');
    await this.prune();
    return key;
  }

  /**
   * Applies a snapshot to `index` as it is read, a line at a time (so that a caller adopts the
   * index only once this resolves); its header, or null when the snapshot is gone (pruned since it
   * was listed). Rejects with a {@link DamagedSnapshot} when its bytes are not a whole snapshot,
   * and with storage's own error when reading them fails.
   */
  private async readSnapshot(key: string, index: CatalogIndex): Promise<SnapshotHeader | null> {
    const found = await this.store.get(key);
    if (!found) return null;
    const gunzip = createGunzip();
    found.body.once('error', (err) => gunzip.destroy(err));
    const lines = createInterface({ input: found.body.pipe(gunzip), crlfDelay: Infinity });
    const damaged = (problem: string) => new DamagedSnapshot(key, new Error(problem));
    const summaryOf = (value: unknown): VersionSummary => {
      if (!isKeyed(value, 'registry', 'name', 'version')) {
        throw damaged('it holds a version summary without a name, version or revision');
      }
      return value as VersionSummary;
    };
    let header: SnapshotHeader | null = null;
    let batch: VersionSummary[] = [];
    try {
      for await (const line of lines) {
        if (line === '') continue;
        const value: unknown = JSON.parse(line);
        if (header === null) {
          if (
            !isJsonObject(value) ||
            !Number.isFinite(value['changesThrough']) ||
            !Array.isArray(value['registries'])
          ) {
            throw damaged('its first line is not a snapshot header');
          }
          header = value as unknown as SnapshotHeader;
          for (const registry of header.registries) {
            if (!isKeyed(registry, 'name')) throw damaged('it holds a registry without a name or revision');
          }
          const versions = (header.versions ?? []).map(summaryOf);
          for (const registry of header.registries) index.applyRegistry(registry);
          index.applyVersions(versions);
          delete header.versions;
          continue;
        }
        batch.push(summaryOf(value));
        if (batch.length >= LOAD_BATCH) {
          index.applyVersions(batch);
          batch = [];
        }
      }
    } catch (err) {
      if (err instanceof DamagedSnapshot) throw err;
      if (err instanceof SyntaxError || isZlibDataError(err)) throw new DamagedSnapshot(key, err);
      throw err;
    } finally {
      // A read given up on (damaged bytes, a failed apply) holds a file handle or a socket open.
      lines.close();
      gunzip.destroy();
      found.body.destroy();
    }
    if (header === null) throw damaged('it is empty');
    index.applyVersions(batch);
    return header;
  }

  private async prune(): Promise<void> {
    const snapshots: string[] = [];
    for await (const object of this.store.list(SNAPSHOTS_PREFIX)) snapshots.push(object.key);
    const kept = snapshots.slice(-SNAPSHOTS_KEPT);
    for (const key of snapshots.slice(0, -SNAPSHOTS_KEPT)) await this.store.delete(key);
    const oldestKept = kept[0];
    if (kept.length < SNAPSHOTS_KEPT || oldestKept === undefined) return;
    // Changes the older kept snapshot covers, and older than the retention, are redundant.
    const before = Math.min(timeOfKey(oldestKept) - this.windowMs, Date.now() - this.retentionMs);
    const stale: string[] = [];
    for await (const object of this.store.list(CHANGES_PREFIX, { keysOnly: true })) {
      if (object.key >= changesFrom(before)) break;
      stale.push(object.key);
    }
    for await (const object of this.store.list(UNGROUPED_CHANGES_PREFIX, { keysOnly: true })) {
      if (timeOfKey(object.key) < before) stale.push(object.key);
    }
    await forEachLimited(stale, FETCH_CONCURRENCY, (key) => this.store.delete(key));
  }
}
