/**
 * The behaviour every ObjectStore must show, whatever the backend: registered as one `describe`
 * block per store by ../object-store.test.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createReadStream } from 'node:fs';
import { buffer } from 'node:stream/consumers';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PackError } from '@packyard/pack-core';
import { PreconditionFailedError, isPreconditionFailed, type ListOptions, type ObjectStore } from '../object-store.js';

export interface ConformanceTarget {
  /** Opens the store under test on an empty backend; called once for the block. */
  open(): Promise<ObjectStore>;
  /**
   * Opens a second, independent instance on the same backend (fs: the same root), for the
   * cross-instance cases; left out where only one process may write.
   */
  openSibling?(): Promise<ObjectStore>;
  /** What the store must report as `conditionalWrites`. */
  conditionalWrites: boolean;
  /** Whether the store must offer `append` (objects that grow in place: the fs driver). */
  appends?: true;
  /**
   * Whether a content-addressed write tells when it made the object (`created`), keeping an object
   * already there: always (the fs driver), for objects below one part (S3 on a backend that
   * enforces `If-None-Match`; a multipart upload replaces), or never (a backend that ignores it).
   */
  tellsCreated?: 'always' | 'below-part-size';
  /** Removes whatever open() created (directories, buckets). */
  cleanup?(): Promise<void>;
  /**
   * Known bugs of a fake backend (s3rver): the cases concerned check what still holds. A real
   * backend has none.
   */
  quirks?: {
    /**
     * Lists the keys below "a/" before "a-b": s3rver walks its directory tree, where the
     * directory "a" sorts before the file "a-b".
     */
    listOrderAcrossDirectories?: true;
    /** Serves the whole object for `Range: bytes=0-0` (s3rver reads the end 0 as "no end"). */
    rangeEndZero?: true;
  };
}

/** Runs `fn` over `items` with at most `limit` calls in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export async function listKeys(store: ObjectStore, ...args: Parameters<ObjectStore['list']>): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.list(...args)) keys.push(object.key);
  return keys;
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Read-modify-write with compare-and-swap, retried until it wins: the lost-update test's client. */
async function increment(store: ObjectStore, key: string): Promise<number> {
  for (let attempts = 1; ; attempts++) {
    const current = await store.getBuffer(key);
    if (!current) throw new Error(`${key} is missing`);
    try {
      await store.put(key, String(Number(current.body.toString()) + 1), { ifMatch: current.etag });
      return attempts;
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
    }
  }
}

const INVALID_KEYS = [
  '../x',
  '/abs',
  'a//b',
  'a/./b',
  'a b',
  'with space/x',
  'a/',
  '',
  'x/../y',
  'a\\b',
  'ü',
  // What a hostile name or version could make of a key: too long, a colon, a NUL byte.
  `packs/public/demo/${'1'.repeat(1000)}.json`,
  'profiles/a:b.json',
  'profiles/a\0b.json',
];

/** A key no store accepts: a client error (400 INVALID_NAME), never a 5xx, and the key is not echoed. */
const INVALID_KEY_ERROR = {
  code: 'INVALID_NAME',
  status: 400,
  message: expect.stringMatching(/invalid storage key/) as unknown,
};

