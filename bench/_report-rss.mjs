// @ts-check
/**
 * Preload module for benchmarks (`node --import <this file URL> ...`): when the process exits it
 * writes its peak resident set size to stderr as one line, `PACKYARD_BENCH_MAXRSS_KB=<kB>`, for the
 * parent benchmark to parse. Measuring from inside the child is the only portable way to get this
 * from Node: the parent cannot read a child's rusage.
 *
 * Covers the main thread and any worker threads (same process); not grandchildren the tool spawns.
 * Not reported when the process dies from a signal, since 'exit' handlers do not run then.
 */
import { writeSync } from 'node:fs';

process.on('exit', () => {
  // writeSync: nothing asynchronous runs after 'exit'. The leading newline keeps the marker on a line
  // of its own even if the tool's last stderr output did not end with one.
  writeSync(2, `\nPACKYARD_BENCH_MAXRSS_KB=${process.resourceUsage().maxRSS}\n`);
});
