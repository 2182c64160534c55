/**
 * skopeo (Debian's, a real registry client) against a `pack-registry` process with authentication
 * on (issue 13): a multi-layer image in an OCI layout directory is copied into a project registry
 * with `--dest-creds` and back into a new layout with `--src-creds`, digest-identical; `inspect`
 * and `list-tags` read it; without credentials it is not readable.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, expect, it } from 'vitest';
import {
  describeWhenAvailable,
  OCI_MANIFEST as MANIFEST,
  sha256,
  toolProblem,
  useOciRegistry,
  type Descriptor,
  type ImageManifest,
} from './oci-helpers.js';
import { SAMPLE_PACKS } from './helpers.js';

const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

/** Writes `bytes` as a blob of the layout `dir`; returns its descriptor. */
async function writeBlob(dir: string, mediaType: string, bytes: Buffer): Promise<Descriptor> {
  const digest = sha256(bytes);
  await writeFile(path.join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)), bytes);
  return { mediaType, digest, size: bytes.length };
}

/**
 * An OCI image layout with one image of `layers` gzipped tar layers of random files (tar and gzip
 * from the system, as image builders produce them), tagged `tag`; returns its manifest digest.
 */
async function writeImageLayout(dir: string, work: string, tag: string, layers: number): Promise<string> {
  const tarballs: Array<{ mediaType: string; bytes: Buffer }> = [];
  const diffIds: string[] = [];
  for (let index = 0; index < layers; index++) {
    const root = path.join(work, `layer-${index}`);
    await mkdir(path.join(root, 'data'), { recursive: true });
    for (let file = 0; file < 3; file++) {
      await writeFile(path.join(root, 'data', `file-${index}-${file}.bin`), randomBytes(16_384 + index * 40_000));
    }
    const tar = spawnSync('tar', ['-czf', '-', '-C', root, 'data'], { maxBuffer: 64 * 1024 * 1024 });
    if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr.toString()}`);
    tarballs.push({ mediaType: LAYER, bytes: tar.stdout });
    diffIds.push(sha256(gunzipSync(tar.stdout)));
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/bin/true'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
    }),
  );
  return writeArtifactLayout(
    dir,
    tag,
    { mediaType: 'application/vnd.oci.image.config.v1+json', bytes: config },
    tarballs,
  );
}

/**
 * An OCI image layout of one manifest (`config` and `layers` as given: a pack as ORAS pushes it, a
 * cosign signature) tagged `tag`; returns the manifest's digest.
 */
async function writeArtifactLayout(
  dir: string,
  tag: string,
  config: { mediaType: string; bytes: Buffer },
  layers: Array<{ mediaType: string; bytes: Buffer }>,
): Promise<string> {
  await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MANIFEST,
    config: await writeBlob(dir, config.mediaType, config.bytes),
    layers: await Promise.all(layers.map((layer) => writeBlob(dir, layer.mediaType, layer.bytes))),
  };
  const descriptor = await writeBlob(dir, MANIFEST, Buffer.from(JSON.stringify(manifest)));
  const index = {
    schemaVersion: 2,
    manifests: [{ ...descriptor, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  };
  await writeFile(path.join(dir, 'index.json'), JSON.stringify(index));
  await writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  return descriptor.digest;
}

/** The manifest a layout's index names for `tag`, with its digest, read from the layout. */
async function readLayout(dir: string, tag: string): Promise<{ digest: string; manifest: ImageManifest }> {
  const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!entry) throw new Error(`${dir} has no image tagged ${tag}: ${JSON.stringify(index)}`);
  const manifest = JSON.parse(await readBlob(dir, entry.digest)) as ImageManifest;
  return { digest: entry.digest, manifest };
}

async function readBlob(dir: string, digest: string): Promise<string> {
  const bytes = await readFile(path.join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)));
  expect(sha256(bytes), `the blob file of ${digest} holds other bytes`).toBe(digest);
  return bytes.toString('utf8');
}

describeWhenAvailable(
  'skopeo against pack-registry (fs store)',
  [toolProblem('skopeo', ['--version'], 'install it with apt-get install skopeo (.ci/run does)')],
  () => {
    const oci = useOciRegistry('fs', {
      tenant: 'acme',
      project: 'edge',
      registry: 'edge-oci',
      username: 'skopeo-user',
    });
    let host: string;
    let creds: string;

    /** Runs skopeo with the test's own HOME (no auth file of the user's is read or written). */
    async function skopeo(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
      const child = spawn('skopeo', ['--insecure-policy', ...args], {
        env: { PATH: process.env['PATH'], HOME: oci.dir, REGISTRY_AUTH_FILE: path.join(oci.dir, 'auth.json') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const status = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      return { status, stdout, stderr };
    }

    /**
     * `skopeo copy` with the registry side (the destination of a push, the source of a pull) over
     * plain HTTP with the user's credentials; digests must stay as they are.
     */
    async function copyImage(direction: 'push' | 'pull', from: string, to: string): Promise<void> {
      const side = direction === 'push' ? 'dest' : 'src';
      const copied = await skopeo([
        'copy',
        '--preserve-digests',
        `--${side}-tls-verify=false`,
        `--${side}-creds`,
        creds,
        from,
        to,
      ]);
      expect(copied.status, `skopeo copy ${from} ${to}: ${copied.stderr}`).toBe(0);
    }

    beforeAll(() => {
      host = new URL(oci.registry.url).host;
      creds = `${oci.pusher.username}:${oci.pusher.password}`;
    });

    it('copies a multi-layer image in and back out, digest-identical', async () => {
      const source = path.join(oci.dir, 'source-layout');
      const manifestDigest = await writeImageLayout(source, path.join(oci.dir, 'layers'), 'v1', 3);
      const image = `docker://${host}/${oci.pusher.namespace}/tools/skopeo-image`;

      await copyImage('push', `oci:${source}:v1`, `${image}:v1`);

      const copy = path.join(oci.dir, 'copy-layout');
      await copyImage('pull', `${image}:v1`, `oci:${copy}:v1`);

      const original = await readLayout(source, 'v1');
      const back = await readLayout(copy, 'v1');
      expect(original.digest).toBe(manifestDigest);
      expect(back.digest).toBe(manifestDigest);
      expect(back.manifest).toEqual(original.manifest);
      expect(back.manifest.layers).toHaveLength(3);
      for (const blob of [back.manifest.config, ...back.manifest.layers]) {
        expect(await readBlob(copy, blob.digest)).toBe(await readBlob(source, blob.digest));
      }
    });

    it('inspects the image and lists its tags', async () => {
      const image = `docker://${host}/${oci.pusher.namespace}/tools/skopeo-image`;
      const source = path.join(oci.dir, 'source-layout');
      const original = await readLayout(source, 'v1');
      // A second tag of the same image: every blob is already there.
      await copyImage('push', `oci:${source}:v1`, `${image}:v2`);

      const inspect = await skopeo(['inspect', '--tls-verify=false', '--creds', creds, `${image}:v1`]);
      expect(inspect.status, inspect.stderr).toBe(0);
      const inspected = JSON.parse(inspect.stdout) as { Digest: string; Layers: string[]; RepoTags: string[] };
      expect(inspected.Digest).toBe(original.digest);
      expect(inspected.Layers).toEqual(original.manifest.layers.map((layer) => layer.digest));
      expect(inspected.RepoTags).toEqual(['v1', 'v2']);

      const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', creds, `${image}:v2`]);
      expect(raw.status, raw.stderr).toBe(0);
      expect(sha256(Buffer.from(raw.stdout))).toBe(original.digest);

      const tags = await skopeo(['list-tags', '--tls-verify=false', '--creds', creds, image]);
      expect(tags.status, tags.stderr).toBe(0);
      expect(JSON.parse(tags.stdout)).toEqual({
        Repository: `${host}/${oci.pusher.namespace}/tools/skopeo-image`,
        Tags: ['v1', 'v2'],
      });
    });

    it('copies a signed pack, its version and its cosign signature tag, in and back out', async () => {
      // A pack as ORAS 1.0 pushes it (the Palette recipe), and a signature as cosign tags it.
      const packDir = path.join(oci.dir, 'signed-pack');
      await cp(path.join(SAMPLE_PACKS, 'lb-metallb'), packDir, { recursive: true });
      const { version } = JSON.parse(await readFile(path.join(packDir, 'pack.json'), 'utf8')) as { version: string };
      const tar = spawnSync('tar', ['-czf', '-', '-C', oci.dir, 'signed-pack'], { maxBuffer: 64 * 1024 * 1024 });
      expect(tar.status).toBe(0);
      const layouts = { pack: path.join(oci.dir, 'pack-layout'), sig: path.join(oci.dir, 'sig-layout') };
      const packDigest = await writeArtifactLayout(
        layouts.pack,
        version,
        { mediaType: 'application/vnd.unknown.config.v1+json', bytes: Buffer.from('{}') },
        [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', bytes: tar.stdout }],
      );
      const sigTag = `${packDigest.replace(':', '-')}.sig`;
      const payload = {
        critical: { image: { 'docker-manifest-digest': packDigest }, type: 'cosign container image signature' },
      };
      const sigDigest = await writeArtifactLayout(
        layouts.sig,
        sigTag,
        { mediaType: 'application/vnd.oci.image.config.v1+json', bytes: Buffer.from('{}') },
        [
          {
            mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
            bytes: Buffer.from(JSON.stringify(payload)),
          },
        ],
      );
      const repository = `docker://${host}/${oci.pusher.namespace}/spectro-packs/archive/lb-metallb`;
      await copyImage('push', `oci:${layouts.pack}:${version}`, `${repository}:${version}`);
      await copyImage('push', `oci:${layouts.sig}:${sigTag}`, `${repository}:${sigTag}`);

      const tags = await skopeo(['list-tags', '--tls-verify=false', '--creds', creds, repository]);
      expect(tags.status, tags.stderr).toBe(0);
      expect((JSON.parse(tags.stdout) as { Tags: string[] }).Tags).toEqual([version, sigTag]);
      for (const [tag, digest] of [
        [version, packDigest],
        [sigTag, sigDigest],
      ] as const) {
        const copy = path.join(oci.dir, `back-${tag}`);
        await copyImage('pull', `${repository}:${tag}`, `oci:${copy}:${tag}`);
        expect((await readLayout(copy, tag)).digest).toBe(digest);
      }
    });

    it('does not let an anonymous caller read a project registry', async () => {
      const image = `docker://${host}/${oci.pusher.namespace}/tools/skopeo-image`;
      const anonymous = await skopeo(['inspect', '--tls-verify=false', '--no-creds', `${image}:v1`]);
      expect(anonymous.status).not.toBe(0);
      expect(anonymous.stderr).toMatch(/unauthorized|authentication required/i);
      const tags = await skopeo(['list-tags', '--tls-verify=false', '--no-creds', image]);
      expect(tags.status).not.toBe(0);
    });
  },
);
