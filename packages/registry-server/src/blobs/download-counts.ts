/**
 * How many times each version of a pack was downloaded, kept by the registry and cheap where
 * downloads happen: {@link DownloadCounts.count} only adds one to an entry of an in-memory Map (no
 * I/O, no await). What was counted is flushed every 30 seconds (an unref'd timer) and on close,
 * as one JSON document per pack (`downloads/<registry>/<pack>.json`, storage/layout.ts) holding
 * `{ "versions": { "<version>": <count> } }`. A flush ADDS its deltas to the document with
 * compare-and-swap (storage/json-documents.ts `updateJson`), so replicas sharing one store never
 * lose each other's counts; a flush that fails keeps its deltas for the next one and logs a
 * warning, and nothing here ever throws into a request. {@link DownloadCounts.read} answers the
 * stored counts plus what this process has not written yet.
 *
 * What counts (blobs/pack-downloads.ts): a GET of a version's archive answered 200, a 206 whose
 * range starts at byte 0, or a redirect to a presigned storage URL (same rule for its range); not
 * HEAD, not 304, not a resumed range, not single-file reads (`.../files/<path>`). A selector
 * (`1.27.x`) counts for the version it resolved to.
 *
 * Not counted: OCI pulls of a pack's layer blob (`/v2/.../spectro-packs/archive/<name>/blobs/<digest>`).
 * The request names the pack but not the version, and the layer is a tar.gz whose digest is not the
 * version record's (the zip's): telling the version would take reading the repository's manifests
 * (or an index kept for it) on every blob GET, which is not cheap. The manifest GET by tag does name
 * the version, but clients also fetch manifests to resolve or inspect without downloading.
 *
 * Counts are approximate in the small: a flush whose write succeeded but whose answer was lost
 * adds its deltas again later, a process that dies loses what it had not flushed (at most one
 * interval's worth), and a read racing a flush may briefly count that flush's deltas twice or not
 * at all. Deleting a version or a registry does not remove its counts (a version re-published
 * with the same bytes, or a registry re-created under its name, continues them); the registry
 * has no registry deletion today, and when it has one, `downloadsPrefix(registry)` is what to
 * remove with its other per-registry objects.
 */
import type { Logger } from 'pino';
import { readJson, updateJson, type Updater } from '../storage/json-documents.js';
import { downloadCountsKey } from '../storage/layout.js';
import type { ObjectStore } from '../storage/object-store.js';
import { forEachLimited } from '../storage/for-each-limited.js';

/** A pack's stored counts. */
export interface DownloadCountsDocument {
  versions: Record<string, number>;
}

/** How often counts are written, by default. */
export const DOWNLOAD_FLUSH_MS = 30_000;
/** Documents written at once by a flush. */
const FLUSH_CONCURRENCY = 8;

/** What one process counted for one pack and has not written yet. */
interface PackDeltas {
  registry: string;
  name: string;
  versions: Map<string, number>;
}

export interface DownloadCountsOptions {
  /** Milliseconds between flushes; 0 for none but the explicit ones (tests). Default 30 s. */
  flushIntervalMs?: number;
}

/** The valid counts of a stored document (anything else in it is dropped). */
function storedCounts(document: unknown): Map<string, number> {
  const counts = new Map<string, number>();
  const versions = (document as { versions?: unknown } | null | undefined)?.versions;
  if (typeof versions !== 'object' || versions === null || Array.isArray(versions)) return counts;
  for (const [version, n] of Object.entries(versions)) {
    if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) counts.set(version, n);
  }
  return counts;
}

function addInto(counts: Map<string, number>, deltas: ReadonlyMap<string, number>): void {
  for (const [version, n] of deltas) counts.set(version, (counts.get(version) ?? 0) + n);
}

/** Object.fromEntries defines own properties: no version string can reach a prototype. */
function documentOf(counts: Map<string, number>): DownloadCountsDocument {
  return { versions: Object.fromEntries(counts) };
}

