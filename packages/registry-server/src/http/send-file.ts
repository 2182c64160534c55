/**
 * Sending a local file (a cached archive, or a blob of the fs store) as a response body.
 * fs.createReadStream allocates a new buffer for every read; for archives of hundreds of megabytes
 * that costs more than the copying itself (fresh pages faulted in, then collected as external
 * memory). Here two buffers take turns: one is read into while the socket takes the other.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';

const CHUNK_BYTES = 1024 * 1024;

/**
 * Sends in flight with 1 MiB buffers, at most: a client that stops reading holds its two buffers
 * until its connection is closed as idle (./idle-transfers.ts), so a thousand would hold 2 GB.
 * Sends past this many take 64 KiB buffers (slower to read from disk, as fast to the socket),
 * which bounds what stalled clients hold to 32 MiB plus 128 KiB each.
 */
const LARGE_SENDS = 16;
const SMALL_CHUNK_BYTES = 64 * 1024;
let largeSends = 0;

/** Resolves once `out` has taken `chunk`; rejects if it fails or closes first. */
function write(out: Writable, chunk: Buffer, closed: Promise<never>): Promise<void> {
  const written = new Promise<void>((resolve, reject) => {
    out.write(chunk, (err) => {
      if (err) reject(err);
      else resolve();
    });
  });
  return Promise.race([written, closed]);
}

/**
 * Writes bytes `start` to `end` (inclusive) of `file` to `out`, without ending it; resolves with
 * the number of bytes written. Rejects when the file is shorter than the range, or when `out`
 * closes or fails first (a client that went away). `file` is a path, or a descriptor opened for
 * reading that sendFile takes over and closes.
 *
 * @example
 * await sendFile('/var/lib/packyard/blob-cache/ab/abcd...', res, { start: 0, end: size - 1 });
 * res.end();
 */
export async function sendFile(
  file: string | FileHandle,
  out: Writable,
  range: { start: number; end: number },
): Promise<number> {
  // A client that went away while the route looked the file up: nothing to open, nothing to send.
  if (out.destroyed) {
    if (typeof file !== 'string') await file.close();
    throw new Error('the response closed before the file was sent');
  }
  const handle = typeof file === 'string' ? await open(file, 'r') : file;
  const name = typeof file === 'string' ? file : `descriptor ${file.fd}`;
  // Listeners for the life of the response, which is used once: a failed write also emits
  // 'error', which would otherwise go unhandled and stop the process.
  const closed = new Promise<never>((_resolve, reject) => {
    out.once('close', () => {
      reject(new Error('the response closed before the file was sent'));
    });
    out.on('error', reject);
  });
  closed.catch(() => undefined);
  const large = largeSends < LARGE_SENDS;
  if (large) largeSends++;
  const chunkBytes = large ? CHUNK_BYTES : SMALL_CHUNK_BYTES;
  const buffers = [Buffer.allocUnsafe(chunkBytes), Buffer.allocUnsafe(chunkBytes)];
  let writing: Promise<void> = Promise.resolve();
  let position = range.start;
  try {
    for (let turn = 0; position <= range.end; turn ^= 1) {
      const buffer = buffers[turn] as Buffer;
      const length = Math.min(chunkBytes, range.end - position + 1);
      const { bytesRead } = await handle.read(buffer, 0, length, position);
      if (bytesRead === 0) throw new Error(`${name} ended at byte ${position}, before byte ${range.end}`);
      position += bytesRead;
      // The other buffer must be sent before the next read refills it.
      await writing;
      writing = write(out, buffer.subarray(0, bytesRead), closed);
      // Awaited at the next turn; marked handled now, as it may fail while the next read runs.
      writing.catch(() => undefined);
    }
    await writing;
    return position - range.start;
  } finally {
    if (large) largeSends--;
    await handle.close();
  }
}
