import type * as fsPromises from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CliError } from '../errors.js';
import { credentialsPath, normaliseServer, readCredentials, shownServer, writeCredentials } from './credentials.js';

/** When set, writes into temporary files fail as on a full disk, after a few bytes went in. */
const disk = vi.hoisted(() => ({ full: false }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof fsPromises>();
  const open = async (...args: Parameters<typeof fs.open>): Promise<FileHandle> => {
    const handle = await fs.open(...args);
    if (!disk.full || !String(args[0]).endsWith('.tmp')) return handle;
    return Object.assign(Object.create(handle) as FileHandle, {
      writeFile: async (data: string | Uint8Array) => {
        await handle.write(String(data).slice(0, 8));
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      },
      chmod: (mode: number) => handle.chmod(mode),
      close: () => handle.close(),
    });
  };
  return { ...fs, default: { ...fs, open }, open };
});

describe('normaliseServer', () => {
  it('keys a server by scheme, host, port and path prefix, without trailing slashes', () => {
    expect(normaliseServer('packs.example.com')).toBe('https://packs.example.com');
    expect(normaliseServer('https://Packs.Example.com:443/')).toBe('https://packs.example.com');
    expect(normaliseServer('http://127.0.0.1:8080///')).toBe('http://127.0.0.1:8080');
    expect(normaliseServer('https://example.com/registry//')).toBe('https://example.com/registry');
  });

  it('handles long runs of slashes in linear time (a /\\/+$/ scan is quadratic on these)', () => {
    const slashes = '/'.repeat(100_000);
    const started = performance.now();
    expect(normaliseServer(`https://example.com/a${slashes}`)).toBe('https://example.com/a');
    expect(normaliseServer(`https://example.com${slashes}b`)).toBe(`https://example.com${slashes}b`);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('refuses user info, queries and fragments, which would make one key name two servers', () => {
    expect(() => normaliseServer('https://alice:secret@example.com')).toThrow('without user, query or fragment');
    expect(() => normaliseServer('https://example.com/?next=https://evil.example')).toThrow('without user');
    expect(() => normaliseServer('https://example.com/#x')).toThrow('without user');
    expect(() => normaliseServer('ftp://example.com')).toThrow('only http and https');
  });
});

describe('server addresses in messages', () => {
  const SECRET = 'hunter2-s3cret';
  it.each([
    `ftp://alice:${SECRET}@packs.example.com`,
    `gopher://alice:${SECRET}@packs.example.com/x`,
    `alice:${SECRET}@packs.example.com`,
    `https://alice:${SECRET}@packs.example.com:99999`,
    `https://alice:${SECRET}@packs.example.com/?token=${SECRET}`,
    `https://alice:pa/${SECRET}@packs.example.com`,
    `https://packs.example.com/?token=${SECRET}`,
    `https://packs.example.com/#${SECRET}`,
    `mailto:${SECRET}@packs.example.com`,
  ])('never shows the user info, query or fragment of %s', (server) => {
    let message = '';
    try {
      normaliseServer(server);
    } catch (err) {
      message = `${(err as CliError).message} ${(err as CliError).hint ?? ''}`;
    }
    expect(message).not.toBe('');
    expect(message).not.toContain(SECRET);
    expect(message).toContain('packs.example.com');
    expect(shownServer(server)).not.toContain(SECRET);
  });

  it('shows scheme, host, port and path', () => {
    expect(shownServer('https://alice:pw@packs.example.com:8443/reg/')).toBe('https://packs.example.com:8443/reg');
    expect(shownServer('packs.example.com')).toBe('https://packs.example.com');
  });
});

describe('credentialsPath', () => {
  it('refuses a home directory that is empty or relative, and an empty PACKCTL_CONFIG or --config', () => {
    // An empty HOME made the path ./.packctl/config.json: tokens in whatever directory packctl ran in.
    expect(() => credentialsPath(undefined, { HOME: '' })).toThrow(
      'the home directory (HOME="") is not an absolute path',
    );
    expect(() => credentialsPath(undefined, { HOME: 'relative/home' })).toThrow('is not an absolute path');
    expect(() => credentialsPath(undefined, { HOME: '/home/a', PACKCTL_CONFIG: '' })).toThrow(
      'PACKCTL_CONFIG is empty',
    );
    // Named by the user: relative to where packctl runs, as --config is.
    expect(credentialsPath(undefined, { HOME: '/home/a', PACKCTL_CONFIG: 'x.json' })).toBe(path.resolve('x.json'));
    expect(() => credentialsPath('', { HOME: '/home/a' })).toThrow('--config is empty');
    expect(credentialsPath(undefined, { HOME: '/home/a' })).toBe('/home/a/.packctl/config.json');
    expect(credentialsPath(undefined, { HOME: '/home/a', PACKCTL_CONFIG: '/etc/p.json' })).toBe('/etc/p.json');
  });
});

describe('writeCredentials', () => {
  let dir: string;
  const credentials = { auths: { 'https://packs.example.com': { token: 'pya_secret_token' } } };
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'packctl-credentials-'));
  });
  afterEach(async () => {
    disk.full = false;
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the file owner-only (0600) in a directory it makes owner-only (0700)', async () => {
    const file = path.join(dir, 'home', '.packctl', 'config.json');
    await writeCredentials(file, credentials);
    expect(await readCredentials(file)).toEqual(credentials);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    expect(await readdir(path.dirname(file))).toEqual(['config.json']);
  });

  it('replaces what was there, a file of other permissions included, and sets 0600', async () => {
    const file = path.join(dir, 'config.json');
    await writeFile(file, '{}', { mode: 0o644 });
    await writeCredentials(file, credentials);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(credentials);
  });

  it('leaves no temporary copy of the tokens when the disk is full', async () => {
    const file = path.join(dir, 'config.json');
    await writeFile(file, '{"auths":{}}\n', { mode: 0o600 });
    disk.full = true;
    await expect(writeCredentials(file, credentials)).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(await readdir(dir)).toEqual(['config.json']);
    // What was there is untouched.
    expect(await readFile(file, 'utf8')).toBe('{"auths":{}}\n');
  });

  it('leaves no temporary copy of the tokens when it cannot be put in place', async () => {
    // A directory (not empty) where the file goes: the rename fails, for root too.
    const file = path.join(dir, 'config.json');
    await mkdir(path.join(file, 'inside'), { recursive: true });
    await expect(writeCredentials(file, credentials)).rejects.toThrow();
    expect(await readdir(dir)).toEqual(['config.json']);
  });
});
