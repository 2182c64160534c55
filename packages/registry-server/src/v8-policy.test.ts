import { describe, expect, it } from 'vitest';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import {
  bodyCollections,
  collectGarbage,
  flagGiven,
  policyFlags,
  YOUNG_COLLECTION_BYTES,
  YoungCollections,
} from './v8-policy.js';

describe('flagGiven', () => {
  it('finds a flag the operator gave, in either spelling, with its value', () => {
    expect(flagGiven(['--heap-growing-percent=50'], 'heap-growing-percent')).toBe(true);
    expect(flagGiven(['--max-old-space-size=512', '--heap_growing_percent=10'], 'heap-growing-percent')).toBe(true);
    expect(flagGiven(['--interrupt_budget=1000'], 'interrupt-budget')).toBe(true);
  });

  it('does not take another flag that starts with the same words for it', () => {
    expect(flagGiven([], 'interrupt-budget')).toBe(false);
    expect(flagGiven(['--interrupt-budget-for-feedback-allocation=100'], 'interrupt-budget')).toBe(false);
    expect(flagGiven(['--enable-source-maps', '--max-semi-space-size=2'], 'heap-growing-percent')).toBe(false);
  });
});

describe('policyFlags', () => {
  it('sets the heap growth and the interrupt budget when node was given neither', () => {
    expect(policyFlags(['--max-semi-space-size=2'])).toEqual([
      '--heap-growing-percent=30',
      '--interrupt-budget=270336',
    ]);
  });

  it("leaves each flag the operator gave to the operator's value", () => {
    expect(policyFlags(['--heap-growing-percent=50'])).toEqual(['--interrupt-budget=270336']);
    expect(policyFlags(['--interrupt_budget=1000'])).toEqual(['--heap-growing-percent=30']);
    expect(policyFlags(['--interrupt-budget=1000', '--heap-growing-percent=50'])).toEqual([]);
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

describe('YoungCollections', () => {
  it('asks for a collection once every so many bytes, in a turn of its own', async () => {
    let collections = 0;
    const young = new YoungCollections(() => collections++, 1000);
    young.received(999);
    await nextTurn();
    expect(collections).toBe(0);
    young.received(1);
    expect(collections).toBe(0);
    await nextTurn();
    expect(collections).toBe(1);
    // Many chunks past the mark within one turn: one collection.
    for (let i = 0; i < 5; i++) young.received(1000);
    await nextTurn();
    expect(collections).toBe(2);
    expect(young.total).toBe(6000);
  });

  it("runs V8's young-generation collector, without exposing gc to the server", async () => {
    const exposedBefore = 'gc' in globalThis;
    const kinds: number[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) kinds.push((entry as unknown as { detail: { kind: number } }).detail.kind);
    });
    observer.observe({ entryTypes: ['gc'] });
    try {
      bodyCollections.received(YOUNG_COLLECTION_BYTES);
      await nextTurn();
      await sleep(50);
    } finally {
      observer.disconnect();
    }
    expect(kinds).toContain(constants.NODE_PERFORMANCE_GC_MINOR);
    expect(kinds).not.toContain(constants.NODE_PERFORMANCE_GC_MAJOR);
    expect('gc' in globalThis).toBe(exposedBefore);
  });
});
