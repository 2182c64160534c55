import { describe, expect, it } from 'vitest';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { collectGarbage, heapGrowthGiven } from './heap-policy.js';

describe('heapGrowthGiven', () => {
  it('leaves the growing factor to an operator who set it, in either spelling', () => {
    expect(heapGrowthGiven(['--heap-growing-percent=50'])).toBe(true);
    expect(heapGrowthGiven(['--max-old-space-size=512', '--heap_growing_percent=10'])).toBe(true);
  });

  it('applies the policy otherwise', () => {
    expect(heapGrowthGiven([])).toBe(false);
    expect(heapGrowthGiven(['--enable-source-maps', '--max-semi-space-size=2'])).toBe(false);
  });
});

describe('collectGarbage', () => {
  it('collects what nothing references any more, without exposing gc to the server', async () => {
    const exposedBefore = 'gc' in globalThis;
    const refs = Array.from({ length: 3 }, () => new WeakRef(Buffer.alloc(1024 * 1024)));
    // A WeakRef keeps its target for the rest of the job that made it.
    await nextTurn();
    collectGarbage();
    expect(refs.map((ref) => ref.deref())).toEqual([undefined, undefined, undefined]);
    collectGarbage();
    expect('gc' in globalThis).toBe(exposedBefore);
  });
});
