/**
 * The audit log: one object per mutating request (who, from where, what, in which scope, with which
 * outcome), written create-once so that nothing rewrites history:
 *
 *   audit/system/<inverted ms>-<id>.json                       system-scope requests
 *   audit/tenants/<tenant id>/<inverted ms>-<id>.json          everything in a tenant, projects included
 *   audit/projects/<tenant id>/<project id>/<inverted ms>-<id>.json   a project's requests (written twice)
 *   audit/anonymous/<inverted ms>-<id>.json                    failed requests of unauthenticated
 *                                                             callers, read as part of the system log,
 *                                                             rate-limited and pruned after a while
 *
 * Keys start with 9999999999999 minus the time in ms, so that a listing, which S3 returns in key
 * order, comes newest first. Request bodies are never recorded: they may hold passwords.
 *
 * No change may be missing from the log, even if the process dies in the middle or right after
 * answering: a change is first recorded as `pending` (before it is made: see ./change-gate.ts),
 * and that entry is settled, once, by the final one before the answer goes out (conditional on the
 * pending entry's ETag, so a final entry is never followed by another). A pending entry whose
 * process has stopped reads as `interrupted`: the process died before it could say how the
 * request ended.
 *
 * An entry is stored as a line of JSON. Where the store lets an object grow in place (the fs
 * driver's `append`), the final entry is appended to the pending one as a second line: one write
 * and a flush instead of a new file put in place under a lock. The last complete line is the
 * entry; a line cut short by a crash is not, and leaves the pending one (then `interrupted`).
 * Elsewhere (S3) the final entry replaces the pending one. Entries of earlier releases are one
 * indented JSON document; they read as they are.
 */
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Target } from '../identity/principals.js';
import { createOnce, type ObjectStore } from '../storage/object-store.js';
import { forEachLimited } from '../storage/for-each-limited.js';
import {
  anonymousAuditStream,
  auditEntriesAfter,
  auditEntryKey,
  auditIdOfKey,
  projectAuditStream,
  systemAuditStream,
  tenantAuditStream,
  ungroupedAuditEntryKey,
} from '../storage/layout.js';
import { HOST, ownerGone, PID } from '../storage/temp-files.js';
import { randomHex } from '../random-hex.js';

export type AuditOutcome = 'success' | 'denied' | 'failed' | 'pending' | 'interrupted';

export interface AuditEntry {
  id: string;
  at: string;
  actor: { kind: 'anonymous' | 'operator' | 'user'; name: string; tenant: string | null };
  /** The client address as the server saw it (behind a proxy: configure trust proxy). */
  client: string;
  method: string;
  path: string;
  /** What was acted on (tenant, project, or the system). */
  scope: Target;
  /** The status answered; 0 when the process stopped before answering (`interrupted`). */
  status: number;
  outcome: AuditOutcome;
  requestId: string;
  /** For a login attempt: the username tried. */
  username?: string;
  /** Unauthenticated failures from this address left unrecorded (rate limit) since the last entry. */
  suppressed?: number;
}

/** An entry as stored: a pending one names the process that wrote it (never shown). */
interface StoredEntry extends AuditEntry {
  recorder?: { host: string; pid: number };
}

/** What is known of a request before it runs. */
export type PendingEntry = Omit<AuditEntry, 'status' | 'outcome'>;

/** An entry's stored form: one line of JSON. */
function entryLine(entry: StoredEntry): Buffer {
  return Buffer.from(`${JSON.stringify(entry)}\n`);
}

/**
 * The entry an object holds: its last complete line (the final entry appended to the pending
 * one, or the only line), or, from an earlier release, the one indented document it holds.
 */
export function parseStoredEntry(body: Buffer): StoredEntry {
  const text = body.toString('utf8');
  // A line of JSON starts with `{"`; an indented document with `{` and a line break.
  if (!text.startsWith('{"')) return JSON.parse(text) as StoredEntry;
  const lines = text.split('\n');
  for (let index = lines.length - 1; index >= 0; index--) {
    const line = lines[index] ?? '';
    if (line === '') continue;
    try {
      return JSON.parse(line) as StoredEntry;
    } catch {
      // A final line cut short by a crash (a few of its bytes, or zeros): the line before it holds.
    }
  }
  throw new Error('an audit entry with no complete line');
}

