/**
 * The /v2 API against hostile clients, by class: a body that stalls (it must not hold a
 * connection or an upload session), manifests that would make a push cost unbounded storage
 * lookups or memory, bytes that are not UTF-8, and automatic mounts whose cost must not grow
 * with the registry. Storage calls are counted through a wrapper around the real store.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_DESCRIPTORS } from './manifests.js';
import { MAX_REFERRERS_BYTES, MAX_REFERRERS_PAGE } from '../routes/oci-manifests.js';
import { blobKey } from '../storage/layout.js';
import type { ObjectStore } from '../storage/object-store.js';
import { AUTH, DRIVERS, startTestRegistry, type TestRegistry } from '../test-support/test-registry.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

const digestOf = (bytes: Buffer | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** Storage calls seen, and the most lookups in flight at once. */
interface Counts {
  head: number;
  getBuffer: number;
  /** Whole blobs read into memory. */
  blobReads: number;
  list: number;
  /** The keys looked up and the prefixes listed (the registry's background work adds its own). */
  headKeys: string[];
  listed: string[];
  inFlight: number;
  maxInFlight: number;
}

const zero = (): Counts => ({
  head: 0,
  getBuffer: 0,
  blobReads: 0,
  list: 0,
  headKeys: [],
  listed: [],
  inFlight: 0,
  maxInFlight: 0,
});

