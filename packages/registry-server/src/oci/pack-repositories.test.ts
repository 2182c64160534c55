/**
 * Packs through OCI, both ways, on each storage driver. The Palette recipe (`tar -czf` a sample
 * pack, push the `{}` config, the layer and the ORAS 1.0 manifest) publishes a version exactly as
 * /v1 does: in the catalog, searchable, downloadable as the zip `packctl build` makes, and pulled
 * back through /v2 byte for byte. Packs published through /v1 are pulled as ORAS artifacts with
 * the same digest from every replica. Refused pushes (hostile layers, name or tag mismatch, an
 * invalid pack.json, a tag holding other content) store nothing.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { packTar, type PackTarEntry } from '../../../pack-core/src/test-support/craft-tar.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { listPackFiles, writePackArchive, ZIP_EPOCH } from '@packyard/pack-core';
import {
  AUTH,
  buildTestPack,
  DRIVERS,
  getBytes,
  startTestRegistry,
  tempDir,
  type TestRegistry,
} from '../test-support/test-registry.js';
import { blobUseKey } from '../storage/layout.js';

const SAMPLES = fileURLToPath(new URL('../../../../sample-packs', import.meta.url));
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const REPO = 'public/spectro-packs/archive';
const CONFIG = Buffer.from('{}');

const digestOf = (bytes: Buffer | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** The manifest `oras push` 1.0 writes for one file. */
function oras10Manifest(layer: Buffer, title: string, layerType = 'application/vnd.oci.image.layer.v1.tar'): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.unknown.config.v1+json', digest: digestOf(CONFIG), size: 2 },
      layers: [
        {
          mediaType: layerType,
          digest: digestOf(layer),
          size: layer.length,
          annotations: { 'org.opencontainers.image.title': title },
        },
      ],
      annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
    }),
  );
}

/** The manifest `oras push --artifact-type` 1.1+ writes. */
function oras11Manifest(layer: Buffer, title: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.spectrocloud.pack',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: digestOf(CONFIG), size: 2, data: 'e30=' },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: digestOf(layer),
          size: layer.length,
          annotations: { 'org.opencontainers.image.title': title },
        },
      ],
    }),
  );
}

/** A tar.gz of the entries, as a hostile client would write it. */
async function tarGz(entries: PackTarEntry[]): Promise<Buffer> {
  return gzipSync(await packTar(entries));
}

