import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rm, stat, utimes, writeFile, type FileHandle } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeleteBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import { createStore, type StorageConfig } from './create-store.js';
import { pooledCalls } from './fs-calls.js';
import { createFsStore } from './fs-store.js';
import { PreconditionFailedError, type ObjectStore } from './object-store.js';
import { createS3Store, type S3StoreOptions } from './s3/s3-store.js';
import { tempName } from './temp-files.js';
import { describeObjectStore, listKeys, mapLimit } from './test-support/conformance.js';

const S3RVER_KEYS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const CEPH_ENDPOINT = process.env['S3_TEST_ENDPOINT'];
const CEPH_KEYS = {
  accessKeyId: process.env['S3_TEST_ACCESS_KEY'] ?? 'AKTEST',
  secretAccessKey: process.env['S3_TEST_SECRET_KEY'] ?? 'SKTEST',
};

const tempDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'packyard-store-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

function randomBucket(): string {
  return `packyard-test-${randomBytes(6).toString('hex')}`;
}

/** A logger whose lines the test can read. */
function capturingLogger(): { logger: pino.Logger; lines: () => { level: number; msg: string }[]; text: () => string } {
  const output: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => output.push(line) });
  return {
    logger,
    lines: () => output.map((line) => JSON.parse(line) as { level: number; msg: string }),
    text: () => output.join(''),
  };
}

/** Empties and removes a test bucket. */
async function removeBucket(options: S3StoreOptions): Promise<void> {
  const store = await createS3Store({ ...options, prefix: '', conditionalWrites: { enforced: false } });
  const keys = await listKeys(store, '');
  await mapLimit(keys, 32, (key) => store.delete(key));
  await store.close();
  const client = new S3Client({
    endpoint: options.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: options.accessKeyId ?? '', secretAccessKey: options.secretAccessKey ?? '' },
  });
  await client.send(new DeleteBucketCommand({ Bucket: options.bucket }));
  client.destroy();
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

let fsRoot = '';
describeObjectStore('fs store', {
  conditionalWrites: true,
  appends: true,
  tellsCreated: 'always',
  open: async () => {
    fsRoot = await tempDir();
    return createFsStore({ root: fsRoot });
  },
  openSibling: () => createFsStore({ root: fsRoot }),
});

// Where the store's root is not a known local filesystem (NFS, ...), every call goes through the pool.
let pooledRoot = '';
describeObjectStore('fs store, pooled calls', {
  conditionalWrites: true,
  appends: true,
  tellsCreated: 'always',
  open: async () => {
    pooledRoot = await tempDir();
    return createFsStore({ root: pooledRoot, calls: 'pooled' });
  },
  openSibling: () => createFsStore({ root: pooledRoot, calls: 'pooled' }),
});

function s3rverConfig(bucket: string): StorageConfig {
  return {
    driver: 's3',
    fs: { root: '' },
    s3: {
      endpoint: inject('s3rverEndpoint'),
      region: 'us-east-1',
      bucket,
      prefix: '',
      forcePathStyle: true,
      ...S3RVER_KEYS,
      createBucket: true,
      partSizeBytes: 5 * 1024 * 1024,
    },
  };
}

// s3rver ignores If-None-Match / If-Match, so it is used through the serialised wrapper.
describeObjectStore('s3rver store (serialised)', {
  conditionalWrites: false,
  quirks: { listOrderAcrossDirectories: true, rangeEndZero: true },
  open: () => createStore(s3rverConfig(randomBucket()), { logger: pino({ enabled: false }) }),
});

const cephOptions: S3StoreOptions = {
  endpoint: CEPH_ENDPOINT,
  bucket: randomBucket(),
  prefix: 'conformance/run',
  forcePathStyle: true,
  ...CEPH_KEYS,
  createBucket: true,
  partSizeBytes: 5 * 1024 * 1024,
};
if (CEPH_ENDPOINT) {
  describeObjectStore(`Ceph RGW store at ${CEPH_ENDPOINT}`, {
    conditionalWrites: true,
    tellsCreated: 'below-part-size',
    open: () => createS3Store(cephOptions),
    cleanup: () => removeBucket(cephOptions),
  });
} else {
  describe.skip('Ceph RGW store (set S3_TEST_ENDPOINT)', () => {
    it('runs the conformance cases', () => undefined);
  });
}