/** How an entry reads: a pending entry of a stopped process is interrupted; the recorder is internal. */
function view(stored: StoredEntry): AuditEntry {
  const { recorder, ...entry } = stored;
  if (entry.outcome !== 'pending' || !recorder) return entry;
  const age = Date.now() - Date.parse(entry.at);
  return ownerGone(recorder.host, recorder.pid, age) ? { ...entry, outcome: 'interrupted' } : entry;
}

/** The storage ids of a tenant or project scope's tenant and project; null when it does not exist. */
export type StreamResolver = (
  scope: Exclude<Target, { scope: 'system' }>,
) => { tenant: string; project?: string } | null;

const LATEST = 9_999_999_999_999;
const ANONYMOUS = anonymousAuditStream();
const SYSTEM_STREAM = systemAuditStream();
/** The most old entries one prune of a stream removes; the next prune goes on. */
const PRUNE_BATCH = 10_000;
/** Entries of a page read at once. */
const READ_CONCURRENCY = 50;
/** Settled entries kept in memory by key (immutable once settled: a page reads only the others). */
const ENTRIES_KEPT = 20_000;

/** The streams of a scope whose tenant (and project) resolved to `ids`; the system's without. */
function streamsFor(ids: ReturnType<StreamResolver>): string[] {
  if (!ids) return [SYSTEM_STREAM];
  const tenant = tenantAuditStream(ids.tenant);
  return ids.project === undefined ? [tenant] : [tenant, projectAuditStream(ids.tenant, ids.project)];
}

/** An entry id: inverted time and a random part. */
export const AUDIT_ID = /^\d{13}-[0-9a-f]{12}$/;

export function outcomeOf(status: number): AuditOutcome {
  if (status < 400) return 'success';
  if (status === 401 || status === 403 || status === 404) return 'denied';
  return 'failed';
}

export class AuditLog {
  private readonly writing = new Set<Promise<unknown>>();
  /** Settled entries written or read lately, by key: a page lists its keys and reads only the rest. */
  private readonly settled = new LRUCache<string, StoredEntry>({ max: ENTRIES_KEPT });
  private maintenance: NodeJS.Timeout | null = null;
  private maintaining: Promise<void> | null = null;

  /**
   * `resolve` maps a scope to the ids of its tenant and project (names are labels: a tenant
   * re-created under an old name must not see the old one's log); null when it does not exist.
   */
  constructor(
    private readonly store: ObjectStore,
    private readonly resolve: StreamResolver,
  ) {}

  /** A new entry id for a request made at `at`. */
  static newId(at: string): string {
    return `${String(LATEST - Date.parse(at)).padStart(13, '0')}-${randomHex(6)}`;
  }

  /** The streams an entry of `scope` is written to (the system's when it does not resolve); the last is its own. */
  private streamsOf(scope: Target): string[] {
    return streamsFor(scope.scope === 'system' ? null : this.resolve(scope));
  }

  /** The streams a scope is read from, merged by key (the system's includes the anonymous one). */
  private readStreams(scope: Target): string[] {
    if (scope.scope === 'system') return [SYSTEM_STREAM, ANONYMOUS];
    // A tenant or project that does not resolve has no log; one that does reads its own stream.
    const ids = this.resolve(scope);
    return ids ? streamsFor(ids).slice(-1) : [];
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.writing.add(work);
    void work.catch(() => undefined).finally(() => this.writing.delete(work));
    return work;
  }