export function describeObjectStore(name: string, target: ConformanceTarget): void {
  describe(name, () => {
    let store: ObjectStore;
    let scratch: string;
    let cases = 0;
    /** A fresh key prefix per case, so that cases share the backend without seeing each other. */
    const prefix = (): string => `case${++cases}/`;

    beforeAll(async () => {
      store = await target.open();
      scratch = await mkdtemp(path.join(tmpdir(), 'packyard-conformance-'));
    });
    afterAll(async () => {
      await store.close();
      await rm(scratch, { recursive: true, force: true });
      await target.cleanup?.();
    });

    it('reports whether the backend enforces conditional writes', () => {
      expect(store.conditionalWrites).toBe(target.conditionalWrites);
      expect(store.description).not.toBe('');
    });

    it('round-trips binary bytes through put, get, getBuffer, head and delete', async () => {
      const key = `${prefix()}blob.bin`;
      const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(4000)]);
      const { etag } = await store.put(key, bytes, { contentType: 'application/octet-stream' });
      expect(etag).toMatch(/^[^"]+$/);

      const whole = await store.getBuffer(key);
      expect(whole?.body.equals(bytes)).toBe(true);
      expect(whole?.etag).toBe(etag);

      const info = await store.head(key);
      expect(info).toMatchObject({ key, size: bytes.length, etag });
      expect(info?.lastModified.getTime()).toBeGreaterThan(Date.now() - 10 * 60_000);

      const read = await store.get(key);
      expect(read).toMatchObject({ key, size: bytes.length, etag });
      expect(read?.range).toBeUndefined();
      expect(read && (await buffer(read.body)).equals(bytes)).toBe(true);

      await store.put(key, 'text ünïcode');
      expect((await store.getBuffer(key))?.body.toString()).toBe('text ünïcode');

      await store.delete(key);
      expect(await store.head(key)).toBeNull();
      await store.delete(key);
    });

    it('stores keys with every character a key may hold, and lists them as written', async () => {
      const base = prefix();
      const keys = ['a@b+c=d', 'per%25cent', 'tilde~dot.under_score-dash', 'sha256=x'].map(
        (name) => `${base}odd/${name}`,
      );
      for (const key of keys) {
        const { etag } = await store.put(key, key, { ifNoneMatch: '*' });
        expect((await store.getBuffer(key))?.body.toString()).toBe(key);
        expect(await store.head(key)).toMatchObject({ key, etag });
        await store.put(key, `${key}!`, { ifMatch: etag });
      }
      expect(await listKeys(store, `${base}odd/`)).toEqual([...keys].sort());
      for (const key of keys) {
        await store.delete(key);
        expect(await store.getBuffer(key)).toBeNull();
      }
    });

    it('opens an object as a local file where the driver keeps them so, with its bytes and facts', async () => {
      if (!store.openLocal) return;
      const key = `${prefix()}local.bin`;
      const bytes = randomBytes(70_000);
      const { etag } = await store.put(key, bytes);
      const local = await store.openLocal(key);
      try {
        expect(local).toMatchObject({ key, size: bytes.length, etag });
        const read = Buffer.alloc(bytes.length);
        await local?.handle.read(read, 0, bytes.length, 0);
        expect(read.equals(bytes)).toBe(true);
      } finally {
        await local?.handle.close();
      }
      expect(await store.openLocal(`${prefix()}missing/key`)).toBeNull();
    });

    it('answers null for missing keys', async () => {
      const key = `${prefix()}missing/key`;
      expect(await store.get(key)).toBeNull();
      expect(await store.get(key, { range: { start: 0, end: 1 } })).toBeNull();
      expect(await store.getBuffer(key)).toBeNull();
      expect(await store.head(key)).toBeNull();
      await store.delete(key);
      expect(await listKeys(store, key)).toEqual([]);
    });

    it('rejects invalid keys before any I/O, as 400 INVALID_NAME', async () => {
      const file = path.join(scratch, 'some-file');
      await writeFile(file, 'x');
      for (const key of INVALID_KEYS) {
        await expect(store.put(key, 'x'), key).rejects.toMatchObject(INVALID_KEY_ERROR);
        await expect(store.put(key, 'x', { ifNoneMatch: '*' }), key).rejects.toMatchObject(INVALID_KEY_ERROR);
        await expect(store.put(key, 'x', { ifMatch: 'abc' }), key).rejects.toMatchObject(INVALID_KEY_ERROR);
        expect(() => store.stage(key), key).toThrow(/invalid storage key/);
        await expect(store.get(key), key).rejects.toMatchObject(INVALID_KEY_ERROR);
        await expect(store.getBuffer(key), key).rejects.toMatchObject(INVALID_KEY_ERROR);
        await expect(store.head(key), key).rejects.toMatchObject(INVALID_KEY_ERROR);
        await expect(store.delete(key), key).rejects.toMatchObject(INVALID_KEY_ERROR);
        const error = (await store.head(key).then(
          () => null,
          (err: unknown) => err,
        )) as PackError;
        if (key.length > 2) expect(JSON.stringify({ message: error.message, hint: error.hint })).not.toContain(key);
      }
      for (const bad of ['../', '/abs', 'a//', 'a b', 'a:', 'a\0']) {
        await expect(listKeys(store, bad), bad).rejects.toMatchObject({ code: 'INVALID_NAME', status: 400 });
      }
    });

    it('appends in place where it may, only while the ETag holds', async () => {
      expect(typeof store.append).toBe(target.appends ? 'function' : 'undefined');
      if (!store.append) return;
      const key = `${prefix()}grows`;
      const first = await store.put(key, 'one\n', { ifNoneMatch: '*' });
      const second = await store.append(key, Buffer.from('two\n'), { ifMatch: first.etag });
      expect(second.etag).not.toBe(first.etag);
      expect(await store.getBuffer(key)).toEqual({ body: Buffer.from('one\ntwo\n'), etag: second.etag });
      expect((await store.head(key))?.etag).toBe(second.etag);
      // An ETag that no longer holds, a missing key, a key that is a directory: nothing written.
      await expect(store.append(key, Buffer.from('three\n'), { ifMatch: first.etag })).rejects.toBeInstanceOf(
        PreconditionFailedError,
      );
      const missing = `${prefix()}grows-missing`;
      await expect(store.append(missing, Buffer.from('x'), { ifMatch: first.etag })).rejects.toBeInstanceOf(
        PreconditionFailedError,
      );
      expect(await store.head(missing)).toBeNull();
      await store.put(`${prefix()}grows-dir/below`, 'x');
      await expect(
        store.append(`${prefix()}grows-dir`, Buffer.from('x'), { ifMatch: first.etag }),
      ).rejects.toBeInstanceOf(PreconditionFailedError);
      expect((await store.getBuffer(key))?.body.toString()).toBe('one\ntwo\n');
    });

    it('creates a key once with ifNoneMatch', async () => {
      const key = `${prefix()}once`;
      const { etag } = await store.put(key, 'first', { ifNoneMatch: '*' });
      await expect(store.put(key, 'second', { ifNoneMatch: '*' })).rejects.toBeInstanceOf(PreconditionFailedError);
      expect(await store.getBuffer(key)).toEqual({ body: Buffer.from('first'), etag });
    });

    it('places an object only once what it waits for (after) is done, and not at all if that fails', async () => {
      const base = prefix();
      let release!: () => void;
      const blob = new Promise<void>((resolve) => {
        release = resolve;
      });
      const created = store.put(`${base}record`, 'points at the blob', { ifNoneMatch: '*', after: blob });
      const replaced = store.put(`${base}replaced`, 'also waits', { after: blob });
      // Well past the time a put takes here: still nothing to see.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await store.head(`${base}record`)).toBeNull();
      expect(await store.head(`${base}replaced`)).toBeNull();
      release();
      const [{ etag }] = await Promise.all([created, replaced]);
      expect(await store.getBuffer(`${base}record`)).toEqual({ body: Buffer.from('points at the blob'), etag });
      expect((await store.getBuffer(`${base}replaced`))?.body.toString()).toBe('also waits');
      // The condition still holds at placing time.
      await expect(
        store.put(`${base}record`, 'again', { ifNoneMatch: '*', after: Promise.resolve() }),
      ).rejects.toBeInstanceOf(PreconditionFailedError);

      const failed = new Error('the blob could not be stored');
      await expect(store.put(`${base}never`, 'x', { ifNoneMatch: '*', after: Promise.reject(failed) })).rejects.toBe(
        failed,
      );
      await expect(
        store.put(`${base}never-empty`, '', { ifNoneMatch: '*', after: Promise.reject(failed) }),
      ).rejects.toBe(failed);
      expect(await store.head(`${base}never`)).toBeNull();
      expect(await store.head(`${base}never-empty`)).toBeNull();
    });

    it('lets exactly one of 32 concurrent creates of a key win', async () => {
      const key = `${prefix()}contended`;
      const results = await Promise.allSettled(
        Array.from({ length: 32 }, (_, i) => store.put(key, `writer ${i}`, { ifNoneMatch: '*' })),
      );
      const winners = results.flatMap((result, i) => (result.status === 'fulfilled' ? [i] : []));
      const losers = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
      expect(winners).toHaveLength(1);
      expect(losers).toHaveLength(31);
      for (const reason of losers) expect(reason).toBeInstanceOf(PreconditionFailedError);
      expect((await store.getBuffer(key))?.body.toString()).toBe(`writer ${winners[0]}`);
    });

    it('compare-and-swaps with ifMatch', async () => {
      const key = `${prefix()}cas`;
      const first = await store.put(key, 'v1');
      const second = await store.put(key, 'v2', { ifMatch: first.etag });
      expect(second.etag).not.toBe(first.etag);
      expect((await store.head(key))?.etag).toBe(second.etag);
      await expect(store.put(key, 'v3', { ifMatch: first.etag })).rejects.toBeInstanceOf(PreconditionFailedError);
      expect(await store.getBuffer(key)).toEqual({ body: Buffer.from('v2'), etag: second.etag });

      const missing = `${prefix()}cas-missing`;
      await expect(store.put(missing, 'v1', { ifMatch: first.etag })).rejects.toBeInstanceOf(PreconditionFailedError);
      expect(await store.head(missing)).toBeNull();
    });

    it('loses no update among 16 concurrent read-modify-write increments', async () => {
      const key = `${prefix()}counter`;
      await store.put(key, '0', { ifNoneMatch: '*' });
      await Promise.all(Array.from({ length: 16 }, () => increment(store, key)));
      expect((await store.getBuffer(key))?.body.toString()).toBe('16');
    });

    it.runIf(target.openSibling !== undefined)(
      'keeps conditional writes across two instances on one backend',
      async () => {
        if (!target.openSibling) return;
        const sibling = await target.openSibling();
        const pick = (i: number): ObjectStore => (i % 2 === 0 ? store : sibling);
        try {
          const key = `${prefix()}contended`;
          const results = await Promise.allSettled(
            Array.from({ length: 32 }, (_, i) => pick(i).put(key, `writer ${i}`, { ifNoneMatch: '*' })),
          );
          expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
          for (const result of results) {
            if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(PreconditionFailedError);
          }

          const counter = `${prefix()}counter`;
          await store.put(counter, '0', { ifNoneMatch: '*' });
          await Promise.all(Array.from({ length: 16 }, (_, i) => increment(pick(i), counter)));
          expect((await sibling.getBuffer(counter))?.body.toString()).toBe('16');
        } finally {
          await sibling.close();
        }
      },
    );

    it('lists keys in byte order across directories, by prefix, after a key and up to a limit', async () => {
      const base = prefix();
      // In byte order. No key is also the "directory" of another ("a" and "a/b"): the fs driver
      // cannot hold both.
      const names = [
        'Z',
        'a-b',
        'a.x',
        'a/b',
        'a/c/d',
        'a0',
        'b/x',
        'changes-other',
        'changes/17',
        'changes/17.5',
        'changes/170',
        'changes/171/x',
        'changes/18',
        'changes/2',
      ];
      await mapLimit([...names].reverse(), 8, (name) => store.put(base + name, name));
      const from = (first: string, count = Infinity): string[] =>
        names.slice(names.indexOf(first), names.indexOf(first) + count).map((name) => base + name);

      const expectListed = async (listPrefix: string, options: ListOptions, expected: string[]): Promise<void> => {
        const listed = await listKeys(store, listPrefix, options);
        if (!target.quirks?.listOrderAcrossDirectories) expect(listed).toEqual(expected);
        // The right keys in the backend's own order; a limit cuts that order, so only the count holds.
        else if (options.limit !== undefined) expect(listed).toHaveLength(expected.length);
        else expect([...listed].sort(byteOrder)).toEqual(expected);
      };
      await expectListed(base, {}, from('Z'));
      await expectListed(`${base}changes/17`, {}, from('changes/17', 4));
      await expectListed(`${base}changes/`, {}, from('changes/17'));
      await expectListed(`${base}changes`, {}, from('changes-other'));
      await expectListed(base, { startAfter: `${base}a/b` }, from('a/c/d'));
      // Bounds that are no key: inside a directory, at a directory's name, before its first key.
      await expectListed(base, { startAfter: `${base}a/c` }, from('a/c/d'));
      await expectListed(base, { startAfter: `${base}changes/171` }, from('changes/171/x'));
      await expectListed(base, { startAfter: `${base}a/` }, from('a/b'));
      await expectListed(base, { limit: 3 }, from('Z', 3));
      await expectListed(`${base}changes/`, { startAfter: `${base}changes/170`, limit: 2 }, from('changes/171/x', 2));
      await expectListed(`${base}nothing`, {}, []);

      const listed = [];
      for await (const object of store.list(`${base}a/`)) listed.push(object);
      expect(listed).toHaveLength(2);
      for (const object of listed) {
        const info = await store.head(object.key);
        expect(object).toMatchObject({ key: info?.key, size: info?.size, etag: info?.etag });
        // HTTP dates in HEAD answers have whole seconds; listings have milliseconds.
        expect(Math.abs(object.lastModified.getTime() - (info?.lastModified.getTime() ?? 0))).toBeLessThan(1000);
      }
    });

    it('pages through more than 1000 keys', async () => {
      const base = prefix();
      const keys = Array.from({ length: 1010 }, (_, i) => `${base}k${String(i).padStart(4, '0')}`);
      await mapLimit(keys, 32, (key) => store.put(key, 'x'));
      expect(await listKeys(store, base)).toEqual(keys);
      expect(await listKeys(store, base, { limit: 1003 })).toEqual(keys.slice(0, 1003));
      expect(await listKeys(store, base, { startAfter: keys[5], limit: 1001 })).toEqual(keys.slice(6, 1007));
    });

    it('reads byte ranges', async () => {
      const key = `${prefix()}ranged`;
      const bytes = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
      await store.put(key, bytes);
      const cases = [
        { range: { start: 10, end: 19 }, served: { start: 10, end: 19 } },
        ...(target.quirks?.rangeEndZero ? [] : [{ range: { start: 0, end: 0 }, served: { start: 0, end: 0 } }]),
        { range: { start: 1, end: 1 }, served: { start: 1, end: 1 } },
        { range: { start: 90 }, served: { start: 90, end: 99 } },
        { range: { start: 95, end: 500 }, served: { start: 95, end: 99 } },
      ];
      for (const { range, served } of cases) {
        const read = await store.get(key, { range });
        expect(read?.range).toEqual(served);
        expect(read?.size).toBe(100);
        expect(read && (await buffer(read.body)).equals(bytes.subarray(served.start, served.end + 1))).toBe(true);
      }
      await expect(store.get(key, { range: { start: 100 } })).rejects.toThrow();
    });

    it('stages a 20 MiB file in parts and reads it back byte for byte', async () => {
      const key = `${prefix()}big.bin`;
      const file = path.join(scratch, 'big.bin');
      const bytes = randomBytes(20 * 1024 * 1024 + 123);
      await writeFile(file, bytes);
      const staged = store.stage(key, { contentType: 'application/gzip' });
      await pipeline(createReadStream(file), staged.stream);
      const { etag } = await staged.commit();
      expect(await store.head(key)).toMatchObject({ size: bytes.length, etag });
      const read = await store.get(key);
      const digest = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
      expect(read && digest(await buffer(read.body))).toBe(digest(bytes));
      const missing = store.stage(`${prefix()}none`);
      await expect(pipeline(createReadStream(path.join(scratch, 'no-such-file')), missing.stream)).rejects.toThrow(
        /ENOENT/,
      );
      await expect(missing.commit()).rejects.toThrow();
      expect(await store.head(`${prefix()}none`)).toBeNull();
    });

    it('stores a finished local file as an object, which outlives the file, and refuses a missing one', async () => {
      const key = `${prefix()}from-file.bin`;
      const file = path.join(scratch, 'from-file.bin');
      const bytes = randomBytes(3 * 1024 * 1024 + 5);
      await writeFile(file, bytes);
      const { etag } = await store.putFile(key, file, { contentType: 'application/octet-stream' });
      expect(await store.head(key)).toMatchObject({ size: bytes.length, etag });
      // The caller removes its file afterwards (an upload session ending): the object stays.
      await rm(file);
      const read = await store.getBuffer(key);
      expect(read?.body.equals(bytes)).toBe(true);
      // A content-addressed key already there keeps its bytes when the same content comes again.
      await writeFile(file, bytes);
      expect((await store.putFile(key, file, { contentAddressed: true })).created).toBeUndefined();
      expect((await store.getBuffer(key))?.body.equals(bytes)).toBe(true);
      await rm(file);
      await expect(store.putFile(`${prefix()}none`, path.join(scratch, 'no-such-file'))).rejects.toThrow(/ENOENT/);
      expect(await store.head(`${prefix()}none`)).toBeNull();
    });

    it('stores a content-addressed local file whose bytes the caller flushed, or failed to flush', async () => {
      const base = prefix();
      const bytes = randomBytes(64 * 1024);
      for (const [name, flush] of [
        ['flushed', () => Promise.resolve()],
        ['flush-failed', () => Promise.reject(new Error('EIO: the caller could not flush'))],
      ] as const) {
        // Marked handled, as a caller does: a driver that uploads the file never looks at it.
        const flushed = flush();
        flushed.catch(() => undefined);
        const file = path.join(scratch, `${name}.bin`);
        await writeFile(file, bytes);
        // A failed flush of the caller's is not the put's failure: the driver flushes itself.
        const { etag } = await store.putFile(`${base}${name}`, file, { contentAddressed: true, flushed });
        await rm(file);
        expect(await store.getBuffer(`${base}${name}`)).toEqual({ body: bytes, etag });
      }
    });

    it('stages an object that only becomes visible on commit, in parts, byte for byte', async () => {
      const key = `${prefix()}staged.bin`;
      const bytes = randomBytes(13 * 1024 * 1024 + 17);
      const staged = store.stage(key, { contentType: 'application/zip' });
      for (let at = 0; at < bytes.length; at += 1024 * 1024) {
        const chunk = bytes.subarray(at, at + 1024 * 1024);
        if (!staged.stream.write(chunk)) await new Promise((resolve) => staged.stream.once('drain', resolve));
      }
      staged.stream.end();
      await new Promise((resolve) => staged.stream.once('finish', resolve));
      expect(await store.head(key)).toBeNull();
      const { etag } = await staged.commit();
      expect(await store.head(key)).toMatchObject({ size: bytes.length, etag });
      const read = await store.getBuffer(key);
      expect(read?.body.equals(bytes)).toBe(true);
    });

    // The S3 targets here have 5 MiB parts: 6 MiB is a multipart upload there, 2 MiB one put (by the
    // SDK: above the driver's own requests' 1 MiB), 64 KiB one put of its own.
    it.each([
      ['below one part', 64 * 1024, target.tellsCreated !== undefined],
      ['below one part, over 1 MiB', 2 * 1024 * 1024, target.tellsCreated !== undefined],
      ['of several parts', 6 * 1024 * 1024, target.tellsCreated === 'always'],
    ])(
      'commits a content-addressed object %s once, and says whether a commit made it',
      async (_size, length, tells) => {
        const key = `${prefix()}addressed-${length}.bin`;
        const bytes = randomBytes(length);
        const commitOnce = async () => {
          const staged = store.stage(key, { contentAddressed: true });
          await pipeline(Readable.from([bytes]), staged.stream);
          return staged.commit();
        };
        const first = await commitOnce();
        expect(first.created).toBe(tells ? true : undefined);
        expect(await store.head(key)).toMatchObject({ size: bytes.length, etag: first.etag });
        const second = await commitOnce();
        // Not made by this write: kept (the first one still, and as old: what garbage collection's
        // grace counts from), or replaced.
        expect(second.created).toBeUndefined();
        expect(await store.head(key)).toMatchObject({ size: bytes.length, etag: second.etag });
        expect((await store.getBuffer(key))?.body.equals(bytes)).toBe(true);
        if (tells) expect(second.etag).toBe(first.etag);
      },
    );

    // The S3 driver reuses part buffers: concurrent and successive uploads must not share bytes.
    it('stages several objects at once, twice over, each byte for byte', async () => {
      for (const round of [1, 2]) {
        const objects = [9, 17, 3].map((mib, i) => ({
          key: `${prefix()}round${round}-${i}.bin`,
          bytes: randomBytes(mib * 1024 * 1024 + i),
        }));
        await Promise.all(
          objects.map(async ({ key, bytes }) => {
            const staged = store.stage(key);
            await pipeline(
              Readable.from(
                (function* () {
                  for (let at = 0; at < bytes.length; at += 3 * 1024 * 1024 + 7)
                    yield bytes.subarray(at, at + 3 * 1024 * 1024 + 7);
                })(),
              ),
              staged.stream,
            );
            await staged.commit();
          }),
        );
        for (const { key, bytes } of objects) expect((await store.getBuffer(key))?.body.equals(bytes), key).toBe(true);
      }
    });

    it('stages a small object, and discards an aborted one without a trace', async () => {
      const small = `${prefix()}staged-small`;
      const staged = store.stage(small);
      staged.stream.end('tiny');
      expect((await staged.commit()).etag).toBe((await store.head(small))?.etag);
      expect((await store.getBuffer(small))?.body.toString()).toBe('tiny');

      const dropped = `${prefix()}staged-dropped`;
      const aborted = store.stage(dropped);
      aborted.stream.write(randomBytes(6 * 1024 * 1024));
      await aborted.abort();
      await aborted.abort();
      expect(await store.head(dropped)).toBeNull();
      expect(await listKeys(store, dropped)).toEqual([]);
    });

    it('answers a ping', async () => {
      await store.ping();
    });
  });
}