describe('fs store specifics', () => {
  it('removes the temporary files of dead processes when it opens', async () => {
    const root = await tempDir();
    const [host] = tempName().split('.');
    const orphans = ['tmp', 'ready'].map((dir) => path.join(root, dir, `${host}.99999999.0123456789abcdef`));
    for (const orphan of orphans) {
      await mkdir(path.dirname(orphan), { recursive: true });
      await writeFile(orphan, 'left by a process that died');
    }
    await createFsStore({ root });
    for (const orphan of orphans) await expect(stat(orphan)).rejects.toThrow(/ENOENT/);
  });

  it('breaks a lock left by a crashed process', async () => {
    const root = await tempDir();
    const store = await createFsStore({ root });
    const key = 'records/locked';
    const { etag } = await store.put(key, 'v1');
    // The lock file name is fs-store's own: the first 40 hex digits of the key's sha256.
    const lock = path.join(root, 'locks', `${createHash('sha256').update(key).digest('hex').slice(0, 40)}.lock`);
    await writeFile(lock, 'crashed.1.0000000000000000');
    const longAgo = (Date.now() - 60_000) / 1000;
    await utimes(lock, longAgo, longAgo);
    const started = Date.now();
    await store.put(key, 'v2', { ifMatch: etag });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await readdir(path.join(root, 'locks'))).toEqual([]);
  });

  it('leaves no temporary or lock files behind, even when writes fail', async () => {
    const root = await tempDir();
    const store = await createFsStore({ root });
    await store.put('a/b', '1', { ifNoneMatch: '*' });
    await expect(store.put('a/b', '2', { ifNoneMatch: '*' })).rejects.toBeInstanceOf(PreconditionFailedError);
    await expect(store.put('a/b', '2', { ifMatch: 'stale' })).rejects.toBeInstanceOf(PreconditionFailedError);
    const staged = store.stage('a/c');
    await expect(pipeline(createReadStream(path.join(root, 'missing')), staged.stream)).rejects.toThrow(/ENOENT/);
    await staged.abort();
    // A write waiting for something that fails: its temporary file, written meanwhile, goes too.
    for (const key of ['a/d', 'a/e']) {
      const refused = new Error('what the object points at was not stored');
      await expect(store.put(key, 'x'.repeat(4096), { ifNoneMatch: '*', after: Promise.reject(refused) })).rejects.toBe(
        refused,
      );
      expect(await store.head(key)).toBeNull();
    }
    expect(await readdir(path.join(root, 'tmp'))).toEqual([]);
    expect(await readdir(path.join(root, 'locks'))).toEqual([]);
    // Files made ahead are empty until taken; a taken one is gone once its write ends.
    for (const name of await readdir(path.join(root, 'ready'))) {
      expect((await stat(path.join(root, 'ready', name))).size).toBe(0);
    }
  });

  it('flushes neither the file nor its directory entry of a put that need not be durable, but a new directory still', async () => {
    const root = await tempDir();
    const store = await createFsStore({ root, calls: 'pooled' });
    const probe = await open(path.join(root, 'probe'), 'w');
    const syncs = vi.spyOn(Object.getPrototypeOf(probe) as FileHandle, 'sync');
    // fdatasync is a flush too (of a file's data without its metadata): none at all.
    const datasyncs = vi.spyOn(Object.getPrototypeOf(probe) as FileHandle, 'datasync');
    await probe.close();
    try {
      await store.put('log/a/0.json', '{}', { ifNoneMatch: '*' });
      syncs.mockClear();
      // The file and its directory's entry, each flushed.
      await store.put('log/a/1.json', '{"n":1}', { ifNoneMatch: '*' });
      expect(syncs).toHaveBeenCalledTimes(2);
      syncs.mockClear();
      const created = await store.put('log/a/2.json', '{"n":2}', { ifNoneMatch: '*', durable: false });
      const replaced = await store.put('log/a/0.json', '{"n":0}', { durable: false });
      expect(syncs).not.toHaveBeenCalled();
      expect(datasyncs).not.toHaveBeenCalled();
      expect((await store.getBuffer('log/a/2.json'))?.body.toString()).toBe('{"n":2}');
      expect((await store.head('log/a/2.json'))?.etag).toBe(created.etag);
      expect((await store.head('log/a/0.json'))?.etag).toBe(replaced.etag);
      // A new directory's entry in its parent is flushed all the same: a durable put into the
      // directory later flushes only the directory itself.
      await store.put('log/b/1.json', '{}', { ifNoneMatch: '*', durable: false });
      expect(syncs).toHaveBeenCalledTimes(1);
      await expect(store.put('log/a/2.json', '{}', { ifNoneMatch: '*', durable: false })).rejects.toBeInstanceOf(
        PreconditionFailedError,
      );
      expect(await readdir(path.join(root, 'tmp'))).toEqual([]);
    } finally {
      syncs.mockRestore();
      datasyncs.mockRestore();
      await store.close();
    }
  });

  it('answers a durable put into a directory another put has just made only once that directory is flushed into its parent', async () => {
    const root = await tempDir();
    const store = await createFsStore({ root, calls: 'pooled' });
    const parent = path.join(root, 'objects', 'made');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let parentFlushes = 0;
    let gating = false;
    const open = pooledCalls.open.bind(pooledCalls);
    // The flush of `made`'s entries (the new directory's entry in it) waits for the gate.
    const opens = vi.spyOn(pooledCalls, 'open').mockImplementation(async (file, flags, mode) => {
      if (gating && file === parent) {
        parentFlushes++;
        await gate;
      }
      return open(file, flags, mode);
    });
    try {
      await store.put('made/x.json', '{}', { ifNoneMatch: '*' });
      opens.mockClear();
      gating = true;
      const first = store.put('made/new/1.json', '{}', { ifNoneMatch: '*' });
      await vi.waitFor(() => {
        expect(parentFlushes).toBe(1);
      });
      // This put finds the directory there, and flushes only the directory itself.
      let answered = false;
      const second = store.put('made/new/2.json', '{}', { ifNoneMatch: '*' }).then(() => {
        answered = true;
      });
      await vi.waitFor(() => {
        expect(opens.mock.calls.filter(([file]) => file === path.join(parent, 'new')).length).toBeGreaterThanOrEqual(1);
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(answered).toBe(false);
      release();
      await Promise.all([first, second]);
      expect(answered).toBe(true);
    } finally {
      release();
      opens.mockRestore();
      await store.close();
    }
  });

  it('makes its temporary files ahead in <root>/ready, and removes those left when closed', async () => {
    const root = await tempDir();
    const ready = path.join(root, 'ready');
    const store = await createFsStore({ root, calls: 'direct' });
    await store.put('first', 'made while none was ready');
    // The write took none (none was ready yet) and started making four, on the thread pool.
    await expect.poll(async () => (await readdir(ready)).length).toBe(4);
    const first = new Set(await readdir(ready));
    for (let i = 0; i < 6; i++) await store.put(`k${i}`, `value ${i}`);
    for (let i = 0; i < 6; i++) expect((await store.getBuffer(`k${i}`))?.body.toString()).toBe(`value ${i}`);
    // The files made first were used (and replaced); those ready are empty.
    const now = await readdir(ready);
    expect(now.filter((name) => first.has(name))).toEqual([]);
    for (const name of now) expect((await stat(path.join(ready, name))).size).toBe(0);
    expect(await readdir(path.join(root, 'tmp'))).toEqual([]);
    await store.close();
    expect(await readdir(ready)).toEqual([]);
    // Through the pool, an open waits off the event loop anyway: nothing is made ahead.
    const pooledRoot = await tempDir();
    const pooled = await createFsStore({ root: pooledRoot, calls: 'pooled' });
    await pooled.put('k', 'v');
    expect(await readdir(path.join(pooledRoot, 'ready'))).toEqual([]);
    await pooled.close();
  });

  it('commits a content-addressed object twice: the first stays, no temporary or lock file is left', async () => {
    const root = await tempDir();
    const store = await createFsStore({ root });
    const first = store.stage('blobs/x', { contentAddressed: true });
    await pipeline(Readable.from([Buffer.from('same bytes')]), first.stream);
    const { etag } = await first.commit();
    const again = store.stage('blobs/x', { contentAddressed: true });
    await pipeline(Readable.from([Buffer.from('same bytes')]), again.stream);
    expect((await again.commit()).etag).toBe(etag);
    expect(await readdir(path.join(root, 'tmp'))).toEqual([]);
    expect(await readdir(path.join(root, 'locks'))).toEqual([]);
  });

  it('takes a finished local file over without copying it, and makes empty markers in place', async () => {
    const root = await tempDir();
    const store = await createFsStore({ root });
    const file = path.join(root, 'upload.bin');
    await writeFile(file, randomBytes(4096), { mode: 0o600 });
    // Written long ago (an upload finished hours after its last chunk): gc's grace counts from the put.
    const hoursAgo = Date.now() / 1000 - 3 * 3600;
    await utimes(file, hoursAgo, hoursAgo);
    const { etag } = await store.putFile('blobs/adopted', file, { contentAddressed: true });
    // One inode under two names: no byte was copied.
    expect((await stat(path.join(root, 'objects', 'blobs', 'adopted'))).ino).toBe((await stat(file)).ino);
    const adopted = await store.head('blobs/adopted');
    expect(adopted?.etag).toBe(etag);
    expect(Date.now() - (adopted?.lastModified.getTime() ?? 0)).toBeLessThan(60_000);
    await store.put('markers/deep/one', '', { ifNoneMatch: '*' });
    await expect(store.put('markers/deep/one', '', { ifNoneMatch: '*' })).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
    await store.put('p', 'file');
    await expect(store.put('p/q', '', { ifNoneMatch: '*' })).rejects.toThrow(/cannot store p\/q/);
    expect((await store.head('markers/deep/one'))?.size).toBe(0);
    expect(await readdir(path.join(root, 'tmp'))).toEqual([]);
    expect(await readdir(path.join(root, 'locks'))).toEqual([]);
  });

  it('changes the ETag on every replace, even with the same bytes in quick succession', async () => {
    const store = await createFsStore({ root: await tempDir() });
    const etags = new Set<string>();
    for (let i = 0; i < 20; i++) etags.add((await store.put('same', 'x')).etag);
    expect(etags.size).toBe(20);
  });

  it('removes directories that a delete leaves empty', async () => {
    const root = await tempDir();
    const store = await createFsStore({ root });
    await store.put('d1/d2/x', 'x');
    await store.put('d1/y', 'y');
    await store.delete('d1/d2/x');
    expect(await readdir(path.join(root, 'objects', 'd1'))).toEqual(['y']);
    await store.delete('d1/y');
    expect(await readdir(path.join(root, 'objects'))).toEqual([]);
  });

  it('refuses a key below an object with a clear error', async () => {
    const store = await createFsStore({ root: await tempDir() });
    await store.put('p', 'file');
    await expect(store.put('p/q', 'x')).rejects.toThrow(/cannot store p\/q/);
    expect(await store.head('p/q')).toBeNull();
  });
});

describe('s3 store specifics', () => {
  it('finds that s3rver does not enforce conditional writes', async () => {
    const store = await createS3Store({
      ...s3rverConfig(randomBucket()).s3,
      prefix: 'probe/here',
    });
    expect(store.conditionalWrites).toBe(false);
    // The probe cleans up after itself.
    expect(await listKeys(store, '')).toEqual([]);
    await store.close();
  });

  it.runIf(CEPH_ENDPOINT)('finds that Ceph RGW enforces conditional writes', async () => {
    const options = { ...cephOptions, bucket: randomBucket(), prefix: 'probe' };
    const store = await createS3Store(options);
    try {
      expect(store.conditionalWrites).toBe(true);
      // Ceph takes If-Match only unquoted: a CAS write shows that the probe found out.
      const { etag } = await store.put('k', 'v1', { ifNoneMatch: '*' });
      await store.put('k', 'v2', { ifMatch: etag });
      expect(await listKeys(store, '')).toEqual(['k']);
    } finally {
      await store.close();
      await removeBucket(options);
    }
  });

  it('fails fast with STORAGE_UNAVAILABLE when the backend is unreachable', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const store = await createS3Store({
      endpoint,
      bucket: 'nowhere',
      forcePathStyle: true,
      ...S3RVER_KEYS,
      conditionalWrites: { enforced: false },
    });
    const started = Date.now();
    await expect(store.ping()).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE', status: 503 });
    await expect(store.put('a', 'b')).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE', status: 503 });
    await expect(store.getBuffer('a')).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    await expect(listKeys(store, '')).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(10_000);
    // Key validation comes before any request.
    await expect(store.put('../a', 'b')).rejects.toThrow(/invalid storage key/);
    await store.close();

    await expect(createS3Store({ endpoint, bucket: 'nowhere', forcePathStyle: true, ...S3RVER_KEYS })).rejects.toThrow(
      `cannot reach S3 bucket "nowhere" at ${endpoint}`,
    );
  });
});