  /**
   * Records a change about to be made, as pending, in the streams of its scope; resolves once that
   * is durable. The returned `settle` replaces it with the final entry (await it before answering),
   * also writing the final entry to the streams of its final scope where that differs.
   */
  async begin(entry: PendingEntry): Promise<{ settle: (final: AuditEntry) => Promise<void> }> {
    const pending: StoredEntry = {
      ...entry,
      status: 0,
      outcome: 'pending',
      recorder: { host: HOST, pid: PID },
    };
    const written = await Promise.all(
      this.streamsOf(entry.scope).map(async (prefix) => {
        const key = auditEntryKey(prefix, entry.id);
        return { key, etag: await this.createEntry(key, pending) };
      }),
    );
    return {
      settle: (final) =>
        this.track(
          (async () => {
            const replaced = new Set<string>();
            await Promise.all(
              written.map(async ({ key, etag }) => {
                if (etag === null) return;
                replaced.add(key);
                const line = entryLine(final);
                if (this.store.append) await this.store.append(key, line, { ifMatch: etag });
                else await this.store.put(key, line, { ifMatch: etag, contentType: 'application/json' });
                this.settled.set(key, final);
              }),
            );
            await Promise.all(
              this.streamsOf(final.scope)
                .map((prefix) => auditEntryKey(prefix, final.id))
                .filter((key) => !replaced.has(key))
                .map((key) => this.create(key, final)),
            );
          })(),
        ),
    };
  }

  /** Writes a final entry to the streams of its scope. */
  record(entry: AuditEntry): Promise<AuditEntry> {
    return this.track(this.write(entry).then(() => entry));
  }

  /** Writes an unauthenticated caller's failure to the anonymous stream. */
  recordAnonymous(entry: AuditEntry): Promise<AuditEntry> {
    return this.track(this.create(auditEntryKey(ANONYMOUS, entry.id), entry).then(() => entry));
  }

  private async write(entry: AuditEntry): Promise<void> {
    await Promise.all(this.streamsOf(entry.scope).map((prefix) => this.create(auditEntryKey(prefix, entry.id), entry)));
  }

  /** Writes an entry only where `key` does not exist yet: its ETag, or null when it did. */
  private createEntry(key: string, entry: StoredEntry): Promise<string | null> {
    return createOnce(this.store, key, entryLine(entry), { contentType: 'application/json' });
  }

  /** Writes a settled entry create-once, and keeps it for the pages to come. */
  private async create(key: string, entry: AuditEntry): Promise<void> {
    if ((await this.createEntry(key, entry)) !== null) this.settled.set(key, entry);
  }

  /** An entry as stored, or null when `key` does not exist. */
  private async load(key: string): Promise<StoredEntry | null> {
    const found = await this.store.getBuffer(key);
    return found ? parseStoredEntry(found.body) : null;
  }

  /** An entry as stored: from memory when settled and kept, else read (and kept once settled). */
  private async read(key: string): Promise<StoredEntry | null> {
    const kept = this.settled.get(key);
    if (kept) return kept;
    const found = await this.load(key);
    if (found && found.outcome !== 'pending') this.settled.set(key, found);
    return found;
  }

  /**
   * Removes a stream's entries older than `retentionMs` (the anonymous stream's by default), at
   * most PRUNE_BATCH of them; returns how many. Only the old end of the stream is listed.
   */
  async prune(retentionMs: number, stream: string = ANONYMOUS): Promise<number> {
    const cut = String(LATEST - (Date.now() - retentionMs)).padStart(13, '0');
    let removed = 0;
    for await (const object of this.store.list(stream, {
      startAfter: auditEntriesAfter(stream, cut),
      keysOnly: true,
    })) {
      // An entry of an earlier release's layout may sort here while newer than the cut.
      if (auditIdOfKey(object.key).slice(0, 13) <= cut) continue;
      await this.store.delete(object.key);
      this.settled.delete(object.key);
      if (++removed >= PRUNE_BATCH) break;
    }
    return removed;
  }

