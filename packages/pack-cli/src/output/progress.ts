/**
 * A progress bar for pushes and pulls of large archives, on a terminal only (cli-progress):
 * bytes moved, rate and time left, redrawn in place on stderr. Quiet otherwise: not a terminal,
 * `--quiet`, `--format json`, or an archive small enough to move in a moment.
 */
import { SingleBar } from 'cli-progress';
import type { CliIo } from '../io.js';
import { terminalSafe } from './sanitise.js';
import { formatSize } from './terminal.js';

/** Archives smaller than this move too fast for a bar to say anything. */
export const PROGRESS_MIN_BYTES = 1024 * 1024;

export interface Progress {
  /** Adds `bytes` moved. */
  add(bytes: number): void;
  /** Ends the bar (its last state stays on screen). */
  stop(): void;
}

/** No bar. */
export const NO_PROGRESS: Progress = { add: () => undefined, stop: () => undefined };

/** "12.3 MiB/s" from bytes and milliseconds. */
function rate(bytes: number, ms: number): string {
  return ms <= 0 ? '-' : `${formatSize(Math.round((bytes * 1000) / ms))}/s`;
}

/**
 * A bar for moving `total` bytes, labelled `label` ("pushing cni-calico-3.27.2.zip"); a no-op when
 * the output is not for a person at a terminal.
 *
 * @example
 * const progress = transferProgress(io, 'pulling x.zip', size, { quiet: false, format: 'text' });
 * stream.on('data', (chunk) => progress.add(chunk.length));
 */
export function transferProgress(
  io: CliIo,
  label: string,
  total: number,
  options: { quiet?: boolean | undefined; format: 'text' | 'json' },
): Progress {
  const stream = io.stderr;
  if (options.quiet || options.format !== 'text' || !stream.isTTY || total < PROGRESS_MIN_BYTES) return NO_PROGRESS;
  const started = Date.now();
  let moved = 0;
  const bar = new SingleBar({
    stream,
    format: `${terminalSafe(label)} [{bar}] {percentage}% {moved}/{size} {rate} ETA {eta_formatted}`,
    barsize: 24,
    hideCursor: true,
    clearOnComplete: false,
    // Redraw at most 10 times a second, and not at all once the terminal is gone.
    fps: 10,
    noTTYOutput: false,
  });
  const payload = () => ({
    moved: formatSize(moved),
    size: formatSize(total),
    rate: rate(moved, Date.now() - started),
  });
  bar.start(total, 0, payload());
  return {
    add(bytes) {
      moved += bytes;
      bar.update(Math.min(moved, total), payload());
    },
    stop() {
      bar.update(Math.min(moved, total), payload());
      bar.stop();
    },
  };
}
