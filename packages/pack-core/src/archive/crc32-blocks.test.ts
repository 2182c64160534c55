import { randomBytes, randomInt } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BlockChecksummer, crc32Combine, crc32OfRange } from './crc32-blocks.js';

describe('crc32Combine', () => {
  it('gives the CRC-32 of two runs joined, as zlib does', () => {
    expect(crc32Combine(crc32('hello '), crc32('world'), 5)).toBe(crc32('hello world'));
    for (const [a, b] of [
      [0, 0],
      [1, 0],
      [0, 1],
      [3, 70_000],
      [65_536, 65_536],
    ] as const) {
      const left = randomBytes(a);
      const right = randomBytes(b);
      expect(crc32Combine(crc32(left), crc32(right), b)).toBe(crc32(Buffer.concat([left, right])));
    }
  });
});

describe('crc32OfRange', () => {
  const blockSize = 4096;
  const bytes = randomBytes(10 * blockSize + 1234);

  function checksums() {
    const summer = new BlockChecksummer(blockSize);
    // Chunks of every size, across block boundaries.
    for (let at = 0; at < bytes.length;) {
      const size = randomInt(1, 3 * blockSize);
      summer.update(bytes.subarray(at, at + size));
      at += size;
    }
    return summer.result();
  }

  it('records one CRC-32 per block, the last one short', () => {
    const { crcs } = checksums();
    expect(crcs).toHaveLength(11);
    expect(crcs[3]).toBe(crc32(bytes.subarray(3 * blockSize, 4 * blockSize)));
    expect(crcs[10]).toBe(crc32(bytes.subarray(10 * blockSize)));
  });

  it('matches the CRC-32 of the bytes for ranges aligned, unaligned, short and whole, reading only their ends', async () => {
    const blocks = checksums();
    const ranges: Array<[number, number]> = [
      [0, bytes.length],
      [0, 10 * blockSize],
      [blockSize, 3 * blockSize],
      [17, 5 * blockSize + 3],
      [blockSize - 1, blockSize + 1],
      [100, 100],
      [5, 4000],
      [9 * blockSize + 5, bytes.length],
    ];
    for (let i = 0; i < 50; i++) {
      const start = randomInt(0, bytes.length);
      ranges.push([start, randomInt(start, bytes.length + 1)]);
    }
    for (const [start, end] of ranges) {
      let read = 0;
      const crc = await crc32OfRange(blocks, start, end, (from, to) => {
        read += to - from;
        return Promise.resolve(bytes.subarray(from, to));
      });
      expect(crc, `${start}-${end}`).toBe(crc32(bytes.subarray(start, end)));
      expect(read).toBeLessThan(2 * blockSize);
    }
  });

  it('refuses a range past the blocks', async () => {
    const blocks = checksums();
    await expect(crc32OfRange(blocks, 0, 20 * blockSize, () => Promise.resolve(Buffer.alloc(0)))).rejects.toThrow(
      RangeError,
    );
  });
});
