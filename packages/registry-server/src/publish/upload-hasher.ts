/**
 * Hashing uploads off the main thread. The sha256 and the block CRC-32s of a 100 MB upload cost
 * about 80 ms of CPU: done inline, that time is taken from receiving the body and from streaming
 * it to storage, which share the main thread. A worker thread (hash-worker.ts) reads each upload
 * file as it grows instead, and answers with its sha256 and the CRC-32 of every 64 KiB block once
 * the file is complete.
 *
 * The archive's Subresource Integrity string (`integrity`) is its sha256 in SRI form
 * (`sha256-<base64>`), the same hash as its digest: a second hash of the same bytes (npm's sha512)
 * would add nothing that the content address does not already guarantee, and it cost twice the
 * sha256's CPU on every upload. Versions published before keep the sha512 they were given.
 *
 * An upload of up to {@link INLINE_MAX_BYTES} (most packs: a manifest, values and a chart) is
 * hashed on the main thread as its bytes reach the file, which costs less than a fraction of a
 * millisecond, less than telling the worker and reading the file back; one that grows past it is
 * handed to the worker, which hashes it from its first byte. A registry that takes only small
 * packs never starts the worker (a worker thread holds ~20 MB of resident memory).
 *
 * One worker serves the process (over 1 GB/s of uploads per core); it starts with the first
 * large upload, does not keep the process alive, and a new one replaces it if it ever dies. It
 * stops after 15 seconds without work, so that the memory a burst of large publishes took comes
 * back; the next large upload starts it again (tens of milliseconds, while its body arrives, which
 * for a large upload takes far longer).
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { BlockChecksummer, type BlockChecksums } from '@packyard/pack-core';
import type { HashReply, HashRequest } from './hash-worker.js';
import type { GrowingFile } from './growing-file.js';
import { WORKER_YOUNG_MB, workerEntry } from './worker-entry.js';

export interface UploadDigests {
  /** "sha256:<hex>". */
  digest: string;
  /** "sha256-<base64>" (Subresource Integrity: the digest's sha256, see above). */
  integrity: string;
  /** CRC-32s of the file's blocks, for checking the archive's stored entries without reading them. */
  blocks: BlockChecksums;
}

/** The worker module, compiled or (tests) from the sources: see worker-entry.ts. */
const WORKER = workerEntry(new URL('./hash-worker.js', import.meta.url));

/** Tell the worker about new bytes at most this often: every message costs a wake-up. */
const GROW_STEP_BYTES = 1024 * 1024;

/** Uploads up to this size are hashed on the main thread (~0.5 ms of CPU at the most). */
export const INLINE_MAX_BYTES = 256 * 1024;

/** Block size of the CRC-32s, as the worker's (hash-worker.ts). */
const CRC_BLOCK_BYTES = 64 * 1024;

/** The digest and the SRI string of an upload whose sha256 is `sha256`. */
function digestsOf(sha256: Buffer): Pick<UploadDigests, 'digest' | 'integrity'> {
  return { digest: `sha256:${sha256.toString('hex')}`, integrity: `sha256-${sha256.toString('base64')}` };
}

interface Pending {
  resolve(digests: UploadDigests): void;
  reject(error: Error): void;
}

/** How long the worker waits for work before it stops. */
const WORKER_IDLE_MS = 15_000;

export class UploadHasher {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private idleTimer: NodeJS.Timeout | null = null;

  /** `idleMs`: how long the worker waits for work before it stops (default 15 s). */
  constructor(private readonly idleMs = WORKER_IDLE_MS) {}

