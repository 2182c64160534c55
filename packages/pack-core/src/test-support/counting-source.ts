/**
 * An {@link ArchiveSource} over bytes in memory that counts the streams it opens and how many of
 * them have closed, and hands out bytes only as they are read (like a socket or a file): a reader
 * that stops without destroying its stream leaves it open, which the counts show.
 */
import { Readable } from 'node:stream';
import type { ArchiveSource } from '../archive/read-archive.js';

export interface CountingSource {
  source: ArchiveSource;
  /** Streams opened so far. */
  opened(): number;
  /** Streams opened and not closed yet. */
  open(): number;
}

const CHUNK_BYTES = 16 * 1024;

export function countingSource(bytes: Buffer): CountingSource {
  let opened = 0;
  let closed = 0;
  const source: ArchiveSource = {
    size: () => Promise.resolve(bytes.length),
    stream(offset, length) {
      opened++;
      const end = length === undefined ? bytes.length : Math.min(bytes.length, offset + length);
      let at = offset;
      const stream = new Readable({
        read() {
          const next = Math.min(end, at + CHUNK_BYTES);
          this.push(at < end ? bytes.subarray(at, next) : null);
          at = next;
        },
      });
      stream.once('close', () => closed++);
      return stream;
    },
  };
  return { source, opened: () => opened, open: () => opened - closed };
}
