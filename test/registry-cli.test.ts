/**
 * packctl against a real pack-registry process on S3 (the s3rver of globalSetup), run as a user
 * runs them: login -> push -> search -> show -> pull -> verify, conflicts, auth failures, API keys,
 * and a hostile server whose archives lie about their digest or try to escape on extraction.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createHash } from 'node:crypto';
import { cp, lstat, mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { craftZip } from '../packages/pack-core/src/test-support/craft-zip.js';
import { tempDir } from '../packages/registry-server/src/test-support/test-registry.js';
import { PACKCTL, packctl, runPackctl, SAMPLE_PACKS, sha256File } from './helpers.js';
import { Agent, fetch as undiciFetch, type RequestInit } from 'undici';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const PASSWORD = 'ci password for packctl tests';

let work: Awaited<ReturnType<typeof tempDir>>;
/** The pack-registry on S3 that globalSetup started for the whole run. */
const registry = { url: inject('registryUrl') };
const AUTH = { Authorization: `Bearer ${inject('registryAdminToken')}` };
let env: NodeJS.ProcessEnv;

/**
 * This file's own requests to the shared registry drop a connection after one idle second. That
 * registry lives for the whole run and closes a connection idle for 65 s; undici keeps one for the
 * server's advertised 65 s less a 2 s threshold. After a minute of packctl runs in which this
 * process sent nothing (as before "pushes a profile to its tenant"), under load its idle timer
 * fired late and the next request went out on a connection the server was closing: "SocketError:
 * other side closed". Idle for one second at most, a connection is never the server's to close.
 * (A global dispatcher from this undici does not fit the fetch bundled with Node 20: own fetch.)
 */
const shared = new Agent({ keepAliveTimeout: 1_000, keepAliveMaxTimeout: 1_000 });
const sharedFetch = (url: string, init: RequestInit = {}) => undiciFetch(url, { ...init, dispatcher: shared });

