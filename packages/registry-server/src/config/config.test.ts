import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../test-support/test-registry.js';
import { DEFAULT_PORT, loadConfig } from './config.js';

let work: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  work = await tempDir();
});
afterAll(() => work.cleanup());

describe('loadConfig', () => {
  it('defaults to the embedded filesystem store under ./data on 127.0.0.1:5080', async () => {
    const config = await loadConfig({}, {}, work.dir);
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: DEFAULT_PORT, publicUrl: undefined });
    expect(config.dataDir).toBe(path.join(work.dir, 'data'));
    expect(config.storage).toMatchObject({ driver: 'fs', fs: { root: path.join(work.dir, 'data', 'store') } });
    expect(config.auth).toEqual({
      adminToken: undefined,
      anonymousRead: true,
      superAdmin: { username: 'admin', password: undefined },
      tokenTtlSeconds: 900,
      registryTokenTtlSeconds: 300,
      registryService: 'packyard',
      passwordHashCost: 17,
      maxFailedLogins: 10,
      loginWindowMs: 300_000,
      sessionMaxSeconds: 43_200,
      passwordHashes: { concurrency: 2, maxWaiting: 32, maxPerClient: 4 },
    });
    expect(config.audit).toEqual({
      unauthenticatedPerMinute: 60,
      unauthenticatedPerAddressPerMinute: 10,
      unauthenticatedRetentionDays: 30,
      retentionDays: null,
    });
    expect(config.metrics).toEqual({ token: undefined });
  });

  it('caps connections per client address, except behind a proxy unless asked', async () => {
    expect((await loadConfig({}, {}, work.dir)).server.maxConnectionsPerAddress).toBe(256);
    const file = path.join(work.dir, 'proxied.yaml');
    await writeFile(file, 'server: { trustProxy: true }\n');
    expect((await loadConfig({ config: file }, {}, work.dir)).server.maxConnectionsPerAddress).toBe(0);
    const env = { PACKYARD_MAX_CONNECTIONS_PER_ADDRESS: '64' };
    expect((await loadConfig({ config: file }, env, work.dir)).server.maxConnectionsPerAddress).toBe(64);
    await writeFile(file, 'server: { maxConnectionsPerAddress: -1 }\n');
    await expect(loadConfig({ config: file }, {}, work.dir)).rejects.toThrow(/maxConnectionsPerAddress/);
  });

  it('reads the public URL (without trailing slashes) and the /v2 token settings', async () => {
    const config = await loadConfig({}, { PACKYARD_PUBLIC_URL: 'https://packs.example.com/registry//' }, work.dir);
    expect(config.server.publicUrl).toBe('https://packs.example.com/registry');
    const file = path.join(work.dir, 'oci.yaml');
    await writeFile(file, 'auth: { registryTokenTtlSeconds: 120, registryService: packs.example.com }\n');
    const fromFile = await loadConfig({ config: file }, {}, work.dir);
    expect(fromFile.auth).toMatchObject({ registryTokenTtlSeconds: 120, registryService: 'packs.example.com' });
    await expect(loadConfig({}, { PACKYARD_PUBLIC_URL: 'packs.example.com' }, work.dir)).rejects.toThrow(/publicUrl/);
    await writeFile(file, 'auth: { registryTokenTtlSeconds: 5 }\n');
    await expect(loadConfig({ config: file }, {}, work.dir)).rejects.toThrow(/registryTokenTtlSeconds/);
  });

  it('layers the file, then PACKYARD_* variables, then flags', async () => {
    const file = path.join(work.dir, 'registry.yaml');
    await writeFile(
      file,
      [
        'server: { port: 6000, host: 0.0.0.0 }',
        'dataDir: ./state',
        'storage:',
        '  driver: s3',
        '  s3: { bucket: from-file, endpoint: "http://127.0.0.1:9000" }',
        'limits: { maxUploadBytes: 1048576 }',
      ].join('\n'),
    );
    const config = await loadConfig(
      { config: file, port: '7000' },
      { PACKYARD_S3_BUCKET: 'from-env', PACKYARD_S3_PREFIX: 'packs/prod', AWS_REGION: 'eu-west-1' },
      '/',
    );
    expect(config.server).toMatchObject({ port: 7000, host: '0.0.0.0' });
    expect(config.dataDir).toBe(path.join(work.dir, 'state'));
    expect(config.storage.s3).toMatchObject({
      bucket: 'from-env',
      prefix: 'packs/prod',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      region: 'eu-west-1',
    });
    expect(config.limits.maxUploadBytes).toBe(1048576);
  });

  it('bounds S3 calls by 10 s and 15 s by default, from the file or the environment otherwise', async () => {
    const defaults = await loadConfig({}, { PACKYARD_STORAGE: 's3', PACKYARD_S3_BUCKET: 'packs' }, work.dir);
    expect(defaults.storage.s3).toMatchObject({ deadlineMs: 10_000, idleTimeoutMs: 15_000 });
    const file = path.join(work.dir, 'timeouts.yaml');
    await writeFile(file, 'storage: { driver: s3, s3: { bucket: packs, deadlineSeconds: 2.5, idleSeconds: 30 } }\n');
    const fromFile = await loadConfig({ config: file }, {}, '/');
    expect(fromFile.storage.s3).toMatchObject({ deadlineMs: 2_500, idleTimeoutMs: 30_000 });
    const fromEnv = await loadConfig({ config: file }, { PACKYARD_S3_DEADLINE_SECONDS: '4' }, '/');
    expect(fromEnv.storage.s3).toMatchObject({ deadlineMs: 4_000, idleTimeoutMs: 30_000 });
  });

  it('reports every problem at once, naming the setting', async () => {
    const file = path.join(work.dir, 'bad.yaml');
    await writeFile(file, 'server: { port: 99999, colour: blue }\nstorage: { driver: ftp }\n');
    const error = await loadConfig({ config: file }, {}, '/').catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    const message = (error as Error).message;
    expect(message).toContain('/server/port must be <= 65535');
    expect(message).toContain('unknown setting "colour"');
    expect(message).toContain('/storage/driver must be one of: fs, s3');
  });

  it.each([
    [{ PACKYARD_PORT: 'eighty' }, 'PACKYARD_PORT=eighty is not a whole number'],
    [{ PACKYARD_S3_FORCE_PATH_STYLE: 'maybe' }, 'is not a boolean'],
    [{ PACKYARD_STORAGE: 's3' }, 'no bucket is configured'],
  ])('refuses bad environment values: %j', async (env, expected) => {
    await expect(loadConfig({}, env, work.dir)).rejects.toThrow(expected);
  });

  it('points at the line of a YAML syntax error and at a missing file', async () => {
    const file = path.join(work.dir, 'syntax.yaml');
    await writeFile(file, 'server:\n  port: [1, 2\n');
    await expect(loadConfig({ config: file }, {}, '/')).rejects.toThrow(/syntax\.yaml:\d+:\d+/);
    await expect(loadConfig({ config: 'missing.yaml' }, {}, work.dir)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });

  it('refuses an alias bomb as a configuration error, with a hint', async () => {
    const file = path.join(work.dir, 'bomb.yaml');
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) {
      const name = String.fromCharCode(97 + i);
      const previous = String.fromCharCode(96 + i);
      levels.push(`${name}: &${name} [${Array(10).fill(`*${previous}`).join(', ')}]`);
    }
    await writeFile(file, `${levels.join('\n')}\n`);
    await expect(loadConfig({ config: file }, {}, '/')).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('bomb.yaml: its aliases expand too far') as unknown,
      hint: 'write the settings out: a configuration needs no YAML aliases',
    });
  });
});