  /**
   * The digests of what `file` holds once it finishes; rejects if it is destroyed first.
   *
   * @example
   * const digests = hasher.follow(sink);
   * await pipeline(request, sink);
   * const { digest, integrity } = await digests;
   */
  follow(file: GrowingFile): Promise<UploadDigests> {
    if (this.closed) return Promise.reject(new Error('the upload hasher is closed'));
    const sha256 = createHash('sha256');
    const crcs = new BlockChecksummer(CRC_BLOCK_BYTES);
    return new Promise<UploadDigests>((resolve, reject) => {
      const detach = (): void => {
        file.off('written', onWritten).off('finish', onFinish).off('close', onClose);
      };
      const onWritten = (chunk: Buffer): void => {
        if (file.written <= INLINE_MAX_BYTES) {
          sha256.update(chunk);
          crcs.update(chunk);
          return;
        }
        // Too large to hash here: the worker takes it over from the file's first byte.
        detach();
        this.followInWorker(file).then(resolve, reject);
      };
      const onFinish = (): void => {
        detach();
        resolve({ ...digestsOf(sha256.digest()), blocks: crcs.result() });
      };
      const onClose = (): void => {
        if (file.writableFinished) return;
        detach();
        reject(new Error('the upload ended before it was complete'));
      };
      file.on('written', onWritten).once('finish', onFinish).once('close', onClose);
    });
  }

  /** Hashes `file` in the worker, from its first byte, following it as it grows. */
  private followInWorker(file: GrowingFile): Promise<UploadDigests> {
    if (this.closed) return Promise.reject(new Error('the upload hasher is closed'));
    this.cancelIdleStop();
    const worker = this.start();
    const id = this.nextId++;
    const post = (message: HashRequest): void => {
      if (this.worker === worker) worker.postMessage(message);
    };
    let posted = 0;
    const onProgress = (): void => {
      if (file.written - posted < GROW_STEP_BYTES) return;
      posted = file.written;
      post({ type: 'grow', id, bytes: posted });
    };
    const onFinish = (): void => {
      post({ type: 'end', id, bytes: file.written });
    };
    const onClose = (): void => {
      if (!this.pending.has(id) || file.writableFinished) return;
      post({ type: 'cancel', id });
      this.settle(id, new Error('the upload ended before it was complete'));
    };
    const result = new Promise<UploadDigests>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
    }).finally(() => {
      file.off('progress', onProgress).off('finish', onFinish).off('close', onClose);
    });
    post({ type: 'start', id, file: file.path });
    // What the file already holds (handed over from the main thread) goes to the worker at once.
    if (file.written > 0) {
      posted = file.written;
      post({ type: 'grow', id, bytes: posted });
    }
    file.on('progress', onProgress).once('finish', onFinish).once('close', onClose);
    return result;
  }

  /** Whether the worker thread runs (it starts with the first upload too large to hash inline). */
  get workerRunning(): boolean {
    return this.worker !== null;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancelIdleStop();
    const worker = this.worker;
    this.worker = null;
    this.failAll(new Error('the upload hasher is closed'));
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER.filename, {
      ...(WORKER.workerData ? { workerData: WORKER.workerData } : {}),
      // Hashing allocates next to nothing: the default nursery (up to 48 MiB) would be resident memory.
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB },
    });
    worker.unref();
    worker.on('message', (reply: HashReply) => {
      if ('error' in reply) this.settle(reply.id, new Error(`hashing the upload failed: ${reply.error}`));
      else
        this.settle(reply.id, {
          ...digestsOf(Buffer.from(reply.sha256, 'hex')),
          blocks: { blockSize: reply.blockSize, crcs: reply.crcs },
        });
    });
    const lost = (err: Error): void => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.failAll(err);
    };
    worker.on('error', lost);
    worker.on('exit', (code) => {
      lost(new Error(`the hashing worker stopped (exit code ${code})`));
    });
    this.worker = worker;
    return worker;
  }

  private settle(id: number, outcome: UploadDigests | Error): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    if (outcome instanceof Error) pending.reject(outcome);
    else pending.resolve(outcome);
    if (this.pending.size === 0 && this.worker) this.stopWhenIdle();
  }

  /** Stops the worker once it has had no work for `idleMs` (new work cancels that). */
  private stopWhenIdle(): void {
    this.cancelIdleStop();
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      const worker = this.worker;
      if (!worker || this.pending.size > 0) return;
      this.worker = null;
      void worker.terminate();
    }, this.idleMs);
    this.idleTimer.unref();
  }

  private cancelIdleStop(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private failAll(err: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id, err);
  }
}
