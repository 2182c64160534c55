/**
 * Telling a super-linear function from a loaded machine, for the tests that check that every
 * function reading user input runs in linear time.
 *
 * A time bound alone is both too strict and too loose: a two-core CI machine running other test
 * files beside this one can make a linear call of 30 ms take 60, and a quadratic call can stay under
 * any bound on a small input. So a call within its bound passes, and a call over it is timed again
 * on a quarter of the input: a linear call then takes about a quarter of the time, a quadratic one a
 * sixteenth, an exponential one next to nothing. Growth over 8 (between the two) is super-linear.
 */

export const MiB = 1024 * 1024;

/** `size` characters of `unit` repeated: the adversarial inputs are runs of a few characters. */
export function fill(unit: string, size: number): string {
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

/** Growth of the time from a quarter of the input to all of it above which a call is super-linear. */
const SUPER_LINEAR_GROWTH = 8;

/** Milliseconds of one call. */
export async function once(run: () => unknown): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/** Milliseconds of the fastest of three calls: a pause (a collection, a neighbour) slows only some. */
export async function bestOfThree(run: () => unknown): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 3; i++) best = Math.min(best, await once(run));
  return best;
}

/**
 * Null when a call is linear on an input shape, or else what was measured. `time(size)` gives the
 * milliseconds of a call on an input of `size` units. A call within `bound` at full size passes; one
 * over it is compared with a call on a quarter of the input, up to three times (a load spike can
 * inflate any one time; a super-linear call grows every time), and fails when its time grows more
 * than 8-fold with the size every time, or when it stays over ten times its bound.
 */
export async function superLinearity(
  time: (size: number) => Promise<number>,
  bound: number,
  size = MiB,
): Promise<string | null> {
  let full = await time(size);
  let growth = Infinity;
  for (let attempt = 0; attempt < 3 && full > bound; attempt++) {
    if (attempt > 0) {
      full = Math.min(full, await time(size));
      if (full <= bound) return null;
    }
    const quarter = await time(Math.floor(size / 4));
    // A tenth of a millisecond stands for a quarter call too quick to time.
    growth = Math.min(growth, full / Math.max(quarter, 0.1));
    if (growth <= SUPER_LINEAR_GROWTH && full <= 10 * bound) return null;
  }
  if (full <= bound) return null;
  return `${Math.round(full)} ms (bound ${bound}), ${growth.toFixed(1)}x the time on a quarter of the input`;
}
