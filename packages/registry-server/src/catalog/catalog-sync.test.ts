import { gunzipSync, gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../config/config.js';
import { createJson } from '../storage/json-documents.js';
import { createStore } from '../storage/create-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import { DRIVERS, storageFile, tempDir } from '../test-support/test-registry.js';
import { CatalogSync } from './catalog-sync.js';
import {
  CHANGES_PREFIX,
  SNAPSHOTS_PREFIX,
  changeKey,
  registryKey,
  snapshotKey,
  versionKey,
} from '../storage/layout.js';
import type { RegistryRecord, VersionSummary } from './records.js';

const logger = pino({ level: 'silent' });

function summary(name: string, version: string, revision = 1): VersionSummary {
  return {
    registry: 'public',
    name,
    version,
    layer: 'addon',
    displayName: name,
    addonType: null,
    cloudTypes: ['all'],
    annotations: {},
    description: null,
    dependencies: [],
    digest: `sha256:${'a'.repeat(64)}`,
    size: 1,
    publishedAt: new Date().toISOString(),
    publisher: 'admin',
    deprecated: null,
    deleted: false,
    revision,
    etag: null,
  };
}

/** A version record as the publish pipeline writes it. */
function record(name: string, displayName: string) {
  return {
    ...summary(name, '1.0.0'),
    manifest: { name, displayName, version: '1.0.0', layer: 'addon' },
    integrity: 'sha512-x',
    message: null,
    files: [],
    deleted: null,
    deprecated: null,
    history: [],
  };
}

const registry: RegistryRecord = {
  name: 'public',
  scope: 'system',
  tenant: null,
  project: null,
  description: '',
  public: true,
  allowOverwrite: false,
  createdAt: new Date().toISOString(),
  createdBy: 'system',
  revision: 1,
};

async function until(condition: () => boolean, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - start;
}

describe.each(DRIVERS)('catalog sync between replicas (%s)', (driver) => {
  let store: ObjectStore;
  let config: ReturnType<typeof resolveConfig>;
  let work: Awaited<ReturnType<typeof tempDir>>;
  const syncs: CatalogSync[] = [];
  const replica = async (options: { snapshotEveryChanges?: number } = {}) => {
    const sync = new CatalogSync(store, {
      logger,
      pollIntervalMs: 200,
      snapshotEveryChanges: options.snapshotEveryChanges ?? 1000,
    });
    await sync.start();
    syncs.push(sync);
    return sync;
  };

  beforeAll(async () => {
    work = await tempDir();
    config = resolveConfig({ dataDir: work.dir, storage: storageFile(driver, work.dir) });
    store = await createStore(config.storage, { logger });
  });
  afterAll(async () => {
    for (const sync of syncs) await sync.stop();
    await store.close();
    await work.cleanup();
  });

  it('shows a change made through one replica in another within 2 seconds', async () => {
    const a = await replica();
    const b = await replica();
    await a.record({ kind: 'registry', registry });
    await a.record({ kind: 'version', summary: summary('calico', '3.27.2') });
    // One poll fetches changes concurrently and applies each as it arrives: wait for both.
    const waited = await until(
      () => b.index.version('public', 'calico', '3.27.2') !== undefined && b.index.registry('public') !== undefined,
      2000,
    );
    expect(waited).toBeLessThan(2000);
    await b.record({ kind: 'version', summary: { ...summary('calico', '3.27.2', 2), deprecated: 'old' } });
    await until(() => a.index.version('public', 'calico', '3.27.2')?.deprecated === 'old', 2000);
  });

  it('starts cold from a snapshot plus the changes after it, and prunes what the snapshot covers', async () => {
    const writer = await replica({ snapshotEveryChanges: 5 });
    for (let i = 0; i < 12; i++) await writer.record({ kind: 'version', summary: summary('many', `1.0.${i}`) });
    await writer.poll();
    await writer.writeSnapshot();
    await writer.record({ kind: 'version', summary: summary('many', '2.0.0') });
    const snapshots: string[] = [];
    for await (const object of store.list(SNAPSHOTS_PREFIX)) snapshots.push(object.key);
    expect(snapshots.length).toBeGreaterThanOrEqual(1);
    expect(snapshots.length).toBeLessThanOrEqual(2);

    const cold = await replica();
    expect(cold.index.pack('public', 'many')?.versions.map((v) => v.version)).toContain('2.0.0');
    expect(cold.index.pack('public', 'many')?.versions).toHaveLength(13);
    expect(cold.index.version('public', 'calico', '3.27.2')?.deprecated).toBe('old');
  });

  /** Stops the replicas of earlier cases, which would otherwise read and snapshot these changes too. */
  const quiet = async () => {
    for (const sync of syncs) await sync.stop();
  };

  it('does not read its own changes back, and compacts the log after enough of its own', async () => {
    await quiet();
    // A store object of its own, so that the reads and writes counted are this replica's alone.
    const own = await createStore(config.storage, { logger });
    const alone = new CatalogSync(own, { logger, pollIntervalMs: 60_000, snapshotEveryChanges: 3 });
    try {
      await alone.start();
      const reads = vi.spyOn(own, 'getBuffer');
      const writes = vi.spyOn(own, 'put');
      for (let i = 0; i < 4; i++) await alone.record({ kind: 'version', summary: summary('solo', `1.0.${i}`) });
      await alone.poll();
      expect(reads.mock.calls.map(([key]) => key).filter((key) => key.startsWith(CHANGES_PREFIX))).toEqual([]);
      // The poll started a snapshot of the four changes; stop waits for it, and has none to add.
      await alone.stop();
      expect(writes.mock.calls.map(([key]) => key).filter((key) => key.startsWith(SNAPSHOTS_PREFIX))).toHaveLength(1);
    } finally {
      await alone.stop();
      await own.close();
    }
  });

  it('polls only the minutes since the newest change seen, and takes and prunes changes of earlier releases', async () => {
    await quiet();
    const dir = await tempDir();
    const own = await createStore(resolveConfig({ dataDir: dir.dir, storage: storageFile(driver, dir.dir) }).storage, {
      logger,
    });
    const hourAgo = Date.now() - 3_600_000;
    const put = (key: string, s: VersionSummary) =>
      own.put(key, JSON.stringify({ kind: 'version', summary: s }), { contentType: 'application/json' });
    // An hour-old log of 40 changes, and changes as an earlier release wrote them (no minute folder).
    for (let i = 0; i < 40; i++) await put(changeKey(hourAgo + i * 1000, `old${i}`), summary('aged', `1.0.${i}`));
    await put(`changes/${String(hourAgo).padStart(13, '0')}-flatold.json`, summary('flat', '0.1.0'));
    await put(`changes/${String(Date.now()).padStart(13, '0')}-flatnew.json`, summary('flat', '0.2.0'));
    let listed: string[] = [];
    const counting: ObjectStore = {
      ...own,
      list: async function* (prefix, options) {
        for await (const object of own.list(prefix, options)) {
          listed.push(object.key);
          yield object;
        }
      },
    };
    const sync = new CatalogSync(counting, {
      logger,
      pollIntervalMs: 60_000,
      snapshotEveryChanges: 1000,
      changeRetentionMs: 0,
      windowMs: 1000,
    });
    try {
      await sync.start();
      expect(sync.index.pack('public', 'flat')?.versions.map((v) => v.version)).toContain('0.2.0');
      await sync.record({ kind: 'version', summary: summary('fresh', '1.0.0') });
      listed = [];
      await sync.poll();
      // The poll listed this minute's folder (and the ungrouped keys after it), not the hour-old log.
      expect(listed.filter((key) => key.includes('old'))).toEqual([
        'changes/' + String(hourAgo).padStart(13, '0') + '-flatold.json',
      ]);
      // Two snapshots: the changes the older one covers go, ungrouped ones too.
      await sync.writeSnapshot();
      await sync.writeSnapshot();
      const left: string[] = [];
      for await (const object of own.list(CHANGES_PREFIX)) left.push(object.key);
      expect(left.filter((key) => key.includes('old'))).toEqual([]);
    } finally {
      await sync.stop();
      await own.close();
      await dir.cleanup();
    }
  });

  it('writes snapshots as JSON Lines, and starts from one an earlier release wrote as one document', async () => {
    await quiet();
    const dir = await tempDir();
    const own = await createStore(resolveConfig({ dataDir: dir.dir, storage: storageFile(driver, dir.dir) }).storage, {
      logger,
    });
    try {
      // Format 1, as earlier releases wrote it: one JSON document, every summary inside it.
      const old = {
        format: 1,
        createdAt: new Date().toISOString(),
        changesThrough: Date.now(),
        seen: [],
        registries: [registry],
        versions: [summary('legacy', '1.0.0'), summary('legacy', '1.1.0')],
      };
      await own.put(snapshotKey(Date.now() - 1000, 'old'), gzipSync(JSON.stringify(old)));
      const sync = new CatalogSync(own, { logger, pollIntervalMs: 60_000, snapshotEveryChanges: 1000 });
      await sync.start();
      expect(sync.index.pack('public', 'legacy')?.versions.map((v) => v.version)).toEqual(['1.0.0', '1.1.0']);
      await sync.record({ kind: 'version', summary: summary('legacy', '1.2.0') });
      const key = await sync.writeSnapshot();
      await sync.stop();
      const lines = gunzipSync((await own.getBuffer(key))?.body ?? Buffer.alloc(0))
        .toString()
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { format?: number; version?: string; versions?: unknown });
      expect(lines[0]).toMatchObject({ format: 2, registries: [expect.objectContaining({ name: 'public' })] });
      expect(lines[0]?.versions).toBeUndefined();
      expect(lines.slice(1).map((line) => line.version)).toEqual(['1.0.0', '1.1.0', '1.2.0']);
      const next = new CatalogSync(own, { logger, pollIntervalMs: 60_000, snapshotEveryChanges: 1000 });
      await next.start();
      expect(next.index.pack('public', 'legacy')?.versions).toHaveLength(3);
      await next.stop();
    } finally {
      await own.close();
      await dir.cleanup();
    }
  });

  it('writes a snapshot on the way out, so that the next start reads no change back', async () => {
    await quiet();
    const own = await createStore(config.storage, { logger });
    const leaving = new CatalogSync(own, { logger, pollIntervalMs: 60_000, snapshotEveryChanges: 1000 });
    await leaving.start();
    await leaving.record({ kind: 'version', summary: summary('leaving', '1.0.0') });
    await leaving.stop();
    const next = new CatalogSync(own, { logger, pollIntervalMs: 60_000, snapshotEveryChanges: 1000 });
    const reads = vi.spyOn(own, 'getBuffer');
    try {
      await next.start();
      expect(next.index.version('public', 'leaving', '1.0.0')).toBeDefined();
      expect(reads.mock.calls.map(([key]) => key).filter((key) => key.startsWith(CHANGES_PREFIX))).toEqual([]);
    } finally {
      await next.stop();
      await own.close();
    }
  });

  it('repairs, by reconciling with storage, a version whose change was never appended', async () => {
    const a = await replica();
    // The start's own reconcile, in the background, would otherwise race this one for the orphan.
    await a.reconciled();
    // What a process killed between writing a record and appending its change leaves behind.
    await createJson(store, versionKey('public', 'orphan', '1.0.0'), record('orphan', 'Orphan'));
    expect(a.index.version('public', 'orphan', '1.0.0')).toBeUndefined();
    expect(await a.reconcile()).toBeGreaterThanOrEqual(1);
    expect(a.index.version('public', 'orphan', '1.0.0')).toMatchObject({ displayName: 'Orphan' });
    // Everything now carries the ETag storage lists: a second pass reads nothing.
    expect(await a.reconcile()).toBe(0);
  });

  it('passes over a damaged snapshot and change entries, at start and in a poll, and takes what is around them', async () => {
    const config = resolveConfig({ dataDir: work.dir, storage: storageFile(driver, `${work.dir}/damaged`) });
    const own = await createStore(config.storage, { logger });
    const warnings: unknown[] = [];
    const watched = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
    const damage = [
      '',
      '{"kind":"version","summ',
      '\u0000\u0000\u0000',
      'null',
      '{"kind":"version"}',
      '{"kind":"other"}',
    ];
    const put = async (index: number, body: string) =>
      own.put(changeKey(Date.now(), `damage${index}`), body, { ifNoneMatch: '*' });
    try {
      // A snapshot, so that the start reads the change log after it (an empty store is scanned instead).
      const writer = new CatalogSync(own, { logger, pollIntervalMs: 60_000, snapshotEveryChanges: 1000 });
      await writer.start();
      await writer.record({ kind: 'version', summary: summary('before', '1.0.0') });
      await writer.writeSnapshot();
      await writer.stop();
      // A newer snapshot damaged on disk: the start passes over it to the one before.
      await own.put(snapshotKey(Date.now(), 'damaged'), gzipSync('{"changesThrough":').subarray(0, 12));
      for (const [index, body] of damage.entries()) await put(index, body);
      await own.put(
        changeKey(Date.now(), 'good1'),
        JSON.stringify({ kind: 'version', summary: summary('after', '1.0.0') }),
        {
          ifNoneMatch: '*',
        },
      );

      const sync = new CatalogSync(own, { logger: watched, pollIntervalMs: 60_000, snapshotEveryChanges: 1000 });
      await sync.start();
      try {
        expect(sync.index.version('public', 'before', '1.0.0')).toBeDefined();
        expect(sync.index.version('public', 'after', '1.0.0')).toBeDefined();
        expect(warnings.filter((entry) => (entry as { msg: string }).msg.includes('damaged change'))).toHaveLength(
          damage.length,
        );
        expect(warnings.filter((entry) => (entry as { msg: string }).msg.includes('snapshot'))).toHaveLength(1);
        // Polled: a damaged entry then a good one, and the damaged ones already seen are not read again.
        await put(damage.length, '{');
        await own.put(
          changeKey(Date.now(), 'good2'),
          JSON.stringify({ kind: 'version', summary: summary('later', '1.0.0') }),
          {
            ifNoneMatch: '*',
          },
        );
        await sync.poll();
        expect(sync.index.version('public', 'later', '1.0.0')).toBeDefined();
        expect(sync.lastError).toBeNull();
        expect(warnings.filter((entry) => (entry as { msg: string }).msg.includes('damaged change'))).toHaveLength(
          damage.length + 1,
        );
      } finally {
        await sync.stop();
      }
    } finally {
      await own.close();
    }
  });

  it('falls back to reading every record when a store has no snapshot, then writes one', async () => {
    const config = resolveConfig({ dataDir: work.dir, storage: storageFile(driver, `${work.dir}/other`) });
    const fresh = await createStore(config.storage, { logger });
    try {
      await createJson(fresh, registryKey('public'), registry);
      await createJson(fresh, versionKey('public', 'legacy', '1.0.0'), record('legacy', 'Legacy'));
      const sync = new CatalogSync(fresh, { logger, pollIntervalMs: 200, snapshotEveryChanges: 1000 });
      await sync.start();
      expect(sync.index.version('public', 'legacy', '1.0.0')).toMatchObject({ displayName: 'Legacy' });
      await sync.stop();
      const snapshots: string[] = [];
      for await (const object of fresh.list(SNAPSHOTS_PREFIX)) snapshots.push(object.key);
      expect(snapshots).toHaveLength(1);
    } finally {
      await fresh.close();
    }
  });
});
