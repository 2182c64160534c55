/**
 * What the conformance suite v1.0.1 does not check, against a real `pack-registry` process with
 * authentication on (issue 13): sha512 blobs, the OCI 1.1 empty config and `artifactType`, the
 * `subject` field and the referrers API with its filter, image indexes, the spec's error codes for
 * bad pushes, how clients authenticate (the Bearer challenge, Basic on /v2 directly, an API key at
 * the token endpoint), anonymous pulls of the public registry, and tenant isolation (another
 * tenant's namespace is unknown, never forbidden; a blob is readable only where it was pushed).
 */
import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  challengeParams,
  errorCodes,
  OCI_MANIFEST,
  ociClient,
  OPERATOR,
  projectPusher,
  pushBlob,
  sha256,
  useOciRegistry,
  type Descriptor,
  type ImageManifest,
  type OciRequest,
} from './oci-helpers.js';

const INDEX = 'application/vnd.oci.image.index.v1+json';
const EMPTY = 'application/vnd.oci.empty.v1+json';
const SBOM = 'application/vnd.example.sbom.v1+json';

const oci = useOciRegistry('fs', { tenant: 'acme', project: 'edge', registry: 'edge-extras', username: 'extras-user' });
const request: OciRequest = (...args) => oci.request(...args);
const repository = 'acme/edge/edge-extras/apps/web';

/** PUTs `manifest` by `reference`; resolves with the answer and the bytes' digest. */
async function putManifest(repo: string, reference: string, manifest: object, mediaType = OCI_MANIFEST) {
  const bytes = Buffer.from(JSON.stringify(manifest));
  const answer = await request('PUT', `/v2/${repo}/manifests/${reference}`, {
    headers: { 'Content-Type': mediaType },
    body: bytes,
  });
  return { answer, digest: sha256(bytes), descriptor: { mediaType, digest: sha256(bytes), size: bytes.length } };
}

/** A small image: a config and one layer of random bytes, pushed as blobs. */
async function image(repo: string): Promise<ImageManifest> {
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', nonce: randomBytes(8).toString('hex') }),
  );
  const layer = randomBytes(2048);
  await pushBlob(request, repo, config);
  await pushBlob(request, repo, layer);
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
  };
}

describe('digests and artifacts', () => {
  it('stores and serves a sha512 blob', async () => {
    const blob = randomBytes(4096);
    const digest = `sha512:${createHash('sha512').update(blob).digest('hex')}`;
    const started = await request('POST', `/v2/${repository}/blobs/uploads/`);
    expect(started.status).toBe(202);
    const location = new URL(started.headers.get('location') ?? '', oci.registry.url);
    location.searchParams.set('digest', digest);
    const put = await request('PUT', location.href, {
      headers: { 'Content-Type': 'application/octet-stream' },
      body: blob,
    });
    expect(put.status, put.bytes.toString()).toBe(201);
    expect(put.headers.get('docker-content-digest')).toBe(digest);
    const head = await request('HEAD', `/v2/${repository}/blobs/${digest}`);
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(blob.length));
    const got = await request('GET', `/v2/${repository}/blobs/${digest}`);
    expect(got.bytes.equals(blob)).toBe(true);
  });

  it('accepts an OCI 1.1 artifact with the empty config and artifactType, and the subject field with referrers', async () => {
    const subject = await putManifest(repository, 'v1', await image(repository));
    expect(subject.answer.status, subject.answer.bytes.toString()).toBe(201);

    const empty = Buffer.from('{}');
    await pushBlob(request, repository, empty);
    const sbom = Buffer.from(JSON.stringify({ packages: ['openssl'] }));
    await pushBlob(request, repository, sbom);
    const artifact = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: SBOM,
      config: { mediaType: EMPTY, digest: sha256(empty), size: 2 },
      layers: [{ mediaType: 'application/json', digest: sha256(sbom), size: sbom.length }],
      subject: subject.descriptor,
      annotations: { 'org.example.kind': 'sbom' },
    };
    const referrer = await putManifest(repository, sha256(Buffer.from(JSON.stringify(artifact))), artifact);
    expect(referrer.answer.status, referrer.answer.bytes.toString()).toBe(201);
    expect(referrer.answer.headers.get('oci-subject')).toBe(subject.digest);

    const all = await request('GET', `/v2/${repository}/referrers/${subject.digest}`);
    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toContain(INDEX);
    const index = all.json() as { schemaVersion: number; manifests: Array<Descriptor & { artifactType?: string }> };
    expect(index.schemaVersion).toBe(2);
    expect(index.manifests).toEqual([
      expect.objectContaining({
        mediaType: OCI_MANIFEST,
        digest: referrer.digest,
        size: referrer.descriptor.size,
        artifactType: SBOM,
        annotations: { 'org.example.kind': 'sbom' },
      }),
    ]);

    const filtered = await request(
      'GET',
      `/v2/${repository}/referrers/${subject.digest}?artifactType=${encodeURIComponent(SBOM)}`,
    );
    expect(filtered.headers.get('oci-filters-applied')).toBe('artifactType');
    expect((filtered.json() as { manifests: unknown[] }).manifests).toHaveLength(1);
    const none = await request(
      'GET',
      `/v2/${repository}/referrers/${subject.digest}?artifactType=application/vnd.example.other`,
    );
    expect((none.json() as { manifests: unknown[] }).manifests).toEqual([]);

    // A digest nothing refers to: an empty index, never a 404 (distribution-spec v1.1).
    const unknown = await request('GET', `/v2/${repository}/referrers/${sha256(randomBytes(8))}`);
    expect(unknown.status).toBe(200);
    expect((unknown.json() as { manifests: unknown[] }).manifests).toEqual([]);
  });

  it('stores an image index over two images and serves it back byte-identical', async () => {
    const amd = await putManifest(repository, 'amd64', await image(repository));
    const arm = await putManifest(repository, 'arm64', await image(repository));
    const index = {
      schemaVersion: 2,
      mediaType: INDEX,
      manifests: [
        { ...amd.descriptor, platform: { architecture: 'amd64', os: 'linux' } },
        { ...arm.descriptor, platform: { architecture: 'arm64', os: 'linux' } },
      ],
    };
    const put = await putManifest(repository, 'multi', index, INDEX);
    expect(put.answer.status, put.answer.bytes.toString()).toBe(201);
    const got = await request('GET', `/v2/${repository}/manifests/multi`, { headers: { Accept: INDEX } });
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe(INDEX);
    expect(sha256(got.bytes)).toBe(put.digest);
  });
});

