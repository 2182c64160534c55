import { afterEach, describe, expect, it, vi } from 'vitest';
import { BufferPool } from './staged-upload.js';

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