async function api(method: string, url: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await sharedFetch(`${registry.url}${url}`, {
    method,
    headers: { ...AUTH, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

beforeAll(async () => {
  work = await tempDir('packyard-cli-e2e-');
  await api('POST', '/v1/tenants', { name: 'acme' });
  await api('POST', '/v1/tenants/acme/users', { username: 'ci', password: PASSWORD });
  await api('POST', '/v1/tenants/acme/bindings', { role: 'Tenant Admin', subject: { kind: 'user', name: 'ci' } });
  await api('POST', '/v1/registries', { name: 'acme-packs', scope: 'tenant', tenant: 'acme' });
  env = { PACKCTL_CONFIG: path.join(work.dir, 'packctl', 'config.json') };
}, 60_000);
afterAll(async () => {
  await shared.close();
  await work.cleanup();
});

/** `packctl pull REF --extract` from acme-packs into `out`: it succeeds and the file has its digest. */
function pullAndExtract(ref: string, out: string): { file: string; digest: string; extracted: string } {
  const pulled = packctl(['pull', ref, '--registry', 'acme-packs', '-o', out, '--extract', '--format', 'json'], {
    env,
  });
  expect(pulled.status, pulled.stderr).toBe(0);
  const result = JSON.parse(pulled.stdout) as { file: string; digest: string; extracted: string };
  expect(sha256File(result.file)).toBe(result.digest);
  return result;
}

describe('packctl with a registry', () => {
  it('logs in with a password from stdin and keeps the token in a 0600 file', async () => {
    const login = packctl(['login', registry.url, '-u', 'ci', '--password-stdin'], { env, input: `${PASSWORD}\n` });
    expect(login.stderr).toBe('');
    expect(login.status).toBe(0);
    expect(login.stdout).toContain(`Logged in to ${registry.url} as ci (tenant acme)`);
    const file = env['PACKCTL_CONFIG'] ?? '';
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await readFile(file, 'utf8')) as {
      auths: Record<string, { token?: string }>;
      defaultRegistry: string;
    };
    expect(saved.defaultRegistry).toBe(registry.url);
    expect(saved.auths[registry.url]?.token).toMatch(/^pya_/);
    const me = packctl(['whoami', '--format', 'json'], { env });
    expect(JSON.parse(me.stdout)).toMatchObject({ username: 'ci', tenant: 'acme' });
  });

  it('refuses a wrong password with exit code 3 and a hint', async () => {
    const wrong = await runPackctl(
      ['login', registry.url, '-u', 'ci', '--password-stdin', '--config', path.join(work.dir, 'other.json')],
      {
        input: 'not it\n',
      },
    );
    expect(wrong.status).toBe(3);
    expect(wrong.stderr).toContain('LOGIN_FAILED');
  });

  it('changes your password with passwd, given the current one', async () => {
    await api('POST', '/v1/tenants/acme/users', { username: 'pw-user', password: PASSWORD });
    const config = { PACKCTL_CONFIG: path.join(work.dir, 'passwd.json') };
    expect(
      (
        await runPackctl(['login', registry.url, '-u', 'pw-user', '--password-stdin'], {
          env: config,
          input: `${PASSWORD}\n`,
        })
      ).status,
    ).toBe(0);
    const wrong = await runPackctl(['passwd', '--password-stdin'], {
      env: config,
      input: 'not it\na new long password\n',
    });
    expect(wrong.status).toBe(3);
    expect(wrong.stderr).toContain('CURRENT_PASSWORD_INCORRECT');
    const oneLine = await runPackctl(['passwd', '--password-stdin'], { env: config, input: `${PASSWORD}\n` });
    expect(oneLine.status).toBe(2);
    const changed = await runPackctl(['passwd', '--password-stdin'], {
      env: config,
      input: `${PASSWORD}\na new long password\n`,
    });
    expect(changed.status, changed.stderr).toBe(0);
    expect(changed.stdout).toContain('Password changed');
    // The old password's sessions ended; the stored login was renewed with the new one.
    const whoami = await runPackctl(['whoami'], { env: config });
    expect(whoami.status, whoami.stderr).toBe(0);
    expect(whoami.stdout).toContain('pw-user');
    const relogin = (password: string) =>
      runPackctl(['login', registry.url, '-u', 'pw-user', '--password-stdin'], {
        env: config,
        input: `${password}\n`,
      });
    expect((await relogin(PASSWORD)).status).toBe(3);
    expect((await relogin('a new long password')).status).toBe(0);
  });

  it('pushes a pack directory, treats the same bytes again as a no-op, and explains a conflict', async () => {
    const pushed = packctl(['push', path.join(SAMPLE_PACKS, 'cni-calico'), '--registry', 'acme-packs'], { env });
    expect(pushed.status, pushed.stderr).toBe(0);
    expect(pushed.stdout).toMatch(/^pushed cni-calico@3\.27\.2 sha256:[0-9a-f]{64}$/m);
    const again = packctl(['push', path.join(SAMPLE_PACKS, 'cni-calico'), '--registry', 'acme-packs'], { env });
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('already there with the same bytes: cni-calico@3.27.2');

    const changed = path.join(work.dir, 'calico-changed');
    await cp(path.join(SAMPLE_PACKS, 'cni-calico'), changed, { recursive: true });
    await writeFile(path.join(changed, 'README.md'), '# Calico\n\nChanged without bumping the version.\n');
    const conflict = packctl(['push', changed, '--registry', 'acme-packs'], { env });
    expect(conflict.status).toBe(5);
    expect(conflict.stderr).toContain('PACK_VERSION_EXISTS');
    expect(conflict.stderr).toContain('hint: bump the version');
    // Scripts read the same failure from stdout with --format json; people still get it on stderr.
    const scripted = packctl(['push', changed, '--registry', 'acme-packs', '--format', 'json'], { env });
    expect(scripted.status).toBe(5);
    expect(JSON.parse(scripted.stdout)).toEqual({
      error: {
        code: 'PACK_VERSION_EXISTS',
        message: expect.stringContaining('already published in acme-packs with other content') as unknown,
        hint: expect.stringContaining('bump the version') as unknown,
      },
    });
    expect(scripted.stderr).toContain('PACK_VERSION_EXISTS');
    const forceWithoutMessage = packctl(['push', changed, '--registry', 'acme-packs', '--force'], { env });
    expect(forceWithoutMessage.status).toBe(2);
    // acme-packs was created without allowOverwrite: a forced push is a conflict that says so.
    const forced = packctl(['push', changed, '--registry', 'acme-packs', '--force', '-m', 'fix the README'], { env });
    expect(forced.status).toBe(5);
    expect(forced.stderr).toContain('OVERWRITE_NOT_ALLOWED');
  });

  it('finds the pack with search and show', async () => {
    const found = JSON.parse((await runPackctl(['search', 'calico', '--format', 'json'], { env })).stdout) as {
      items: Array<{ name: string; registry: string }>;
    };
    expect(found.items).toContainEqual(expect.objectContaining({ name: 'cni-calico', registry: 'acme-packs' }));
    const table = await runPackctl(['search', '--layer', 'cni', '--registry', 'acme-packs'], { env });
    expect(table.stdout).toMatch(/cni-calico\s+3\.27\.2\s+cni\s+acme-packs/);
    const shown = await runPackctl(['show', 'cni-calico', '--registry', 'acme-packs'], { env });
    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain('latest 3.27.2');
    expect(shown.stdout).toContain('required kubernetes (k8s) >= 1.27.0 <= 1.29');
    expect(shown.stdout).toContain('tags: 3.x -> 3.27.2');
    // Where Palette and `oras pull` find it: the tenant registry's namespace is <tenant>/<registry>.
    const reference = `${new URL(registry.url).host}/acme/acme-packs/spectro-packs/archive/cni-calico:3.27.2`;
    expect(shown.stdout).toContain(`oci: ${reference}`);
    const json = await runPackctl(['show', 'cni-calico@3.27.2', '--registry', 'acme-packs', '--format', 'json'], {
      env,
    });
    expect(JSON.parse(json.stdout)).toMatchObject({ name: 'cni-calico', version: '3.27.2', ociReference: reference });
    // In text, for people: labelled lines, no JSON.
    const text = await runPackctl(['show', 'cni-calico@3.27.2', '--registry', 'acme-packs'], { env });
    expect(text.stdout).toMatch(/^cni-calico@3\.27\.2 in acme-packs\n/);
    expect(text.stdout).toMatch(/^ {2}layer +cni$/m);
    expect(text.stdout).toMatch(/^ {2}digest +sha256:[0-9a-f]{64}$/m);
    expect(text.stdout.split('\n')).toContainEqual(expect.stringMatching(new RegExp(`^ {2}oci +${reference}$`)));
    expect(text.stdout).toContain('required kubernetes (k8s) >= 1.27.0 <= 1.29');
    expect(text.stdout).not.toContain('{');
  });

  it('shows a progress bar for a large push and pull on a terminal, and none otherwise', async () => {
    const big = path.join(work.dir, 'big-pack');
    await cp(path.join(SAMPLE_PACKS, 'cert-manager'), big, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(big, 'pack.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(path.join(big, 'pack.json'), JSON.stringify({ ...manifest, name: 'big-cert-manager' }));
    // Incompressible bytes: the archive stays past the 1 MiB a bar is shown from.
    await writeFile(path.join(big, 'manifests-data.bin'), randomBytes(3 * 1024 * 1024));
    // `script` gives packctl a pseudo-terminal, as a person's shell does.
    const onTerminal = (args: string[]) =>
      spawnSync('script', ['-qec', [process.execPath, PACKCTL, ...args].map((a) => `'${a}'`).join(' '), '/dev/null'], {
        env: { ...process.env, ...env, COLUMNS: '120' },
        encoding: 'utf8',
      });
    const pushed = onTerminal(['push', big, '--registry', 'acme-packs']);
    expect(pushed.status, pushed.stdout).toBe(0);
    expect(pushed.stdout).toMatch(
      /pushing big-cert-manager-[\d.]+\.zip \[[^\]]+\] 100% [\d.]+ MiB\/[\d.]+ MiB [\d.]+ \S+\/s ETA /,
    );
    const out = path.join(work.dir, 'big-pulled');
    const pulled = onTerminal(['pull', 'big-cert-manager', '--registry', 'acme-packs', '-o', out]);
    expect(pulled.status, pulled.stdout).toBe(0);
    expect(pulled.stdout).toMatch(/pulling big-cert-manager-[\d.]+\.zip \[[^\]]+\] 100% /);
    // Not a terminal (CI, a pipe): no bar.
    const piped = await runPackctl(['pull', 'big-cert-manager', '--registry', 'acme-packs', '-o', `${out}-2`], { env });
    expect(piped.status, piped.stderr).toBe(0);
    expect(piped.stderr).not.toContain('%');
  });

  it('pulls by line tag, verifies the digest and extracts', async () => {
    const out = path.join(work.dir, 'pulled');
    const result = pullAndExtract('cni-calico@3.27.x', out);
    expect(JSON.parse(await readFile(path.join(result.extracted, 'pack.json'), 'utf8'))).toMatchObject({
      name: 'cni-calico',
    });
    const missing = packctl(['pull', 'no-such-pack', '--registry', 'acme-packs', '-o', out], { env });
    expect(missing.status).toBe(4);
  });

  it('finds and pulls a pack pushed through OCI the Palette way, and pulls it back through /v2 byte for byte', async () => {
    // `tar -czf NAME-VERSION.tar.gz <pack dir>`, then what `oras push` 1.0 sends: config, layer, manifest.
    const layer = path.join(work.dir, 'lb-metallb-0.14.5.tar.gz');
    execFileSync('tar', ['-czf', layer, '-C', SAMPLE_PACKS, 'lb-metallb']);
    const layerBytes = await readFile(layer);
    const config = Buffer.from('{}');
    const digest = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const repository = `${registry.url}/v2/acme/acme-packs/spectro-packs/archive/lb-metallb`;
    for (const blob of [config, layerBytes]) {
      const pushed = await sharedFetch(`${repository}/blobs/uploads/?digest=${digest(blob)}`, {
        method: 'POST',
        headers: { ...AUTH, 'Content-Type': 'application/octet-stream' },
        body: blob,
      });
      expect(pushed.status).toBe(201);
    }
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.unknown.config.v1+json', digest: digest(config), size: 2 },
        layers: [
          {
            mediaType: 'application/vnd.oci.image.layer.v1.tar',
            digest: digest(layerBytes),
            size: layerBytes.length,
            annotations: { 'org.opencontainers.image.title': 'lb-metallb-0.14.5.tar.gz' },
          },
        ],
      }),
    );
    const put = await sharedFetch(`${repository}/manifests/0.14.5`, {
      method: 'PUT',
      headers: { ...AUTH, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
      body: manifest,
    });
    expect(put.status, await put.text()).toBe(201);

    const found = await runPackctl(['search', 'metallb', '--registry', 'acme-packs'], { env });
    expect(found.stdout).toMatch(/lb-metallb\s+0\.14\.5/);
    const result = pullAndExtract('lb-metallb@0.14.5', path.join(work.dir, 'pulled-oci'));
    expect(await readFile(path.join(result.extracted, 'values.yaml'), 'utf8')).toBe(
      await readFile(path.join(SAMPLE_PACKS, 'lb-metallb', 'values.yaml'), 'utf8'),
    );
    const again = await sharedFetch(`${repository}/manifests/0.14.5`, {
      headers: { ...AUTH, Accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(Buffer.from(await again.arrayBuffer()).equals(manifest)).toBe(true);
    const blob = await sharedFetch(`${repository}/blobs/${digest(layerBytes)}`, { headers: AUTH });
    expect(Buffer.from(await blob.arrayBuffer()).equals(layerBytes)).toBe(true);
  });

  it('signs in with an API key, and answers exit 3 once logged out', async () => {
    const { token } = JSON.parse(
      await (
        await sharedFetch(`${registry.url}/v1/auth/login`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ username: 'ci', password: PASSWORD }),
        })
      ).text(),
    ) as { token: string };
    const created = (await (
      await sharedFetch(`${registry.url}/v1/tenants/acme/users/ci/api-keys`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'packctl e2e' }),
      })
    ).json()) as { key: string };
    const keyEnv = { PACKCTL_CONFIG: path.join(work.dir, 'key-config.json') };
    expect((await runPackctl(['login', registry.url, '--api-key', created.key], { env: keyEnv })).status).toBe(0);
    expect(JSON.parse((await runPackctl(['whoami', '--format', 'json'], { env: keyEnv })).stdout)).toMatchObject({
      username: 'ci',
    });
    expect((await runPackctl(['server', 'ls'], { env: keyEnv })).stdout).toContain(`* ${registry.url}  ci (api-key)`);
    expect((await runPackctl(['logout'], { env: keyEnv })).status).toBe(0);
    const after = await runPackctl(['whoami', '--server', registry.url], { env: keyEnv });
    expect(after.status).toBe(3);
    expect(after.stderr).toContain(`packctl login ${registry.url}`);
  });
});

