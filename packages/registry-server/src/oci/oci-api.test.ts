/**
 * The OCI distribution API on /v2 over a real store (each driver): blobs with Range, monolithic
 * and chunked uploads, sha512, mounts, manifests and indexes, tags, referrers, paging, deletes,
 * namespaces onto tenant registries with their access rules, and hostile input (always a 4xx in
 * the OCI envelope, with nothing stored). Every JSON answer is checked against the contract.
 */
import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobKey } from '../storage/layout.js';
import {
  AUTH,
  DRIVERS,
  startTestRegistry,
  storageFile,
  tempDir,
  type TestRegistry,
} from '../test-support/test-registry.js';

const PASSWORD = 'oci api test password';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const EMPTY_CONFIG = 'application/vnd.oci.empty.v1+json';

/** Bodies with a +json type go as text: superagent would serialise a Buffer as JSON. */
const text = (body: Buffer | string) => body.toString();

const digestOf = (bytes: Buffer | string, algorithm: 'sha256' | 'sha512' = 'sha256') =>
  `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  /** Where a foreign layer lives instead. */
  urls?: string[];
}

function descriptor(mediaType: string, bytes: Buffer): Descriptor {
  return { mediaType, digest: digestOf(bytes), size: bytes.length };
}

function imageManifest(config: Descriptor, layers: Descriptor[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers, ...extra }));
}

describe.each(DRIVERS)('the OCI distribution API (%s)', (driver) => {
  let registry: TestRegistry;
  const tokens: Record<string, string> = {};
  const app = () => registry.app;
  const as = (who: string) => ({ Authorization: `Bearer ${tokens[who] ?? ''}` });

  async function login(username: string): Promise<string> {
    const res = await request(app()).post('/v1/auth/login').send({ username, password: PASSWORD });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.token as string;
  }

  async function seedTenant(tenant: string, users: Record<string, string>) {
    expect((await request(app()).post('/v1/tenants').set(AUTH).send({ name: tenant })).status).toBe(201);
    for (const [username, role] of Object.entries(users)) {
      const created = await request(app())
        .post(`/v1/tenants/${tenant}/users`)
        .set(AUTH)
        .send({ username, password: PASSWORD });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const bound = await request(app())
        .post(`/v1/tenants/${tenant}/bindings`)
        .set(AUTH)
        .send({ role, subject: { kind: 'user', name: username } });
      expect(bound.status, JSON.stringify(bound.body)).toBe(201);
      tokens[username] = await login(username);
    }
  }

  /** Pushes a blob in one request (`POST ?digest=`). */
  async function pushBlob(name: string, bytes: Buffer, headers: Record<string, string> = AUTH) {
    const digest = digestOf(bytes);
    const res = await request(app())
      .post(`/v2/${name}/blobs/uploads/?digest=${digest}`)
      .set(headers)
      .set('Content-Type', 'application/octet-stream')
      .send(bytes);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return digest;
  }

  /** Pushes a config and layers, then the manifest under `reference`. */
  async function pushImage(name: string, reference: string, extra: Record<string, unknown> = {}) {
    const config = Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', n: randomBytes(4).toString('hex') }),
    );
    const layer = randomBytes(2048);
    await pushBlob(name, config);
    await pushBlob(name, layer);
    const body = imageManifest(
      descriptor('application/vnd.oci.image.config.v1+json', config),
      [descriptor('application/vnd.oci.image.layer.v1.tar', layer)],
      extra,
    );
    const res = await request(app())
      .put(`/v2/${name}/manifests/${reference}`)
      .set(AUTH)
      .set('Content-Type', OCI_MANIFEST)
      .send(text(body));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { body, digest: digestOf(body), config, layer, response: res };
  }

  async function stored(digest: string): Promise<boolean> {
    return (await registry.services.store.head(blobKey(digest))) !== null;
  }

  beforeAll(async () => {
    registry = await startTestRegistry(driver, { config: { oci: { maxManifestBytes: 64 * 1024 } } });
    await seedTenant('acme', { alice: 'Tenant Admin', vera: 'Tenant Viewer' });
    await seedTenant('beta', { carol: 'Tenant Admin' });
    const created = await request(app())
      .post('/v1/registries')
      .set(AUTH)
      .send({ name: 'acme-reg', scope: 'tenant', tenant: 'acme' });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await registry.close();
  });

  it('answers the version check with the API version header, and challenges anonymous callers', async () => {
    const ok = await request(app()).get('/v2/').set(AUTH);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({});
    expect(ok.headers['docker-distribution-api-version']).toBe('registry/2.0');
    const anonymous = await request(app()).get('/v2/');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer realm="http:\/\/[^"]+\/v2\/token"/);
    expect(anonymous.body.errors[0].code).toBe('UNAUTHORIZED');
  });

  it('pushes a blob in one request and serves it with HEAD, GET and Range (206, 416)', async () => {
    const bytes = randomBytes(10_000);
    const digest = await pushBlob('public/blobs/one', bytes);
    const head = await request(app()).head(`/v2/public/blobs/one/blobs/${digest}`).set(AUTH);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('10000');
    expect(head.headers['docker-content-digest']).toBe(digest);
    const whole = await request(app()).get(`/v2/public/blobs/one/blobs/${digest}`).set(AUTH).buffer(true);
    expect(whole.status).toBe(200);
    expect(Buffer.compare(whole.body as Buffer, bytes)).toBe(0);
    const part = await request(app())
      .get(`/v2/public/blobs/one/blobs/${digest}`)
      .set(AUTH)
      .set('Range', 'bytes=100-199')
      .buffer(true);
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe('bytes 100-199/10000');
    expect(Buffer.compare(part.body as Buffer, bytes.subarray(100, 200))).toBe(0);
    const outside = await request(app())
      .get(`/v2/public/blobs/one/blobs/${digest}`)
      .set(AUTH)
      .set('Range', 'bytes=10000-');
    expect(outside.status).toBe(416);
    expect(outside.headers['content-range']).toBe('bytes */10000');
    expect(outside.body.errors[0].code).toBe('RANGE_INVALID');
    // What RFC 9110 says to ignore (another unit) or lets a server ignore (several ranges, an
    // invalid one): the whole blob, 200.
    for (const ignored of ['items=0-9', 'bytes=0-9,20-29', 'bytes=9-0']) {
      const all = await request(app())
        .get(`/v2/public/blobs/one/blobs/${digest}`)
        .set(AUTH)
        .set('Range', ignored)
        .buffer(true);
      expect(all.status, ignored).toBe(200);
      expect(all.headers['content-range'], ignored).toBeUndefined();
      expect(Buffer.compare(all.body as Buffer, bytes), ignored).toBe(0);
    }
    // A blob is readable only in the repositories it was pushed or mounted into.
    const elsewhere = await request(app()).get(`/v2/public/blobs/other/blobs/${digest}`).set(AUTH);
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.body.errors[0].code).toBe('BLOB_UNKNOWN');
  });

  it('takes a chunked upload: Content-Range checked (416 with the Range), status, final chunk with the PUT', async () => {
    const bytes = randomBytes(3000);
    const digest = digestOf(bytes);
    const started = await request(app()).post('/v2/public/chunked/blobs/uploads/').set(AUTH);
    expect(started.status).toBe(202);
    expect(started.headers['range']).toBe('0-0');
    const location = started.headers['location'] as string;
    expect(location).toMatch(/^\/v2\/public\/chunked\/blobs\/uploads\/[0-9a-f-]{36}$/);
    expect(started.headers['docker-upload-uuid']).toBe(location.split('/').at(-1));

    /** Sends a chunk, with a Content-Range when one is given. */
    const chunk = (range: string | null, part: Buffer) => {
      const sent = request(app()).patch(location).set(AUTH).set('Content-Type', 'application/octet-stream');
      return (range === null ? sent : sent.set('Content-Range', range)).send(part);
    };
    const outOfOrder = await chunk('1000-1999', bytes.subarray(1000, 2000));
    expect(outOfOrder.status).toBe(416);
    expect(outOfOrder.headers['range']).toBe('0-0');
    expect(outOfOrder.body.errors[0].code).toBe('RANGE_INVALID');

    const first = await chunk('0-999', bytes.subarray(0, 1000));
    expect(first.status).toBe(202);
    expect(first.headers['range']).toBe('0-999');
    const second = await chunk(null, bytes.subarray(1000, 2000));
    expect(second.headers['range']).toBe('0-1999');
    const status = await request(app()).get(location).set(AUTH);
    expect(status.status).toBe(204);
    expect(status.headers['range']).toBe('0-1999');
    const badRange = await chunk('bytes=two-three', bytes.subarray(2000));
    expect(badRange.status).toBe(416);
    expect(badRange.headers['range']).toBe('0-1999');

    const done = await request(app())
      .put(`${location}?digest=${digest}`)
      .set(AUTH)
      .set('Content-Range', '2000-2999')
      .set('Content-Type', 'application/octet-stream')
      .send(bytes.subarray(2000));
    expect(done.status, JSON.stringify(done.body)).toBe(201);
    expect(done.headers['location']).toBe(`/v2/public/chunked/blobs/${digest}`);
    expect(done.headers['docker-content-digest']).toBe(digest);
    const back = await request(app()).get(`/v2/public/chunked/blobs/${digest}`).set(AUTH).buffer(true);
    expect(Buffer.compare(back.body as Buffer, bytes)).toBe(0);
    // The session is over.
    expect((await request(app()).get(location).set(AUTH)).body.errors[0].code).toBe('BLOB_UPLOAD_UNKNOWN');
  });

  it('stores nothing when the digest does not match, and cancels sessions with DELETE', async () => {
    const bytes = randomBytes(500);
    const wrong = digestOf(Buffer.from('other content'));
    const monolithic = await request(app())
      .post(`/v2/public/wrong/blobs/uploads/?digest=${wrong}`)
      .set(AUTH)
      .set('Content-Type', 'application/octet-stream')
      .send(bytes);
    expect(monolithic.status).toBe(400);
    expect(monolithic.body.errors[0].code).toBe('DIGEST_INVALID');
    expect(await stored(wrong)).toBe(false);
    expect(await stored(digestOf(bytes))).toBe(false);

    const started = await request(app()).post('/v2/public/wrong/blobs/uploads/').set(AUTH);
    const location = started.headers['location'] as string;
    const put = await request(app())
      .put(`${location}?digest=${wrong}`)
      .set(AUTH)
      .set('Content-Type', 'application/octet-stream')
      .send(bytes);
    expect(put.body.errors[0].code).toBe('DIGEST_INVALID');
    expect(await stored(digestOf(bytes))).toBe(false);

    const other = await request(app()).post('/v2/public/wrong/blobs/uploads/').set(AUTH);
    const cancelled = await request(app())
      .delete(other.headers['location'] as string)
      .set(AUTH);
    expect(cancelled.status).toBe(204);
    const after = await request(app())
      .patch(other.headers['location'] as string)
      .set(AUTH)
      .send(bytes);
    expect(after.status).toBe(404);
    expect(after.body.errors[0].code).toBe('BLOB_UPLOAD_UNKNOWN');
    expect(registry.services.oci.uploads.count).toBe(0);
  });

  it('takes sha512 blobs (POST then PUT with the body) and refuses other algorithms', async () => {
    const bytes = randomBytes(700);
    const digest = digestOf(bytes, 'sha512');
    const started = await request(app()).post('/v2/public/sha512/blobs/uploads/').set(AUTH);
    const put = await request(app())
      .put(`${started.headers['location'] as string}?digest=${digest}`)
      .set(AUTH)
      .set('Content-Type', 'application/octet-stream')
      .send(bytes);
    expect(put.status, JSON.stringify(put.body)).toBe(201);
    expect(await registry.services.store.head(blobKey(digest))).not.toBeNull();
    const back = await request(app()).get(`/v2/public/sha512/blobs/${digest}`).set(AUTH).buffer(true);
    expect(back.headers['docker-content-digest']).toBe(digest);
    expect(Buffer.compare(back.body as Buffer, bytes)).toBe(0);

    const md5 = await request(app())
      .get(`/v2/public/sha512/blobs/md5:${'a'.repeat(32)}`)
      .set(AUTH);
    expect(md5.status).toBe(400);
    expect(md5.body.errors[0].code).toBe('DIGEST_INVALID');
    const short = await request(app()).head(`/v2/public/sha512/blobs/sha256:abc`).set(AUTH);
    expect(short.status).toBe(400);
  });

  it('mounts a blob from a repository the caller can read; from a hidden one it starts a session instead', async () => {
    const bytes = randomBytes(300);
    const digest = await pushBlob('public/mount-source', bytes);
    const mounted = await request(app())
      .post(`/v2/public/mount-target/blobs/uploads/?mount=${digest}&from=public/mount-source`)
      .set(AUTH);
    expect(mounted.status).toBe(201);
    expect(mounted.headers['location']).toBe(`/v2/public/mount-target/blobs/${digest}`);
    expect((await request(app()).head(`/v2/public/mount-target/blobs/${digest}`).set(AUTH)).status).toBe(200);

    // acme's private blob: beta's admin cannot mount it into beta's namespace... nor see it.
    const secret = randomBytes(200);
    const secretDigest = await pushBlob('acme/acme-reg/secret', secret, as('alice'));
    const betaRegistry = await request(app())
      .post('/v1/registries')
      .set(AUTH)
      .send({ name: 'beta-reg', scope: 'tenant', tenant: 'beta' });
    expect(betaRegistry.status).toBe(201);
    const refused = await request(app())
      .post(`/v2/beta/beta-reg/stolen/blobs/uploads/?mount=${secretDigest}&from=acme/acme-reg/secret`)
      .set(as('carol'));
    expect(refused.status).toBe(202);
    expect(refused.headers['location']).toMatch(/^\/v2\/beta\/beta-reg\/stolen\/blobs\/uploads\//);
    expect((await request(app()).head(`/v2/beta/beta-reg/stolen/blobs/${secretDigest}`).set(as('carol'))).status).toBe(
      404,
    );
    // Automatic mount (no `from`) stays inside the registry: acme's blob never reaches beta.
    const automatic = await request(app())
      .post(`/v2/beta/beta-reg/stolen/blobs/uploads/?mount=${secretDigest}`)
      .set(as('carol'));
    expect(automatic.status).toBe(202);
    const sameRegistry = await request(app())
      .post(`/v2/acme/acme-reg/copy/blobs/uploads/?mount=${secretDigest}`)
      .set(as('alice'));
    expect(sameRegistry.status).toBe(201);
  });

  it('pushes and pulls manifests by tag and digest, refusing missing blobs, wrong digests and types', async () => {
    const image = await pushImage('public/app', 'v1');
    expect(image.response.headers['location']).toBe(`/v2/public/app/manifests/${image.digest}`);
    expect(image.response.headers['docker-content-digest']).toBe(image.digest);
    for (const reference of ['v1', image.digest]) {
      const got = await request(app()).get(`/v2/public/app/manifests/${reference}`).set(AUTH).buffer(true);
      expect(got.status).toBe(200);
      expect(got.headers['content-type']).toBe(OCI_MANIFEST);
      expect(got.headers['docker-content-digest']).toBe(image.digest);
      expect(got.text).toBe(image.body.toString());
    }
    const head = await request(app()).head('/v2/public/app/manifests/v1').set(AUTH);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(image.body.length));

    const missing = imageManifest(descriptor('application/vnd.oci.image.config.v1+json', image.config), [
      descriptor('application/vnd.oci.image.layer.v1.tar', randomBytes(10)),
    ]);
    const unknown = await request(app())
      .put('/v2/public/app/manifests/v2')
      .set(AUTH)
      .set('Content-Type', OCI_MANIFEST)
      .send(text(missing));
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].code).toBe('MANIFEST_BLOB_UNKNOWN');
    expect(await stored(digestOf(missing))).toBe(false);

    const byWrongDigest = await request(app())
      .put(`/v2/public/app/manifests/${digestOf('something else')}`)
      .set(AUTH)
      .set('Content-Type', OCI_MANIFEST)
      .send(text(image.body));
    expect(byWrongDigest.body.errors[0].code).toBe('DIGEST_INVALID');
    const wrongType = await request(app())
      .put('/v2/public/app/manifests/v3')
      .set(AUTH)
      .set('Content-Type', OCI_INDEX)
      .send(text(image.body));
    expect(wrongType.body.errors[0].code).toBe('MANIFEST_INVALID');
    for (const body of ['not json', '[]', '{"schemaVersion":1}', JSON.stringify({ schemaVersion: 2, config: {} })]) {
      const invalid = await request(app())
        .put('/v2/public/app/manifests/v4')
        .set(AUTH)
        .set('Content-Type', OCI_MANIFEST)
        .send(text(body));
      expect(invalid.status, body).toBe(400);
      expect(invalid.body.errors[0].code).toBe('MANIFEST_INVALID');
    }
    const huge = await request(app())
      .put('/v2/public/app/manifests/v5')
      .set(AUTH)
      .set('Content-Type', OCI_MANIFEST)
      .send(text(Buffer.alloc(65 * 1024, 0x20)));
    expect(huge.status).toBe(413);
    expect(huge.body.errors[0].code).toBe('SIZE_INVALID');
    const tags = await request(app()).get('/v2/public/app/tags/list').set(AUTH);
    expect(tags.body).toEqual({ name: 'public/app', tags: ['v1'] });
  });

  it('takes a manifest with a foreign layer (with URLs), which it neither needs nor looks for in storage', async () => {
    const config = Buffer.from('{"os":"windows"}');
    await pushBlob('public/foreign/app', config);
    const foreign = randomBytes(64);
    const body = imageManifest(descriptor('application/vnd.oci.image.config.v1+json', config), [
      {
        ...descriptor('application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', foreign),
        urls: ['https://example.invalid/layer.tar.gz'],
      },
    ]);
    const res = await request(app())
      .put('/v2/public/foreign/app/manifests/v1')
      .set(AUTH)
      .set('Content-Type', OCI_MANIFEST)
      .send(text(body));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(await stored(digestOf(foreign))).toBe(false);
    expect((await request(app()).get('/v2/public/foreign/app/manifests/v1').set(AUTH)).status).toBe(200);
  });

  it('takes an image index whose children are in the repository, and refuses one whose are not', async () => {
    const child = await pushImage('public/multi', 'amd64');
    const index = (digest: string, size: number) =>
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_INDEX,
          manifests: [{ mediaType: OCI_MANIFEST, digest, size, platform: { architecture: 'amd64', os: 'linux' } }],
        }),
      );
    const good = index(child.digest, child.body.length);
    const ok = await request(app())
      .put('/v2/public/multi/manifests/latest')
      .set(AUTH)
      .set('Content-Type', OCI_INDEX)
      .send(text(good));
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    const got = await request(app()).get('/v2/public/multi/manifests/latest').set(AUTH).buffer(true);
    expect(got.headers['content-type']).toBe(OCI_INDEX);
    const bad = await request(app())
      .put('/v2/public/multi/manifests/broken')
      .set(AUTH)
      .set('Content-Type', OCI_INDEX)
      .send(text(index(digestOf('no such manifest'), 10)));
    expect(bad.body.errors[0].code).toBe('MANIFEST_BLOB_UNKNOWN');
  });

  it('records subjects and lists referrers, filtered by artifactType', async () => {
    const subject = await pushImage('public/signed', 'v1');
    const subjectDescriptor = { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.body.length };
    const empty = Buffer.from('{}');
    await pushBlob('public/signed', empty);
    const emptyConfig = descriptor(EMPTY_CONFIG, empty);
    const referrers: Array<{ type: string; digest: string }> = [];
    for (const type of ['application/vnd.example.sbom', 'application/vnd.example.signature']) {
      const body = imageManifest(emptyConfig, [descriptor(EMPTY_CONFIG, empty)], {
        artifactType: type,
        subject: subjectDescriptor,
        annotations: { 'org.example.kind': type },
      });
      const res = await request(app())
        .put(`/v2/public/signed/manifests/${digestOf(body)}`)
        .set(AUTH)
        .set('Content-Type', OCI_MANIFEST)
        .send(text(body));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.headers['oci-subject']).toBe(subject.digest);
      referrers.push({ type, digest: digestOf(body) });
    }
    const all = await request(app()).get(`/v2/public/signed/referrers/${subject.digest}`).set(AUTH);
    expect(all.status).toBe(200);
    expect(all.headers['content-type']).toMatch(/^application\/vnd\.oci\.image\.index\.v1\+json/);
    const index = JSON.parse(all.text) as { schemaVersion: number; manifests: Array<Record<string, unknown>> };
    expect(index.schemaVersion).toBe(2);
    expect(index.manifests.map((m) => m['digest']).sort()).toEqual(referrers.map((r) => r.digest).sort());
    expect(index.manifests[0]).toMatchObject({ mediaType: OCI_MANIFEST, annotations: expect.any(Object) });
    const filtered = await request(app())
      .get(`/v2/public/signed/referrers/${subject.digest}?artifactType=application/vnd.example.sbom`)
      .set(AUTH);
    expect(filtered.headers['oci-filters-applied']).toBe('artifactType');
    const only = JSON.parse(filtered.text) as { manifests: Array<Record<string, unknown>> };
    expect(only.manifests).toHaveLength(1);
    expect(only.manifests[0]).toMatchObject({
      artifactType: 'application/vnd.example.sbom',
      digest: referrers[0]?.digest,
    });
    // Deleting a referrer takes it out of the list.
    const deleted = await request(app())
      .delete(`/v2/public/signed/manifests/${referrers[0]?.digest ?? ''}`)
      .set(AUTH);
    expect(deleted.status).toBe(202);
    const after = JSON.parse(
      (await request(app()).get(`/v2/public/signed/referrers/${subject.digest}`).set(AUTH)).text,
    ) as {
      manifests: unknown[];
    };
    expect(after.manifests).toHaveLength(1);
  });

  it('pages tags and the catalog with n, last and a Link header', async () => {
    const image = await pushImage('public/paged', 't0');
    for (const tag of ['t1', 't2', 't3', 't4']) {
      const res = await request(app())
        .put(`/v2/public/paged/manifests/${tag}`)
        .set(AUTH)
        .set('Content-Type', OCI_MANIFEST)
        .send(text(image.body));
      expect(res.status).toBe(201);
    }
    const first = await request(app()).get('/v2/public/paged/tags/list?n=2').set(AUTH);
    expect(first.body.tags).toEqual(['t0', 't1']);
    expect(first.headers['link']).toBe('</v2/public/paged/tags/list?n=2&last=t1>; rel="next"');
    const second = await request(app()).get('/v2/public/paged/tags/list?n=2&last=t1').set(AUTH);
    expect(second.body.tags).toEqual(['t2', 't3']);
    const last = await request(app()).get('/v2/public/paged/tags/list?n=2&last=t3').set(AUTH);
    expect(last.body.tags).toEqual(['t4']);
    expect(last.headers['link']).toBeUndefined();
    // A page lists only its own keys from storage (and one more, to know whether others follow).
    const { store } = registry.services;
    const list = store.list.bind(store);
    let listedTags = 0;
    store.list = (prefix, options) => {
      const listing = list(prefix, options);
      if (!prefix.endsWith('/_manifests/tags/')) return listing;
      return (async function* counted() {
        for await (const object of listing) {
          listedTags++;
          yield object;
        }
      })();
    };
    try {
      const one = await request(app()).get('/v2/public/paged/tags/list?n=1&last=t0').set(AUTH);
      expect(one.body.tags).toEqual(['t1']);
      expect(listedTags).toBeLessThanOrEqual(2);
    } finally {
      store.list = list;
    }
    expect((await request(app()).get('/v2/public/paged/tags/list?n=0').set(AUTH)).body.tags).toEqual([]);
    expect((await request(app()).get('/v2/public/paged/tags/list?last=t9').set(AUTH)).body.tags).toEqual([]);
    const badLast = await request(app())
      .get(`/v2/public/paged/tags/list?last=${'x'.repeat(300)}`)
      .set(AUTH);
    expect(badLast.status).toBe(400);

    const catalog = await request(app()).get('/v2/_catalog').set(AUTH);
    const names = catalog.body.repositories as string[];
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['public/app', 'public/paged', 'acme/acme-reg/secret']));
    const page = await request(app()).get('/v2/_catalog?n=1').set(AUTH);
    expect(page.body.repositories).toEqual([names[0]]);
    expect(page.headers['link']).toBe(`</v2/_catalog?n=1&last=${encodeURIComponent(names[0] ?? '')}>; rel="next"`);
    // Tenants see their own registries and the public one, never another tenant's.
    const carol = (await request(app()).get('/v2/_catalog').set(as('carol'))).body.repositories as string[];
    expect(carol).toContain('public/app');
    expect(carol.some((name) => name.startsWith('acme/'))).toBe(false);
  });

  it('deletes a tag alone by tag, a manifest by digest, and blobs', async () => {
    const image = await pushImage('public/deletes', 'keep');
    await request(app())
      .put('/v2/public/deletes/manifests/drop')
      .set(AUTH)
      .set('Content-Type', OCI_MANIFEST)
      .send(text(image.body));
    const byTag = await request(app()).delete('/v2/public/deletes/manifests/drop').set(AUTH);
    expect(byTag.status).toBe(202);
    expect((await request(app()).get('/v2/public/deletes/manifests/drop').set(AUTH)).status).toBe(404);
    expect((await request(app()).get(`/v2/public/deletes/manifests/${image.digest}`).set(AUTH)).status).toBe(200);
    expect((await request(app()).get('/v2/public/deletes/tags/list').set(AUTH)).body.tags).toEqual(['keep']);

    const byDigest = await request(app()).delete(`/v2/public/deletes/manifests/${image.digest}`).set(AUTH);
    expect(byDigest.status).toBe(202);
    const gone = await request(app()).get(`/v2/public/deletes/manifests/${image.digest}`).set(AUTH);
    expect(gone.status).toBe(404);
    expect(gone.body.errors[0].code).toBe('MANIFEST_UNKNOWN');
    expect((await request(app()).get('/v2/public/deletes/tags/list').set(AUTH)).body.tags).toEqual([]);
    expect((await request(app()).delete(`/v2/public/deletes/manifests/${image.digest}`).set(AUTH)).status).toBe(404);

    const layer = digestOf(image.layer);
    expect((await request(app()).delete(`/v2/public/deletes/blobs/${layer}`).set(AUTH)).status).toBe(202);
    expect((await request(app()).head(`/v2/public/deletes/blobs/${layer}`).set(AUTH)).status).toBe(404);
    expect((await request(app()).delete(`/v2/public/deletes/blobs/${layer}`).set(AUTH)).status).toBe(404);
  });

  it('answers one of several concurrent deletes of a tag, a manifest or a blob 202, the others 404', async () => {
    const image = await pushImage('public/racing', 'v1');
    const statuses = async (url: string) =>
      (await Promise.all(Array.from({ length: 4 }, () => request(app()).delete(url).set(AUTH))))
        .map((res) => res.status)
        .sort();
    expect(await statuses('/v2/public/racing/manifests/v1')).toEqual([202, 404, 404, 404]);
    expect(await statuses(`/v2/public/racing/manifests/${image.digest}`)).toEqual([202, 404, 404, 404]);
    expect(await statuses(`/v2/public/racing/blobs/${digestOf(image.layer)}`)).toEqual([202, 404, 404, 404]);
  });

  it('maps namespaces onto registries with their access rules', async () => {
    const pushed = await pushBlob('acme/acme-reg/team/app', randomBytes(64), as('alice'));
    // The tenant's viewer reads, but may not push (DENIED); another tenant's admin sees nothing.
    expect((await request(app()).head(`/v2/acme/acme-reg/team/app/blobs/${pushed}`).set(as('vera'))).status).toBe(200);
    const viewerPush = await request(app()).post('/v2/acme/acme-reg/team/app/blobs/uploads/').set(as('vera'));
    expect(viewerPush.status).toBe(403);
    expect(viewerPush.body.errors[0].code).toBe('DENIED');
    const other = await request(app()).head(`/v2/acme/acme-reg/team/app/blobs/${pushed}`).set(as('carol'));
    expect(other.status).toBe(404);
    const otherGet = await request(app()).get('/v2/acme/acme-reg/team/app/tags/list').set(as('carol'));
    expect(otherGet.body.errors[0].code).toBe('NAME_UNKNOWN');
    // Anonymous callers are challenged with the scope they need.
    const anonymous = await request(app()).post('/v2/acme/acme-reg/team/app/blobs/uploads/');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toContain('scope="repository:acme/acme-reg/team/app:pull,push"');
    // Names that map onto no registry, or onto a registry under the wrong scope path.
    for (const name of ['nowhere/app', 'acme-reg/app', 'beta/acme-reg/app', 'acme/acme-reg']) {
      const res = await request(app()).get(`/v2/${name}/tags/list`).set(AUTH);
      expect(res.status, name).toBe(404);
      expect(res.body.errors[0].code, name).toBe('NAME_UNKNOWN');
    }
    // Anonymous pulls from the public registry work (anonymousRead is on by default).
    const image = await pushImage('public/open', 'v1');
    expect((await request(app()).get(`/v2/public/open/manifests/v1`)).status).toBe(200);
    expect((await request(app()).get(`/v2/public/open/blobs/${digestOf(image.layer)}`)).status).toBe(200);
  });

  it('answers hostile input with a 4xx in the OCI envelope and stores nothing', async () => {
    const cases: Array<[string, string]> = [
      ['get', '/v2/Public/App/tags/list'],
      ['get', '/v2/public/a..b/tags/list'],
      ['get', `/v2/public/${'a'.repeat(300)}/tags/list`],
      ['get', '/v2/public/-app/tags/list'],
      ['get', '/v2/public/app%2F..%2F..%2Fx/tags/list'],
      ['get', '/v2/public/app/manifests/sha256:zz'],
      ['get', '/v2/public/app/blobs/sha1:0123'],
      ['get', '/v2/public/app/referrers/latest'],
      ['post', '/v2/public/app/blobs/uploads/?digest=sha256:short'],
      ['post', '/v2/public/app/blobs/uploads/?mount=nonsense'],
      ['put', '/v2/public/app/manifests/bad%20tag'],
      ['get', '/v2/public/app/blobs/uploads/not-a-session'],
      ['get', '/v2/public/app/tags/list?n=-1'],
      ['get', '/v2/nothing-here'],
    ];
    for (const [method, path] of cases) {
      const res = await request(app())[method as 'get' | 'post' | 'put'](path).set(AUTH);
      expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${method} ${path}`).toBeLessThan(500);
      expect(Array.isArray(res.body.errors), `${method} ${path}`).toBe(true);
    }
    const huge = await request(app())
      .patch((await request(app()).post('/v2/public/app/blobs/uploads/').set(AUTH)).headers['location'] as string)
      .set(AUTH)
      .set('Content-Range', '0-99999999999999999')
      .send('x');
    expect(huge.status).toBe(416);
    expect(await stored(digestOf('x'))).toBe(false);
  });

  it('records blob and manifest pushes, deletes and failures in the audit log, not session chunks', async () => {
    const bytes = randomBytes(100);
    const started = await request(app()).post('/v2/public/audited/blobs/uploads/').set(as('alice'));
    expect(started.status).toBe(403);
    const session = await request(app()).post('/v2/public/audited/blobs/uploads/').set(AUTH);
    const location = session.headers['location'] as string;
    await request(app()).patch(location).set(AUTH).set('Content-Type', 'application/octet-stream').send(bytes);
    expect(
      (
        await request(app())
          .put(`${location}?digest=${digestOf(bytes)}`)
          .set(AUTH)
      ).status,
    ).toBe(201);
    const wrong = await request(app())
      .post(`/v2/public/audited/blobs/uploads/?digest=${digestOf('other bytes')}`)
      .set(AUTH)
      .set('Content-Type', 'application/octet-stream')
      .send(bytes);
    expect(wrong.status).toBe(400);
    await pushImage('public/audited', 'v1');
    expect(
      (
        await request(app())
          .delete(`/v2/public/audited/blobs/${digestOf(bytes)}`)
          .set(AUTH)
      ).status,
    ).toBe(202);
    const log = await request(app()).get('/v1/audit?limit=500').set(AUTH);
    const entries = (log.body.items as Array<{ method: string; path: string; status: number }>).filter((e) =>
      e.path.startsWith('/v2/public/audited/'),
    );
    // A stored blob is readable by digest at once: its push is a change. A session's start and
    // chunks (a temporary file of the process) count only when they fail.
    expect(entries.map((e) => `${e.method} ${e.status} ${e.path.slice(0, e.path.lastIndexOf('/'))}`).sort()).toEqual([
      'DELETE 202 /v2/public/audited/blobs',
      'POST 201 /v2/public/audited/blobs/uploads',
      'POST 201 /v2/public/audited/blobs/uploads',
      'POST 400 /v2/public/audited/blobs/uploads',
      'PUT 201 /v2/public/audited/blobs/uploads',
      'PUT 201 /v2/public/audited/manifests',
    ]);
    // The refused attempt is in the caller's own tenant's log.
    const acme = await request(app()).get('/v1/tenants/acme/audit?limit=500').set(AUTH);
    const refused = (acme.body.items as Array<{ method: string; path: string; status: number }>).filter((e) =>
      e.path.startsWith('/v2/public/audited/'),
    );
    expect(refused.map((e) => `${e.method} ${e.status}`)).toEqual(['POST 403']);
  });

  it('labels /v2 requests in the metrics by their route template', async () => {
    const text = await registry.services.metrics.registry.metrics();
    expect(text).toContain('route="/v2/*repository/blobs/:digest"');
    expect(text).not.toContain('route="/v2/public/');
  });
});

