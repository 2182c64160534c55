/**
 * The worker thread of {@link UploadHasher}: it hashes upload files (sha256) as they
 * grow on disk, and records the CRC-32 of each block (for the archive check, which then need not
 * read the stored entries again), so that the main thread, which receives the upload and streams
 * it to storage, never spends its time in a hash function. Files are read back from the page
 * cache, one reused buffer at a time; several uploads share the worker, a chunk each in turn.
 *
 * Messages in: `start` {id, file}, `grow` {id, bytes} (the file holds at least that many bytes),
 * `end` {id, bytes} (its final size), `cancel` {id}. Out: {id, sha256, blockSize, crcs}
 * or {id, error}.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { BlockChecksummer } from '@packyard/pack-core/crc32-blocks';

export type HashRequest =
  | { type: 'start'; id: number; file: string }
  | { type: 'grow' | 'end'; id: number; bytes: number }
  | { type: 'cancel'; id: number };

export type HashReply =
  { id: number; sha256: string; blockSize: number; crcs: Uint32Array } | { id: number; error: string };

/** Block size of the CRC-32s: the archive check reads at most two partial blocks per entry. */
const CRC_BLOCK_BYTES = 64 * 1024;

interface Job {
  file: string;
  fd: number | null;
  hashed: number;
  available: number;
  ended: boolean;
  sha256: Hash;
  crcs: BlockChecksummer;
}

/** Hashed per turn: large enough that a turn costs little, small enough that uploads interleave. */
const CHUNK_BYTES = 1024 * 1024;

const port = parentPort;
if (!port) throw new Error('hash-worker.js runs as a worker thread of the registry');

const jobs = new Map<number, Job>();
const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
let scheduled = false;

function close(id: number, job: Job): void {
  jobs.delete(id);
  if (job.fd !== null) closeSync(job.fd);
}

/** Hashes one chunk of `job`; true when it has more to do now. */
function step(id: number, job: Job): boolean {
  if (job.hashed < job.available) {
    job.fd ??= openSync(job.file, 'r');
    const length = Math.min(CHUNK_BYTES, job.available - job.hashed);
    const read = readSync(job.fd, buffer, 0, length, job.hashed);
    if (read === 0) throw new Error(`${job.file} ended at ${job.hashed} bytes, before the ${job.available} announced`);
    const chunk = buffer.subarray(0, read);
    job.sha256.update(chunk);
    job.crcs.update(chunk);
    job.hashed += read;
  }
  if (job.ended && job.hashed === job.available) {
    close(id, job);
    const { blockSize, crcs } = job.crcs.result();
    const reply: HashReply = {
      id,
      sha256: job.sha256.digest('hex'),
      blockSize,
      crcs,
    };
    port?.postMessage(reply, [crcs.buffer as ArrayBuffer]);
    return false;
  }
  return job.hashed < job.available;
}

// One chunk per job per turn; messages (more bytes, new uploads) are taken between turns.
function turn(): void {
  scheduled = false;
  let more = false;
  for (const [id, job] of jobs) {
    try {
      if (step(id, job)) more = true;
    } catch (err) {
      close(id, job);
      port?.postMessage({ id, error: (err as Error).message } satisfies HashReply);
    }
  }
  if (more) schedule();
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(turn);
}

port.on('message', (message: HashRequest) => {
  if (message.type === 'start') {
    jobs.set(message.id, {
      file: message.file,
      fd: null,
      hashed: 0,
      available: 0,
      ended: false,
      sha256: createHash('sha256'),
      crcs: new BlockChecksummer(CRC_BLOCK_BYTES),
    });
    return;
  }
  const job = jobs.get(message.id);
  if (!job) return;
  if (message.type === 'cancel') {
    close(message.id, job);
    return;
  }
  job.available = Math.max(job.available, message.bytes);
  if (message.type === 'end') job.ended = true;
  schedule();
});