describe("the spec's errors for bad pushes", () => {
  it('refuses a manifest whose blobs were never pushed: MANIFEST_BLOB_UNKNOWN', async () => {
    const manifest = await image(repository);
    const missing = randomBytes(64);
    manifest.layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(missing), size: 64 });
    const { answer } = await putManifest(repository, 'broken', manifest);
    expect(answer.status).toBe(400);
    expect(errorCodes(answer)).toEqual(['MANIFEST_BLOB_UNKNOWN']);
    expect((await request('GET', `/v2/${repository}/manifests/broken`)).status).toBe(404);
  });

  it('refuses a blob whose bytes are not its digest: DIGEST_INVALID, nothing stored', async () => {
    const started = await request('POST', `/v2/${repository}/blobs/uploads/`);
    const location = new URL(started.headers.get('location') ?? '', oci.registry.url);
    const claimed = sha256(randomBytes(32));
    location.searchParams.set('digest', claimed);
    const put = await request('PUT', location.href, {
      headers: { 'Content-Type': 'application/octet-stream' },
      body: randomBytes(32),
    });
    expect(put.status).toBe(400);
    expect(errorCodes(put)).toEqual(['DIGEST_INVALID']);
    expect((await request('HEAD', `/v2/${repository}/blobs/${claimed}`)).status).toBe(404);
  });

  it('refuses a manifest that is not JSON: MANIFEST_INVALID', async () => {
    const answer = await request('PUT', `/v2/${repository}/manifests/garbage`, {
      headers: { 'Content-Type': OCI_MANIFEST },
      body: '{"schemaVersion": 2,',
    });
    expect(answer.status).toBe(400);
    expect(errorCodes(answer)).toEqual(['MANIFEST_INVALID']);
  });
});