describe.each(DRIVERS.filter((d) => d !== 'fs'))('OCI blobs from the bucket (%s)', (driver) => {
  it('keeps chunked uploads in the blob cache and serves pulls from it', async () => {
    const registry = await startTestRegistry(driver);
    try {
      const bytes = randomBytes(50_000);
      const digest = digestOf(bytes);
      const started = await request(registry.app).post('/v2/public/cached/blobs/uploads/').set(AUTH);
      const location = started.headers['location'] as string;
      await request(registry.app).patch(location).set(AUTH).set('Content-Type', 'application/octet-stream').send(bytes);
      expect((await request(registry.app).put(`${location}?digest=${digest}`).set(AUTH)).status).toBe(201);
      const hits = async () =>
        (await registry.services.metrics.registry.getSingleMetricAsString('packyard_blob_cache_reads_total')).match(
          /result="hit"} (\d+)/,
        )?.[1];
      const pulled = await request(registry.app).get(`/v2/public/cached/blobs/${digest}`).set(AUTH).buffer(true);
      expect(Buffer.compare(pulled.body as Buffer, bytes)).toBe(0);
      expect(await hits()).toBe('1');
      const part = await request(registry.app)
        .get(`/v2/public/cached/blobs/${digest}`)
        .set(AUTH)
        .set('Range', 'bytes=10-19')
        .buffer(true);
      expect(Buffer.compare(part.body as Buffer, bytes.subarray(10, 20))).toBe(0);
      expect(await hits()).toBe('2');
    } finally {
      await registry.close();
    }
  });

  it('answers 307 to a presigned URL with redirectDownloads, after authorizing', async () => {
    const { dir, cleanup } = await tempDir();
    const storage = storageFile(driver, dir);
    const registry = await startTestRegistry(driver, {
      config: { storage: { ...storage, s3: { ...storage.s3, redirectDownloads: true } } },
    });
    try {
      const bytes = randomBytes(4000);
      const digest = digestOf(bytes);
      const pushed = await request(registry.app)
        .post(`/v2/public/redirected/blobs/uploads/?digest=${digest}`)
        .set(AUTH)
        .set('Content-Type', 'application/octet-stream')
        .send(bytes);
      expect(pushed.status).toBe(201);
      const res = await request(registry.app).get(`/v2/public/redirected/blobs/${digest}`).set(AUTH).redirects(0);
      expect(res.status).toBe(307);
      const fetched = await fetch(res.headers['location'] as string);
      expect(Buffer.compare(Buffer.from(await fetched.arrayBuffer()), bytes)).toBe(0);
      // Not readable where it was never pushed: no URL for it.
      expect((await request(registry.app).get(`/v2/public/elsewhere/blobs/${digest}`).redirects(0)).status).toBe(404);
    } finally {
      await registry.close();
      await cleanup();
    }
  });
});
