/**
 * Every process's in-memory copy of identity (see ./records.ts). Authorization reads only this
 * copy, so no request waits on storage to learn who may do what.
 *
 * How it is stored (docs/architecture.md has the why):
 *
 * - the system document (tenants, operators) changes by compare-and-swap, as before;
 * - each tenant is a snapshot document (`identity/tenants/<id>.json`, whole, written now and then)
 *   plus a journal of the record changes after it, one create-once object per revision
 *   (`identity/journal/<id>/<revision>.json`). Writing revision N+1 create-once is the tenant's
 *   compare-and-swap: a writer works its change out against revision N (checks included, see
 *   ../access/guards.ts) and only one writer of N+1 wins; the others read N+1 and try again. A write
 *   stores what it changed, not the tenant: its cost does not grow with the tenant's size;
 * - each journal write is announced by an empty marker, `identity/changes/<minute>/<ms>-<revision>-
 *   <tenant id>`; every process lists the markers after the last one it saw (a LIST per poll) and
 *   reads only the journal entries it lacks. Markers and journal entries older than the retention
 *   are pruned once a snapshot covers them.
 *
 * Within a process, changes to one tenant wait for the write under way and then go together as one
 * revision (no process races itself); across processes the create-once revision decides. A
 * process sees its own writes at once.
 *
 * Tenants are found by name only while they are live: one being deleted is reachable by its id
 * alone (to finish the deletion), so a new tenant of the same name sees nothing of it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { registryError } from '../errors.js';
import { encodeJson, readJson, updateJson, type JsonDocument, type Updater } from '../storage/json-documents.js';
import {
  identityChangeKey,
  identityChangesFrom,
  identityChangesPrefix,
  identityJournalKey,
  identityJournalPrefix,
  identitySystemKey,
  identityTenantKey,
  identityTenantsPrefix,
  parseIdentityChangeKey,
  parseIdentityJournalKey,
  tenantIdOfKey,
} from '../storage/layout.js';
import { isPreconditionFailed, type ObjectStore } from '../storage/object-store.js';
import {
  emptyTenantDocument,
  normaliseSystem,
  normaliseTenant,
  type SystemDirectory,
  type SystemUser,
  type TenantDocument,
  type TenantRef,
} from './records.js';
import { TenantDraft, TenantState, type RecordChange, type TenantDirectory } from './tenant-state.js';
import { forEachLimited } from '../storage/for-each-limited.js';

/** A journal entry: the record changes that made revision `revision`. */
export interface JournalEntry {
  format: 1;
  revision: number;
  at: string;
  changes: RecordChange[];
}

/** A tenant as this process holds it. */
interface HeldTenant {
  state: TenantState;
  /** The revision and ETag of the snapshot document last read or written (null: none stored). */
  snapshotRevision: number;
  snapshotEtag: string | null;
  /** Reads of the journal, one at a time. */
  syncing: Promise<void> | null;
  /** This process's changes waiting for the write under way; and whether one is. */
  queue: QueuedChange[];
  flushing: boolean;
  compacting: boolean;
  /** The newest revision to announce, the newest announced, and the marker being written. */
  announceWanted: number;
  announced: number;
  announcing: Promise<void> | null;
}

function heldTenant(state: TenantState, snapshotRevision: number, snapshotEtag: string | null): HeldTenant {
  return {
    state,
    snapshotRevision,
    snapshotEtag,
    syncing: null,
    queue: [],
    flushing: false,
    compacting: false,
    announceWanted: 0,
    announced: 0,
    announcing: null,
  };
}

/** A held tenant from its snapshot document (`read`), or an empty one when none is stored. */
function heldFrom(ref: TenantRef, read: JsonDocument<TenantDocument> | null): HeldTenant {
  const document = read ? normaliseTenant(read.value) : emptyTenantDocument(ref);
  return heldTenant(TenantState.fromDocument({ ...document, tenant: ref }), document.revision, read?.etag ?? null);
}

/** A change waiting for its turn (see IdentityDirectory.changeTenant). */
interface QueuedChange {
  work: (draft: TenantDraft) => unknown;
  deadline: number;
  resolve: (done: { result: unknown; announced: Promise<void> | null }) => void;
  reject: (err: unknown) => void;
}

