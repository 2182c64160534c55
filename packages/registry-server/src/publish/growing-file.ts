/**
 * A file that one side writes while another side reads what is already there: the upload is
 * received to disk at the client's pace, and the staged blob upload follows it at storage's pace.
 * Coupling the two directly (a tee) would stall the client every time storage is busy; this way
 * neither waits for the other, and memory stays at one read buffer.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

/** What the follower reads at a time: one S3 part (fewer, larger reads cost the main thread less). */
const READ_BYTES = 8 * 1024 * 1024;

/** Writes to a file and tells how many bytes have reached it so far. */
export class GrowingFile extends Writable {
  /** Bytes written to the file (visible to readers of it). */
  written = 0;
  /** The file exists (readers may open it), even once this writer has closed it. */
  opened = false;
  private handle: FileHandle | null = null;
  private waiters: Array<{ bytes: number; resolve: () => void; reject: (err: Error) => void }> = [];

  constructor(
    readonly path: string,
    private readonly mode = 0o600,
  ) {
    // Up to 1 MiB queues while a write is in flight, like fs.WriteStream's batching.
    super({ highWaterMark: 1024 * 1024 });
    this.on('progress', () => {
      this.wake();
    });
    // 'finish' comes a tick after the last 'progress'.
    this.once('finish', () => {
      this.wake();
    });
  }

  /**
   * Resolves once the file is open and holds at least `bytes` bytes, or is complete; rejects if
   * it is abandoned first. (A waiter per reader, instead of a wake-up at every write.)
   */
  whenHolds(bytes: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ bytes, resolve, reject });
      this.wake();
    });
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const complete = this.writableFinished;
    const abandoned = this.destroyed && !complete;
    const waiting: typeof this.waiters = [];
    for (const waiter of this.waiters) {
      if (abandoned) waiter.reject(new Error('the file being followed was abandoned'));
      else if (this.opened && (complete || this.written >= waiter.bytes)) waiter.resolve();
      else waiting.push(waiter);
    }
    this.waiters = waiting;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    open(this.path, 'wx', this.mode).then(
      (handle) => {
        this.handle = handle;
        this.opened = true;
        callback();
        this.emit('progress');
      },
      (err: unknown) => {
        callback(err as Error);
      },
    );
  }

  // Each write emits 'written' with its bytes, in file order, once they are in the file, then
  // 'progress'.
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    void this.writeAll(chunk).then(() => {
      this.emit('written', chunk);
      this.emit('progress');
      callback();
    }, callback);
  }

  // Chunks that queued up while a write was in flight go down in one writev.
  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (error?: Error | null) => void,
  ): void {
    void this.writeAllv(chunks.map((c) => c.chunk)).then(() => {
      for (const { chunk } of chunks) this.emit('written', chunk);
      this.emit('progress');
      callback();
    }, callback);
  }

  private async writeAllv(buffers: Buffer[]): Promise<void> {
    const total = buffers.reduce((sum, b) => sum + b.length, 0);
    const { bytesWritten } = await (this.handle as FileHandle).writev(buffers, this.written);
    this.written += bytesWritten;
    // A short write (rare for files) finishes byte by byte, without copying the rest up front.
    if (bytesWritten < total) await this.writeAll(Buffer.concat(buffers).subarray(bytesWritten));
  }

  private async writeAll(chunk: Buffer): Promise<void> {
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await (this.handle as FileHandle).write(chunk, done, chunk.length - done, this.written);
      done += bytesWritten;
      this.written += bytesWritten;
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    callback();
    this.emit('progress');
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const handle = this.handle;
    this.handle = null;
    this.emit('progress');
    if (!handle) {
      callback(error);
      return;
    }
    handle.close().then(
      () => {
        callback(error);
      },
      () => {
        callback(error);
      },
    );
  }
}

/**
 * Copies `source`'s bytes into `target` as they reach the file, a whole read at a time, then ends
 * `target`; stops (and rejects) when either side fails or is destroyed. One buffer serves every
 * read: the next read waits until `target` has taken the previous one.
 */
export async function followInto(source: GrowingFile, target: Writable): Promise<void> {
  await source.whenHolds(0);
  const reader = await open(source.path, 'r');
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  try {
    let offset = 0;
    for (;;) {
      await source.whenHolds(offset + READ_BYTES);
      if (target.destroyed) throw new Error('the copy stopped');
      const length = Math.min(source.written - offset, READ_BYTES);
      if (length === 0) break;
      const { bytesRead } = await reader.read(buffer, 0, length, offset);
      offset += bytesRead;
      await new Promise<void>((resolve, reject) => {
        target.write(buffer.subarray(0, bytesRead), (err) => {
          if (err) reject(err);
          else resolve();
        });
      });
    }
    target.end();
  } finally {
    await reader.close();
  }
}
