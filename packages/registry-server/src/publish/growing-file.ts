/**
 * A file that one side writes while another side reads what is already there: the upload is
 * received to disk at the client's pace, and the staged blob upload follows it at storage's pace.
 * Coupling the two directly (a tee) would stall the client every time storage is busy; this way
 * neither waits for the other, and memory stays at one read buffer.
 */
import * as fs from 'node:fs';
import { open } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { DIRECT_WRITE_MAX_BYTES, now, pooled, type FsCallsKind } from '../storage/fs-calls.js';

/** What the follower reads at a time: one S3 part (fewer, larger reads cost the main thread less). */
const READ_BYTES = 8 * 1024 * 1024;

export interface GrowingFileOptions {
  /** The file's mode (default 0o600). */
  mode?: number;
  /**
   * How the file is opened, written and closed: `direct` (a local filesystem) makes its open, its
   * close and its writes up to DIRECT_WRITE_MAX_BYTES into the file on the calling thread (later
   * writes go through the pool), `pooled` (default) makes every call through libuv's thread pool
   * (see storage/fs-calls.ts).
   */
  calls?: FsCallsKind;
  /**
   * Once the file is complete, its bytes are flushed to disk (fdatasync) before it is closed,
   * without holding up its 'close': {@link GrowingFile.flushed} tells when they are there.
   */
  flush?: boolean;
  /** Makes the file's directory, when opening the file finds it missing (then opened again). */
  makeDir?: () => Promise<void>;
}

/** Writes to a file and tells how many bytes have reached it so far. */
export class GrowingFile extends Writable {
  /** Bytes written to the file (visible to readers of it). */
  written = 0;
  /** The file exists (readers may open it), even once this writer has closed it. */
  opened = false;
  /**
   * With `flush`, once the file is complete and closed: its bytes on their way to disk, resolved
   * once they are there (rejected if the flush failed). Undefined otherwise.
   */
  flushed: Promise<void> | undefined;
  private fd: number | null = null;
  /** The write under way, settled (never rejects): the file is closed only once it is done. */
  private writing: Promise<void> = Promise.resolve();
  private readonly direct: boolean;
  private waiters: Array<{ bytes: number; resolve: () => void; reject: (err: Error) => void }> = [];

  constructor(
    readonly path: string,
    private readonly options: GrowingFileOptions = {},
  ) {
    // Up to 1 MiB queues while a write is in flight, like fs.WriteStream's batching.
    super({ highWaterMark: 1024 * 1024 });
    this.direct = options.calls === 'direct';
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

  private async openFile(): Promise<number> {
    const mode = this.options.mode ?? 0o600;
    const attempt = (): Promise<number> =>
      this.direct
        ? now(() => fs.openSync(this.path, 'wx', mode))
        : pooled<number>((done) => {
            fs.open(this.path, 'wx', mode, done);
          });
    try {
      return await attempt();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !this.options.makeDir) throw err;
      await this.options.makeDir();
      return attempt();
    }
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.openFile().then(
      (fd) => {
        this.fd = fd;
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
    this.writeTracked([chunk]).then(() => {
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
    this.writeTracked(chunks.map((c) => c.chunk)).then(() => {
      for (const { chunk } of chunks) this.emit('written', chunk);
      this.emit('progress');
      callback();
    }, callback);
  }

  /** {@link writeAll}, remembered as the write under way. */
  private writeTracked(buffers: Buffer[]): Promise<void> {
    const done = this.writeAll(buffers);
    this.writing = done.then(
      () => undefined,
      () => undefined,
    );
    return done;
  }

  /**
   * Writes `buffers` at the end of the file, whole (a short write, rare for files, is finished),
   * unless the stream is destroyed meanwhile: a write already in the pool ends on the still open
   * descriptor (closing waits for it), and no other follows it.
   */
  private async writeAll(buffers: Buffer[]): Promise<void> {
    const fd = this.fd as number;
    let rest = buffers;
    while (rest.length > 0) {
      if (this.fd !== fd) throw new Error(`${this.path}: written after it was closed`);
      const total = rest.reduce((sum, b) => sum + b.length, 0);
      const position = this.written;
      const written =
        this.direct && position + total <= DIRECT_WRITE_MAX_BYTES
          ? fs.writevSync(fd, rest, position)
          : await pooled<number>((done) => {
              fs.writev(fd, rest, position, done);
            });
      this.written += written;
      rest = written < total ? [Buffer.concat(rest).subarray(written)] : [];
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    callback();
    this.emit('progress');
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const fd = this.fd;
    this.fd = null;
    this.emit('progress');
    if (fd === null) {
      callback(error);
      return;
    }
    // A destroy does not wait for a write under way (a client that leaves mid-upload): the
    // descriptor is closed after it, never under it (its number could be reused by then).
    void this.writing.then(() => {
      this.closeFile(fd, error, callback);
    });
  }

  /** Closes `fd` (flushed first, with `flush`, once the file is complete), then calls `callback`. */
  private closeFile(fd: number, error: Error | null, callback: (error?: Error | null) => void): void {
    const close = (): Promise<void> =>
      this.direct
        ? now(() => {
            fs.closeSync(fd);
          })
        : pooled((done) => {
            fs.close(fd, done);
          });
    if (error === null && this.options.flush && this.writableFinished) {
      // Closed once flushed; the stream closes now, as what follows needs only the file's name.
      const flushed = pooled((done) => {
        fs.fdatasync(fd, done);
      });
      this.flushed = flushed.finally(() => close().catch(() => undefined));
      this.flushed.catch(() => undefined);
      callback(null);
      return;
    }
    close().then(
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
