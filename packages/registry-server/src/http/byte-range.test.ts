import { describe, expect, it } from 'vitest';
import { byteRange } from './byte-range.js';

describe('byteRange (RFC 9110 section 14)', () => {
  it.each([
    // One range: served.
    ['bytes=0-9', 100, { start: 0, end: 9 }],
    ['bytes=90-', 100, { start: 90, end: 99 }],
    ['bytes=90-1000', 100, { start: 90, end: 99 }],
    ['BYTES = 5-5', 100, { start: 5, end: 5 }],
    ['bytes=-10', 100, { start: 90, end: 99 }],
    // A suffix as long as the whole, or longer, is the whole.
    ['bytes=-100', 100, { start: 0, end: 99 }],
    [`bytes=-${'9'.repeat(25)}`, 100, { start: 0, end: 99 }],
    // Past the end, a zero-length suffix, any range of nothing: unsatisfiable.
    ['bytes=100-', 100, 'unsatisfiable'],
    [`bytes=${'9'.repeat(25)}-`, 100, 'unsatisfiable'],
    ['bytes=-0', 100, 'unsatisfiable'],
    ['bytes=0-0', 0, 'unsatisfiable'],
    // What the server must or may ignore: the whole representation.
    [undefined, 100, null],
    ['items=0-9', 100, null],
    ['0-9', 100, null],
    ['bytes=0-9,20-29', 100, null],
    ['bytes=9-0', 100, null],
    ['bytes=-', 100, null],
    ['bytes=a-b', 100, null],
    ['bytes=1-2-3', 100, null],
  ] as const)('%s of %d bytes', (header, size, expected) => {
    expect(byteRange(header, size)).toEqual(expected);
  });

  // A backtracking pattern would hold the test past its timeout on these.
  it('reads a hostile header in linear time', () => {
    for (const header of [
      `bytes=${'1'.repeat(100_000)}`,
      `bytes=${'-'.repeat(100_000)}`,
      `bytes=${'1-'.repeat(50_000)}`,
    ]) {
      expect(byteRange(header, 100)).toBeNull();
    }
  });
});