describe('authentication as registry clients do it', () => {
  it('challenges an anonymous push with a Bearer realm at /v2/token and the repository scope', async () => {
    const res = await fetch(`${oci.registry.url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer /);
    const params = challengeParams(challenge);
    expect(params['realm']).toBe(`${oci.registry.url}/v2/token`);
    expect(params['service']).toBeTruthy();
    expect(params['scope']).toBe(`repository:${repository}:pull,push`);
    expect(((await res.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe('UNAUTHORIZED');
  });

  it('accepts Basic credentials on /v2 directly', async () => {
    const basic = Buffer.from(`${oci.pusher.username}:${oci.pusher.password}`).toString('base64');
    const res = await fetch(`${oci.registry.url}/v2/${repository}/tags/list`, {
      headers: { Authorization: `Basic ${basic}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { tags: string[] }).tags).toContain('v1');
  });

  it('issues a token for any username with an API key as the password', async () => {
    const login = (await (
      await fetch(`${oci.registry.url}/v1/auth/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: oci.pusher.username, password: oci.pusher.password }),
      })
    ).json()) as { token: string };
    const created = (await (
      await fetch(`${oci.registry.url}/v1/tenants/acme/users/${oci.pusher.username}/api-keys`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${login.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'palette sync' }),
      })
    ).json()) as { key: string };
    const withKey = ociClient(oci.registry.url, { username: 'palette', password: created.key });
    const tags = await withKey('GET', `/v2/${repository}/tags/list`);
    expect(tags.status).toBe(200);
    const wrong = ociClient(oci.registry.url, { username: 'palette', password: `${created.key}x` });
    await expect(wrong('GET', `/v2/${repository}/tags/list`)).rejects.toThrow(/token endpoint .*: 401/);
  });

  it('lets anonymous callers pull from the public registry, and not push there', async () => {
    const operator = ociClient(oci.registry.url, OPERATOR);
    const pub = 'public/tools/hello';
    const config = Buffer.from('{}');
    await pushBlob(operator, pub, config);
    const manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: EMPTY, digest: sha256(config), size: 2 },
      layers: [],
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    const put = await operator('PUT', `/v2/${pub}/manifests/latest`, {
      headers: { 'Content-Type': OCI_MANIFEST },
      body: bytes,
    });
    expect(put.status, put.bytes.toString()).toBe(201);
    const anonymous = ociClient(oci.registry.url);
    const got = await anonymous('GET', `/v2/${pub}/manifests/latest`, { headers: { Accept: OCI_MANIFEST } });
    expect(got.status).toBe(200);
    expect(got.bytes.equals(bytes)).toBe(true);
    expect((await anonymous('POST', `/v2/${pub}/blobs/uploads/`)).status).toBe(401);
  });
});

describe('tenant isolation', () => {
  let outsider: OciRequest;

  beforeAll(async () => {
    const other = await projectPusher(oci.registry.url, {
      tenant: 'globex',
      project: 'lab',
      registry: 'lab-extras',
      username: 'globex-user',
    });
    outsider = ociClient(oci.registry.url, other);
    // Something of theirs, so the outsider is a real pusher elsewhere.
    await pushBlob(outsider, `${other.namespace}/apps/own`, Buffer.from('globex'));
  });

  it("answers another tenant's namespace as unknown, never as forbidden", async () => {
    for (const [method, url] of [
      ['GET', `/v2/${repository}/manifests/v1`],
      ['GET', `/v2/${repository}/tags/list`],
      ['POST', `/v2/${repository}/blobs/uploads/`],
    ] as const) {
      const answer = await outsider(method, url);
      expect(answer.status, `${method} ${url}`).toBe(404);
      expect(errorCodes(answer), `${method} ${url}`).toEqual(['NAME_UNKNOWN']);
    }
    const catalog = await outsider('GET', '/v2/_catalog');
    expect(JSON.stringify(catalog.json())).not.toContain(oci.pusher.namespace);
  });

  it("names pull on the mount's source in the challenge, so challenge-following clients can mount", async () => {
    const digest = await pushBlob(request, repository, randomBytes(256));
    const target = 'acme/edge/edge-extras/apps/mounted-by-token';
    // The client of the conformance suite (and ORAS, skopeo) asks the token endpoint for the
    // challenge's scope; a token without pull on `from` makes the mount a plain upload (202).
    const res = await fetch(`${oci.registry.url}/v2/${target}/blobs/uploads/?mount=${digest}&from=${repository}`, {
      method: 'POST',
    });
    expect(res.status).toBe(401);
    const scopes = (challengeParams(res.headers.get('www-authenticate') ?? '')['scope'] ?? '').split(' ');
    expect(scopes.sort()).toEqual([`repository:${repository}:pull`, `repository:${target}:pull,push`].sort());
    const mounted = await request('POST', `/v2/${target}/blobs/uploads/?mount=${digest}&from=${repository}`);
    expect(mounted.status).toBe(201);
  });

  it('serves a blob only in the repositories it was pushed or mounted into', async () => {
    const secret = randomBytes(512);
    const digest = await pushBlob(request, repository, secret);
    const sibling = `${oci.pusher.namespace}/apps/other`;
    expect((await request('HEAD', `/v2/${sibling}/blobs/${digest}`)).status).toBe(404);
    const mount = await request('POST', `/v2/${sibling}/blobs/uploads/?mount=${digest}&from=${repository}`);
    expect(mount.status).toBe(201);
    expect((await request('HEAD', `/v2/${sibling}/blobs/${digest}`)).status).toBe(200);
    // The outsider knows the digest but cannot mount it from a repository it cannot read.
    const theirs = 'globex/lab/lab-extras/apps/own';
    const stolen = await outsider('POST', `/v2/${theirs}/blobs/uploads/?mount=${digest}&from=${repository}`);
    expect(stolen.status).toBe(202);
    expect((await outsider('HEAD', `/v2/${theirs}/blobs/${digest}`)).status).toBe(404);
  });

  it('removes a deleted manifest from tags and answers MANIFEST_UNKNOWN for it', async () => {
    const { answer, digest } = await putManifest(repository, 'to-delete', await image(repository));
    expect(answer.status).toBe(201);
    const deleted = await request('DELETE', `/v2/${repository}/manifests/${digest}`);
    expect(deleted.status).toBe(202);
    const gone = await request('GET', `/v2/${repository}/manifests/${digest}`);
    expect(gone.status).toBe(404);
    expect(errorCodes(gone)).toEqual(['MANIFEST_UNKNOWN']);
    const tags = (await request('GET', `/v2/${repository}/tags/list`)).json() as { tags: string[] };
    expect(tags.tags).not.toContain('to-delete');
  });
});
