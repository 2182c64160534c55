/**
 * CRC-32 over byte ranges of a file without reading them again. A reader that already streams a
 * whole file (the registry hashes every upload) records the CRC-32 of each fixed-size block on
 * the way; the CRC-32 of any range then follows from the blocks it covers, combined with zlib's
 * crc32_combine algorithm, plus the partial blocks at its two ends. This is how a published
 * archive's stored entries are checked without a second pass over their bytes.
 */
import { crc32 } from 'node:zlib';

/** The CRC-32s of consecutive `blockSize`-byte blocks of a file (the last block may be shorter). */
export interface BlockChecksums {
  blockSize: number;
  crcs: Uint32Array;
}

// CRC-32 (IEEE 802.3), reflected, as zlib computes it.
const POLY = 0xedb88320;

/** a(x) * b(x) modulo the CRC polynomial, in the reflected bit order (zlib's multmodp). */
function multiplyModPoly(a: number, b: number): number {
  if (a === 0) return 0;
  let m = 0x80000000;
  let product = 0;
  let factor = b >>> 0;
  for (;;) {
    if (a & m) {
      product = (product ^ factor) >>> 0;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    factor = factor & 1 ? ((factor >>> 1) ^ POLY) >>> 0 : factor >>> 1;
  }
  return product;
}

/** x^(8 * bytes) modulo the polynomial: the operator that shifts a CRC past `bytes` zero bytes. */
function shiftOperator(bytes: number): number {
  let power = 0x40000000; // x^1
  let result = 0x80000000; // x^0
  // Square-and-multiply over the bits of 8 * bytes.
  for (let n = bytes * 8; n > 0; n = Math.floor(n / 2)) {
    if (n % 2 === 1) result = multiplyModPoly(power, result);
    power = multiplyModPoly(power, power);
  }
  return result;
}

/**
 * The CRC-32 of A followed by B, from crc(A), crc(B) and B's length (zlib's crc32_combine).
 *
 * @example
 * crc32Combine(crc32('hello '), crc32('world'), 5) === crc32('hello world'); // true
 */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  return (multiplyModPoly(shiftOperator(lengthB), crcA) ^ crcB) >>> 0;
}

/** Accumulates {@link BlockChecksums} from a file's bytes, fed in order in chunks of any size. */
export class BlockChecksummer {
  private readonly done: number[] = [];
  private current = 0;
  private filled = 0;

  constructor(readonly blockSize: number) {}

  update(chunk: Buffer): void {
    for (let at = 0; at < chunk.length;) {
      const take = Math.min(this.blockSize - this.filled, chunk.length - at);
      this.current = crc32(chunk.subarray(at, at + take), this.current);
      this.filled += take;
      at += take;
      if (this.filled === this.blockSize) {
        this.done.push(this.current);
        this.current = 0;
        this.filled = 0;
      }
    }
  }

  result(): BlockChecksums {
    const crcs = this.filled > 0 ? [...this.done, this.current] : this.done;
    return { blockSize: this.blockSize, crcs: Uint32Array.from(crcs) };
  }
}

/**
 * The CRC-32 of bytes [start, end) of the file that `blocks` describes: whole blocks come from
 * `blocks`, the partial blocks at either end from `read`.
 */
export async function crc32OfRange(
  blocks: BlockChecksums,
  start: number,
  end: number,
  read: (start: number, end: number) => Promise<Buffer>,
): Promise<number> {
  const { blockSize, crcs } = blocks;
  const first = Math.ceil(start / blockSize);
  const last = Math.floor(end / blockSize);
  if (last <= first) return crc32(await read(start, end));
  if (last > crcs.length) throw new RangeError(`bytes ${start}-${end} are past the blocks checksummed`);
  let crc = start < first * blockSize ? crc32(await read(start, first * blockSize)) : 0;
  const shift = shiftOperator(blockSize);
  for (let block = first; block < last; block++) {
    crc = (multiplyModPoly(shift, crc) ^ (crcs[block] ?? 0)) >>> 0;
  }
  return end > last * blockSize ? crc32(await read(last * blockSize, end), crc) : crc;
}