  /**
   * Prunes old entries in the background now and then every `everyMs` (every replica does; the
   * work is idempotent): the anonymous stream's after `retentionMs`, and with `signedInRetentionMs`
   * every stream `streams()` names (the system's, each tenant's and project's) after that.
   */
  startMaintenance(options: {
    retentionMs: number;
    everyMs: number;
    logger: Logger;
    signedInRetentionMs?: number | null;
    streams?: () => string[];
  }): void {
    const run = () => {
      this.maintaining ??= (async () => {
        const pruned = await this.prune(options.retentionMs);
        if (pruned > 0) options.logger.info({ pruned }, 'pruned old entries of unauthenticated callers');
        const retention = options.signedInRetentionMs;
        if (retention === null || retention === undefined || !options.streams) return;
        let old = 0;
        for (const stream of options.streams()) old += await this.prune(retention, stream);
        if (old > 0) options.logger.info({ pruned: old }, 'pruned audit entries past the retention');
      })()
        .catch((err: unknown) => {
          options.logger.warn({ err }, 'audit log maintenance failed; it runs again later');
        })
        .finally(() => {
          this.maintaining = null;
        });
    };
    run();
    this.maintenance = setInterval(run, options.everyMs);
    this.maintenance.unref();
  }

  /** Stops the maintenance and waits for the entries being written (before storage closes). */
  async drain(): Promise<void> {
    if (this.maintenance) clearInterval(this.maintenance);
    this.maintenance = null;
    await this.maintaining;
    await Promise.allSettled([...this.writing]);
  }

  /** One entry of a scope's log by id, or null. */
  async get(scope: Target, id: string): Promise<AuditEntry | null> {
    if (!AUDIT_ID.test(id)) return null;
    for (const prefix of this.readStreams(scope)) {
      for (const key of [auditEntryKey(prefix, id), ungroupedAuditEntryKey(prefix, id)]) {
        const found = await this.load(key);
        if (found) return view(found);
      }
    }
    return null;
  }

  /**
   * The newest entries of a scope's log, `limit` at most, after the `cursor` of a previous page.
   * Keys list newest first, so a page lists about a page of keys (merged across the scope's
   * streams by id) and reads those entries, several at once.
   */
  async list(
    scope: Target,
    options: { limit: number; cursor?: string },
  ): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
    const { cursor } = options;
    const streams = this.readStreams(scope).map((prefix) => {
      const listing = this.store.list(prefix, {
        keysOnly: true,
        // After a cursor, keys of an earlier release's layout may have to be skipped: no bound.
        ...(cursor === undefined ? { limit: options.limit + 1 } : { startAfter: auditEntriesAfter(prefix, cursor) }),
      });
      return { iterator: listing[Symbol.asyncIterator](), head: null as string | null, id: '' };
    });
    const advance = async (stream: (typeof streams)[number]) => {
      for (;;) {
        const next = await stream.iterator.next();
        if (next.done === true) {
          stream.head = null;
          return;
        }
        const id = auditIdOfKey(next.value.key);
        if (!AUDIT_ID.test(id) || (cursor !== undefined && id <= cursor)) continue;
        stream.head = next.value.key;
        stream.id = id;
        return;
      }
    };
    await Promise.all(streams.map(advance));
    const keys: string[] = [];
    let last: string | null = null;
    // Ids sort newest first in every stream: merge by id.
    while (keys.length < options.limit) {
      let pick: (typeof streams)[number] | undefined;
      for (const stream of streams) {
        if (stream.head !== null && (!pick || stream.id < pick.id)) pick = stream;
      }
      if (!pick?.head) break;
      keys.push(pick.head);
      last = pick.id;
      await advance(pick);
    }
    const read: Array<AuditEntry | null> = keys.map(() => null);
    await forEachLimited(
      keys.map((key, i) => ({ key, i })),
      READ_CONCURRENCY,
      async ({ key, i }) => {
        const found = await this.read(key);
        read[i] = found ? view(found) : null;
      },
    );
    const items = read.filter((entry): entry is AuditEntry => entry !== null);
    const more = keys.length >= options.limit && streams.some((s) => s.head !== null);
    return { items, nextCursor: more ? last : null };
  }
}