type Outcome = { result: unknown; changes: RecordChange[] } | { error: unknown; changes: RecordChange[] };

/** Most changes stored as one revision. */
const MAX_GROUP = 64;

/**
 * Runs a group of changes one after the other, each against the state as the ones before it
 * left it, and returns what each returned (or threw) and wrote. Synchronous from start to end: the
 * state is changed in place while the group runs and put back before anything else can read it.
 */
function runGroup(state: TenantState, group: readonly QueuedChange[]): Outcome[] {
  const outcomes: Outcome[] = [];
  const undo: RecordChange[][] = [];
  const version = state.version;
  try {
    for (const change of group) {
      const draft = new TenantDraft(state);
      try {
        const result = change.work(draft);
        const changes = draft.changes();
        outcomes.push({ result, changes });
        if (changes.length > 0 && group.length > 1) undo.push(state.speculate(changes));
      } catch (error) {
        outcomes.push({ error, changes: [] });
      }
    }
  } finally {
    for (const inverse of undo.reverse()) state.speculate(inverse);
    state.version = version;
  }
  return outcomes;
}

/** Lookups across tenants, rebuilt when tenants or operators change (never per request). */
interface DirectoryIndex {
  /** Live tenants. */
  byName: Map<string, TenantRef>;
  byId: Map<string, TenantRef>;
  operatorsById: Map<string, SystemUser>;
  operatorsByName: Map<string, SystemUser>;
}

export interface IdentityDirectoryOptions {
  logger: Logger;
  pollIntervalMs: number;
  /** A snapshot is written after this many journal entries (default 500). */
  snapshotEvery?: number;
  /** Journal entries and change markers are kept this long (default 15 min). */
  retentionMs?: number;
  /** How far before the newest marker seen each poll looks again (clock skew; default 10 s). */
  windowMs?: number;
  /** How long a write may wait for its turn before answering 503 IDENTITY_BUSY (default 10 s). */
  writeBudgetMs?: number;
}

const EMPTY_SYSTEM: SystemDirectory = { tenants: [], operators: [], revision: 0 };
const FETCH_CONCURRENCY = 16;
/** The journal is compared with what is held (repairing a missed marker) this often. */
const RECONCILE_EVERY_MS = 5 * 60 * 1000;

function identityBusy(owner: string, what = 'identity records'): Error {
  return registryError(
    'IDENTITY_BUSY',
    `${owner}'s ${what} are changing too fast to take this change in time; nothing was changed`,
    { details: { retryAfterSeconds: 1 } },
  );
}

export class IdentityDirectory {
  private system: JsonDocument<SystemDirectory> | null = null;
  private readonly tenants = new Map<string, HeldTenant>();
  private timer: NodeJS.Timeout | null = null;
  private index: DirectoryIndex | null = null;
  private polling: Promise<void> | null = null;
  private stopped = false;
  /** Username and API key id to the id of the live tenant holding it. */
  private readonly users = new Map<string, string>();
  private readonly keys = new Map<string, string>();
  /** Time (ms) of the newest change marker seen; marker keys seen within the window. */
  private cursor = 0;
  private readonly seen = new Map<string, number>();
  /** Markers whose writing failed, written again by the next poll. */
  private readonly unannounced: Array<{ tenantId: string; revision: number }> = [];
  private lastReconcile = Date.now();
  /** This process's changes to the system document, one at a time. */
  private systemWriting: Promise<unknown> = Promise.resolve();
  private readonly snapshotEvery: number;
  private readonly retentionMs: number;
  private readonly windowMs: number;
  private readonly writeBudgetMs: number;

  constructor(
    private readonly store: ObjectStore,
    private readonly options: IdentityDirectoryOptions,
  ) {
    this.snapshotEvery = options.snapshotEvery ?? 500;
    this.retentionMs = options.retentionMs ?? 15 * 60 * 1000;
    this.windowMs = options.windowMs ?? 10_000;
    this.writeBudgetMs = options.writeBudgetMs ?? 10_000;
  }

