import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { S3Client } from '@aws-sdk/client-s3';
import { PreconditionFailedError } from '../object-store.js';
import { BufferPool, stagedUploads } from './staged-upload.js';

describe('BufferPool (the part buffers of staged S3 uploads)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('gives back the buffers it kept, up to `keep`', () => {
    const pool = new BufferPool(16, 2);
    const [a, b, c] = [pool.take(), pool.take(), pool.take()];
    pool.give(a);
    pool.give(b);
    pool.give(c);
    expect(pool.kept).toBe(2);
    const again = [pool.take(), pool.take()];
    expect(again).toContain(a);
    expect(again).toContain(b);
    expect(pool.take()).not.toBe(c);
  });

  it('lets its buffers go when nothing has taken one for its idle time, and has them collected', () => {
    vi.useFakeTimers();
    const release = vi.fn();
    const pool = new BufferPool(16, 4, 1000, release);
    const a = pool.take();
    pool.give(a);
    vi.advanceTimersByTime(999);
    expect(pool.kept).toBe(1);
    // Taken and given back: the idle time starts again.
    expect(pool.take()).toBe(a);
    vi.advanceTimersByTime(900);
    pool.give(a);
    vi.advanceTimersByTime(999);
    expect(pool.kept).toBe(1);
    expect(release).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(pool.kept).toBe(0);
    expect(release).toHaveBeenCalledTimes(1);
    expect(pool.take()).not.toBe(a);
  });

  it('keeps its buffers while an upload holds one', () => {
    vi.useFakeTimers();
    const pool = new BufferPool(16, 4, 1000);
    const [a, b] = [pool.take(), pool.take()];
    pool.give(a);
    // b is still out (an upload between parts): taking again cancels the idle timer.
    expect(pool.take()).toBe(a);
    vi.advanceTimersByTime(5000);
    pool.give(a);
    pool.give(b);
    expect(pool.kept).toBe(2);
  });
});

/**
 * A staged object below one part, content-addressed, where the backend creates once: what a
 * refused create (412) finds decides. The backend is a map whose objects may vanish between calls
 * (garbage collection); the real S3 behaviour is in the store conformance cases on Ceph.
 */
describe('a content-addressed object below one part', () => {
  const key = 'blobs/k';
  const bytes = Buffer.from('the same bytes');
  const client = new S3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' });
  afterAll(() => {
    client.destroy();
  });

  /** `vanishing`: this many refused creates find the object gone when they look (removed meanwhile). */
  function stagingOn(objects: Map<string, Buffer>, vanishing = 0) {
    let vanishes = vanishing;
    const puts: Array<{ conditional: boolean }> = [];
    const stage = stagedUploads({
      // Never sent to: an object below one part is put through `put`.
      client,
      bucket: 'b',
      description: 's3 test',
      partSize: 5 * 1024 * 1024,
      fullKey: (k) => k,
      metadata: (run) => run(new AbortController().signal),
      transfer: (_stack, run) => run(new AbortController().signal),
      guard: (call) => call,
      put: (k, body, options) => {
        puts.push({ conditional: options.ifNoneMatch === '*' });
        if (options.ifNoneMatch === '*' && (objects.has(k) || vanishes > 0)) {
          if (vanishes > 0) {
            vanishes--;
            objects.delete(k);
          }
          return Promise.reject(new PreconditionFailedError(k));
        }
        objects.set(k, Buffer.from(body));
        return Promise.resolve({ etag: `etag-${objects.get(k)?.toString() ?? ''}` });
      },
      etagAfterWrite: () => Promise.reject(new Error('not used')),
      head: (k) => {
        const body = objects.get(k);
        return Promise.resolve(body ? { size: body.length, etag: `etag-${body.toString()}` } : null);
      },
      createsOnce: () => true,
    });
    const commit = async () => {
      const staged = stage(key, { contentAddressed: true });
      await pipeline(Readable.from([bytes]), staged.stream);
      return staged.commit();
    };
    return { commit, puts };
  }

  it('is made once, then kept as it is', async () => {
    const objects = new Map<string, Buffer>();
    const { commit } = stagingOn(objects);
    expect(await commit()).toEqual({ etag: 'etag-the same bytes', created: true });
    expect(await commit()).toEqual({ etag: 'etag-the same bytes' });
  });

  it('replaces an object of another size found under its key, without saying it made it', async () => {
    const objects = new Map([[key, Buffer.from('damaged')]]);
    const { commit, puts } = stagingOn(objects);
    expect(await commit()).toEqual({ etag: 'etag-the same bytes' });
    expect(objects.get(key)).toEqual(bytes);
    expect(puts).toEqual([{ conditional: true }, { conditional: false }]);
  });

  it('is made when the object that refused it is gone when looked at', async () => {
    const objects = new Map([[key, bytes]]);
    const { commit } = stagingOn(objects, 1);
    expect(await commit()).toEqual({ etag: 'etag-the same bytes', created: true });
  });

  it('gives up as storage unavailable (503) when that happens twice', async () => {
    const objects = new Map([[key, bytes]]);
    // Refused twice, and gone each time it is looked at.
    const { commit, puts } = stagingOn(objects, 2);
    await expect(commit()).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect(puts).toEqual([{ conditional: true }, { conditional: true }]);
  });
});