describe('createStore', () => {
  it('wraps a backend without conditional writes and warns once', async () => {
    const log = capturingLogger();
    const store = await createStore(s3rverConfig(randomBucket()), { logger: log.logger });
    expect(store.conditionalWrites).toBe(false);
    const warnings = log.lines().filter((line) => line.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toMatch(
      /does not enforce conditional writes \(If-None-Match\/If-Match\); writes are serialised inside this process, so run only ONE registry process against it/,
    );
    expect(log.text()).not.toContain(S3RVER_KEYS.secretAccessKey);
    await store.close();
  });

  it('probes in the background when asked: reads go at once, writes wait for the probe, then serialised', async () => {
    const log = capturingLogger();
    const store = await createStore(s3rverConfig(randomBucket()), { logger: log.logger, checkInBackground: true });
    // Started before the probe is over: the conditional writes wait for it, then obey it.
    const [first, second] = await Promise.allSettled([
      store.put('k', 'a', { ifNoneMatch: '*' }),
      store.put('k', 'b', { ifNoneMatch: '*' }),
    ]);
    expect(first.status).toBe('fulfilled');
    expect(second).toMatchObject({ status: 'rejected', reason: expect.any(PreconditionFailedError) as unknown });
    await store.ready?.();
    expect(store.conditionalWrites).toBe(false);
    expect((await store.getBuffer('k'))?.body.toString()).toBe('a');
    expect(log.lines().filter((line) => line.level === 40)).toHaveLength(1);
    await store.close();
  });

  it.runIf(CEPH_ENDPOINT)('probes Ceph in the background and then writes to it directly', async () => {
    const options = { ...cephOptions, bucket: randomBucket(), prefix: 'background' };
    const config: StorageConfig = {
      driver: 's3',
      fs: { root: '' },
      s3: { region: 'us-east-1', ...options } as StorageConfig['s3'],
    };
    const store = await createStore(config, { logger: pino({ enabled: false }), checkInBackground: true });
    try {
      const { etag } = await store.put('k', 'v1', { ifNoneMatch: '*' });
      await store.ready?.();
      expect(store.conditionalWrites).toBe(true);
      await store.put('k', 'v2', { ifMatch: etag });
      await expect(store.put('k', 'v3', { ifMatch: etag })).rejects.toBeInstanceOf(PreconditionFailedError);
    } finally {
      await store.close();
      await removeBucket(options);
    }
  });

  it('fails ready() with the fix in the message when the probe is refused after the bucket check passed', async () => {
    // A backend that lets the bucket be seen but refuses every write.
    const server = createHttpServer((req, res) => {
      req.resume();
      if (req.method === 'HEAD') res.writeHead(200).end();
      else {
        res.writeHead(403, { 'Content-Type': 'application/xml' });
        res.end('<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>no writes</Message></Error>');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const config = s3rverConfig('read-only');
      config.s3.endpoint = `http://127.0.0.1:${port}`;
      const store = await createStore(config, { logger: pino({ enabled: false }), checkInBackground: true });
      await expect(store.ready?.()).rejects.toThrow(/refused the credentials .*may read and write the bucket/);
      await expect(store.put('k', 'v', { ifNoneMatch: '*' })).rejects.toThrow(/refused the credentials/);
      await store.close();
    } finally {
      server.close();
    }
  });

  it('opens the fs driver as is', async () => {
    const log = capturingLogger();
    const store: ObjectStore = await createStore(
      { ...s3rverConfig('unused'), driver: 'fs', fs: { root: await tempDir() } },
      { logger: log.logger },
    );
    expect(store.conditionalWrites).toBe(true);
    expect(log.lines().filter((line) => line.level >= 40)).toEqual([]);
  });

  it('names the bucket and the fix when the bucket is missing', async () => {
    const config = s3rverConfig(randomBucket());
    config.s3.createBucket = false;
    await expect(createStore(config, { logger: pino({ enabled: false }) })).rejects.toThrow(
      new RegExp(
        `S3 bucket "${config.s3.bucket}" at http://127\\.0\\.0\\.1:\\d+ does not exist: create it, or set createBucket`,
      ),
    );
  });

  it('names the endpoint and the fix when the credentials are refused', async () => {
    const config = s3rverConfig(randomBucket());
    config.s3.accessKeyId = 'WRONG';
    config.s3.secretAccessKey = 'ALSO-WRONG';
    const error = await createStore(config, { logger: pino({ enabled: false }) }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/refused the credentials .*check accessKeyId\/secretAccessKey/);
    expect((error as Error).message).toContain(config.s3.endpoint);
    expect((error as Error).message).not.toContain('ALSO-WRONG');
  });

  it('names the directory when the fs root cannot be used', async () => {
    const root = await tempDir();
    await writeFile(path.join(root, 'file'), 'not a directory');
    const config: StorageConfig = { ...s3rverConfig('unused'), driver: 'fs', fs: { root: path.join(root, 'file') } };
    await expect(createStore(config, { logger: pino({ enabled: false }) })).rejects.toThrow(
      /cannot use the storage directory .*file/,
    );
  });
});
