/**
 * The V8 settings the server runs with, set at start-up (each unless the operator gave it on node's
 * command line), and V8's collector for the parts that need a full collection now.
 *
 * The old generation's growing factor: a registry's live heap is small (21-23 MB after 600 small
 * publishes: the catalog, identity, caches) while every request leaves short-lived garbage; by
 * default V8 lets the heap grow to a multiple of the live size, and the peers bench saw peak RSS
 * climb 135 -> 186 MB over 600 small publishes at a steady live heap. Growing by 30% instead held
 * it at ~155 MB with no measurable CPU cost per publish (bench/peers, small rows). V8 reads this
 * flag at each collection, so setting it at start-up takes effect (the young generation's size, by
 * contrast, is fixed when the isolate is made: the launcher gives `--max-semi-space-size=2`).
 *
 * The interrupt budget, how much bytecode a function runs between V8's looks at whether to
 * optimize it, at 4x V8's default: a publish runs a wide path (HTTP, streams, zip and YAML
 * checks, the store) where many functions are warm and few hot, and on two cores optimizing every
 * warm one early costs more than it saves. Over a registry's first ~1,200 small publishes its
 * compiler threads spent ~5.8 CPU-seconds building ~760 optimized functions (`--trace-opt`); with
 * the larger budget only the hotter ones are optimized, later: 322 compilations, 1.8 s (bench pair,
 * both orders: 8 clients ~1.04x the publish rate at ~0.92x the server CPU, sequential ~1.02x at
 * ~0.92x; docs/registry.md, "Performance"). V8 reads it each time a function's budget is reset,
 * so it applies to all code that runs after start-up, in the worker threads too (V8's flags are
 * the process's).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const GROWING_PERCENT = 30;
/** V8 11's default interrupt budget (67,584), times four. */
const INTERRUPT_BUDGET = 4 * 67_584;

/**
 * Whether the operator gave the V8 flag `name` (without its leading dashes) on node's command
 * line, in either spelling (`node --heap-growing-percent=N .../bin.js`; node refuses such flags in
 * NODE_OPTIONS, and a numeric one whose value is not joined to it by `=`).
 */
export function flagGiven(execArgv: readonly string[], name: string): boolean {
  const prefix = `--${name.replaceAll('_', '-')}=`;
  return execArgv.some((arg) => arg.replaceAll('_', '-').startsWith(prefix));
}

/** The V8 flags {@link applyV8Policy} sets, given the flags node was started with. */
export function policyFlags(execArgv: readonly string[]): string[] {
  const policy: [string, number][] = [
    ['heap-growing-percent', GROWING_PERCENT],
    ['interrupt-budget', INTERRUPT_BUDGET],
  ];
  return policy.filter(([name]) => !flagGiven(execArgv, name)).map(([name, value]) => `--${name}=${value}`);
}

/** Applies the server's V8 policy, but for the flags the operator chose themselves. */
export function applyV8Policy(): void {
  for (const flag of policyFlags(process.execArgv)) setFlagsFromString(flag);
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