describe('packctl profile resolve against the registry', () => {
  it('resolves a profile into ordered layers, writes the lock, and checks it with --frozen', async () => {
    for (const pack of ['ubuntu-aws', 'kubernetes', 'csi-aws-ebs', 'prometheus-operator', 'cert-manager']) {
      const pushed = await runPackctl(['push', path.join(SAMPLE_PACKS, pack), '--registry', 'acme-packs', '--quiet'], {
        env,
      });
      expect(pushed.status, pushed.stderr).toBe(0);
    }
    const file = path.join(work.dir, 'prod-aws.yaml');
    await writeFile(
      file,
      [
        'name: prod-aws',
        'version: 1.0.0',
        'cloudType: aws',
        'registries: [acme-packs]',
        'packs:',
        '  - { name: prometheus-operator, version: ^45.0.0, values: "charts: { kube-prometheus-stack: { grafana: { enabled: false } } }" }',
        '  - { name: cert-manager, version: 1.14.x }',
        '  - { name: cni-calico, version: 3.27.x }',
        '  - { name: kubernetes, version: ">=1.29 <1.30" }',
        '  - { name: csi-aws-ebs, version: "1.x" }',
        '  - { name: ubuntu-aws, version: "22.4" }',
        '',
      ].join('\n'),
    );
    const resolved = await runPackctl(['profile', 'resolve', file, '--format', 'json'], { env });
    expect(resolved.status, resolved.stderr).toBe(0);
    const result = JSON.parse(resolved.stdout) as {
      layers: Array<{ name: string; version: string; layer: string; values: string }>;
      problems: unknown[];
    };
    expect(result.problems).toEqual([]);
    expect(result.layers.map((l) => `${l.layer}:${l.name}@${l.version}`)).toEqual([
      'os:ubuntu-aws@22.4.5',
      'k8s:kubernetes@1.29.4',
      'cni:cni-calico@3.27.2',
      'csi:csi-aws-ebs@1.28.0',
      'addon:prometheus-operator@45.25.0',
      'addon:cert-manager@1.14.4',
    ]);
    expect(result.layers.find((l) => l.name === 'prometheus-operator')?.values).toMatch(/grafana:\s+enabled: false/);
    const lock = JSON.parse(await readFile(`${file}.lock`, 'utf8')) as { layers: Array<{ digest: string }> };
    expect(lock.layers).toHaveLength(6);
    expect((await runPackctl(['profile', 'resolve', file, '--frozen'], { env })).status).toBe(0);

    await writeFile(`${file}.lock`, JSON.stringify({ ...lock, layers: lock.layers.slice(1) }));
    const stale = await runPackctl(['profile', 'resolve', file, '--frozen'], { env });
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain('no longer matches');

    // A lock path that is a symbolic link to a file elsewhere: replaced, never written through.
    const victim = path.join(work.dir, 'victim.txt');
    await writeFile(victim, 'VICTIM\n');
    await rm(`${file}.lock`);
    await symlink(victim, `${file}.lock`);
    const linked = await runPackctl(['profile', 'resolve', file], { env });
    expect(linked.status, linked.stderr).toBe(0);
    expect(await readFile(victim, 'utf8')).toBe('VICTIM\n');
    expect((await lstat(`${file}.lock`)).isFile()).toBe(true);
    // A FIFO, or a device, as the profile or its lock: refused at once, nothing read or waited on.
    const fifo = path.join(work.dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    for (const args of [
      ['profile', 'resolve', fifo],
      ['profile', 'resolve', '/dev/zero'],
    ]) {
      // In a process of its own, killed after a while: a packctl waiting on the FIFO fails the test.
      const refused = packctl(args, { env });
      expect(refused.status, args.join(' ')).toBe(1);
      expect(refused.stderr).toContain('is not a regular file');
    }
    await rm(`${file}.lock`);
    execFileSync('mkfifo', [`${file}.lock`]);
    const frozenFifo = packctl(['profile', 'resolve', file, '--frozen'], { env });
    expect(frozenFifo.status).toBe(1);
    expect(frozenFifo.stderr).toContain('is not a regular file');
    await rm(`${file}.lock`);
  });

  it('lists every problem with the pack that caused it, and exits 1', async () => {
    const file = path.join(work.dir, 'broken.yaml');
    await writeFile(
      file,
      'name: broken\nversion: 1.0.0\ncloudType: azure\nregistries: [acme-packs]\npacks:\n  - { name: kubernetes, version: 1.31.x }\n  - { name: ubuntu-aws, version: 22.4.x }\n  - { name: missing-pack, version: 1.x }\n',
    );
    const result = await runPackctl(['profile', 'resolve', file], { env });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('problem (kubernetes): no version of kubernetes in acme-packs satisfies 1.31.x');
    expect(result.stderr).toContain('problem (ubuntu-aws): ubuntu-aws@22.4.5 supports aws, not azure');
    expect(result.stderr).toContain('problem (missing-pack): missing-pack is in none of the registries acme-packs');
    expect(result.stderr).toContain('a cluster profile needs one cni pack');
  });
});

describe('packctl: versions, profiles on the server, air-gap pulls, token refresh', () => {
  it('deprecates (the resolver then skips the version), undeprecates and removes versions', async () => {
    const deprecated = await runPackctl(
      ['deprecate', 'cert-manager@1.14.4', '-m', 'use 1.15', '--registry', 'acme-packs'],
      {
        env,
      },
    );
    expect(deprecated.status, deprecated.stderr).toBe(0);
    const file = path.join(work.dir, 'cm.yaml');
    await writeFile(
      file,
      'name: cm\nversion: 1.0.0\ntype: add-on\nregistries: [acme-packs]\npacks:\n  - { name: cert-manager, version: 1.14.x }\n',
    );
    const skipped = await runPackctl(['profile', 'resolve', file, '--no-lock'], { env });
    expect(skipped.status).toBe(1);
    // Why it was skipped, and how to take it anyway.
    expect(skipped.stderr).toContain(
      'no version of cert-manager in acme-packs satisfies 1.14.x but deprecated ones: 1.14.4 is deprecated: use 1.15; ' +
        'choose another version, or pin 1.14.4 to use it anyway',
    );
    // A pin resolves, with a warning; show says who deprecated it and why.
    const pinnedFile = path.join(work.dir, 'cm-pinned.yaml');
    await writeFile(pinnedFile, (await readFile(file, 'utf8')).replace('1.14.x', '1.14.4'));
    const pinned = await runPackctl(['profile', 'resolve', pinnedFile, '--no-lock'], { env });
    expect(pinned.stderr).toContain('warning (cert-manager): cert-manager@1.14.4 is deprecated: use 1.15');
    const listed = await runPackctl(['show', 'cert-manager', '--registry', 'acme-packs'], { env });
    expect(listed.stdout).toMatch(/1\.14\.4 .* deprecated: use 1\.15\n/);
    const shown = await runPackctl(['show', 'cert-manager@1.14.4', '--registry', 'acme-packs'], { env });
    expect(shown.stdout).toMatch(/^ {2}deprecated +use 1\.15 \(acme\/ci, \d{4}-/m);
    expect(
      (await runPackctl(['deprecate', 'cert-manager@1.14.4', '--undo', '--registry', 'acme-packs'], { env })).status,
    ).toBe(0);
    // Now 1.14.4 is chosen again; the add-on profile still lacks the kubernetes it requires.
    const chosen = await runPackctl(['profile', 'resolve', file, '--no-lock'], { env });
    expect(chosen.stderr).not.toContain('no version of cert-manager');
    expect(chosen.stderr).toContain('cert-manager@1.14.4 requires kubernetes 1.26.0 to 1.30');

    expect(
      (await runPackctl(['rm', 'cert-manager@1.14.4', '--registry', 'acme-packs', '-m', 'test'], { env })).status,
    ).toBe(0);
    expect(
      (
        await runPackctl(['pull', 'cert-manager@1.14.4', '--registry', 'acme-packs', '-o', path.join(work.dir, 'x')], {
          env,
        })
      ).status,
    ).toBe(4);
  });

  it('pulls every pack of a profile with the lock, for an air-gapped site', async () => {
    const file = path.join(work.dir, 'prod-aws.yaml');
    const out = path.join(work.dir, 'airgap');
    const pulled = await runPackctl(['profile', 'pull', file, '-o', out, '--format', 'json'], { env });
    // cert-manager was removed above: the profile no longer resolves, and says why.
    expect(pulled.status).toBe(1);
    await writeFile(file, (await readFile(file, 'utf8')).replace('  - { name: cert-manager, version: 1.14.x }\n', ''));
    const again = await runPackctl(['profile', 'pull', file, '-o', out, '--format', 'json'], { env });
    expect(again.status, again.stderr).toBe(0);
    const result = JSON.parse(again.stdout) as { files: string[]; lock: string };
    const lock = JSON.parse(await readFile(result.lock, 'utf8')) as { layers: Array<{ name: string; digest: string }> };
    expect(result.files).toHaveLength(5);
    for (const [index, layer] of lock.layers.entries())
      expect(sha256File(result.files[index] ?? '')).toBe(layer.digest);
    // The pulled copy and its lock go together: the frozen check reads the lock pull wrote.
    expect(result.lock).toBe(path.join(out, 'prod-aws.yaml.lock'));
    const frozen = await runPackctl(['profile', 'resolve', path.join(out, 'prod-aws.yaml'), '--frozen'], { env });
    expect(frozen.status, frozen.stderr).toBe(0);

    // Links planted where pull writes the copy and the lock: replaced, the files they point to untouched.
    const victims = [path.join(work.dir, 'victim-copy.txt'), path.join(work.dir, 'victim-lock.txt')];
    for (const [index, name] of ['prod-aws.yaml', 'prod-aws.yaml.lock'].entries()) {
      await writeFile(victims[index] ?? '', 'VICTIM\n');
      await rm(path.join(out, name));
      await symlink(victims[index] ?? '', path.join(out, name));
    }
    const relinked = await runPackctl(['profile', 'pull', file, '-o', out], { env });
    expect(relinked.status, relinked.stderr).toBe(0);
    for (const victim of victims) expect(await readFile(victim, 'utf8')).toBe('VICTIM\n');
    expect(await readFile(path.join(out, 'prod-aws.yaml'), 'utf8')).toBe(await readFile(file, 'utf8'));
  });

  it('pushes a profile to its tenant, creating it and then replacing it', async () => {
    const file = path.join(work.dir, 'prod-aws.yaml');
    const first = await runPackctl(['profile', 'push', file, '--tenant', 'acme'], { env });
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain('created prod-aws@1.0.0 (tenant scope, revision 1)');
    // The same profile again is a no-op: no new revision.
    const same = await runPackctl(['profile', 'push', file, '--tenant', 'acme'], { env });
    expect(same.stdout).toContain('unchanged prod-aws@1.0.0 (tenant scope, revision 1)');
    const changed = path.join(work.dir, 'prod-aws-changed.yaml');
    await writeFile(changed, `${await readFile(file, 'utf8')}description: the production stack on AWS\n`);
    const second = await runPackctl(['profile', 'push', changed, '--tenant', 'acme'], { env });
    expect(second.stdout).toContain('replaced prod-aws@1.0.0 (tenant scope, revision 2)');
    const stored = await api('GET', '/v1/tenants/acme/cluster-profiles/prod-aws');
    expect(stored).toMatchObject({ scope: 'tenant', name: 'prod-aws', revision: 2 });
    // Without --tenant, a tenant user's profile goes to their own tenant (the system scope is the operator's).
    const own = await runPackctl(['profile', 'push', file], { env });
    expect(own.status, own.stderr).toBe(0);
    expect(own.stdout).toContain('replaced prod-aws@1.0.0 (tenant scope, revision 3)');
  });

  it('lists, shows, diffs and removes stored profiles', async () => {
    const file = path.join(work.dir, 'prod-aws.yaml');
    const listed = await runPackctl(['profile', 'ls'], { env });
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^prod-aws +1\.0\.0 +tenant acme +3 +- /m);
    // A page at a time: the tenant's own profile first, then the next page (the system's).
    await api('POST', '/v1/cluster-profiles', {
      name: 'sys-base',
      version: '1.0.0',
      packs: [{ name: 'kubernetes', version: '1.29.x' }],
    });
    const firstPage = await runPackctl(['profile', 'ls', '--limit', '1', '--format', 'json'], { env });
    expect(firstPage.status, firstPage.stderr).toBe(0);
    const json = JSON.parse(firstPage.stdout) as { items: Array<{ name: string }>; nextCursor: string };
    expect(json.items.map((p) => p.name)).toEqual(['prod-aws']);
    const firstTable = await runPackctl(['profile', 'ls', '--limit', '1'], { env });
    expect(firstTable.stderr).toContain(`more: packctl profile ls --cursor ${json.nextCursor} --limit 1\n`);
    const nextPage = await runPackctl(['profile', 'ls', '--limit', '1', '--cursor', json.nextCursor], { env });
    expect(nextPage.status, nextPage.stderr).toBe(0);
    expect(nextPage.stdout).toMatch(/^sys-base +1\.0\.0 +system \(inherited\) +1 +- /m);
    expect(nextPage.stderr).not.toContain('more:');
    const shown = await runPackctl(['profile', 'show', 'prod-aws'], { env });
    expect(shown.stdout).toMatch(/^# prod-aws@1\.0\.0: tenant acme, revision 3, updated /);
    expect(shown.stdout).toMatch(/^name: prod-aws$/m);
    // diff exits 0 when the file is what is stored, 1 with a unified diff when not.
    const same = await runPackctl(['profile', 'diff', file], { env });
    expect(same.status, same.stderr).toBe(0);
    expect(same.stdout).toContain('prod-aws.yaml is prod-aws (stored, revision 3): the same');
    const differs = await runPackctl(['profile', 'diff', path.join(work.dir, 'prod-aws-changed.yaml')], { env });
    expect(differs.status).toBe(1);
    expect(differs.stdout).toContain('--- prod-aws (stored, revision 3)');
    expect(differs.stdout).toMatch(/^\+description: the production stack on AWS$/m);
    // Stored revisions, by number: 1 (created), 2 (with a description), 3 (without again).
    const twoRevisions = await runPackctl(['profile', 'diff', 'prod-aws', '--revision', '1', '--revision', '2'], {
      env,
    });
    expect(twoRevisions.status).toBe(1);
    expect(twoRevisions.stdout).toContain('--- prod-aws (stored, revision 1)');
    expect(twoRevisions.stdout).toContain('+++ prod-aws (stored, revision 2)');
    expect(twoRevisions.stdout).toMatch(/^\+description: the production stack on AWS$/m);
    expect((await runPackctl(['profile', 'diff', 'prod-aws', '--revision', '1'], { env })).status).toBe(0);
    expect((await runPackctl(['profile', 'diff', file, '--revision', '2'], { env })).status).toBe(1);
    expect((await runPackctl(['profile', 'diff', 'prod-aws'], { env })).status).toBe(2);
    const removed = await runPackctl(['profile', 'rm', 'prod-aws'], { env });
    expect(removed.status, removed.stderr).toBe(0);
    expect(removed.stdout).toContain('removed prod-aws (tenant acme)');
    const gone = await runPackctl(['profile', 'show', 'prod-aws', '--format', 'json'], { env });
    expect(gone.status).toBe(4);
    expect(JSON.parse(gone.stdout)).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('refreshes a stored token shortly before it expires', async () => {
    const file = env['PACKCTL_CONFIG'] ?? '';
    const saved = JSON.parse(await readFile(file, 'utf8')) as {
      auths: Record<string, { token: string; expiresAt: string }>;
    };
    const entry = saved.auths[registry.url];
    if (!entry) throw new Error('not logged in');
    const before = entry.token;
    entry.expiresAt = new Date(Date.now() + 30_000).toISOString();
    await writeFile(file, JSON.stringify(saved));
    expect((await runPackctl(['whoami'], { env })).status).toBe(0);
    const after = JSON.parse(await readFile(file, 'utf8')) as typeof saved;
    expect(after.auths[registry.url]?.token).not.toBe(before);
    expect(Date.parse(after.auths[registry.url]?.expiresAt ?? '')).toBeGreaterThan(Date.now() + 60_000);
    // PACKCTL_TOKEN wins over the file (CI), and a bad one is refused with exit 3.
    expect((await runPackctl(['whoami'], { env: { ...env, PACKCTL_TOKEN: 'pyk_0000000000000000_bad' } })).status).toBe(
      3,
    );
  });
});

describe('packctl pull from a hostile server', () => {
  let server: Server;
  let url: string;
  const honest = craftZip([
    { name: 'pack.json', data: '{"name":"evil","displayName":"Evil","version":"1.0.0","layer":"addon"}' },
  ]);
  const escaping = craftZip([
    { name: 'pack.json', data: '{"name":"evil","displayName":"Evil","version":"1.0.0","layer":"addon"}' },
    { name: '../escaped.txt', data: 'outside' },
  ]);
  const digestOf = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const lying = req.url?.includes('/liar/');
      const served = lying ? honest : escaping;
      const claimed = lying ? digestOf(Buffer.from('other bytes')) : digestOf(escaping);
      if (req.url?.endsWith('/archive')) {
        res.writeHead(200, { 'Content-Type': 'application/zip', 'Content-Length': served.length }).end(served);
        return;
      }
      // A version record complete as the API contract (@packyard/registry-api) says, but for its digest.
      const manifest = { name: 'evil', displayName: 'Evil', version: '1.0.0', layer: 'addon' };
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(
        JSON.stringify({
          registry: 'escape',
          name: 'evil',
          version: '1.0.0',
          layer: 'addon',
          digest: claimed,
          integrity: 'sha512-AAAA',
          size: served.length,
          publishedAt: '2024-01-01T00:00:00.000Z',
          publisher: 'mallory',
          message: null,
          deprecated: null,
          manifest,
          files: [],
          history: [],
          revision: 1,
          latest: '1.0.0',
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(
    () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      ),
  );

  /** packctl in-process: it does not block this process's event loop (the hostile server runs in it). */
  function run(args: string[]): Promise<{ status: number | null; stderr: string }> {
    return runPackctl(args, { env: { HOME: work.dir, PACKCTL_CONFIG: path.join(work.dir, 'hostile.json') } });
  }

  it('refuses an archive whose bytes are not the digest of its record, and keeps nothing', async () => {
    const out = path.join(work.dir, 'hostile-liar');
    const result = await run(['pull', 'evil@1.0.0', '--server', url, '--registry', 'liar', '-o', out]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('refused');
    await expect(stat(path.join(out, 'evil-1.0.0.zip'))).rejects.toThrow();
  });

  it('refuses to extract an entry that leaves the target directory', async () => {
    const out = path.join(work.dir, 'hostile-escape');
    const result = await run(['pull', 'evil@1.0.0', '--server', url, '--registry', 'escape', '-o', out, '--extract']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('entry "../escaped.txt"');
    await expect(stat(path.join(out, 'escaped.txt'))).rejects.toThrow();
    await expect(stat(path.join(work.dir, 'escaped.txt'))).rejects.toThrow();
  });
});

describe('packctl over TLS with a self-signed certificate', () => {
  let server: HttpsServer;
  let url: string;
  let caFile: string;

  beforeAll(async () => {
    const dir = path.join(work.dir, 'tls');
    await mkdir(dir, { recursive: true });
    caFile = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        caFile,
      ],
      { stdio: 'ignore' },
    );
    server = createHttpsServer(
      { key: await readFile(path.join(dir, 'key.pem')), cert: await readFile(caFile) },
      (req, res) => {
        const ok = req.headers.authorization === 'Bearer pyk_0123456789abcdef_key';
        res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' }).end(
          JSON.stringify(
            ok
              ? {
                  kind: 'user',
                  username: 'tls-user',
                  tenant: 'acme',
                  teams: [],
                  bindings: [],
                  tenantPermissions: [],
                  projects: [],
                }
              : { error: { code: 'AUTH_REQUIRED', message: 'no' } },
          ),
        );
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(
    () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      ),
  );

  function run(args: string[], config: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return runPackctl(args, { env: { HOME: work.dir, PACKCTL_CONFIG: config } });
  }

  it('refuses an unverified certificate, and accepts it with --ca-file or --insecure (remembered per server)', async () => {
    const key = 'pyk_0123456789abcdef_key';
    const plain = await run(['login', url, '--api-key', key], path.join(work.dir, 'tls-plain.json'));
    expect(plain.status).toBe(1);
    expect(plain.stderr).toContain(`cannot reach ${url}`);
    const withCa = path.join(work.dir, 'tls-ca.json');
    expect((await run(['login', url, '--api-key', key, '--ca-file', caFile], withCa)).status).toBe(0);
    expect((await run(['whoami'], withCa)).stdout).toContain('tls-user in tenant acme');
    // A relative --ca-file is kept absolute: commands run from elsewhere later still find it.
    const relativeEnv = { HOME: work.dir, PACKCTL_CONFIG: path.join(work.dir, 'tls-ca-relative.json') };
    const relative = await runPackctl(['login', url, '--api-key', key, '--ca-file', path.basename(caFile)], {
      env: relativeEnv,
      cwd: path.dirname(caFile),
    });
    expect(relative.status, relative.stderr).toBe(0);
    expect((await runPackctl(['whoami'], { env: relativeEnv })).stdout).toContain('tls-user in tenant acme');
    const insecure = path.join(work.dir, 'tls-insecure.json');
    expect((await run(['login', url, '--api-key', key, '--insecure'], insecure)).status).toBe(0);
    expect((await run(['whoami'], insecure)).status).toBe(0);
  });

  it('refuses plain HTTP to a remote host unless --insecure', async () => {
    const result = await runPackctl(['whoami', '--server', 'http://packs.example.com'], { env });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('plain HTTP');
  });
});

describe('packctl registry: the registries on a server', () => {
  it("creates a registry in the signed-in user's tenant, updates, shows and lists it", async () => {
    const created = await runPackctl(['registry', 'create', 'acme-staging', '--description', 'staging packs'], { env });
    expect(created.status, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^created registry acme-staging\n/);
    expect(created.stdout).toMatch(/^ {2}scope +tenant$/m);
    expect(created.stdout).toMatch(/^ {2}owner +acme$/m);
    const updated = await runPackctl(['registry', 'update', 'acme-staging', '--allow-overwrite', '--format', 'json'], {
      env,
    });
    expect(updated.status, updated.stderr).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({ name: 'acme-staging', allowOverwrite: true, public: false });
    const listed = await runPackctl(['registry', 'ls', '--tenant', 'acme'], { env });
    expect(listed.stdout).toMatch(/^acme-staging +tenant +acme +no +yes +staging packs$/m);
    expect(listed.stdout).toMatch(/^acme-packs +tenant +acme /m);
    expect((await runPackctl(['registry', 'show', 'acme-staging'], { env })).stdout).toMatch(
      /^acme-staging\n {2}scope +tenant\n/,
    );
    const again = await runPackctl(['registry', 'create', 'acme-staging', '--format', 'json'], { env });
    expect(again.status).toBe(5);
    expect(JSON.parse(again.stdout)).toMatchObject({ error: { code: 'REGISTRY_EXISTS' } });
    const missing = await runPackctl(['registry', 'show', 'no-such-registry'], { env });
    expect(missing.status).toBe(4);
    expect(missing.stderr).toContain('hint: packctl registry ls lists the registries you can read');
    expect((await runPackctl(['registry', 'update', 'acme-staging'], { env })).status).toBe(2);
    // A project registry needs a tenant; the signed-in user's is taken.
    expect((await runPackctl(['registry', 'create', 'x-packs', '--project', 'nope'], { env })).status).toBe(4);
  });

  it('lists the servers as packctl server ls, and keeps the old registry use spelling working', async () => {
    expect((await runPackctl(['server', 'ls'], { env })).stdout).toContain(`* ${registry.url}  ci (token)`);
    const old = await runPackctl(['registry', 'use', registry.url], { env });
    expect(old.status, old.stderr).toBe(0);
    expect(old.stderr).toContain('packctl registry use is now packctl server use');
    expect((await runPackctl(['server', 'use', registry.url], { env })).status).toBe(0);
  });
});