  async start(): Promise<void> {
    await this.load();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.polling = this.refresh()
        .catch((err: unknown) => {
          this.options.logger.warn({ err }, 'could not refresh identity from storage');
        })
        .finally(() => {
          this.polling = null;
          this.schedule();
        });
    }, this.options.pollIntervalMs);
    this.timer.unref();
  }

  /** Reads everything: the system document, every live tenant's snapshot and journal. */
  private async load(): Promise<void> {
    this.cursor = Date.now() - this.windowMs;
    const snapshots = new Map<string, string>();
    const journals = new Map<string, number[]>();
    await Promise.all([
      (async () => {
        for await (const object of this.store.list(identityTenantsPrefix()))
          snapshots.set(tenantIdOfKey(object.key), object.etag);
      })(),
      (async () => {
        for await (const object of this.store.list(identityJournalPrefix())) {
          const parsed = parseIdentityJournalKey(object.key);
          if (!parsed) continue;
          const list = journals.get(parsed.tenantId) ?? [];
          list.push(parsed.revision);
          journals.set(parsed.tenantId, list);
        }
      })(),
      (async () => {
        const read = await readJson<SystemDirectory>(this.store, identitySystemKey());
        if (read) this.keepSystem(read);
      })(),
    ]);
    const live = [...this.lookup().byId.values()];
    await forEachLimited(live, FETCH_CONCURRENCY, async (ref) => {
      // A tenant the listing found no snapshot of starts empty, without a GET that would miss.
      const read = snapshots.has(ref.id) ? await this.readSnapshot(ref.id) : null;
      const held = heldFrom(ref, read);
      this.hold(ref.id, held);
      await this.sync(ref.id, held, journals.get(ref.id));
    });
  }

  /** A tenant's snapshot document, or null when none is stored. */
  private readSnapshot(tenantId: string): Promise<JsonDocument<TenantDocument> | null> {
    return readJson<TenantDocument>(this.store, identityTenantKey(tenantId));
  }

  /**
   * Reads the journal entries after the held revision and applies them: those `listed` (the
   * revisions a listing found), or up to `target` (a marker's), else one at a time until one is
   * missing. An entry missing after a snapshot that covers it (pruned) means reading the snapshot
   * again.
   */
  private sync(tenantId: string, held: HeldTenant, listed?: number[], target?: number): Promise<void> {
    const run = async () => {
      const from = held.state.revision;
      const wanted = listed
        ? listed.filter((r) => r > from).sort((a, b) => a - b)
        : Array.from({ length: Math.max(0, (target ?? 0) - from) }, (_, i) => from + 1 + i);
      // Known entries in order, fetched several at once; then one at a time until one is missing.
      while (wanted.length > 0) {
        const batch = wanted.splice(0, FETCH_CONCURRENCY);
        const entries = await Promise.all(batch.map((revision) => this.readEntry(tenantId, revision)));
        for (const entry of entries) if (entry) this.applyEntry(tenantId, held, entry.revision, entry.changes);
      }
      if (target !== undefined && held.state.revision >= target) return;
      for (;;) {
        const entry = await this.readEntry(tenantId, held.state.revision + 1);
        if (entry) {
          this.applyEntry(tenantId, held, entry.revision, entry.changes);
          continue;
        }
        // Missing: the newest, or pruned under a newer snapshot than the one held.
        const head = await this.store.head(identityTenantKey(tenantId));
        if (!head || head.etag === held.snapshotEtag) return;
        const fresh = heldFrom(held.state.tenant, await this.readSnapshot(tenantId));
        if (fresh.snapshotRevision <= held.state.revision) {
          held.snapshotEtag = head.etag;
          return;
        }
        held.state = fresh.state;
        held.snapshotRevision = fresh.snapshotRevision;
        held.snapshotEtag = fresh.snapshotEtag;
        this.reindexTenant(tenantId, held);
      }
    };
    // One reader of a tenant's journal at a time; a second caller waits for it, then reads again.
    const previous = held.syncing ?? Promise.resolve();
    const next = previous.then(run, run).finally(() => {
      if (held.syncing === next) held.syncing = null;
    });
    held.syncing = next;
    return next;
  }

  private async readEntry(tenantId: string, revision: number): Promise<JournalEntry | null> {
    const read = await readJson<JournalEntry>(this.store, identityJournalKey(tenantId, revision));
    return read?.value ?? null;
  }

  /** Takes up the changes other processes made: the system document, then the marked tenants. */
  async refresh(): Promise<void> {
    await this.flushUnannounced();
    const announced = new Map<string, number>();
    const markers = (async () => {
      const fresh: string[] = [];
      for await (const object of this.store.list(identityChangesPrefix(), {
        startAfter: identityChangesFrom(this.cursor - this.windowMs),
        keysOnly: true,
      })) {
        if (!this.seen.has(object.key)) fresh.push(object.key);
      }
      for (const key of fresh) {
        const marker = parseIdentityChangeKey(key);
        if (!marker) continue;
        this.seen.set(key, marker.time);
        if (marker.time > this.cursor) this.cursor = marker.time;
        announced.set(marker.tenantId, Math.max(announced.get(marker.tenantId) ?? 0, marker.revision));
      }
      for (const [key, time] of this.seen) if (time < this.cursor - 2 * this.windowMs) this.seen.delete(key);
    })();
    const system = (async () => {
      const held = this.system;
      const head = held ? await this.store.head(identitySystemKey()) : null;
      if (!held || (head && head.etag !== held.etag)) {
        const read = await readJson<SystemDirectory>(this.store, identitySystemKey());
        if (read) this.keepSystem(read);
      }
    })();
    await Promise.all([markers, system]);
    const live = this.lookup().byId;
    // Tenants new to this process, and those marked with a revision beyond the one held.
    await forEachLimited([...live.values()], FETCH_CONCURRENCY, async (ref) => {
      const held = this.tenants.get(ref.id);
      if (!held) {
        const read = heldFrom(ref, await this.readSnapshot(ref.id));
        if (this.tenants.has(ref.id)) return;
        this.hold(ref.id, read);
        await this.sync(ref.id, read);
      } else if ((announced.get(ref.id) ?? 0) > held.state.revision) {
        await this.sync(ref.id, held, undefined, announced.get(ref.id));
      }
    });
    for (const id of [...this.tenants.keys()]) if (!live.has(id)) this.dropTenant(id);
    if (Date.now() - this.lastReconcile > RECONCILE_EVERY_MS) {
      this.lastReconcile = Date.now();
      await this.reconcile();
    }
  }

  /**
   * Compares the stored journals with what is held (a writer that stopped between its entry and
   * its marker left a change unannounced) and prunes markers past the retention.
   */
  private async reconcile(): Promise<void> {
    const newest = new Map<string, number>();
    for await (const object of this.store.list(identityJournalPrefix(), { keysOnly: true })) {
      const parsed = parseIdentityJournalKey(object.key);
      if (parsed) newest.set(parsed.tenantId, Math.max(newest.get(parsed.tenantId) ?? 0, parsed.revision));
    }
    for (const [id, revision] of newest) {
      const held = this.tenants.get(id);
      if (held && revision > held.state.revision) await this.sync(id, held);
    }
    const stale: string[] = [];
    const before = identityChangesFrom(Date.now() - this.retentionMs);
    for await (const object of this.store.list(identityChangesPrefix(), { keysOnly: true })) {
      if (object.key >= before) break;
      stale.push(object.key);
    }
    await forEachLimited(stale, FETCH_CONCURRENCY, (key) => this.store.delete(key));
  }

  systemDirectory(): SystemDirectory {
    return this.system?.value ?? EMPTY_SYSTEM;
  }

  /** A live tenant by name. */
  tenantRef(name: string): TenantRef | undefined {
    return this.lookup().byName.get(name);
  }

  /** A live tenant by id. */
  tenantRefById(id: string): TenantRef | undefined {
    return this.lookup().byId.get(id);
  }

  /** The id of the live tenant `name` (audit and storage keys are made of ids). */
  tenantId(name: string): string | undefined {
    return this.tenantRef(name)?.id;
  }

  /** The id of the live project `project` of the live tenant `tenant`. */
  projectId(tenant: string, project: string): string | undefined {
    return this.tenant(tenant)?.index.projects.get(project)?.id;
  }

  /** A live tenant's records by name; a tenant not yet read is empty. */
  tenant(name: string): TenantDirectory | undefined {
    const ref = this.tenantRef(name);
    return ref ? this.stateOf(ref) : undefined;
  }

  /** A live tenant's records by id. */
  tenantById(id: string): TenantDirectory | undefined {
    const ref = this.tenantRefById(id);
    return ref ? this.stateOf(ref) : undefined;
  }

  private stateOf(ref: TenantRef): TenantDirectory {
    return this.tenants.get(ref.id)?.state ?? new TenantState(ref);
  }

  /** Tenants whose deletion started and has not finished. */
  deletingTenants(): TenantRef[] {
    return this.systemDirectory().tenants.filter((t) => t.deletingSince !== undefined);
  }

  private lookup(): DirectoryIndex {
    if (this.index) return this.index;
    const system = this.systemDirectory();
    const live = system.tenants.filter((t) => t.deletingSince === undefined);
    this.index = {
      byName: new Map(live.map((t) => [t.name, t])),
      byId: new Map(live.map((t) => [t.id, t])),
      operatorsById: new Map(system.operators.map((o) => [o.id, o])),
      operatorsByName: new Map(system.operators.map((o) => [o.username, o])),
    };
    return this.index;
  }

  /** The id of the live tenant holding a username. */
  tenantIdOfUser(username: string): string | undefined {
    const id = this.users.get(username);
    return id !== undefined && this.tenants.get(id)?.state.users.has(username) ? id : undefined;
  }

  /** The name of the live tenant holding a username. */
  tenantOfUser(username: string): string | undefined {
    const id = this.tenantIdOfUser(username);
    return id === undefined ? undefined : this.tenantRefById(id)?.name;
  }

  /** The id of the live tenant holding the API key `id`. */
  tenantOfApiKey(id: string): string | undefined {
    const tenantId = this.keys.get(id);
    return tenantId !== undefined && this.tenants.get(tenantId)?.state.apiKeys.has(id) ? tenantId : undefined;
  }

  operatorById(id: string): SystemUser | undefined {
    return this.lookup().operatorsById.get(id);
  }

  operatorNamed(username: string): SystemUser | undefined {
    return this.lookup().operatorsByName.get(username);
  }

  /**
   * Changes the system document by compare-and-swap; this process's changes wait their turn, and
   * one that loses every retry to other processes answers 503 IDENTITY_BUSY, having changed nothing.
   */
  updateSystem(update: Updater<SystemDirectory>): Promise<SystemDirectory> {
    const run = async () => {
      try {
        const result = await updateJson<SystemDirectory>(
          this.store,
          identitySystemKey(),
          (current) => update(normaliseSystem(current)),
          () => structuredClone(EMPTY_SYSTEM),
        );
        if (result) this.keepSystem(result);
        return this.systemDirectory();
      } catch (err) {
        throw isPreconditionFailed(err) ? identityBusy('the system', 'tenants and operators') : err;
      }
    };
    const turn = this.systemWriting.then(run, run);
    this.systemWriting = turn.catch(() => undefined);
    return turn;
  }

  /**
   * Changes a live tenant's records: `work` runs against a draft of the newest revision this
   * process knows (checks first, then changes) and its writes are stored as the next revision,
   * create-once; when another process took that revision, its entry is read and `work` runs
   * again. Resolves with what `work` returned; a draft with no writes stores nothing. A change
   * that cannot get its turn within the write budget answers 503 IDENTITY_BUSY, having changed
   * nothing.
   *
   * Changes to one tenant in this process wait for the write under way and then go together, as
   * one revision (group commit): each runs against the state as the ones before it in the group
   * left it, and one that refuses is left out without stopping the others. So a tenant takes as
   * many changes a second as writers bring, not one per storage round trip.
   */
  async changeTenant<T>(ref: TenantRef, work: (draft: TenantDraft) => T): Promise<T> {
    const held = this.holdOrEmpty(ref);
    const { result, announced } = await new Promise<{ result: T; announced: Promise<void> | null }>(
      (resolve, reject) => {
        held.queue.push({
          work,
          deadline: Date.now() + this.writeBudgetMs,
          resolve: resolve as QueuedChange['resolve'],
          reject,
        });
        if (!held.flushing) void this.flush(ref, held);
      },
    );
    // The change is stored: the answer waits until other processes are told of it too.
    await announced;
    return result;
  }

  /** Commits the tenant's queued changes, a group at a time, until none is left. */
  private async flush(ref: TenantRef, held: HeldTenant): Promise<void> {
    held.flushing = true;
    try {
      while (held.queue.length > 0) await this.commit(ref, held, held.queue.splice(0, MAX_GROUP));
    } finally {
      held.flushing = false;
    }
  }

  private async commit(ref: TenantRef, held: HeldTenant, group: QueuedChange[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const now = Date.now();
      const late = group.filter((change) => now > change.deadline);
      for (const change of late) change.reject(identityBusy(`tenant ${ref.name}`));
      group = group.filter((change) => now <= change.deadline);
      if (group.length === 0) return;
      const outcomes = runGroup(held.state, group);
      const changes = outcomes.flatMap((outcome) => outcome.changes);
      let revision: number | null = null;
      if (changes.length > 0) {
        revision = held.state.revision + 1;
        const entry: JournalEntry = { format: 1, revision, at: new Date().toISOString(), changes };
        try {
          await this.store.put(identityJournalKey(ref.id, revision), encodeJson(entry), {
            ifNoneMatch: '*',
            contentType: 'application/json',
          });
        } catch (err) {
          if (!isPreconditionFailed(err)) {
            for (const change of group) change.reject(err);
            return;
          }
          // Another process wrote this revision: read it (and any after it), then work again.
          await this.sync(ref.id, held).catch((failed: unknown) => {
            this.options.logger.warn({ err: failed }, 'could not read a tenant journal');
          });
          await sleep(Math.random() * Math.min(50, 2 ** attempt));
          continue;
        }
        this.applyEntry(ref.id, held, revision, changes);
      }
      // One marker for the revision, however many changes it holds.
      const announced = revision === null ? null : this.announce(ref.id, held, revision);
      if (revision !== null && held.state.revision - held.snapshotRevision >= this.snapshotEvery) {
        this.compact(ref.id, held);
      }
      outcomes.forEach((outcome, i) => {
        const change = group[i] as QueuedChange;
        if ('error' in outcome) change.reject(outcome.error);
        else change.resolve({ result: outcome.result, announced: outcome.changes.length > 0 ? announced : null });
      });
      return;
    }
  }

  /**
   * Resolves once a marker for `revision` or a later one is written. One marker at a time per
   * tenant: revisions made while one is written are announced together by the next, which names
   * the newest (a process reading it reads every entry up to it).
   */
  private announce(tenantId: string, held: HeldTenant, revision: number): Promise<void> {
    held.announceWanted = Math.max(held.announceWanted, revision);
    held.announcing ??= (async () => {
      while (held.announceWanted > held.announced) {
        const target = held.announceWanted;
        await this.writeMarker(tenantId, target);
        held.announced = target;
      }
    })().finally(() => {
      held.announcing = null;
    });
    return held.announcing;
  }

  private async writeMarker(tenantId: string, revision: number): Promise<void> {
    const time = Date.now();
    const key = identityChangeKey(time, tenantId, revision);
    try {
      // Unconditional: no other process writes this tenant's revision, so no other writes its key.
      await this.store.put(key, '');
      this.seen.set(key, time);
    } catch (err) {
      // The entry is stored: only other processes' view lags until the next poll writes the marker.
      this.options.logger.warn({ err }, 'could not announce an identity change; will retry');
      this.unannounced.push({ tenantId, revision });
    }
  }

  private async flushUnannounced(): Promise<void> {
    while (this.unannounced.length > 0) {
      const { tenantId, revision } = this.unannounced[0] as { tenantId: string; revision: number };
      const time = Date.now();
      await this.store.put(identityChangeKey(time, tenantId, revision), '');
      this.unannounced.shift();
    }
  }

  /**
   * Writes a snapshot of the tenant (compare-and-swap on the one read or written last: a
   * snapshot never goes back), then prunes the journal entries an earlier snapshot covers that
   * are past the retention. In the background: a failure only leaves the journal longer.
   */
  private compact(tenantId: string, held: HeldTenant): void {
    if (held.compacting) return;
    held.compacting = true;
    const previous = held.snapshotRevision;
    const document = held.state.toDocument();
    void (async () => {
      const condition = held.snapshotEtag === null ? { ifNoneMatch: '*' as const } : { ifMatch: held.snapshotEtag };
      const { etag } = await this.store.put(identityTenantKey(tenantId), JSON.stringify(document), {
        ...condition,
        contentType: 'application/json',
      });
      held.snapshotRevision = document.revision;
      held.snapshotEtag = etag;
      const stale: string[] = [];
      const before = Date.now() - this.retentionMs;
      for await (const object of this.store.list(identityJournalPrefix(tenantId))) {
        const parsed = parseIdentityJournalKey(object.key);
        if (parsed && parsed.revision <= previous && object.lastModified.getTime() < before) stale.push(object.key);
      }
      await forEachLimited(stale, FETCH_CONCURRENCY, (key) => this.store.delete(key));
    })()
      .catch((err: unknown) => {
        // Another process's snapshot won: it is read when an entry it covers goes missing.
        if (!isPreconditionFailed(err)) this.options.logger.warn({ err }, 'could not compact a tenant journal');
      })
      .finally(() => {
        held.compacting = false;
      });
  }

  /** Reads a tenant's records from storage, whether or not the tenant is live (deletions read them). */
  async readTenant(id: string): Promise<TenantDirectory | null> {
    const read = await this.readSnapshot(id);
    const ref = this.tenantRefById(id) ??
      read?.value.tenant ?? { id, name: id, displayName: id, createdAt: new Date(0).toISOString() };
    const held = heldFrom(ref, read);
    await this.sync(id, held);
    return read === null && held.state.revision === 0 ? null : held.state;
  }

  /** Removes a tenant's snapshot and journal. */
  async deleteTenantDocument(id: string): Promise<void> {
    const keys: string[] = [];
    for await (const object of this.store.list(identityJournalPrefix(id))) keys.push(object.key);
    await forEachLimited(keys, FETCH_CONCURRENCY, (key) => this.store.delete(key));
    await this.store.delete(identityTenantKey(id));
    this.dropTenant(id);
  }

  private keepSystem(read: JsonDocument<SystemDirectory>): void {
    // A document read before this process's own write must not undo that write.
    if (read.value.revision < (this.system?.value.revision ?? -1)) return;
    this.system = { value: normaliseSystem(read.value), etag: read.etag };
    this.index = null;
    for (const ref of this.system.value.tenants) {
      const held = this.tenants.get(ref.id);
      if (held && ref.deletingSince === undefined) held.state.tenant = ref;
    }
  }

  private holdOrEmpty(ref: TenantRef): HeldTenant {
    const held = this.tenants.get(ref.id);
    if (held) return held;
    const fresh = heldTenant(new TenantState(ref), 0, null);
    this.hold(ref.id, fresh);
    return fresh;
  }

  private hold(id: string, held: HeldTenant): void {
    this.tenants.set(id, held);
    this.reindexTenant(id, held);
  }

  /** Points the cross-tenant username and key lookups at every record of the tenant. */
  private reindexTenant(id: string, held: HeldTenant): void {
    for (const username of held.state.users.keys()) this.users.set(username, id);
    for (const key of held.state.apiKeys.keys()) this.keys.set(key, id);
  }

  /** Applies a journal entry to a held tenant and to the cross-tenant lookups (what it changed only). */
  private applyEntry(id: string, held: HeldTenant, revision: number, changes: readonly RecordChange[]): void {
    if (!held.state.apply(revision, changes)) return;
    for (const change of changes) {
      const lookup = change.c === 'users' ? this.users : change.c === 'apiKeys' ? this.keys : null;
      if (!lookup) continue;
      if (change.v !== null) lookup.set(change.k, id);
      else if (lookup.get(change.k) === id) lookup.delete(change.k);
    }
  }

  private dropTenant(id: string): void {
    this.tenants.delete(id);
  }
}
