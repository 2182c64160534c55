/**
 * Download counts over a real fs store: counted in memory, added to the stored document by a
 * flush (never overwriting what another instance wrote), read back with the unwritten deltas, and
 * kept across a failed flush.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeJson, readJson } from '../storage/json-documents.js';
import { createFsStore } from '../storage/fs-store.js';
import { downloadCountsKey } from '../storage/layout.js';
import type { ObjectStore } from '../storage/object-store.js';
import { faultyStore, tempDir, type FaultPlan } from '../test-support/test-registry.js';
import { DownloadCounts, type DownloadCountsDocument } from './download-counts.js';

function quietLogger(): Logger & { warn: ReturnType<typeof vi.fn> } {
  return { warn: vi.fn() } as unknown as Logger & { warn: ReturnType<typeof vi.fn> };
}

describe('download counts', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let store: ObjectStore;
  const opened: DownloadCounts[] = [];
  const counts = (target = store, flushIntervalMs = 0, logger: Logger = quietLogger()) => {
    const made = new DownloadCounts(target, logger, { flushIntervalMs });
    opened.push(made);
    return made;
  };
  const stored = async (registry: string, name: string) =>
    (await readJson<DownloadCountsDocument>(store, downloadCountsKey(registry, name)))?.value ?? null;

  beforeEach(async () => {
    work = await tempDir();
    store = await createFsStore({ root: path.join(work.dir, 'store') });
  });
  afterEach(async () => {
    for (const made of opened.splice(0)) await made.close();
    await store.close();
    await work.cleanup();
  });

  it('counts in memory, writes nothing before a flush, and reads the unwritten counts', async () => {
    const downloads = counts();
    downloads.count('public', 'cni-calico', '3.27.2');
    downloads.count('public', 'cni-calico', '3.27.2');
    downloads.count('public', 'cni-calico', '3.28.0');
    downloads.count('public', 'kubernetes', '1.29.4');
    expect(await stored('public', 'cni-calico')).toBeNull();
    expect(await downloads.read('public', 'cni-calico')).toEqual({ '3.27.2': 2, '3.28.0': 1 });
    expect(await downloads.read('public', 'never-downloaded')).toEqual({});

    await downloads.flush();
    expect(await stored('public', 'cni-calico')).toEqual({ versions: { '3.27.2': 2, '3.28.0': 1 } });
    expect(await stored('public', 'kubernetes')).toEqual({ versions: { '1.29.4': 1 } });
    // Written once: a second flush adds nothing, and reads do not count twice.
    await downloads.flush();
    expect(await downloads.read('public', 'cni-calico')).toEqual({ '3.27.2': 2, '3.28.0': 1 });
  });

  it('adds its deltas to what another instance on the same store already wrote', async () => {
    const first = counts();
    const second = counts();
    first.count('acme', 'demo', '1.0.0');
    first.count('acme', 'demo', '1.0.0');
    await first.flush();
    second.count('acme', 'demo', '1.0.0');
    second.count('acme', 'demo', '1.1.0');
    await second.flush();
    expect(await stored('acme', 'demo')).toEqual({ versions: { '1.0.0': 3, '1.1.0': 1 } });

    // Each reads the stored counts plus its own unwritten ones.
    first.count('acme', 'demo', '1.1.0');
    expect(await first.read('acme', 'demo')).toEqual({ '1.0.0': 3, '1.1.0': 2 });
    expect(await second.read('acme', 'demo')).toEqual({ '1.0.0': 3, '1.1.0': 1 });
  });

  it('loses no count when instances flush the same documents at once', async () => {
    const replicas = [counts(), counts(), counts()];
    for (const [i, replica] of replicas.entries()) {
      for (let n = 0; n <= i; n++) {
        replica.count('public', 'shared', '1.0.0');
        replica.count('public', `own-${i}`, '2.0.0');
      }
    }
    await Promise.all(replicas.map((replica) => replica.flush()));
    expect(await stored('public', 'shared')).toEqual({ versions: { '1.0.0': 6 } });
    expect(await stored('public', 'own-2')).toEqual({ versions: { '2.0.0': 3 } });
  });

  it('keeps the deltas of a failed flush for the next one, and logs a warning', async () => {
    const faults: { plan: FaultPlan } = {
      plan: (operation, key) => operation === 'put' && key.startsWith('downloads/'),
    };
    const logger = quietLogger();
    const downloads = counts(faultyStore(store, faults), 0, logger);
    downloads.count('public', 'demo', '1.0.0');
    await expect(downloads.flush()).resolves.toBeUndefined();
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0]?.[0]).toMatchObject({ packs: 1 });
    expect(await stored('public', 'demo')).toBeNull();
    // Still counted, and counting goes on.
    expect(await downloads.read('public', 'demo')).toEqual({ '1.0.0': 1 });
    downloads.count('public', 'demo', '1.0.0');
    downloads.count('public', 'demo', '1.0.1');

    faults.plan = () => false;
    await downloads.flush();
    expect(await stored('public', 'demo')).toEqual({ versions: { '1.0.0': 2, '1.0.1': 1 } });
    expect(await downloads.read('public', 'demo')).toEqual({ '1.0.0': 2, '1.0.1': 1 });
  });

  it('counts what arrives while a flush is writing in the next one', async () => {
    const downloads = counts();
    downloads.count('public', 'demo', '1.0.0');
    const flushing = downloads.flush();
    downloads.count('public', 'demo', '1.0.0');
    await flushing;
    expect(await stored('public', 'demo')).toEqual({ versions: { '1.0.0': 1 } });
    expect(await downloads.read('public', 'demo')).toEqual({ '1.0.0': 2 });
    await downloads.flush();
    expect(await stored('public', 'demo')).toEqual({ versions: { '1.0.0': 2 } });
  });

  it('flushes on its timer, and on close', async () => {
    const timed = counts(store, 20);
    timed.count('public', 'timed', '1.0.0');
    await vi.waitFor(async () => {
      expect(await stored('public', 'timed')).toEqual({ versions: { '1.0.0': 1 } });
    });

    const closing = counts();
    closing.count('public', 'closing', '1.0.0');
    await closing.close();
    expect(await stored('public', 'closing')).toEqual({ versions: { '1.0.0': 1 } });
  });

  it('adds to a stored document, dropping entries that are not counts', async () => {
    await store.put(downloadCountsKey('public', 'odd'), encodeJson({ versions: { '1.0.0': 'many', '2.0.0': 4 } }));
    const downloads = counts();
    downloads.count('public', 'odd', '2.0.0');
    downloads.count('public', 'odd', '1.0.0');
    expect(await downloads.read('public', 'odd')).toEqual({ '1.0.0': 1, '2.0.0': 5 });
    await downloads.flush();
    expect(await stored('public', 'odd')).toEqual({ versions: { '1.0.0': 1, '2.0.0': 5 } });
  });
});
