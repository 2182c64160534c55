/**
 * The `Range` header of a GET, by RFC 9110 section 14: what every download route (pack archives,
 * OCI blobs) serves of a representation of `size` bytes. One byte range is served (206); a header
 * the server may ignore is ignored (200, the whole), as RFC 9110 says an unknown unit must be and
 * an invalid or multi-range one may be (no multipart/byteranges here); a range that starts past
 * the end is unsatisfiable (416 with `Content-Range: bytes *\/<size>`).
 */
import { registryError } from '../errors.js';
import type { PackError } from '@packyard/pack-core';

export type ByteRange = { start: number; end: number };

/** Linear: two runs of digits around one dash. */
const RANGE_SPEC = /^(\d*)-(\d*)$/;

/**
 * The single byte range `header` asks for, null for the whole representation (no header, or one
 * to ignore), 'unsatisfiable' for a range past its end (or any range of an empty one).
 */
export function byteRange(header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (header === undefined) return null;
  const equals = header.indexOf('=');
  // Range units are case-insensitive (RFC 9110 14.1); "bytes" is the only one served.
  if (equals < 0 || header.slice(0, equals).trim().toLowerCase() !== 'bytes') return null;
  const specs = header.slice(equals + 1).split(',');
  if (specs.length !== 1) return null;
  const match = RANGE_SPEC.exec((specs[0] ?? '').trim());
  if (!match) return null;
  const [, first = '', last = ''] = match;
  if (first === '') {
    if (last === '') return null;
    // A suffix: the last N bytes, all of them when N is the size or more (14.1.2); N = 0 asks for none.
    const suffix = Number(last);
    return suffix === 0 || size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Number(last);
  if (last !== '' && end < start) return null; // invalid (14.1.1): ignored
  return start >= size ? 'unsatisfiable' : { start, end: Math.min(end, size - 1) };
}

/** The 416 of an unsatisfiable range; the caller sets `Content-Range: bytes *\/<size>`. */
export function rangeNotSatisfiable(size: number): PackError {
  return registryError('RANGE_NOT_SATISFIABLE', `the range asked for is outside the ${size} bytes there are`, {
    hint: size > 0 ? `ask for one byte range within 0-${size - 1}` : 'there are no bytes to ask for',
  });
}
