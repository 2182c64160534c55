/**
 * Garbage collection keeps every blob a version record or an OCI manifest references (the
 * manifest itself, its config and layers, an index's children) and removes the rest once they are
 * older than the grace period, but never one a record added while it runs points at.
 */
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOOK_FIRST_BYTES } from './blobs/blob-store.js';
import { collectGarbage, LEASE_STALE_MS } from './gc.js';
import { blobGcKey, blobKey, blobUseKey, gcRunKey } from './storage/layout.js';
import type { ListOptions, ObjectStore } from './storage/object-store.js';
import {
  AUTH,
  buildTestPack,
  DRIVERS,
  getBytes,
  startTestRegistry,
  tempDir,
  type TestRegistry,
} from './test-support/test-registry.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const digestOf = (bytes: Buffer | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const logger = pino({ level: 'silent' });
const LARGE = LOOK_FIRST_BYTES + 64 * 1024;

async function pushBlob(registry: TestRegistry, name: string, bytes: Buffer): Promise<string> {
  const digest = digestOf(bytes);
  const res = await request(registry.app)
    .post(`/v2/${name}/blobs/uploads/?digest=${digest}`)
    .set(AUTH)
    .set('Content-Type', 'application/octet-stream')
    .send(bytes);
  expect(res.status).toBe(201);
  return digest;
}

/**
 * A store as a gc run sees it: the first call `stopAt` names waits (before it is made) until the
 * test releases it, so that a publish or a push can land at that point of the run.
 */
function stoppingStore(store: ObjectStore, stopAt: (method: string, key: string) => boolean) {
  let release = (): void => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let reach = (): void => undefined;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  let stopped = false;
  const gate = async (method: string, key: unknown): Promise<void> => {
    if (stopped || !stopAt(method, String(key))) return;
    stopped = true;
    reach();
    await released;
  };
  const stopping = new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      if (prop === 'list') {
        return (prefix: string, options?: ListOptions) =>
          (async function* () {
            await gate('list', prefix);
            yield* target.list(prefix, options);
          })();
      }
      return async (...args: unknown[]) => {
        await gate(String(prop), args[0]);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: stopping, reached, release };
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let waited = 0; !(await condition()); waited += 10) {
    if (waited > 10_000) throw new Error('the condition never held');
    await sleep(10);
  }
}

