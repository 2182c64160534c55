import { PassThrough, type Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../config/config.js';
import { createJson } from '../storage/json-documents.js';
import { createStore } from '../storage/create-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import { DRIVERS, storageFile, tempDir } from '../test-support/test-registry.js';
import { CatalogSync, type Change } from './catalog-sync.js';
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

/** A catalog process on `store` that polls only when told to. */
function idleSync(store: ObjectStore, log = logger): CatalogSync {
  return new CatalogSync(store, { logger: log, pollIntervalMs: 60_000, snapshotEveryChanges: 1000 });
}

/** Gives `store` a snapshot holding `change` (a start then reads only the change log after it). */
async function snapshotOf(store: ObjectStore, change: Change): Promise<void> {
  const writer = idleSync(store);
  await writer.start();
  await writer.record(change);
  await writer.writeSnapshot();
  await writer.stop();
}

/** A logger whose warnings are kept, and the messages of those that include `text`. */
function watchedLogger() {
  const warnings: { msg: string }[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
  return { logger, warned: (text: string) => warnings.filter((entry) => entry.msg.includes(text)) };
}

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

  /** Runs `test` on a store of its own (folder or bucket prefix `name`), closed after. */
  const onOwnStore = async (name: string, test: (own: ObjectStore) => Promise<void>) => {
    const ownConfig = resolveConfig({ dataDir: work.dir, storage: storageFile(driver, `${work.dir}/${name}`) });
    const own = await createStore(ownConfig.storage, { logger });
    try {
      await test(own);
    } finally {
      await own.close();
    }
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
      const sync = idleSync(own);
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
      const next = idleSync(own);
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
    const leaving = idleSync(own);
    await leaving.start();
    await leaving.record({ kind: 'version', summary: summary('leaving', '1.0.0') });
    await leaving.stop();
    const next = idleSync(own);
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
    await onOwnStore('damaged', async (own) => {
      const { logger: watched, warned } = watchedLogger();
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
      // A snapshot, so that the start reads the change log after it (an empty store is scanned instead).
      await snapshotOf(own, { kind: 'version', summary: summary('before', '1.0.0') });
      // Newer snapshots damaged on disk: the start passes over them to the one before. One cut
      // short after a whole header and version (its gzip trailer lost), whose version must not be
      // taken from it; one whose header is cut short, with megabytes after it that the read stops
      // before (the file or the connection must still be closed).
      const header = {
        format: 2,
        createdAt: new Date().toISOString(),
        changesThrough: Date.now(),
        registries: [{ ...registry, name: 'ghostly' }],
      };
      const ghost = gzipSync(`${JSON.stringify(header)}\n${JSON.stringify(summary('ghost', '1.0.0'))}\n`);
      await own.put(snapshotKey(Date.now(), 'damaged1'), ghost.subarray(0, ghost.length - 8));
      // Stored uncompressed: several reads' worth of bytes behind the line that stops the read.
      const rest = 'x'.repeat(4 * 1024 * 1024);
      await own.put(snapshotKey(Date.now() + 1, 'damaged2'), gzipSync(`{"changesThrough":\n${rest}\n`, { level: 0 }));
      for (const [index, body] of damage.entries()) await put(index, body);
      await own.put(
        changeKey(Date.now(), 'good1'),
        JSON.stringify({ kind: 'version', summary: summary('after', '1.0.0') }),
        {
          ifNoneMatch: '*',
        },
      );

      const sync = idleSync(own, watched);
      const bodies: Readable[] = [];
      const get = own.get.bind(own);
      const gets = vi.spyOn(own, 'get').mockImplementation(async (key, options) => {
        const found = await get(key, options);
        if (found) bodies.push(found.body);
        return found;
      });
      await sync.start();
      gets.mockRestore();
      try {
        expect(sync.index.version('public', 'before', '1.0.0')).toBeDefined();
        expect(sync.index.version('public', 'after', '1.0.0')).toBeDefined();
        expect(sync.index.version('public', 'ghost', '1.0.0')).toBeUndefined();
        expect(sync.index.registry('ghostly')).toBeUndefined();
        expect(warned('damaged change')).toHaveLength(damage.length);
        expect(warned('snapshot')).toHaveLength(2);
        expect(bodies).toHaveLength(3);
        expect(bodies.map((body) => body.destroyed)).toEqual([true, true, true]);
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
        expect(warned('damaged change')).toHaveLength(damage.length + 1);
      } finally {
        await sync.stop();
      }
    });
  });

  it('writes one snapshot at a time, each after the one before it, and keeps two', async () => {
    await onOwnStore('one-snapshot-at-a-time', async (own) => {
      const sync = idleSync(own);
      try {
        await sync.start();
        await sync.record({ kind: 'registry', registry });
        const put = own.put.bind(own);
        let writing = 0;
        let most = 0;
        const puts = vi.spyOn(own, 'put').mockImplementation(async (key, body, options) => {
          if (!key.startsWith(SNAPSHOTS_PREFIX)) return put(key, body, options);
          most = Math.max(most, ++writing);
          try {
            await new Promise((resolve) => setTimeout(resolve, 20));
            return await put(key, body, options);
          } finally {
            writing--;
          }
        });
        const keys = await Promise.all([sync.writeSnapshot(), sync.writeSnapshot(), sync.writeSnapshot()]);
        puts.mockRestore();
        expect(most).toBe(1);
        const snapshots: string[] = [];
        for await (const object of own.list(SNAPSHOTS_PREFIX)) snapshots.push(object.key);
        // The three cover the same changes: any two of them are the two kept.
        expect(snapshots).toHaveLength(2);
        expect(keys).toEqual(expect.arrayContaining(snapshots));
      } finally {
        await sync.stop();
      }
    });
  });

  it('appends without a flush only the change of a first publish', async () => {
    const config = resolveConfig({ dataDir: work.dir, storage: storageFile(driver, `${work.dir}/durable`) });
    const own = await createStore(config.storage, { logger });
    const sync = idleSync(own);
    try {
      await sync.start();
      const puts = vi.spyOn(own, 'put');
      const durability = async (change: Change) => {
        puts.mockClear();
        await sync.record(change);
        const appends = puts.mock.calls.filter(([key]) => key.startsWith(CHANGES_PREFIX));
        expect(appends).toHaveLength(1);
        return appends[0]?.[2]?.durable ?? true;
      };
      expect(await durability({ kind: 'version', summary: summary('fresh', '1.0.0') })).toBe(false);
      expect(await durability({ kind: 'registry', registry: { ...registry, public: false, revision: 2 } })).toBe(true);
      expect(
        await durability({ kind: 'version', summary: { ...summary('fresh', '1.0.0', 2), deprecated: 'old' } }),
      ).toBe(true);
      expect(await durability({ kind: 'version', summary: { ...summary('fresh', '1.0.0', 3), deleted: true } })).toBe(
        true,
      );
      puts.mockRestore();
    } finally {
      await sync.stop();
      await own.close();
    }
  });

  it('answers a poll only once it has read the changes written before it, when another poll is under way', async () => {
    await onOwnStore('poll-after', async (own) => {
      const writer = idleSync(own);
      const reader = idleSync(own);
      await writer.start();
      await reader.start();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const list = own.list.bind(own);
      let listings = 0;
      // The reader's next listing of the log is taken now and answered only once the gate opens.
      const lists = vi.spyOn(own, 'list').mockImplementation(async function* (prefix, options) {
        const listed = [];
        for await (const object of list(prefix, options)) listed.push(object);
        if (listings++ === 0) await gate;
        yield* listed;
      });
      try {
        const underWay = reader.poll();
        await vi.waitFor(() => {
          expect(listings).toBe(1);
        });
        await writer.record({ kind: 'version', summary: summary('late', '1.0.0') });
        const after = reader.poll();
        release();
        await Promise.all([underWay, after]);
        expect(reader.index.version('public', 'late', '1.0.0')).toBeDefined();
      } finally {
        release();
        lists.mockRestore();
        await reader.stop();
        await writer.stop();
      }
    });
  });

  it('serves the registries storage holds, not older ones from a snapshot, from the start on', async () => {
    await onOwnStore('registries', async (own) => {
      await createJson(own, registryKey('public'), registry);
      await snapshotOf(own, { kind: 'registry', registry });
      // Made private by a process killed before it appended the change (or whose unflushed entry
      // a power loss took): only the record says so.
      await own.put(registryKey('public'), JSON.stringify({ ...registry, public: false, revision: 2 }));
      const sync = idleSync(own);
      // Not the background reconcile: the start itself must have read the record.
      vi.spyOn(sync, 'reconcile').mockResolvedValue(0);
      await sync.start();
      try {
        expect(sync.index.registry('public')).toMatchObject({ public: false, revision: 2 });
      } finally {
        await sync.stop();
      }
    });
  });

  it('fails to start, rather than scan every record, when reading a snapshot fails in storage', async () => {
    await onOwnStore('failing', async (own) => {
      await snapshotOf(own, { kind: 'version', summary: summary('kept', '1.0.0') });
      const get = own.get.bind(own);
      const gets = vi.spyOn(own, 'get').mockImplementation(async (key, options) => {
        const found = await get(key, options);
        if (!found || !key.startsWith(SNAPSHOTS_PREFIX)) return found;
        // The connection (or the disk) fails after the first bytes.
        const failing = new PassThrough();
        found.body.once('data', (chunk: Buffer) => {
          found.body.destroy();
          failing.write(chunk.subarray(0, 10), () =>
            failing.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })),
          );
        });
        return { ...found, body: failing };
      });
      const scans = vi.spyOn(CatalogSync.prototype, 'reconcile');
      const sync = idleSync(own);
      await expect(sync.start()).rejects.toThrow('ECONNRESET');
      expect(scans).not.toHaveBeenCalled();
      scans.mockRestore();
      gets.mockRestore();
    });
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

  it('starts all the same when storage will not take the snapshot of its scan (a full disk)', async () => {
    const config = resolveConfig({ dataDir: work.dir, storage: storageFile(driver, `${work.dir}/full`) });
    const fresh = await createStore(config.storage, { logger });
    try {
      await createJson(fresh, registryKey('public'), registry);
      await createJson(fresh, versionKey('public', 'scanned', '1.0.0'), record('scanned', 'Scanned'));
      const full = Object.assign(new Error('ENOSPC: no space left on device, write'), {
        code: 'ENOSPC',
        syscall: 'write',
      });
      const put = fresh.put.bind(fresh);
      const puts = vi.spyOn(fresh, 'put').mockImplementation((key, body, options) => {
        if (key.startsWith(SNAPSHOTS_PREFIX)) return Promise.reject(full);
        return put(key, body, options);
      });
      const { logger: watched, warned } = watchedLogger();
      const sync = new CatalogSync(fresh, { logger: watched, pollIntervalMs: 60_000, snapshotEveryChanges: 1000 });
      await sync.start();
      expect(sync.index.version('public', 'scanned', '1.0.0')).toMatchObject({ displayName: 'Scanned' });
      expect(warned('after a full scan')).toHaveLength(1);
      puts.mockRestore();
      await sync.stop();
    } finally {
      await fresh.close();
    }
  });
});
