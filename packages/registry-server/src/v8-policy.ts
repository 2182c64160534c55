/**
 * The V8 settings the server runs with, set at start-up (each unless the operator gave it on node's
 * command line), and V8's collector: a full collection for the parts that need one now, and a
 * young-generation one after every few MiB of upload body received.
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

/**
 * V8's `gc()`: a full collection when called bare, a young-generation one with `type: 'minor'`.
 * (Node 20's V8 runs a minor collection for `type: 'major'` too: a full one is the bare call.)
 */
type Collector = (options?: { type: 'minor' }) => void;

/** V8's collector, taken on first use (see {@link collectGarbage}). */
let collector: Collector | undefined;

/**
 * V8's collector, taken from a context made while `--expose-gc` is on; the flag is turned off
 * again at once: no global `gc` appears in the server's own context.
 */
function v8Collector(): Collector {
  if (!collector) {
    setFlagsFromString('--expose-gc');
    try {
      collector = runInNewContext('gc') as Collector;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  return collector;
}

/**
 * Runs a full garbage collection now. For a part of the server that has just let go of large
 * buffers: their memory (malloc'd outside V8's heap) is returned only when V8 collects the small
 * objects that own them, and a registry idle after a burst of large uploads may not collect for a
 * long time.
 */
export function collectGarbage(): void {
  v8Collector()();
}

/** Body bytes received between two young-generation collections (see {@link YoungCollections}). */
export const YOUNG_COLLECTION_BYTES = 4 * 1024 * 1024;

/**
 * Asks for a young-generation collection after every `everyBytes` of bodies received, in a turn of
 * the event loop of its own (once, however many chunks passed the mark in the turn before).
 *
 * Each chunk of a request body that node's HTTP parser hands over is a buffer of its own, up to
 * 64 KiB, malloc'd outside V8's heap and freed only when V8 collects the small object that owns
 * it. Left to itself, V8 collects them every ~20 MB of a large body (when their external memory
 * presses it), so glibc keeps taking fresh memory for new chunks meanwhile (each page of it
 * faulted in), and the small allocations that live on settle above the freed chunks in its main
 * arena, which then stays grown for the process's life (measured: the arena 15 -> 27 MB after one
 * 100 MB publish; the small publishes that followed peaked 11 MB higher). Collected every 4 MiB,
 * the chunks are freed while they are few, and the next ones reuse their memory: the arena stayed
 * at 15 MB, and a 100 MB publish took 0.80-0.88x the time at 0.75-0.82x the CPU on the fs store,
 * 0.95-0.97x the time at 0.74-0.80x the CPU on S3 (A/B, both orders; docs/registry.md,
 * "Performance"). A young collection costs 1-2 ms here; a small publish (~53 KB) asks for one
 * every ~75 publishes.
 */
export class YoungCollections {
  private bytes = 0;
  private pending = false;
  /** Body bytes counted so far. */
  total = 0;

  constructor(
    private readonly collect: () => void,
    private readonly everyBytes = YOUNG_COLLECTION_BYTES,
  ) {}

  /** Counts `bytes` of a body just received. */
  received(bytes: number): void {
    this.total += bytes;
    this.bytes += bytes;
    if (this.bytes < this.everyBytes || this.pending) return;
    this.bytes = 0;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      this.collect();
    });
  }
}

/** The server's count of body bytes received, with V8's young-generation collector behind it. */
export const bodyCollections = new YoungCollections(() => {
  v8Collector()({ type: 'minor' });
});

/**
 * Tells the collector that a chunk of an upload's body has been received: see
 * {@link YoungCollections}. For the places that take request bodies in chunk by chunk (a pack
 * upload, an OCI blob upload). Not for bodies relayed from S3 (measured: a relayed 100 MB download
 * was 0.78-0.82x as fast with it in two of three A/B runs).
 */
export function bodyReceived(chunk: Buffer): void {
  bodyCollections.received(chunk.length);
}
