import { describe, expect, it } from 'vitest';
import { bestOfThree, MiB, superLinearity } from './linear-time.js';

/** A loop of `n` steps: about 5 ns each here, so the sizes below take some 80 ms at 1 MiB. */
function spin(n: number): number {
  let x = 0;
  for (let i = 0; i < n; i++) x = (x * 31 + i) | 0;
  return x;
}

const timed = (steps: (size: number) => number) => (size: number) => bestOfThree(() => spin(steps(size)));

describe('superLinearity', () => {
  it('passes a call within its bound', async () => {
    expect(
      await superLinearity(
        timed(() => 10),
        50,
      ),
    ).toBeNull();
  });

  it('passes a linear call over its bound, as on a loaded machine', async () => {
    expect(
      await superLinearity(
        timed((size) => size * 15),
        20,
      ),
    ).toBeNull();
  });

  it('fails a quadratic call over its bound', async () => {
    const fault = await superLinearity(
      timed((size) => (size / 1024) ** 2 * 15),
      10,
    );
    expect(fault).toMatch(/x the time on a quarter of the input/);
  });

  it('fails a linear call over ten times its bound', async () => {
    expect(
      await superLinearity(
        timed((size) => size * 15),
        1,
        MiB,
      ),
    ).not.toBeNull();
  });
});
