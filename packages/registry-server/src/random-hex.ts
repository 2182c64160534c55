/**
 * Random names and ids (temporary files, audit entries, change-log entries): hex of bytes from the
 * CSPRNG, taken from a pool filled 4 KiB at a time. `randomBytes` costs ~5-8 µs a call here (a
 * call into OpenSSL and a fresh buffer), and a small publish names seven things; from the pool, a
 * name costs ~0.1 µs (the way node's `randomUUID` caches its bytes). No byte is handed out twice.
 * Secrets and keys are not made here: they take `randomBytes` of their own.
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let used = POOL_BYTES;

/** `bytes` random bytes (at most 256) as lower-case hex. */
export function randomHex(bytes: number): string {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > 256) throw new RangeError(`randomHex: ${bytes} bytes`);
  if (used + bytes > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + bytes);
  used += bytes;
  return hex;
}
