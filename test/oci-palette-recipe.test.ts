/**
 * The Palette recipe against a real `pack-registry` process (issue 13): a sample pack directory
 * packed with `tar -czf NAME-VERSION.tar.gz`, pushed over plain HTTP exactly as ORAS 1.0 pushes it
 * (the 2-byte `{}` config, one `application/vnd.oci.image.layer.v1.tar` layer titled with the file
 * name, the image manifest to `<base>/spectro-packs/archive/NAME:VERSION`, credentials through the
 * Bearer challenge), is then a pack: `packctl search` finds it, `packctl pull` fetches it, and
 * `/v2/` serves the same bytes again. A pack published with `packctl push` is pullable through
 * `/v2/` with a stable digest, across a restart. Hostile layers are refused with nothing stored.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runPackctl, SAMPLE_PACKS } from './helpers.js';
import {
  errorCodes,
  OCI_MANIFEST as MANIFEST,
  pushBlob,
  sha256,
  useOciRegistry,
  type ImageManifest,
  type OciRequest,
  type OciResponse,
} from './oci-helpers.js';
import { AUTH, eventually } from './registry-process.js';

const ORAS_CONFIG = 'application/vnd.unknown.config.v1+json';
const ORAS_LAYER = 'application/vnd.oci.image.layer.v1.tar';
const TITLE = 'org.opencontainers.image.title';

const oci = useOciRegistry('fs', { tenant: 'acme', project: 'edge', registry: 'edge-packs', username: 'palette-sync' });
const request: OciRequest = (...args) => oci.request(...args);
/** packctl's environment: its own config file, logged in as the oci.pusher. */
let env: NodeJS.ProcessEnv;

const repositoryOf = (name: string) => `${oci.pusher.namespace}/spectro-packs/archive/${name}`;