/** The real store, with its lookups counted. */
function counted(store: ObjectStore, counts: Counts): ObjectStore {
  const track = async <T>(call: () => Promise<T>): Promise<T> => {
    counts.inFlight++;
    counts.maxInFlight = Math.max(counts.maxInFlight, counts.inFlight);
    try {
      return await call();
    } finally {
      counts.inFlight--;
    }
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === 'head') {
        return (key: string) => {
          counts.head++;
          counts.headKeys.push(key);
          return track(() => target.head(key));
        };
      }
      if (property === 'getBuffer') {
        return (key: string) => {
          counts.getBuffer++;
          if (key.startsWith('blobs/')) counts.blobReads++;
          return track(() => target.getBuffer(key));
        };
      }
      if (property === 'list') {
        return (...args: Parameters<ObjectStore['list']>) => {
          counts.list++;
          counts.listed.push(args[0]);
          return target.list(...args);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe.each(DRIVERS)('the /v2 API against hostile clients (%s)', (driver) => {
  let registry: TestRegistry;
  let server: http.Server;
  const counts = zero();
  const app = () => registry.app;

  async function pushBlob(name: string, bytes: Buffer) {
    const digest = digestOf(bytes);
    const res = await request(app())
      .post(`/v2/${name}/blobs/uploads/?digest=${digest}`)
      .set(AUTH)
      .set('Content-Type', 'application/octet-stream')
      .send(bytes);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return digest;
  }

  /** Pushes an image manifest, which must be taken. */
  async function putManifest(name: string, reference: string, body: string) {
    const res = await request(app())
      .put(`/v2/${name}/manifests/${reference}`)
      .set(AUTH)
      .set('Content-Type', OCI_MANIFEST)
      .send(body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }

  /** Pushes a manifest of `count` layers the repository does not hold. */
  function pushLayers(name: string, count: number) {
    const layers = Array.from({ length: count }, (_, i) => ({
      mediaType: 'application/vnd.oci.image.layer.v1.tar',
      digest: digestOf(`missing layer ${i}`),
      size: 1,
    }));
    const config = { mediaType: 'application/vnd.oci.empty.v1+json', digest: digestOf('{}'), size: 2 };
    return request(app())
      .put(`/v2/${name}/manifests/v1`)
      .set(AUTH)
      .set('Content-Type', OCI_MANIFEST)
      .send(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers }));
  }

  /**
   * Sends `first`, then nothing, on a real connection: what the server answers (or -1 when it
   * closes the connection without an answer) and how long it took.
   */
  async function stall(method: string, path: string, headers: Record<string, string>, first: Buffer) {
    const { port } = server.address() as AddressInfo;
    const started = Date.now();
    const status = await new Promise<number>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, method, path, headers: { ...AUTH, ...headers } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', () => {
        resolve(-1);
      });
      req.write(first);
    });
    return { status, ms: Date.now() - started };
  }

  beforeAll(async () => {
    registry = await startTestRegistry(driver, {
      config: { oci: { bodyIdleSeconds: 1 } },
      wrapStore: (store) => counted(store, counts),
    });
    server = app().listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await registry.close();
  });
  beforeEach(() => {
    // The wrapper holds this object: reset it in place.
    Object.assign(counts, zero());
  });

  it('cuts off a chunk that stalls, and the session goes on from where it was', async () => {
    const started = await request(app()).post('/v2/public/stall/blobs/uploads/').set(AUTH);
    expect(started.status).toBe(202);
    const location = started.headers['location'] as string;
    const first = randomBytes(1000);
    expect((await request(app()).patch(location).set(AUTH).send(first)).headers['range']).toBe('0-999');

    const stalled = await stall('PATCH', location, { 'Content-Length': '5000' }, randomBytes(100));
    expect(stalled.ms).toBeLessThan(10_000);
    expect([408, -1]).toContain(stalled.status);
    // Not busy any more, and without the stalled chunk's bytes.
    const status = await request(app()).get(location).set(AUTH);
    expect(status.status).toBe(204);
    expect(status.headers['range']).toBe('0-999');
    const rest = randomBytes(500);
    const done = await request(app())
      .put(`${location}?digest=${digestOf(Buffer.concat([first, rest]))}`)
      .set(AUTH)
      .set('Content-Type', 'application/octet-stream')
      .send(rest);
    expect(done.status, JSON.stringify(done.body)).toBe(201);
  });

  it('cuts off a monolithic blob or a manifest whose body stalls, storing nothing', async () => {
    const bytes = randomBytes(4000);
    const digest = digestOf(bytes);
    const blob = await stall(
      'POST',
      `/v2/public/stall/blobs/uploads/?digest=${digest}`,
      { 'Content-Length': '4000', 'Content-Type': 'application/octet-stream' },
      bytes.subarray(0, 100),
    );
    expect(blob.ms).toBeLessThan(10_000);
    expect([408, -1]).toContain(blob.status);
    expect(await registry.services.store.head(blobKey(digest))).toBeNull();

    const manifest = await stall(
      'PUT',
      '/v2/public/stall/manifests/stalled',
      { 'Content-Length': '2000', 'Content-Type': OCI_MANIFEST },
      Buffer.from('{"schemaVersion":2,'),
    );
    expect(manifest.ms).toBeLessThan(10_000);
    expect([408, -1]).toContain(manifest.status);
    expect((await request(app()).get('/v2/public/stall/manifests/stalled').set(AUTH)).status).toBe(404);
  });

  it('refuses a chunked manifest past the limit with 413, as a declared one', async () => {
    const { port } = server.address() as AddressInfo;
    for (const size of [4 * 1024 * 1024 + 1, 6 * 1024 * 1024]) {
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            method: 'PUT',
            path: '/v2/public/big/manifests/v1',
            headers: { ...AUTH, 'Content-Type': OCI_MANIFEST, 'Transfer-Encoding': 'chunked' },
          },
          (res) => {
            let body = '';
            res.on('data', (chunk: Buffer) => (body += chunk.toString()));
            res.on('end', () => {
              resolve({ status: res.statusCode ?? 0, body });
            });
          },
        );
        req.on('error', reject);
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        const pump = () => {
          while (sent < size) {
            const piece = chunk.subarray(0, Math.min(chunk.length, size - sent));
            sent += piece.length;
            if (!req.write(piece)) {
              req.once('drain', pump);
              return;
            }
          }
          req.end();
        };
        pump();
      });
      expect(answer.status, answer.body).toBe(413);
      expect(JSON.parse(answer.body)).toMatchObject({ errors: [{ code: 'SIZE_INVALID' }] });
    }
  });

  it('refuses a manifest with more descriptors than the limit before any lookup', async () => {
    Object.assign(counts, zero());
    const res = await pushLayers('public/many', MAX_DESCRIPTORS + 1);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].code).toBe('MANIFEST_INVALID');
    expect(counts.head).toBeLessThan(10);
  });

  it('checks the references of a large manifest a few lookups at a time, and an index without reading its children', async () => {
    Object.assign(counts, zero());
    const missing = await pushLayers('public/wide', 600);
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0].code).toBe('MANIFEST_BLOB_UNKNOWN');
    expect(counts.maxInFlight).toBeGreaterThan(0);
    // Eight from the push (the registry's own background work may add one or two).
    expect(counts.maxInFlight).toBeLessThan(16);

    // Children that are there: the index push looks each up without reading its bytes.
    const configBytes = Buffer.from('{}');
    const configDigest = await pushBlob('public/wide', configBytes);
    const children: { mediaType: string; digest: string; size: number }[] = [];
    for (let i = 0; i < 3; i++) {
      const body = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: configDigest, size: 2 },
        layers: [],
        annotations: { n: String(i), padding: 'x'.repeat(20_000) },
      });
      const put = await request(app())
        .put(`/v2/public/wide/manifests/child-${i}`)
        .set(AUTH)
        .set('Content-Type', OCI_MANIFEST)
        .send(body);
      expect(put.status, JSON.stringify(put.body)).toBe(201);
      children.push({ mediaType: OCI_MANIFEST, digest: digestOf(body), size: Buffer.byteLength(body) });
    }
    Object.assign(counts, zero());
    const index = await request(app())
      .put('/v2/public/wide/manifests/all')
      .set(AUTH)
      .set('Content-Type', OCI_INDEX)
      .send(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: children }));
    expect(index.status, JSON.stringify(index.body)).toBe(201);
    // The children's records are small JSON documents; their bytes (20 kB each) are never read.
    expect(counts.blobReads).toBe(0);
  });

  it('refuses a manifest that is not UTF-8, storing nothing', async () => {
    const configDigest = await pushBlob('public/utf', Buffer.from('{}'));
    const json = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: configDigest, size: 2 },
      layers: [],
      annotations: { title: 'MARK' },
    });
    const [before, after] = json.split('MARK') as [string, string];
    // A lone continuation byte and an overlong "/": both invalid UTF-8.
    for (const bad of [Buffer.from([0x80]), Buffer.from([0xc0, 0xaf])]) {
      const body = Buffer.concat([Buffer.from(before), bad, Buffer.from(after)]);
      // Raw bytes: supertest would send a Buffer with a +json type as JSON.
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/v2/public/utf/manifests/${digestOf(body)}`, {
        method: 'PUT',
        headers: { ...AUTH, 'Content-Type': OCI_MANIFEST },
        body,
      });
      expect(res.status).toBe(400);
      const answer = (await res.json()) as { errors: { code: string }[] };
      expect(answer.errors[0]?.code).toBe('MANIFEST_INVALID');
      expect(await registry.services.store.head(blobKey(digestOf(body)))).toBeNull();
    }
  });

  it('mounts automatically with a fixed number of lookups, whatever the registry holds, and never across registries', async () => {
    for (let i = 0; i < 30; i++) await pushBlob(`public/filler-${i}`, randomBytes(16));
    const bytes = randomBytes(64);
    const digest = await pushBlob('public/filler-last', bytes);
    Object.assign(counts, zero());
    const mounted = await request(app()).post(`/v2/public/auto-target/blobs/uploads/?mount=${digest}`).set(AUTH);
    expect(mounted.status).toBe(201);
    expect(counts.listed.filter((prefix) => prefix.startsWith('oci/'))).toEqual([]);
    const hex = digest.slice('sha256:'.length);
    expect(counts.headKeys.filter((key) => key.includes(hex)).length).toBeLessThanOrEqual(4);
    expect((await request(app()).head(`/v2/public/auto-target/blobs/${digest}`).set(AUTH)).status).toBe(200);

    // Another registry's blob is not mounted without a `from`: an upload session instead.
    const created = await request(app()).post('/v1/registries').set(AUTH).send({ name: 'other-reg', scope: 'system' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const elsewhere = await request(app()).post(`/v2/other-reg/taker/blobs/uploads/?mount=${digest}`).set(AUTH);
    expect(elsewhere.status).toBe(202);
    expect((await request(app()).head(`/v2/other-reg/taker/blobs/${digest}`).set(AUTH)).status).toBe(404);
  });

  it('lists many referrers a page at a time, reading no more than a page from storage', async () => {
    const configDigest = await pushBlob('public/refs', Buffer.from('{}'));
    const config = { mediaType: 'application/vnd.oci.empty.v1+json', digest: configDigest, size: 2 };
    const manifest = (extra: Record<string, unknown>) =>
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [], ...extra });
    const put = (reference: string, body: string) => putManifest('public/refs', reference, body);
    const subjectBody = manifest({ annotations: { role: 'subject' } });
    await put('subject', subjectBody);
    const subject = { mediaType: OCI_MANIFEST, digest: digestOf(subjectBody), size: Buffer.byteLength(subjectBody) };
    const total = MAX_REFERRERS_PAGE + 3;
    for (let batch = 0; batch < total; batch += 20) {
      const bodies = Array.from({ length: Math.min(20, total - batch) }, (_, i) =>
        manifest({ artifactType: 'application/x-sig', subject, annotations: { n: String(batch + i) } }),
      );
      await Promise.all(bodies.map((body) => put(digestOf(body), body)));
    }
    Object.assign(counts, zero());
    const first = await request(app()).get(`/v2/public/refs/referrers/${subject.digest}`).set(AUTH);
    expect(first.status).toBe(200);
    expect(first.body.manifests).toHaveLength(MAX_REFERRERS_PAGE);
    expect(counts.getBuffer).toBeLessThanOrEqual(MAX_REFERRERS_PAGE + 2);
    const link = /^<([^>]+)>; rel="next"$/.exec(String(first.headers['link']))?.[1];
    expect(link).toBeDefined();
    const rest = await request(app())
      .get(link ?? '')
      .set(AUTH);
    expect(rest.status).toBe(200);
    expect(rest.headers['link']).toBeUndefined();
    const digests = [...first.body.manifests, ...rest.body.manifests].map((m: { digest: string }) => m.digest);
    expect(new Set(digests).size).toBe(total);
    expect([...digests].sort()).toEqual(digests);
  }, 120_000);

  it("ends a referrers page before MAX_REFERRERS_BYTES of descriptors, which carry their manifests' annotations", async () => {
    const configDigest = await pushBlob('public/annotated', Buffer.from('{}'));
    const config = { mediaType: 'application/vnd.oci.empty.v1+json', digest: configDigest, size: 2 };
    const manifest = (extra: Record<string, unknown>) =>
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [], ...extra });
    const subjectBody = manifest({ annotations: { role: 'subject' } });
    await putManifest('public/annotated', 'subject', subjectBody);
    const subject = { mediaType: OCI_MANIFEST, digest: digestOf(subjectBody), size: Buffer.byteLength(subjectBody) };
    // Six referrers of ~1.5 MB each (a manifest may be 4 MiB): 500 such once made one 2 GiB answer.
    for (let i = 0; i < 6; i++) {
      const body = manifest({ subject, annotations: { n: String(i), blob: 'x'.repeat(1_500_000) } });
      await putManifest('public/annotated', digestOf(body), body);
    }
    const seen: string[] = [];
    let url: string | undefined = `/v2/public/annotated/referrers/${subject.digest}`;
    let pages = 0;
    while (url !== undefined) {
      Object.assign(counts, zero());
      const res: request.Response = await request(app()).get(url).set(AUTH);
      expect(res.status).toBe(200);
      expect(Number(res.headers['content-length'])).toBeLessThanOrEqual(MAX_REFERRERS_BYTES + 2_000_000);
      // The descriptors that fit, and the one that did not.
      const manifests = res.body.manifests as Array<{ digest: string }>;
      expect(counts.getBuffer).toBeLessThanOrEqual(manifests.length + 1);
      seen.push(...manifests.map((m) => m.digest));
      url = /^<([^>]+)>; rel="next"$/.exec(String(res.headers['link']))?.[1];
      pages++;
    }
    expect(pages).toBeGreaterThan(1);
    expect(new Set(seen).size).toBe(6);
    expect([...seen].sort()).toEqual(seen);
  });

  it('refuses a chunk (chunked encoding) that is not the size its Content-Range says, keeping the session as it was', async () => {
    const started = await request(app()).post('/v2/public/ranges/blobs/uploads/').set(AUTH);
    const location = started.headers['location'] as string;
    const { port } = server.address() as AddressInfo;
    const send = (range: string, bytes: Buffer) =>
      new Promise<{ status: number; range: string | undefined }>((resolve, reject) => {
        // No Content-Length: Node sends the body with chunked encoding.
        const req = http.request(
          { host: '127.0.0.1', port, method: 'PATCH', path: location, headers: { ...AUTH, 'Content-Range': range } },
          (res) => {
            res.resume();
            const header = res.headers['range'];
            resolve({ status: res.statusCode ?? 0, range: typeof header === 'string' ? header : undefined });
          },
        );
        req.on('error', reject);
        req.end(bytes);
      });
    for (const [range, size] of [
      ['0-99', 5],
      ['0-3', 5],
    ] as const) {
      const answer = await send(range, randomBytes(size));
      expect(answer.status, range).toBe(416);
      expect(answer.range).toBe('0-0');
    }
    const exact = await send('0-4', randomBytes(5));
    expect(exact).toEqual({ status: 202, range: '0-4' });
  });

  it('answers a name whose index entry would not make a file name with a 4xx, never a 5xx', async () => {
    // 255 characters, 123 of them slashes: percent-encoded for the repository index, past NAME_MAX.
    const name = `public/${'a/'.repeat(123)}b`.slice(0, 255);
    const bytes = randomBytes(32);
    const pushed = await request(app())
      .post(`/v2/${name}/blobs/uploads/?digest=${digestOf(bytes)}`)
      .set(AUTH)
      .set('Content-Type', 'application/octet-stream')
      .send(bytes);
    expect(pushed.status, JSON.stringify(pushed.body)).toBeGreaterThanOrEqual(400);
    expect(pushed.status).toBeLessThan(500);
    expect(pushed.body.errors[0].code).toBe('NAME_INVALID');
    expect((await request(app()).get(`/v2/${name}/tags/list`).set(AUTH)).status).toBeLessThan(500);
  });

  it('says why a digest is refused: a supported algorithm with the wrong hex, or an unsupported one', async () => {
    const cases: [string, RegExp][] = [
      ['sha256:abc', /invalid sha256 digest: 64 lowercase hex/],
      [`sha512:${'a'.repeat(64)}`, /invalid sha512 digest: 128 lowercase hex/],
      [`md5:${'a'.repeat(32)}`, /unsupported digest algorithm "md5"/],
      [`constructor:${'a'.repeat(64)}`, /unsupported digest algorithm "constructor"/],
    ];
    for (const [digest, message] of cases) {
      const res = await request(app()).get(`/v2/public/ranges/blobs/${digest}`).set(AUTH);
      expect(res.status, digest).toBe(400);
      expect(res.body.errors[0].code).toBe('DIGEST_INVALID');
      expect(res.body.errors[0].message).toMatch(message);
    }
  });

  it('deletes a manifest with a bounded number of reads, whatever other tags the repository holds', async () => {
    const configDigest = await pushBlob('public/tagged', Buffer.from('{}'));
    const config = { mediaType: 'application/vnd.oci.empty.v1+json', digest: configDigest, size: 2 };
    const put = (reference: string, body: string) => putManifest('public/tagged', reference, body);
    const doomed = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] });
    const kept = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config,
      layers: [],
      annotations: { k: 'v' },
    });
    for (const tag of ['a', 'b', 'moved']) await put(tag, doomed);
    // "moved" was on the doomed manifest once: it must survive, now that it is elsewhere.
    for (let i = 0; i < 40; i++) await put(`other-${i}`, kept);
    await put('moved', kept);
    Object.assign(counts, zero());
    const deleted = await request(app())
      .delete(`/v2/public/tagged/manifests/${digestOf(doomed)}`)
      .set(AUTH);
    expect(deleted.status).toBe(202);
    expect(counts.getBuffer).toBeLessThanOrEqual(10);
    const tags = await request(app()).get('/v2/public/tagged/tags/list').set(AUTH);
    expect(tags.body.tags).not.toContain('a');
    expect(tags.body.tags).not.toContain('b');
    expect(tags.body.tags).toContain('moved');
    expect(tags.body.tags).toHaveLength(41);
    expect(
      (await request(app()).get('/v2/public/tagged/manifests/moved').set(AUTH)).headers['docker-content-digest'],
    ).toBe(digestOf(kept));
  });

  it('refuses a manifest with a key given twice in one object (parsers disagree on which counts)', async () => {
    const configDigest = await pushBlob('public/dupes', Buffer.from('{}'));
    const config = JSON.stringify({ mediaType: 'application/vnd.oci.empty.v1+json', digest: configDigest, size: 2 });
    const bodies = [
      `{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","config":${config},"layers":[],"layers":[]}`,
      `{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","config":${config.replace('"size":2', '"size":2,"\u0073ize":3')},"layers":[]}`,
    ];
    for (const body of bodies) {
      const res = await request(app())
        .put('/v2/public/dupes/manifests/v1')
        .set(AUTH)
        .set('Content-Type', OCI_MANIFEST)
        .send(body);
      expect(res.status, body).toBe(400);
      expect(res.body.errors[0].code).toBe('MANIFEST_INVALID');
      expect(res.body.errors[0].message).toMatch(/appears twice/);
    }
    expect((await request(app()).get('/v2/public/dupes/manifests/v1').set(AUTH)).status).toBe(404);
  });

  it('closes the connection of a request answered with its body unread, once the rest stops coming', async () => {
    const { port } = server.address() as AddressInfo;
    const started = Date.now();
    const outcome = await new Promise<{ status: number; closedAfterMs: number }>((resolve) => {
      let status = 0;
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/v2/public/unread/blobs/uploads/',
          headers: { ...AUTH, 'Content-Length': '100000' },
        },
        (res) => {
          status = res.statusCode ?? 0;
          res.resume();
        },
      );
      req.on('error', () => undefined);
      req.on('close', () => {
        resolve({ status, closedAfterMs: Date.now() - started });
      });
      // Ten bytes of the hundred thousand announced, then nothing: the connection stays open.
      req.write(Buffer.alloc(10));
    });
    expect(outcome.status).toBe(202);
    expect(outcome.closedAfterMs).toBeLessThan(10_000);
  });
});