function adding(deltas: ReadonlyMap<string, number>): Updater<DownloadCountsDocument> {
  return (current) => {
    const counts = storedCounts(current);
    addInto(counts, deltas);
    return documentOf(counts);
  };
}

/**
 * Download counts per pack version (see the module comment).
 *
 * @example
 * const downloads = new DownloadCounts(store, logger);
 * downloads.count('public', 'cni-calico', '3.27.2'); // on every counted download
 * await downloads.read('public', 'cni-calico'); // { '3.27.2': 42, ... }
 * await downloads.close(); // flushes what is left
 */
export class DownloadCounts {
  /** Counted since the last flush began, by `<registry>/<name>`. */
  private pending = new Map<string, PackDeltas>();
  /** Taken by the running flush and not written yet (read() still adds them). */
  private inFlight = new Map<string, PackDeltas>();
  private running: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout | null;

  constructor(
    private readonly store: ObjectStore,
    private readonly logger: Logger,
    options: DownloadCountsOptions = {},
  ) {
    const every = options.flushIntervalMs ?? DOWNLOAD_FLUSH_MS;
    // Made here (not inside a request), so that the timer's flushes carry no request's context.
    this.timer =
      every > 0
        ? setInterval(() => {
            // A flush still running (slow storage) is not joined by another one.
            if (!this.running) void this.flush();
          }, every)
        : null;
    this.timer?.unref();
  }

  /** Counts one download of `registry`/`name`@`version`: the hot path, in memory only. */
  count(registry: string, name: string, version: string): void {
    // Registry and pack names hold no "/": the key names one pack.
    const key = `${registry}/${name}`;
    let deltas = this.pending.get(key);
    if (!deltas) {
      deltas = { registry, name, versions: new Map() };
      this.pending.set(key, deltas);
    }
    deltas.versions.set(version, (deltas.versions.get(version) ?? 0) + 1);
  }

  /**
   * The counts of a pack's versions: as stored, plus this process's unwritten deltas. Versions
   * never downloaded are absent. Throws what storage throws (a read route answers 503 then).
   */
  async read(registry: string, name: string): Promise<Record<string, number>> {
    const stored = await readJson<unknown>(this.store, downloadCountsKey(registry, name));
    const counts = storedCounts(stored?.value);
    const key = `${registry}/${name}`;
    for (const deltas of [this.inFlight.get(key), this.pending.get(key)]) {
      if (deltas) addInto(counts, deltas.versions);
    }
    return documentOf(counts).versions;
  }

  /**
   * Writes what was counted so far; resolves when it is written or kept for the next flush
   * (never rejects). A flush asked while one runs follows it.
   */
  flush(): Promise<void> {
    // Started at once when none runs: what was counted before this call is in this flush.
    const run = (this.running ? this.running.then(() => this.flushPending()) : this.flushPending()).catch(
      (err: unknown) => {
        this.logger.warn({ err }, 'flushing download counts failed');
      },
    );
    this.running = run;
    void run.then(() => {
      if (this.running === run) this.running = null;
    });
    return run;
  }

  /** Stops the timer and writes what is left (a failure is logged, and those counts are lost). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  private async flushPending(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.inFlight = batch;
    let failed = 0;
    let firstError: unknown;
    await forEachLimited([...batch], FLUSH_CONCURRENCY, async ([key, deltas]) => {
      try {
        await updateJson<DownloadCountsDocument>(
          this.store,
          downloadCountsKey(deltas.registry, deltas.name),
          adding(deltas.versions),
          () => ({ versions: {} }),
        );
      } catch (err) {
        failed++;
        firstError ??= err;
        // Back into the pending counts, for the next flush, in the same turn as it leaves the batch.
        const later = this.pending.get(key);
        if (later) addInto(later.versions, deltas.versions);
        else this.pending.set(key, deltas);
      } finally {
        batch.delete(key);
      }
    });
    this.inFlight = new Map();
    if (failed > 0) {
      this.logger.warn(
        { err: firstError, packs: failed },
        'download counts could not be written; they are kept for the next flush',
      );
    }
  }
}
