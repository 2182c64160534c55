/**
 * How far the server lets V8's old generation grow between full collections. A registry's live
 * heap is small (21-23 MB after 600 small publishes: the catalog, identity, caches) while every
 * request leaves short-lived garbage; by default V8 lets the heap grow to a multiple of the live
 * size, and the peers bench saw peak RSS climb 135 -> 186 MB over 600 small publishes at a steady
 * live heap. Growing by 30% instead held it at ~155 MB with no measurable CPU cost per publish
 * (bench/peers, small rows). V8 reads this flag at each collection, so setting it at start-up
 * takes effect (the young generation's size, by contrast, is fixed when the isolate is made:
 * `NODE_OPTIONS=--max-semi-space-size=2` takes ~28 MB more off the peak, at some CPU).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const GROWING_PERCENT = 30;

/**
 * Whether the operator set the heap's growing factor themselves, on node's command line
 * (`node --heap-growing-percent=N .../bin.js`; node refuses the flag in NODE_OPTIONS).
 */
export function heapGrowthGiven(execArgv: readonly string[]): boolean {
  return execArgv.some((arg) => arg.replaceAll('_', '-').startsWith('--heap-growing-percent'));
}

/** Applies the server's heap policy, unless the operator chose their own. */
export function applyHeapPolicy(): void {
  if (heapGrowthGiven(process.execArgv)) return;
  setFlagsFromString(`--heap-growing-percent=${GROWING_PERCENT}`);
}

/** V8's collector, taken on first use (see {@link collectGarbage}). */
let collector: (() => void) | undefined;

/**
 * Runs a full garbage collection now. For a part of the server that has just let go of large
 * buffers: their memory (malloc'd outside V8's heap) is returned only when V8 collects the small
 * objects that own them, and a registry idle after a burst of large uploads may not collect for a
 * long time. The collector is taken from a context made while `--expose-gc` is on, and the flag is
 * turned off again at once: no global `gc` appears in the server's own context.
 */
export function collectGarbage(): void {
  if (!collector) {
    setFlagsFromString('--expose-gc');
    try {
      collector = runInNewContext('gc') as () => void;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  collector();
}
