import { describe, expect, it } from 'vitest';
import { heapGrowthGiven } from './heap-policy.js';

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