describe.each(DRIVERS)('garbage collection (%s)', (driver) => {
  let registry: TestRegistry;
  let work: Awaited<ReturnType<typeof tempDir>>;

  async function pushManifest(name: string, reference: string, type: string, body: string): Promise<string> {
    const res = await request(registry.app)
      .put(`/v2/${name}/manifests/${reference}`)
      .set(AUTH)
      .set('Content-Type', type)
      .send(body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return digestOf(body);
  }

  const exists = async (digest: string) => (await registry.services.store.head(blobKey(digest))) !== null;

  beforeAll(async () => {
    registry = await startTestRegistry(driver);
    work = await tempDir();
  });
  afterAll(async () => {
    await registry.close();
    await work.cleanup();
  });

  it('keeps what versions and manifests reference, and removes the rest after the grace period', async () => {
    const pack = await buildTestPack(work.dir, { name: 'gc-pack', version: '1.0.0' });
    expect((await request(registry.app).post('/v1/registries/public/packs').set(AUTH).send(pack.bytes)).status).toBe(
      201,
    );
    const packDigest = digestOf(pack.bytes);

    const config = await pushBlob(registry, 'public/gc/app', Buffer.from('{"os":"linux"}'));
    const layer = await pushBlob(registry, 'public/gc/app', randomBytes(1000));
    const image = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 14 },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer, size: 1000 }],
    });
    const imageDigest = await pushManifest('public/gc/app', 'v1', OCI_MANIFEST, image);
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ mediaType: OCI_MANIFEST, digest: imageDigest, size: image.length }],
    });
    const indexDigest = await pushManifest('public/gc/app', 'multi', OCI_INDEX, index);

    const orphan = await pushBlob(registry, 'public/gc/app', randomBytes(500));
    // A manifest deleted: its bytes and its own layer go, once nothing else references them.
    const lone = await pushBlob(registry, 'public/gc/other', randomBytes(700));
    const loneConfig = await pushBlob(registry, 'public/gc/other', Buffer.from('{}'));
    const loneManifest = await pushManifest(
      'public/gc/other',
      'v1',
      OCI_MANIFEST,
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: loneConfig, size: 2 },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: lone, size: 700 }],
      }),
    );
    expect((await request(registry.app).delete(`/v2/public/gc/other/manifests/${loneManifest}`).set(AUTH)).status).toBe(
      202,
    );

    const young = await collectGarbage(registry.services.store, { dryRun: false, graceMs: 60 * 60 * 1000, logger });
    // The manifest pushes claimed their blobs: a claim within a second of the cutoff counts as younger.
    await sleep(1100);
    expect(young.removed).toBe(0);
    expect(young.young).toBe(4);
    expect(young.manifests).toBe(2);

    const report = await collectGarbage(registry.services.store, { dryRun: false, graceMs: 0, logger });
    expect(report.removed).toBe(4);
    for (const kept of [packDigest, config, layer, imageDigest, indexDigest])
      expect(await exists(kept), kept).toBe(true);
    for (const removed of [orphan, lone, loneConfig, loneManifest]) expect(await exists(removed), removed).toBe(false);
    // What was kept still pulls.
    const pulled = await request(registry.app).get(`/v2/public/gc/app/blobs/${layer}`).set(AUTH);
    expect(pulled.status).toBe(200);
    expect((await request(registry.app).get('/v2/public/gc/app/manifests/multi').set(AUTH)).status).toBe(200);
  });

  // A record added while a gc run is under way may point at a blob the run found unreferenced:
  // the run must not remove it under the record (blobs/blob-claims.ts).
  describe('racing commits', () => {
    let packs = 0;

    const store = () => registry.services.store;
    const stored = async (digest: string) => (await store().head(blobKey(digest))) !== null;

    /** A pack published, then deleted: its archive is unreferenced, and old enough for a grace of 0. */
    async function deletedPack(bulk = LARGE): Promise<{ name: string; bytes: Buffer; digest: string }> {
      const name = `gc-race-${driver}-${++packs}`;
      // Over a MiB by default: storage is looked in before such a blob is written; a smaller one is
      // written again (S3 replaces it, the fs store keeps the one there).
      const pack = await buildTestPack(work.dir, {
        name,
        version: '1.0.0',
        files: { 'data/bulk.bin': randomBytes(bulk) },
      });
      expect((await request(registry.app).post('/v1/registries/public/packs').set(AUTH).send(pack.bytes)).status).toBe(
        201,
      );
      const deleted = await request(registry.app).delete(`/v1/registries/public/packs/${name}/1.0.0`).set(AUTH);
      expect(deleted.status, JSON.stringify(deleted.body)).toBeLessThan(300);
      // Older than a grace of 0 by more than a second (S3 keeps whole seconds).
      await sleep(1100);
      return { name, bytes: pack.bytes, digest: digestOf(pack.bytes) };
    }

    function restore(bytes: Buffer) {
      return request(registry.app).post('/v1/registries/public/packs').set(AUTH).send(bytes);
    }

    async function expectDownloads(name: string, bytes: Buffer): Promise<void> {
      const res = await getBytes(registry.app, `/v1/registries/public/packs/${name}/1.0.0/archive`, AUTH);
      expect(res.status).toBe(200);
      expect(Buffer.compare(res.bytes, bytes)).toBe(0);
    }

    // The same bytes restore a version the run found deleted, before the run gets to its blob.
    it.each([
      {
        when: 'a large archive restored after the run read the records',
        bulk: LARGE,
        // Stopped before the run lists the blobs.
        stopAt: () => (method: string, key: string) => method === 'list' && key === 'blobs/',
      },
      {
        when: 'a small archive restored after the run listed it as old',
        bulk: 1000,
        // Stopped with the blob listed, as the run first looks for a claim on it. Written again
        // (replaced, on S3), it is no older than that listing says: claimed all the same.
        stopAt: (digest: string) => (method: string, key: string) => method === 'head' && key === blobUseKey(digest),
      },
    ])('keeps $when', async ({ bulk, stopAt }) => {
      const pack = await deletedPack(bulk);
      const run = stoppingStore(store(), stopAt(pack.digest));
      const report = collectGarbage(run.store, { dryRun: false, graceMs: 0, logger });
      await run.reached;
      expect((await restore(pack.bytes)).status).toBe(201);
      run.release();
      expect((await report).young).toBeGreaterThanOrEqual(1);
      expect(await stored(pack.digest)).toBe(true);
      await expectDownloads(pack.name, pack.bytes);
    });

    // A claim is for a blob its writer did not make: one the store says it made is younger than any
    // run's cutoff. s3rver ignores If-None-Match, so its store cannot tell a made blob from a replaced one.
    it.each([
      ['small', 1000],
      ['large', LARGE],
    ])('claims no %s archive its own publish made, where the store can tell', async (_size, bulk) => {
      const name = `gc-fresh-${driver}-${++packs}`;
      const pack = await buildTestPack(work.dir, {
        name,
        version: '1.0.0',
        files: { 'data/bulk.bin': randomBytes(bulk) },
      });
      expect((await restore(pack.bytes)).status).toBe(201);
      const claim = await store().head(blobUseKey(digestOf(pack.bytes)));
      expect(claim === null).toBe(driver !== 's3rver');
    });

    it('lets one run at a time hold the store, and a run that stopped without letting go be taken over', async () => {
      const pack = await deletedPack();
      const run = stoppingStore(store(), (method, key) => method === 'list' && key === 'blobs/');
      const first = collectGarbage(run.store, { dryRun: false, graceMs: 0, logger });
      await run.reached;
      await expect(collectGarbage(store(), { dryRun: false, graceMs: 0, logger })).rejects.toMatchObject({
        code: 'GC_RUNNING',
      });
      // A dry run removes nothing: it needs no hold on the store.
      expect((await collectGarbage(store(), { dryRun: true, graceMs: 0, logger })).dryRun).toBe(true);
      run.release();
      expect((await first).removed).toBeGreaterThanOrEqual(1);
      expect(await stored(pack.digest)).toBe(false);
      expect(await store().head(gcRunKey())).toBeNull();
      // A lease left by a run killed long ago (its time is the store's: written here, and aged by
      // the reader's clock) is taken over; a fresh one is not.
      await store().put(gcRunKey(), '{}');
      await expect(collectGarbage(store(), { dryRun: false, graceMs: 0, logger })).rejects.toMatchObject({
        code: 'GC_RUNNING',
      });
      const later = Date.now() + LEASE_STALE_MS + 1000;
      const clock = vi.spyOn(Date, 'now').mockReturnValue(later);
      try {
        expect((await collectGarbage(store(), { dryRun: false, graceMs: 0, logger })).stopped).toBe(false);
      } finally {
        clock.mockRestore();
      }
      expect(await store().head(gcRunKey())).toBeNull();
    });

    it('stops between two blobs when asked, and lets go of the store', async () => {
      await deletedPack(1000);
      const stopping = new AbortController();
      stopping.abort();
      const report = await collectGarbage(store(), { dryRun: false, graceMs: 0, logger, signal: stopping.signal });
      expect(report).toMatchObject({ stopped: true, removed: 0 });
      expect(await store().head(gcRunKey())).toBeNull();
    });

    it('keeps the archive when the restore comes while the run decides on it', async () => {
      const pack = await deletedPack();
      let useLooks = 0;
      const useKey = blobUseKey(pack.digest);
      // Stopped after the run marked the blob, before it reads the blob's claim again.
      const run = stoppingStore(store(), (method, key) => method === 'head' && key === useKey && ++useLooks === 2);
      const report = collectGarbage(run.store, { dryRun: false, graceMs: 0, logger });
      await run.reached;
      const before = await store().head(useKey);
      const restoring = restore(pack.bytes).then((res) => res);
      await until(async () => (await store().head(useKey))?.etag !== before?.etag);
      run.release();
      expect((await report).claimed).toBe(1);
      expect((await restoring).status).toBe(201);
      expect(await stored(pack.digest)).toBe(true);
      await expectDownloads(pack.name, pack.bytes);
    });

    it('stores the archive again when the run removes it while the restore claims it', async () => {
      const pack = await deletedPack();
      // Stopped as the run removes the blob, its mind made up: the restore finds the blob, claims it,
      // and waits for the run's decision.
      const run = stoppingStore(store(), (method, key) => method === 'delete' && key === blobKey(pack.digest));
      const report = collectGarbage(run.store, { dryRun: false, graceMs: 0, logger });
      await run.reached;
      expect(await store().head(blobGcKey(pack.digest))).not.toBeNull();
      const before = await store().head(blobUseKey(pack.digest));
      const restoring = restore(pack.bytes).then((res) => res);
      await until(async () => (await store().head(blobUseKey(pack.digest)))?.etag !== before?.etag);
      run.release();
      expect((await report).removed).toBeGreaterThanOrEqual(1);
      expect((await restoring).status).toBe(201);
      expect(await stored(pack.digest)).toBe(true);
      await expectDownloads(pack.name, pack.bytes);
    });

    /** An image pushed, then its manifest deleted: its config and layer are unreferenced. */
    async function deletedImage(repository: string) {
      const config = await pushBlob(registry, repository, Buffer.from('{"os":"linux"}'));
      const layerBytes = randomBytes(2000);
      const layer = await pushBlob(registry, repository, layerBytes);
      const body = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 14 },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer, size: layerBytes.length }],
      });
      const put = () =>
        request(registry.app)
          .put(`/v2/${repository}/manifests/v1`)
          .set(AUTH)
          .set('Content-Type', OCI_MANIFEST)
          .send(body);
      expect((await put()).status).toBe(201);
      const deleted = await request(registry.app)
        .delete(`/v2/${repository}/manifests/${digestOf(body)}`)
        .set(AUTH);
      expect(deleted.status).toBe(202);
      // The push claimed its blobs: let those claims age past a grace of 0 (S3 keeps whole seconds).
      await sleep(2100);
      return { layer, put };
    }

    it('keeps the layers of a manifest pushed again after the run read the manifests', async () => {
      const image = await deletedImage(`public/gc-race/${driver}-again`);
      const run = stoppingStore(store(), (method, key) => method === 'list' && key === 'blobs/');
      const report = collectGarbage(run.store, { dryRun: false, graceMs: 0, logger });
      await run.reached;
      expect((await image.put()).status).toBe(201);
      run.release();
      await report;
      expect(await stored(image.layer)).toBe(true);
    });

    it('refuses a manifest whose layer the run removes while the push claims it, and stores nothing', async () => {
      const repository = `public/gc-race/${driver}-refused`;
      const image = await deletedImage(repository);
      // Stopped before the run removes the layer: the push finds it, then claims it.
      const run = stoppingStore(store(), (method, key) => method === 'delete' && key === blobKey(image.layer));
      const report = collectGarbage(run.store, { dryRun: false, graceMs: 0, logger });
      await run.reached;
      const before = await store().head(blobUseKey(image.layer));
      const pushing = image.put().then((res) => res);
      await until(async () => (await store().head(blobUseKey(image.layer)))?.etag !== before?.etag);
      run.release();
      await report;
      const refused = await pushing;
      expect(refused.status).toBe(400);
      expect(refused.body.errors[0].code).toBe('MANIFEST_BLOB_UNKNOWN');
      expect((await request(registry.app).get(`/v2/${repository}/manifests/v1`).set(AUTH)).status).toBe(404);
    });
  });
});