/** `tar -czf NAME-VERSION.tar.gz <dir>` of a copy of the sample pack, as the Palette docs say. */
async function tarSamplePack(sample: string): Promise<{ name: string; version: string; file: string; bytes: Buffer }> {
  const { name, version } = JSON.parse(await readFile(path.join(SAMPLE_PACKS, sample, 'pack.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  const file = path.join(oci.dir, `${name}-${version}.tar.gz`);
  const tar = spawnSync('tar', ['-czf', file, sample], { cwd: SAMPLE_PACKS, encoding: 'utf8' });
  if (tar.status !== 0) throw new Error(`tar -czf failed: ${tar.stderr}`);
  return { name, version, file, bytes: await readFile(file) };
}

/**
 * What `oras push HOST/REPO:TAG FILE` sends: each blob checked with HEAD and uploaded with POST +
 * PUT ?digest= when missing, then the manifest PUT by tag. ORAS 1.0 (the default here): the
 * `{}` config typed `application/vnd.unknown.config.v1+json` and a `...layer.v1.tar` layer; ORAS
 * 1.1 (`oras11`): `artifactType`, the empty config `application/vnd.oci.empty.v1+json` and, as a
 * tar.gz is named, a `+gzip` layer type. Resolves with the manifest's answer and the bytes sent.
 */
async function orasPush(
  repository: string,
  tag: string,
  layer: { bytes: Buffer; title: string; oras11?: boolean },
): Promise<{ answer: OciResponse; manifest: Buffer }> {
  const config = Buffer.from('{}');
  for (const blob of [config, layer.bytes]) {
    const head = await request('HEAD', `/v2/${repository}/blobs/${sha256(blob)}`);
    if (head.status !== 200) await pushBlob(request, repository, blob);
  }
  const manifest: ImageManifest & { artifactType?: string } = {
    schemaVersion: 2,
    mediaType: MANIFEST,
    ...(layer.oras11 ? { artifactType: 'application/vnd.unknown.artifact.v1' } : {}),
    config: {
      mediaType: layer.oras11 ? 'application/vnd.oci.empty.v1+json' : ORAS_CONFIG,
      digest: sha256(config),
      size: config.length,
    },
    layers: [
      {
        mediaType: layer.oras11 ? `${ORAS_LAYER}+gzip` : ORAS_LAYER,
        digest: sha256(layer.bytes),
        size: layer.bytes.length,
        annotations: { [TITLE]: layer.title },
      },
    ],
    annotations: { 'org.opencontainers.image.created': '2026-01-02T03:04:05Z' },
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const answer = await request('PUT', `/v2/${repository}/manifests/${tag}`, {
    headers: { 'Content-Type': MANIFEST },
    body: bytes,
  });
  return { answer, manifest: bytes };
}

/** GETs a manifest by tag or digest, as a client that accepts OCI manifests. */
function getManifest(repository: string, reference: string): Promise<OciResponse> {
  return request('GET', `/v2/${repository}/manifests/${reference}`, { headers: { Accept: MANIFEST } });
}

async function searchNames(text: string): Promise<string[]> {
  const result = await packctlAt(['search', text, '--format', 'json']);
  if (result.status !== 0) throw new Error(`packctl search ${text}: ${result.status} ${result.stderr}`);
  return (JSON.parse(result.stdout) as { items: Array<{ name: string }> }).items.map((item) => item.name);
}

/**
 * packctl against the current registry process (its port changes with a restart), with the
 * test's own config, logged in as the pusher.
 */
function packctlAt(args: string[]) {
  return runPackctl([...args, '--server', oci.registry.url], { env });
}

/** `packctl login` as the pusher, into the test's own packctl config. */
async function packctlLogin(): Promise<void> {
  const login = await runPackctl(['login', oci.registry.url, '-u', oci.pusher.username, '--password-stdin'], {
    env,
    input: `${oci.pusher.password}\n`,
  });
  if (login.status !== 0) throw new Error(`packctl login: ${login.stderr}`);
}

beforeAll(async () => {
  env = { PACKCTL_CONFIG: path.join(oci.dir, 'packctl.json') };
  await packctlLogin();
});

describe('a pack pushed as ORAS 1.0 pushes it', () => {
  let pack: Awaited<ReturnType<typeof tarSamplePack>>;
  let pushed: { answer: OciResponse; manifest: Buffer };

  beforeAll(async () => {
    pack = await tarSamplePack('lb-metallb');
    pushed = await orasPush(repositoryOf(pack.name), pack.version, {
      bytes: pack.bytes,
      title: `${pack.name}-${pack.version}.tar.gz`,
    });
  });

  it('is accepted as a publish', () => {
    expect(pushed.answer.status, pushed.answer.bytes.toString()).toBe(201);
    expect(pushed.answer.headers.get('docker-content-digest')).toBe(sha256(pushed.manifest));
  });

  it('is found by packctl search and fetched by packctl pull', async () => {
    await eventually(async () => (await searchNames(pack.name)).includes(pack.name), 10_000);
    const out = path.join(oci.dir, 'pulled');
    const pulled = await packctlAt([
      'pull',
      `${pack.name}@${pack.version}`,
      '--registry',
      'edge-packs',
      '-o',
      out,
      '--extract',
      '--format',
      'json',
    ]);
    expect(pulled.status, pulled.stderr).toBe(0);
    const result = JSON.parse(pulled.stdout) as { file: string; digest: string; extracted: string };
    expect(sha256(await readFile(result.file))).toBe(result.digest);
    for (const file of ['pack.json', 'values.yaml', 'manifests/metallb-native.yaml']) {
      expect(await readFile(path.join(result.extracted, file), 'utf8'), file).toBe(
        await readFile(path.join(SAMPLE_PACKS, 'lb-metallb', file), 'utf8'),
      );
    }
  });

  it('is served again through /v2/ byte-identical, manifest and layer', async () => {
    const repository = repositoryOf(pack.name);
    const byTag = await getManifest(repository, pack.version);
    expect(byTag.status).toBe(200);
    expect(byTag.bytes.equals(pushed.manifest)).toBe(true);
    expect(byTag.headers.get('docker-content-digest')).toBe(sha256(pushed.manifest));
    const byDigest = await getManifest(repository, sha256(pushed.manifest));
    expect(byDigest.bytes.equals(pushed.manifest)).toBe(true);
    const layer = await request('GET', `/v2/${repository}/blobs/${sha256(pack.bytes)}`);
    expect(layer.status).toBe(200);
    expect(layer.bytes.equals(pack.bytes)).toBe(true);
    const tags = await request('GET', `/v2/${repository}/tags/list`);
    expect(tags.json()).toEqual({ name: repository, tags: [pack.version] });
  });

  it('is a no-op when pushed again with the same content, and never moves to other content', async () => {
    const again = await orasPush(repositoryOf(pack.name), pack.version, {
      bytes: pack.bytes,
      title: `${pack.name}-${pack.version}.tar.gz`,
    });
    expect(again.answer.status, again.answer.bytes.toString()).toBe(201);
    // Other bytes for the same version: the pack changed after it was published.
    const changed = path.join(oci.dir, 'changed');
    await cp(path.join(SAMPLE_PACKS, 'lb-metallb'), path.join(changed, 'lb-metallb'), { recursive: true });
    await writeFile(path.join(changed, 'lb-metallb', 'README.md'), 'changed after publishing\n');
    const tar = spawnSync('tar', ['-czf', '-', 'lb-metallb'], { cwd: changed });
    expect(tar.status).toBe(0);
    const moved = await orasPush(repositoryOf(pack.name), pack.version, {
      bytes: tar.stdout,
      title: `${pack.name}-${pack.version}.tar.gz`,
    });
    expect(moved.answer.status).toBeGreaterThanOrEqual(400);
    expect(moved.answer.status).toBeLessThan(500);
    expect(errorCodes(moved.answer).length).toBeGreaterThan(0);
    const byTag = await getManifest(repositoryOf(pack.name), pack.version);
    expect(byTag.bytes.equals(pushed.manifest)).toBe(true);
  });

  it('shows its OCI reference in packctl show', async () => {
    const shown = await packctlAt(['show', `${pack.name}@${pack.version}`, '--registry', 'edge-packs']);
    expect(shown.status, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`${new URL(oci.registry.url).host}/${repositoryOf(pack.name)}:${pack.version}`);
  });
});

describe('a pack pushed as ORAS 1.1 pushes it', () => {
  it('is a publish too: artifactType, the empty config and a +gzip layer', async () => {
    const pack = await tarSamplePack('cert-manager');
    const pushed = await orasPush(repositoryOf(pack.name), pack.version, {
      bytes: pack.bytes,
      title: `${pack.name}-${pack.version}.tar.gz`,
      oras11: true,
    });
    expect(pushed.answer.status, pushed.answer.bytes.toString()).toBe(201);
    await eventually(async () => (await searchNames(pack.name)).includes(pack.name), 10_000);
    const byTag = await getManifest(repositoryOf(pack.name), pack.version);
    expect(byTag.bytes.equals(pushed.manifest)).toBe(true);
  });
});

describe('a pack published with packctl push', () => {
  const name = 'cni-calico';
  const version = '3.27.2';

  it('is pullable through /v2/ as an ORAS-shaped artifact with a stable digest, across a restart', async () => {
    const push = await packctlAt(['push', path.join(SAMPLE_PACKS, 'cni-calico'), '--registry', 'edge-packs']);
    expect(push.status, push.stderr).toBe(0);
    const repository = repositoryOf(name);
    const first = await getManifest(repository, version);
    expect(first.status, first.bytes.toString()).toBe(200);
    const second = await getManifest(repository, version);
    expect(second.bytes.equals(first.bytes)).toBe(true);
    const digest = first.headers.get('docker-content-digest');
    expect(digest).toBe(sha256(first.bytes));

    const manifest = first.json() as ImageManifest;
    expect(manifest.config.mediaType).toBe(ORAS_CONFIG);
    expect(manifest.layers).toHaveLength(1);
    const [layer] = manifest.layers;
    expect(layer?.mediaType).toMatch(/^application\/vnd\.oci\.image\.layer\.v1\.tar(\+gzip)?$/);
    expect(layer?.annotations?.[TITLE]).toBe(`${name}-${version}.tar.gz`);
    const blob = await request('GET', `/v2/${repository}/blobs/${layer?.digest ?? ''}`);
    expect(blob.status).toBe(200);
    expect(sha256(blob.bytes)).toBe(layer?.digest);
    const again = await request('GET', `/v2/${repository}/blobs/${layer?.digest ?? ''}`);
    expect(again.bytes.equals(blob.bytes)).toBe(true);
    // The layer is the pack as Palette expects it: a gzipped tar holding pack.json.
    const layerFile = path.join(oci.dir, 'calico-layer.tar.gz');
    await writeFile(layerFile, blob.bytes);
    const listing = spawnSync('tar', ['-tzf', layerFile], { encoding: 'utf8' });
    expect(listing.status, listing.stderr).toBe(0);
    expect(listing.stdout.split('\n')).toEqual(expect.arrayContaining([expect.stringMatching(/(^|\/)pack\.json$/)]));

    await oci.restart();
    const restarted = await getManifest(repository, version);
    expect(restarted.status).toBe(200);
    expect(restarted.bytes.equals(first.bytes)).toBe(true);
    const blobAfter = await request('GET', `/v2/${repository}/blobs/${layer?.digest ?? ''}`);
    expect(blobAfter.bytes.equals(blob.bytes)).toBe(true);
    // packctl's saved login names the old port: log in again for the tests after this one.
    await packctlLogin();
  });
});

/** A python3 `tarfile` script: the sample pack under TOP/ with pack.json replaced, plus one hostile entry. */
const CRAFT_TAR = `
import io, json, os, sys, tarfile
out, src, top, pack_json, kind = sys.argv[1:6]
def add_bytes(tar, name, data, **fields):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    for key, value in fields.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data))
with tarfile.open(out, 'w:gz', format=tarfile.PAX_FORMAT) as tar:
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for f in sorted(files):
            rel = os.path.relpath(os.path.join(root, f), src)
            if rel != 'pack.json':
                tar.add(os.path.join(root, f), arcname=top + '/' + rel)
    add_bytes(tar, top + '/pack.json', pack_json.encode())
    if kind == 'traversal':
        add_bytes(tar, top + '/../../escaped.yaml', b'escaped: true\\n')
    elif kind == 'absolute':
        add_bytes(tar, '/tmp/packyard-absolute.yaml', b'absolute: true\\n')
    elif kind == 'symlink':
        link = tarfile.TarInfo(top + '/values-link.yaml')
        link.type = tarfile.SYMTYPE
        link.linkname = '../../../../etc/passwd'
        tar.addfile(link)
    elif kind == 'hardlink':
        link = tarfile.TarInfo(top + '/passwd')
        link.type = tarfile.LNKTYPE
        link.linkname = '../../etc/passwd'
        tar.addfile(link)
    elif kind == 'device':
        device = tarfile.TarInfo(top + '/null')
        device.type = tarfile.CHRTYPE
        device.devmajor, device.devminor = 1, 3
        tar.addfile(device)
    elif kind == 'bomb':
        add_bytes(tar, top + '/images/zeros.bin', bytes(64 * 1024 * 1024))
`;

describe('hostile pack layers', () => {
  /** lb-metallb's pack.json renamed to `name` at `version`. */
  async function packJson(name: string, version: string): Promise<string> {
    const original = JSON.parse(await readFile(path.join(SAMPLE_PACKS, 'lb-metallb', 'pack.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    return JSON.stringify({ ...original, name, version });
  }

  async function craft(kind: string, top: string, json: string): Promise<Buffer> {
    const dir = path.join(oci.dir, 'hostile');
    await mkdir(dir, { recursive: true });
    const out = path.join(dir, `${kind}-${top}.tar.gz`);
    const result = spawnSync(
      'python3',
      ['-c', CRAFT_TAR, out, path.join(SAMPLE_PACKS, 'lb-metallb'), top, json, kind],
      { encoding: 'utf8' },
    );
    if (result.status !== 0) throw new Error(`crafting the ${kind} tar failed: ${result.stderr}`);
    return readFile(out);
  }

  const cases: Array<{ title: string; kind: string; name: string; repository?: string; tag?: string; json?: string }> =
    [
      { title: 'a path that climbs out of the pack', kind: 'traversal', name: 'hostile-traversal' },
      { title: 'an absolute path', kind: 'absolute', name: 'hostile-absolute' },
      { title: 'a symlink pointing out of the pack', kind: 'symlink', name: 'hostile-symlink' },
      { title: 'a hard link to a file outside the pack', kind: 'hardlink', name: 'hostile-hardlink' },
      { title: 'a device file', kind: 'device', name: 'hostile-device' },
      { title: 'a gzip bomb (64 MiB of zeros)', kind: 'bomb', name: 'hostile-bomb' },
      {
        title: "a pack.json name that is not the repository's",
        kind: 'plain',
        name: 'hostile-name',
        repository: 'hostile-other-name',
      },
      { title: 'a pack.json version that is not the tag', kind: 'plain', name: 'hostile-tag', tag: '9.9.9' },
      {
        title: 'a pack.json that fails the schema',
        kind: 'plain',
        name: 'hostile-schema',
        json: JSON.stringify({ name: 'hostile-schema', version: '1.0.0', layer: 'not-a-layer' }),
      },
      { title: 'a pack.json that is not JSON', kind: 'plain', name: 'hostile-json', json: '{"name": "hostile-json",' },
    ];

  for (const hostile of cases) {
    it(`refuses ${hostile.title}, storing nothing`, async () => {
      const version = '1.0.0';
      const tag = hostile.tag ?? version;
      const repository = repositoryOf(hostile.repository ?? hostile.name);
      const layer = await craft(hostile.kind, hostile.name, hostile.json ?? (await packJson(hostile.name, version)));
      const { answer } = await orasPush(repository, tag, { bytes: layer, title: `${hostile.name}-${version}.tar.gz` });
      expect(answer.status, answer.bytes.toString()).toBeGreaterThanOrEqual(400);
      expect(answer.status, answer.bytes.toString()).toBeLessThan(500);
      const codes = errorCodes(answer);
      expect(codes.length, answer.bytes.toString()).toBeGreaterThan(0);
      expect(['MANIFEST_INVALID', 'DENIED']).toContain(codes[0]);

      expect((await getManifest(repository, tag)).status).toBe(404);
      const tags = await request('GET', `/v2/${repository}/tags/list`);
      const listed = (tags.json() as { tags?: string[] | null } | undefined)?.tags ?? [];
      expect(listed).toEqual([]);
      const catalog = await request('GET', '/v2/_catalog?n=1000');
      expect((catalog.json() as { repositories: string[] }).repositories).not.toContain(repository);
      expect(await searchNames(hostile.name)).toEqual([]);
      // As the operator, who sees everything: no version record either.
      const v1 = await fetch(`${oci.registry.url}/v1/registries/edge-packs/packs/${hostile.name}`, { headers: AUTH });
      expect(v1.status).toBe(404);
    });
  }
});
