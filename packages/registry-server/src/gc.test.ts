/**
 * Garbage collection keeps every blob a version record or an OCI manifest references (the
 * manifest itself, its config and layers, an index's children) and removes the rest once they are
 * older than the grace period.
 */
import { createHash, randomBytes } from 'node:crypto';
import { pino } from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectGarbage } from './gc.js';
import { blobKey } from './storage/layout.js';
import { AUTH, buildTestPack, startTestRegistry, tempDir, type TestRegistry } from './test-support/test-registry.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const digestOf = (bytes: Buffer | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const logger = pino({ level: 'silent' });

describe('garbage collection', () => {
  let registry: TestRegistry;
  let work: Awaited<ReturnType<typeof tempDir>>;

  async function pushBlob(name: string, bytes: Buffer): Promise<string> {
    const digest = digestOf(bytes);
    const res = await request(registry.app)
      .post(`/v2/${name}/blobs/uploads/?digest=${digest}`)
      .set(AUTH)
      .set('Content-Type', 'application/octet-stream')
      .send(bytes);
    expect(res.status).toBe(201);
    return digest;
  }

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
    registry = await startTestRegistry('fs');
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

    const config = await pushBlob('public/gc/app', Buffer.from('{"os":"linux"}'));
    const layer = await pushBlob('public/gc/app', randomBytes(1000));
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

    const orphan = await pushBlob('public/gc/app', randomBytes(500));
    // A manifest deleted: its bytes and its own layer go, once nothing else references them.
    const lone = await pushBlob('public/gc/other', randomBytes(700));
    const loneConfig = await pushBlob('public/gc/other', Buffer.from('{}'));
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
});