describe.each(DRIVERS)('packs through OCI (%s)', (driver) => {
  let registry: TestRegistry;
  let replica: TestRegistry;
  let work: Awaited<ReturnType<typeof tempDir>>;
  const app = () => registry.app;

  /** Publishes a pack through /v1, as `packctl push` does. */
  async function publishThroughV1(pack: { bytes: Buffer }): Promise<void> {
    const published = await request(app())
      .post('/v1/registries/public/packs')
      .set(AUTH)
      .set('Content-Type', 'application/zip')
      .send(pack.bytes);
    expect(published.status, JSON.stringify(published.body)).toBe(201);
  }

  async function pushBlob(name: string, bytes: Buffer): Promise<void> {
    const res = await request(app())
      .post(`/v2/${name}/blobs/uploads/?digest=${digestOf(bytes)}`)
      .set(AUTH)
      .set('Content-Type', 'application/octet-stream')
      .send(bytes);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }

  /**
   * `oras push NAME:TAG layer`: the config, the layer, then the manifest; returns the answer.
   * `name` is a pack of the public registry, or a whole repository name.
   */
  async function orasPush(name: string, tag: string, layer: Buffer, manifest = oras10Manifest(layer, `${tag}.tar.gz`)) {
    const repository = name.includes('/') ? name : `${REPO}/${name}`;
    await pushBlob(repository, CONFIG);
    await pushBlob(repository, layer);
    return request(app())
      .put(`/v2/${repository}/manifests/${tag}`)
      .set(AUTH)
      .set('Content-Type', OCI_MANIFEST)
      .send(manifest.toString());
  }

  /** Nothing of `name@version` is visible: no version, no tag, no catalog entry. */
  async function nothingOf(name: string, version: string): Promise<void> {
    expect((await request(app()).get(`/v1/registries/public/packs/${name}/${version}`).set(AUTH)).status).toBe(404);
    const tags = await request(app()).get(`/v2/${REPO}/${name}/tags/list`).set(AUTH);
    expect(tags.status === 404 || !(tags.body as { tags: string[] }).tags.includes(version)).toBe(true);
    expect((await request(app()).get(`/v2/${REPO}/${name}/manifests/${version}`).set(AUTH)).status).toBe(404);
    const catalog = await request(app()).get('/v2/_catalog').set(AUTH);
    if (tags.status === 404)
      expect((catalog.body as { repositories: string[] }).repositories).not.toContain(`${REPO}/${name}`);
  }

  beforeAll(async () => {
    work = await tempDir('packyard-oci-packs-');
    registry = await startTestRegistry(driver);
    replica = await startTestRegistry(driver, { share: registry });
  });
  afterAll(async () => {
    await replica.close();
    await registry.close();
    await work.cleanup();
  });

  it('publishes a pack pushed the Palette way, searchable, downloadable through /v1 and pulled back byte for byte', async () => {
    const layer = path.join(work.dir, 'cni-calico-3.27.2.tar.gz');
    execFileSync('tar', ['-czf', layer, '-C', SAMPLES, 'cni-calico']);
    const bytes = await readFile(layer);
    const manifest = oras10Manifest(bytes, 'cni-calico-3.27.2.tar.gz');
    const pushed = await orasPush('cni-calico', '3.27.2', bytes, manifest);
    expect(pushed.status, JSON.stringify(pushed.body)).toBe(201);
    expect(pushed.headers['docker-content-digest']).toBe(digestOf(manifest));

    // A version like any other: in the catalog and search, its archive the zip `packctl build` writes.
    const version = await request(app()).get('/v1/registries/public/packs/cni-calico/3.27.2').set(AUTH);
    expect(version.status).toBe(200);
    expect(version.body).toMatchObject({ name: 'cni-calico', version: '3.27.2', layer: 'cni' });
    const found = await request(app()).get('/v1/packs?q=calico').set(AUTH);
    expect(found.body.items).toContainEqual(expect.objectContaining({ name: 'cni-calico', registry: 'public' }));
    const { files } = await listPackFiles(path.join(SAMPLES, 'cni-calico'));
    const built = await writePackArchive(files, path.join(work.dir, 'built.zip'), { mtime: ZIP_EPOCH });
    const archive = await getBytes(app(), '/v1/registries/public/packs/cni-calico/3.27.2/archive', AUTH);
    expect(archive.status).toBe(200);
    expect(digestOf(archive.bytes)).toBe(built.digest);
    expect(version.body.digest).toBe(built.digest);

    // Pulled through /v2: the manifest the client pushed, and its layer.
    const pulled = await getBytes(app(), `/v2/${REPO}/cni-calico/manifests/3.27.2`, AUTH);
    expect(pulled.status).toBe(200);
    expect(pulled.bytes.equals(manifest)).toBe(true);
    const blob = await getBytes(app(), `/v2/${REPO}/cni-calico/blobs/${digestOf(bytes)}`, AUTH);
    expect(blob.bytes.equals(bytes)).toBe(true);
    const tags = await request(app()).get(`/v2/${REPO}/cni-calico/tags/list`).set(AUTH);
    expect(tags.body).toEqual({ name: `${REPO}/cni-calico`, tags: ['3.27.2'] });
    const catalog = await request(app()).get('/v2/_catalog').set(AUTH);
    expect(catalog.body.repositories).toContain(`${REPO}/cni-calico`);

    // The same manifest again changes nothing; other content under the tag is refused.
    expect((await orasPush('cni-calico', '3.27.2', bytes, manifest)).status).toBe(201);
    const other = path.join(work.dir, 'other');
    await cp(path.join(SAMPLES, 'cni-calico'), path.join(other, 'cni-calico'), { recursive: true });
    await writeFile(path.join(other, 'cni-calico', 'README.md'), '# Calico, changed\n');
    const changed = path.join(work.dir, 'changed.tar.gz');
    execFileSync('tar', ['-czf', changed, '-C', other, 'cni-calico']);
    const refused = await orasPush('cni-calico', '3.27.2', await readFile(changed));
    expect(refused.status).toBe(403);
    expect(refused.body.errors[0]).toMatchObject({ code: 'DENIED', detail: { code: 'PACK_VERSION_EXISTS' } });
    const still = await getBytes(app(), `/v2/${REPO}/cni-calico/manifests/3.27.2`, AUTH);
    expect(still.bytes.equals(manifest)).toBe(true);
  });

  it('accepts the ORAS 1.1 shape, a plain tar at the root, and hides a deleted version', async () => {
    const plain = path.join(work.dir, 'metallb.tar');
    execFileSync('tar', ['-cf', plain, '-C', path.join(SAMPLES, 'lb-metallb'), '.']);
    const bytes = await readFile(plain);
    const { version } = JSON.parse(await readFile(path.join(SAMPLES, 'lb-metallb', 'pack.json'), 'utf8')) as {
      version: string;
    };
    const pushed = await orasPush('lb-metallb', version, bytes, oras11Manifest(bytes, `lb-metallb-${version}.tar`));
    expect(pushed.status, JSON.stringify(pushed.body)).toBe(201);
    expect((await request(app()).get(`/v1/registries/public/packs/lb-metallb/${version}`).set(AUTH)).status).toBe(200);
    const digest = pushed.headers['docker-content-digest'] ?? '';
    expect(digest).toMatch(/^sha256:/);
    expect((await request(app()).get(`/v2/${REPO}/lb-metallb/manifests/${digest}`).set(AUTH)).status).toBe(200);
    const deleted = await request(app()).delete(`/v1/registries/public/packs/lb-metallb/${version}`).set(AUTH);
    expect(deleted.status, JSON.stringify(deleted.body)).toBeLessThan(300);
    const gone = await request(app()).get(`/v2/${REPO}/lb-metallb/manifests/${version}`).set(AUTH);
    expect(gone.status).toBe(404);
    expect(gone.body.errors[0].code).toBe('MANIFEST_UNKNOWN');
    // Gone by digest too: a tombstone hides the version's manifest however it is named.
    const goneByDigest = await request(app()).get(`/v2/${REPO}/lb-metallb/manifests/${digest}`).set(AUTH);
    expect(goneByDigest.status).toBe(404);
    expect(goneByDigest.body.errors[0].code).toBe('MANIFEST_UNKNOWN');
    const tags = await request(app()).get(`/v2/${REPO}/lb-metallb/tags/list`).set(AUTH);
    expect(tags.status === 404 || !(tags.body as { tags: string[] }).tags.includes(version)).toBe(true);
    // Like /v1: a deleted version comes back only with its own content.
    const changedDir = path.join(work.dir, 'metallb-changed');
    await cp(path.join(SAMPLES, 'lb-metallb'), changedDir, { recursive: true });
    await writeFile(path.join(changedDir, 'README.md'), '# MetalLB, changed\n');
    const changed = path.join(work.dir, 'metallb-changed.tar');
    execFileSync('tar', ['-cf', changed, '-C', changedDir, '.']);
    const refused = await orasPush('lb-metallb', version, await readFile(changed));
    expect(refused.status).toBe(403);
    expect(refused.body.errors[0]).toMatchObject({ code: 'DENIED', detail: { code: 'PACK_VERSION_DELETED' } });
    // Its layer went with it, on every replica: the bytes are not pulled by the digest a client
    // kept (HEAD says so too). Pushing the version again through OCI brings it back.
    const layer = `/v2/${REPO}/lb-metallb/blobs/${digestOf(bytes)}`;
    await replica.services.catalog.poll();
    for (const app of [registry.app, replica.app]) {
      const blob = await request(app).get(layer).set(AUTH);
      expect(blob.status).toBe(404);
      expect(blob.body.errors[0].code).toBe('BLOB_UNKNOWN');
      expect((await request(app).head(layer).set(AUTH)).status).toBe(404);
    }
    const config = await getBytes(app(), `/v2/${REPO}/lb-metallb/blobs/${digestOf(CONFIG)}`, AUTH);
    expect(config.status).toBe(200);
    const restored = await orasPush('lb-metallb', version, bytes, oras11Manifest(bytes, `lb-metallb-${version}.tar`));
    expect(restored.status, JSON.stringify(restored.body)).toBe(201);
    expect((await request(app()).get(`/v2/${REPO}/lb-metallb/manifests/${version}`).set(AUTH)).status).toBe(200);
    await replica.services.catalog.poll();
    const back = await getBytes(replica.app, layer, AUTH);
    expect(back.status).toBe(200);
    expect(back.bytes.equals(bytes)).toBe(true);
    // Deleting through OCI is refused: /v1 deletes, leaving a tombstone.
    const viaOci = await request(app()).delete(`/v2/${REPO}/cni-calico/manifests/3.27.2`).set(AUTH);
    expect(viaOci.status).toBe(405);
    expect(viaOci.headers['allow']).toBe('GET, HEAD, PUT');
    expect(viaOci.body.errors[0].code).toBe('UNSUPPORTED');
  });

  it('serves a pack published through /v1 as an ORAS artifact, with one digest on every replica', async () => {
    await publishThroughV1(await buildTestPack(work.dir, { name: 'via-v1', version: '2.0.0' }));

    // Both replicas at once, before anything was materialised: the same bytes.
    const [first, second] = await Promise.all([
      getBytes(replica.app, `/v2/${REPO}/via-v1/manifests/2.0.0`, AUTH),
      getBytes(app(), `/v2/${REPO}/via-v1/manifests/2.0.0`, AUTH),
    ]);
    expect(first.status).toBe(200);
    expect(second.bytes.equals(first.bytes)).toBe(true);
    const again = await getBytes(app(), `/v2/${REPO}/via-v1/manifests/2.0.0`, AUTH);
    expect(again.bytes.equals(first.bytes)).toBe(true);
    const manifest = JSON.parse(first.bytes.toString()) as {
      config: { mediaType: string; digest: string; size: number };
      layers: Array<{ mediaType: string; digest: string; annotations: Record<string, string> }>;
    };
    expect(manifest.config).toEqual({
      mediaType: 'application/vnd.unknown.config.v1+json',
      digest: digestOf(CONFIG),
      size: 2,
    });
    expect(manifest.layers).toHaveLength(1);
    const layer = manifest.layers[0];
    expect(layer).toMatchObject({
      mediaType: 'application/vnd.oci.image.layer.v1.tar',
      annotations: { 'org.opencontainers.image.title': 'via-v1-2.0.0.tar.gz' },
    });
    const blob = await getBytes(replica.app, `/v2/${REPO}/via-v1/blobs/${layer?.digest ?? ''}`, AUTH);
    expect(blob.status).toBe(200);
    expect(digestOf(blob.bytes)).toBe(layer?.digest);
    // The layer is the pack under one folder `<name>/`.
    expect(gunzipSync(blob.bytes).subarray(0, 7).toString()).toBe('via-v1/');
    const config = await getBytes(app(), `/v2/${REPO}/via-v1/blobs/${digestOf(CONFIG)}`, AUTH);
    expect(config.bytes.toString()).toBe('{}');
    const tags = await request(app()).get(`/v2/${REPO}/via-v1/tags/list`).set(AUTH);
    expect(tags.body.tags).toEqual(['2.0.0']);
    const catalog = await request(replica.app).get('/v2/_catalog').set(AUTH);
    expect(catalog.body.repositories).toContain(`${REPO}/via-v1`);
    // A deprecated version (here the pack's only one) is still listed and pulled.
    const deprecated = await request(app())
      .patch('/v1/registries/public/packs/via-v1/2.0.0')
      .set(AUTH)
      .send({ deprecated: true, message: 'use 3.0.0' });
    expect(deprecated.status, JSON.stringify(deprecated.body)).toBe(200);
    expect((await request(app()).get(`/v2/${REPO}/via-v1/tags/list`).set(AUTH)).body.tags).toEqual(['2.0.0']);
    const still = await getBytes(app(), `/v2/${REPO}/via-v1/manifests/2.0.0`, AUTH);
    expect(still.bytes.equals(first.bytes)).toBe(true);
    expect((await request(app()).get('/v2/_catalog').set(AUTH)).body.repositories).toContain(`${REPO}/via-v1`);
  });

  it('claims each blob of an artifact it makes on read at most once', async () => {
    for (const version of ['1.0.0', '2.0.0'])
      await publishThroughV1(await buildTestPack(work.dir, { name: 'claimed-once', version }));
    // The first pull stores the config `{}` (if no artifact did before).
    expect((await getBytes(app(), `/v2/${REPO}/claimed-once/manifests/1.0.0`, AUTH)).status).toBe(200);
    const put = vi.spyOn(registry.services.store, 'put');
    try {
      expect((await getBytes(app(), `/v2/${REPO}/claimed-once/manifests/2.0.0`, AUTH)).status).toBe(200);
      const claims = put.mock.calls.map(([key]) => key).filter((key) => key.startsWith('blob-uses/'));
      // The config, there from before, is claimed once; the new layer, made by its write, on fs
      // and Ceph is not claimed at all (s3rver cannot tell: claimed, once).
      expect(claims).toContain(blobUseKey(digestOf(CONFIG)));
      expect(new Set(claims).size).toBe(claims.length);
    } finally {
      put.mockRestore();
    }
  });

  it("serves a version with build metadata under its OCI tag (the build's + as _), and publishes one pushed so", async () => {
    await publishThroughV1(await buildTestPack(work.dir, { name: 'with-build', version: '1.0.0+build.5' }));
    const tags = await request(app()).get(`/v2/${REPO}/with-build/tags/list`).set(AUTH);
    expect(tags.body.tags).toEqual(['1.0.0_build.5']);
    const pulled = await getBytes(app(), `/v2/${REPO}/with-build/manifests/1.0.0_build.5`, AUTH);
    expect(pulled.status).toBe(200);
    const after = await request(app()).get(`/v2/${REPO}/with-build/tags/list?last=1.0.0_build.5`).set(AUTH);
    expect(after.status).toBe(200);
    expect(after.body.tags).toEqual([]);
    // Pushed under the tag, it is the version pack.json names.
    const pack = await buildTestPack(work.dir, { name: 'with-build', version: '2.0.0+b1' });
    const pushed = await orasPush('with-build', '2.0.0_b1', pack.bytes);
    expect(pushed.status, JSON.stringify(pushed.body)).toBe(201);
    const version = await request(app()).get('/v1/registries/public/packs/with-build/2.0.0%2Bb1').set(AUTH);
    expect(version.status).toBe(200);
    expect(version.body.version).toBe('2.0.0+b1');
    expect((await request(app()).get(`/v2/${REPO}/with-build/tags/list`).set(AUTH)).body.tags).toEqual([
      '1.0.0_build.5',
      '2.0.0_b1',
    ]);
    // The tag and pack.json must still agree.
    const other = await buildTestPack(work.dir, { name: 'with-build', version: '3.0.0+b1' });
    expect((await orasPush('with-build', '3.0.0_b2', other.bytes)).status).toBe(400);
  });

  it('withdraws the layer of a deleted version from every replica, mounts included, keeping live ones', async () => {
    const publish = async (version: string) => {
      await publishThroughV1(await buildTestPack(work.dir, { name: 'yanked', version }));
      // Pulled through OCI on the first replica only: the other learns its manifests from storage.
      const manifest = await getBytes(app(), `/v2/${REPO}/yanked/manifests/${version}`, AUTH);
      expect(manifest.status).toBe(200);
      const { layers } = JSON.parse(manifest.bytes.toString()) as { layers: Array<{ digest: string }> };
      return `/v2/${REPO}/yanked/blobs/${layers[0]?.digest ?? ''}`;
    };
    const kept = await publish('1.0.0');
    const yanked = await publish('1.1.0');
    // Read on both replicas before the delete: what each knows must not outlive it.
    for (const app of [registry.app, replica.app]) expect((await getBytes(app, yanked, AUTH)).status).toBe(200);
    const deleted = await request(app()).delete('/v1/registries/public/packs/yanked/1.1.0?message=leaked').set(AUTH);
    expect(deleted.status, JSON.stringify(deleted.body)).toBeLessThan(300);
    await replica.services.catalog.poll();
    for (const app of [registry.app, replica.app]) {
      const blob = await request(app).get(yanked).set(AUTH);
      expect(blob.status).toBe(404);
      expect(blob.body.errors[0]).toMatchObject({ code: 'BLOB_UNKNOWN' });
      expect((await request(app).head(yanked).set(AUTH)).status).toBe(404);
      expect((await getBytes(app, kept, AUTH)).status).toBe(200);
    }
    // Nor mounted into another repository, where it could be read.
    const digest = yanked.split('/').at(-1) ?? '';
    const mount = await request(app())
      .post(`/v2/public/elsewhere/blobs/uploads/?mount=${digest}&from=${REPO}/yanked`)
      .set(AUTH);
    expect(mount.status).toBe(202);
    expect((await request(app()).get(`/v2/public/elsewhere/blobs/${digest}`).set(AUTH)).status).toBe(404);
    // Nor mounted automatically (no `from`), into a generic repository or another pack's.
    for (const target of ['public/elsewhere', `${REPO}/other`]) {
      const automatic = await request(app()).post(`/v2/${target}/blobs/uploads/?mount=${digest}`).set(AUTH);
      expect(automatic.status, target).toBe(202);
      expect((await request(app()).head(`/v2/${target}/blobs/${digest}`).set(AUTH)).status, target).toBe(404);
    }
  });

  it('withdraws the manifests and layers of an archive a forced overwrite replaced, on every replica', async () => {
    const created = await request(app())
      .post('/v1/registries')
      .set(AUTH)
      .send({ name: 'remade', scope: 'system', allowOverwrite: true });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const repository = 'remade/spectro-packs/archive/remade';
    const pack = (version: string, readme: string) => buildTestPack(work.dir, { name: 'remade', version, readme });
    const overwrite = async (version: string) => {
      const forced = await request(app())
        .post('/v1/registries/remade/packs?force=true&message=leaked%20a%20key')
        .set(AUTH)
        .set('Content-Type', 'application/zip')
        .send((await pack(version, '# Remade, again\n')).bytes);
      expect(forced.status, JSON.stringify(forced.body)).toBe(200);
      expect(forced.body.outcome).toBe('overwritten');
      return forced.body.digest as string;
    };
    const layerOf = (manifest: Buffer) =>
      (JSON.parse(manifest.toString()) as { layers: Array<{ digest: string }> }).layers[0]?.digest ?? '';
    // 1.0.0 pushed through OCI; 2.0.0 published through /v1 and pulled through OCI (its artifact made).
    const first = await pack('1.0.0', '# Remade\n');
    const pushed = await orasPush(repository, '1.0.0', first.bytes);
    expect(pushed.status, JSON.stringify(pushed.body)).toBe(201);
    const published = await request(app())
      .post('/v1/registries/remade/packs')
      .set(AUTH)
      .set('Content-Type', 'application/zip')
      .send((await pack('2.0.0', '# Remade\n')).bytes);
    expect(published.status, JSON.stringify(published.body)).toBe(201);
    const made = await getBytes(app(), `/v2/${repository}/manifests/2.0.0`, AUTH);
    expect(made.status).toBe(200);
    const old = [
      { manifest: pushed.headers['docker-content-digest'] ?? '', layer: digestOf(first.bytes) },
      { manifest: digestOf(made.bytes), layer: layerOf(made.bytes) },
    ];
    // Read on both replicas before the overwrites: what each knows must not outlive them.
    for (const app of [registry.app, replica.app]) {
      for (const { manifest, layer } of old) {
        expect((await getBytes(app, `/v2/${repository}/manifests/${manifest}`, AUTH)).status).toBe(200);
        expect((await getBytes(app, `/v2/${repository}/blobs/${layer}`, AUTH)).status).toBe(200);
      }
    }
    const now = [await overwrite('1.0.0'), await overwrite('2.0.0')];
    // The replica's index may not know of the overwrites yet: the new content is pulled all the same.
    for (const app of [replica.app, registry.app]) {
      for (const [i, version] of ['1.0.0', '2.0.0'].entries()) {
        const current = await getBytes(app, `/v2/${repository}/manifests/${version}`, AUTH);
        expect(current.status).toBe(200);
        const annotations = (JSON.parse(current.bytes.toString()) as { annotations: Record<string, string> })
          .annotations;
        expect(annotations['dev.packyard.pack.digest']).toBe(now[i]);
        expect((await getBytes(app, `/v2/${repository}/blobs/${layerOf(current.bytes)}`, AUTH)).status).toBe(200);
      }
    }
    await replica.services.catalog.poll();
    for (const app of [registry.app, replica.app]) {
      for (const { manifest, layer } of old) {
        const gone = await request(app).get(`/v2/${repository}/manifests/${manifest}`).set(AUTH);
        expect(gone.status).toBe(404);
        expect(gone.body.errors[0].code).toBe('MANIFEST_UNKNOWN');
        const blob = await request(app).get(`/v2/${repository}/blobs/${layer}`).set(AUTH);
        expect(blob.status).toBe(404);
        expect(blob.body.errors[0].code).toBe('BLOB_UNKNOWN');
        expect((await request(app).head(`/v2/${repository}/blobs/${layer}`).set(AUTH)).status).toBe(404);
      }
    }
    // Nor mounted into a generic repository, where it could be read.
    const mount = await request(app())
      .post(`/v2/remade/elsewhere/blobs/uploads/?mount=${old[0]?.layer ?? ''}&from=${repository}`)
      .set(AUTH);
    expect(mount.status).toBe(202);
    expect(
      (
        await request(app())
          .head(`/v2/remade/elsewhere/blobs/${old[0]?.layer ?? ''}`)
          .set(AUTH)
      ).status,
    ).toBe(404);
  });

  it("answers a digest the repository never held 404 without listing the repository's manifests", async () => {
    await publishThroughV1(await buildTestPack(work.dir, { name: 'probed', version: '1.0.0' }));
    expect((await request(app()).get(`/v2/${REPO}/probed/manifests/1.0.0`).set(AUTH)).status).toBe(200);
    const { store } = registry.services;
    const list = store.list.bind(store);
    const listed: string[] = [];
    store.list = (prefix, options) => {
      // The catalog's and identity's polls list their own prefixes meanwhile.
      if (prefix.startsWith('oci/')) listed.push(prefix);
      return list(prefix, options);
    };
    try {
      for (let i = 0; i < 5; i++) {
        const madeUp = `sha256:${randomBytes(32).toString('hex')}`;
        expect((await request(app()).head(`/v2/${REPO}/probed/blobs/${madeUp}`).set(AUTH)).status).toBe(404);
        expect((await request(app()).get(`/v2/${REPO}/probed/blobs/${madeUp}`).set(AUTH)).status).toBe(404);
      }
      expect(listed).toEqual([]);
    } finally {
      store.list = list;
    }
  });

  it('publishes a zip layer (the archive `packctl build` writes) as it is', async () => {
    const pack = await buildTestPack(work.dir, { name: 'zipped', version: '1.2.3' });
    const manifest = oras10Manifest(pack.bytes, 'zipped-1.2.3.zip', 'application/zip');
    const pushed = await orasPush('zipped', '1.2.3', pack.bytes, manifest);
    expect(pushed.status, JSON.stringify(pushed.body)).toBe(201);
    const version = await request(app()).get('/v1/registries/public/packs/zipped/1.2.3').set(AUTH);
    expect(version.body.digest).toBe(pack.digest);
  });

  it('refuses a pack whose name or version is not the repository and the tag, with nothing stored', async () => {
    const layer = path.join(work.dir, 'calico-again.tar.gz');
    execFileSync('tar', ['-czf', layer, '-C', SAMPLES, 'cni-calico']);
    const bytes = await readFile(layer);
    const renamed = await orasPush('not-calico', '3.27.2', bytes);
    expect(renamed.status).toBe(400);
    expect(renamed.body.errors[0]).toMatchObject({
      code: 'MANIFEST_INVALID',
      detail: { mismatch: [{ field: 'name', packJson: 'cni-calico', oci: 'not-calico' }] },
    });
    await nothingOf('not-calico', '3.27.2');
    const retagged = await orasPush('cni-calico', '9.9.9', bytes);
    expect(retagged.status).toBe(400);
    expect(retagged.body.errors[0].detail.mismatch).toEqual([{ field: 'version', packJson: '3.27.2', oci: '9.9.9' }]);
    await nothingOf('cni-calico', '9.9.9');
  });

  it('refuses an invalid pack.json with the lint findings in detail', async () => {
    const broken = path.join(work.dir, 'broken');
    await mkdir(path.join(broken, 'bad-pack'), { recursive: true });
    await writeFile(path.join(broken, 'bad-pack', 'pack.json'), JSON.stringify({ name: 'bad-pack', version: '1.0.0' }));
    const layer = path.join(work.dir, 'bad-pack.tar.gz');
    execFileSync('tar', ['-czf', layer, '-C', broken, 'bad-pack']);
    const res = await orasPush('bad-pack', '1.0.0', await readFile(layer));
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({ code: 'MANIFEST_INVALID', detail: { code: 'PACK_INVALID' } });
    expect(res.body.errors[0].detail.details.findings.length).toBeGreaterThan(0);
    await nothingOf('bad-pack', '1.0.0');
  });

  it.each([
    [
      'a ".." path',
      [
        { name: 'evil/pack.json', data: '{}' },
        { name: 'evil/../../escape', data: 'x' },
      ],
      'ARCHIVE_UNSAFE_PATH',
    ],
    [
      'a symlink out',
      [
        { name: 'evil/pack.json', data: '{}' },
        { name: 'evil/out', type: 'symlink' as const, linkname: '/etc/passwd' },
      ],
      'ARCHIVE_SPECIAL_ENTRY',
    ],
    [
      'a device file',
      [
        { name: 'evil/pack.json', data: '{}' },
        { name: 'evil/null', type: 'character-device' as const },
      ],
      'ARCHIVE_SPECIAL_ENTRY',
    ],
  ])('refuses a layer with %s, storing nothing', async (_what, entries, code) => {
    const res = await orasPush('evil', '1.0.0', await tarGz(entries));
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({ code: 'MANIFEST_INVALID', detail: { code } });
    await nothingOf('evil', '1.0.0');
  });

  it('refuses a tar layer holding files the pack leaves out, which OCI clients would be served unchecked', async () => {
    const { version } = JSON.parse(await readFile(path.join(SAMPLES, 'lb-metallb', 'pack.json'), 'utf8')) as {
      version: string;
    };
    // MetalLB's sample, named left-out.
    const layerWith = async (label: string, files: Record<string, string>) => {
      const dir = path.join(work.dir, `left-out-${label}`, 'left-out');
      await cp(path.join(SAMPLES, 'lb-metallb'), dir, { recursive: true });
      const packJson = JSON.parse(await readFile(path.join(dir, 'pack.json'), 'utf8')) as Record<string, unknown>;
      await writeFile(path.join(dir, 'pack.json'), JSON.stringify({ ...packJson, name: 'left-out' }));
      for (const [file, data] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
        await writeFile(path.join(dir, file), data);
      }
      const layer = path.join(work.dir, `left-out-${label}.tar.gz`);
      execFileSync('tar', ['-czf', layer, '-C', path.dirname(dir), 'left-out']);
      return readFile(layer);
    };
    const key = '{"server":"http://127.0.0.1:5080","token":"pky_secret"}';
    const cases: Record<string, Record<string, string>> = {
      git: { '.git/config': '[remote "origin"]\n' },
      modules: { 'node_modules/cfg/config.json': key },
      packctl: { '.packctl/config.json': key },
      packignored: { '.packignore': 'extra/\n', 'extra/config.json': key },
    };
    for (const [label, files] of Object.entries(cases)) {
      const res = await orasPush('left-out', version, await layerWith(label, files));
      expect(res.status, label).toBe(400);
      expect(res.body.errors[0], label).toMatchObject({
        code: 'MANIFEST_INVALID',
        detail: { code: 'LAYER_FILES_LEFT_OUT' },
      });
      expect(res.body.errors[0].detail.message, label).toContain(Object.keys(files).at(-1)?.split('/')[0]);
      await nothingOf('left-out', version);
    }
    // Finder's metadata and the .packignore itself are served as pushed, harmlessly.
    const finder = await layerWith('finder', {
      '.DS_Store': 'Bud1',
      'charts/.DS_Store': 'Bud1',
      '.packignore': '*.bak\n',
    });
    const published = await orasPush('left-out', version, finder);
    expect(published.status, JSON.stringify(published.body)).toBe(201);
    const pulled = await getBytes(app(), `/v2/${REPO}/left-out/blobs/${digestOf(finder)}`, AUTH);
    expect(pulled.bytes.equals(finder)).toBe(true);
  });

  it('stops a gzip bomb layer, storing nothing', async () => {
    const bomb = await tarGz([
      { name: 'bomb/pack.json', data: '{}' },
      { name: 'bomb/zeros', data: '\0'.repeat(64 * 1024 * 1024) },
    ]);
    const res = await orasPush('bomb', '1.0.0', bomb);
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({ code: 'MANIFEST_INVALID', detail: { code: 'ARCHIVE_TOTAL_RATIO' } });
    await nothingOf('bomb', '1.0.0');
  });

  it('keeps what refers to a pack beside it (a cosign tag, a referrer), lists, pulls and deletes it, never a pack', async () => {
    await publishThroughV1(await buildTestPack(work.dir, { name: 'signed', version: '1.0.0' }));
    const repository = `${REPO}/signed`;
    const pack = await getBytes(app(), `/v2/${repository}/manifests/1.0.0`, AUTH);
    const subject = { mediaType: OCI_MANIFEST, digest: digestOf(pack.bytes), size: pack.bytes.length };
    const put = (reference: string, body: Buffer) =>
      request(app())
        .put(`/v2/${repository}/manifests/${reference}`)
        .set(AUTH)
        .set('Content-Type', OCI_MANIFEST)
        .send(body.toString());
    const artifact = async (layerType: string, payload: string, extra: object = {}) => {
      const layer = Buffer.from(payload);
      await pushBlob(repository, CONFIG);
      await pushBlob(repository, layer);
      return Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(CONFIG), size: 2 },
          layers: [{ mediaType: layerType, digest: digestOf(layer), size: layer.length }],
          ...extra,
        }),
      );
    };
    // cosign's tag scheme: the signature under sha256-<hex>.sig.
    const sigTag = `${subject.digest.replace(':', '-')}.sig`;
    const signature = await artifact('application/vnd.dev.cosign.simplesigning.v1+json', '{"critical":{}}');
    expect((await put(sigTag, signature)).status).toBe(201);
    expect((await getBytes(app(), `/v2/${repository}/manifests/${sigTag}`, AUTH)).bytes.equals(signature)).toBe(true);
    const tags = async (query = '') =>
      (await request(app()).get(`/v2/${repository}/tags/list${query}`).set(AUTH)).body.tags as string[];
    expect(await tags()).toEqual(['1.0.0', sigTag]);
    expect(await tags('?n=1')).toEqual(['1.0.0']);
    expect(await tags('?n=1&last=1.0.0')).toEqual([sigTag]);
    // notation's (OCI 1.1): by digest, with the pack's manifest as its subject.
    const notation = await artifact('application/jose+json', '{"payload":""}', {
      artifactType: 'application/vnd.cncf.notary.signature',
      subject,
    });
    const referred = await put(digestOf(notation), notation);
    expect(referred.status, JSON.stringify(referred.body)).toBe(201);
    expect(referred.headers['oci-subject']).toBe(subject.digest);
    const referrers = await request(app()).get(`/v2/${repository}/referrers/${subject.digest}`).set(AUTH);
    expect(referrers.body.manifests.map((m: { digest: string }) => m.digest)).toEqual([digestOf(notation)]);
    // Never a pack under another tag, nor by digest without a subject: only a version's tag publishes.
    const sneaked = await orasPush(repository, 'latest', await tarGz([{ name: 'signed/pack.json', data: '{}' }]));
    expect(sneaked.status).toBe(400);
    expect(sneaked.body.errors[0].message).toContain('the tag latest is not a version');
    expect(await tags()).toEqual(['1.0.0', sigTag]);
    // Deleted through OCI; the version is not.
    expect((await request(app()).delete(`/v2/${repository}/manifests/${sigTag}`).set(AUTH)).status).toBe(202);
    expect(
      (
        await request(app())
          .delete(`/v2/${repository}/manifests/${digestOf(notation)}`)
          .set(AUTH)
      ).status,
    ).toBe(202);
    expect(await tags()).toEqual(['1.0.0']);
    for (const reference of ['1.0.0', subject.digest]) {
      const refused = await request(app()).delete(`/v2/${repository}/manifests/${reference}`).set(AUTH);
      expect(refused.status, reference).toBe(405);
      expect(refused.headers['allow']).toBe('GET, HEAD, PUT');
    }
    expect((await getBytes(app(), `/v2/${repository}/manifests/1.0.0`, AUTH)).bytes.equals(pack.bytes)).toBe(true);
  });

  it('refuses a manifest that is not one pack layer, and a push by digest', async () => {
    const layer = await tarGz([{ name: 'x/pack.json', data: '{}' }]);
    const two = JSON.parse(oras10Manifest(layer, 'x.tar.gz').toString()) as { layers: unknown[] };
    two.layers.push(two.layers[0]);
    const res = await orasPush('x', '1.0.0', layer, Buffer.from(JSON.stringify(two)));
    expect(res.status).toBe(400);
    expect(res.body.errors[0].code).toBe('MANIFEST_INVALID');
    const manifest = oras10Manifest(layer, 'x.tar.gz');
    const byDigest = await request(app())
      .put(`/v2/${REPO}/x/manifests/${digestOf(manifest)}`)
      .set(AUTH)
      .set('Content-Type', OCI_MANIFEST)
      .send(manifest.toString());
    expect(byDigest.status).toBe(400);
    expect(byDigest.body.errors[0].code).toBe('MANIFEST_INVALID');
  });
});
