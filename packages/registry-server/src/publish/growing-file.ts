/**
 * A file that one side writes while another side reads what is already there: the upload is
 * received to disk at the client's pace, and the staged blob upload follows it at storage's pace.
 * Coupling the two directly (a tee) would stall the client every time storage is busy; this way
 * neither waits for the other, and memory stays at one read buffer.
 */
import { once, type EventEmitter } from 'node:events';
import { open, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

/** What the follower reads at a time: one S3 part, so the staged upload takes it without copying. */
const READ_BYTES = 8 * 1024 * 1024;

/** Writes to a file and tells how many bytes have reached it so far. */
export class GrowingFile extends Writable {
  /** Bytes written to the file (visible to readers of it). */
  written = 0;
  /** The file exists (readers may open it), even once this writer has closed it. */
  opened = false;
  private handle: FileHandle | null = null;

  constructor(
    readonly path: string,
    private readonly mode = 0o600,
  ) {
    // Up to 1 MiB queues while a write is in flight, like fs.WriteStream's batching.
    super({ highWaterMark: 1024 * 1024 });
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

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    void this.writeAll(chunk).then(() => {
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

/** Resolves at the first of `events` on `emitter`. */
async function first(emitter: EventEmitter, events: string[]): Promise<void> {
  const controller = new AbortController();
  try {
    await Promise.race(events.map((event) => once(emitter, event, { signal: controller.signal })));
  } finally {
    controller.abort();
  }
}

/**
 * Copies `source`'s bytes into `target` as they reach the file, then ends `target`; stops (and
 * rejects) when either side fails or is destroyed.
 */
export async function followInto(source: GrowingFile, target: Writable): Promise<void> {
  while (!source.opened) {
    if (source.destroyed) throw new Error('the file being followed was abandoned');
    await first(source, ['progress', 'close', 'error']).catch(() => undefined);
  }
  const reader = await open(source.path, 'r');
  try {
    let offset = 0;
    for (;;) {
      if (target.destroyed) throw new Error('the copy stopped');
      const available = source.written - offset;
      const complete = source.writableFinished;
      // Whole reads while the file grows; the rest once it is complete.
      if (available === 0 || (available < READ_BYTES && !complete)) {
        if (available === 0 && complete) break;
        if (source.destroyed) throw new Error('the file being followed was abandoned');
        // 'finish' comes a tick after the last 'progress': wait for it too.
        await first(source, ['progress', 'finish', 'close', 'error']).catch(() => undefined);
        continue;
      }
      const length = Math.min(available, READ_BYTES);
      const buffer = Buffer.allocUnsafe(length);
      const { bytesRead } = await reader.read(buffer, 0, length, offset);
      offset += bytesRead;
      if (!target.write(bytesRead === length ? buffer : buffer.subarray(0, bytesRead))) {
        await first(target, ['drain', 'close', 'error']);
      }
    }
    target.end();
  } finally {
    await reader.close();
  }
}
