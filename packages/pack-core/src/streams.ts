/**
 * Streams that write files, and the moment their file is done with. A pipeline settles at the
 * first failure of any of its streams, without waiting for the others to close: the last one may
 * still have its file's open queued on the thread pool, or a write in flight. A file removed (or
 * truncated) then would be made again, or written past, after the cleanup: left behind for good.
 */
import type { PipelineSource, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Resolves once `stream` has closed, destroying it first if it still runs (a closed stream
 * resolves at once). Never rejects: the stream's own failure is its owner's to report.
 *
 * @example
 * await untilClosed(out);
 * await rm(temp, { force: true });
 */
export async function untilClosed(stream: Readable | Writable): Promise<void> {
  if (stream.closed) return;
  const closed = new Promise<void>((resolve) => {
    stream.once('close', () => {
      resolve();
    });
  });
  // Listened for so that destroying it (with an error kept from before) throws nothing here.
  stream.on('error', () => undefined);
  stream.destroy();
  await closed;
}

/**
 * `pipeline(source, ...through, sink)` that, when it fails, settles only once `sink` has closed:
 * what the caller removes or truncates next stays removed.
 *
 * @example
 * try {
 *   await pipelineUntilClosed([body, meter, createWriteStream(temp, { flags: 'wx' })]);
 * } catch (err) {
 *   await rm(temp, { force: true });
 *   throw err;
 * }
 */
export async function pipelineUntilClosed(
  streams: [PipelineSource<unknown>, ...NodeJS.ReadWriteStream[], Writable],
): Promise<void> {
  try {
    // Node takes any pipeline source first (tar-stream's pack is one); its typings, for an array,
    // only a Node readable.
    await pipeline(streams as unknown as NodeJS.ReadableStream[]);
  } catch (err) {
    await untilClosed(streams[streams.length - 1] as Writable);
    throw err;
  }
}

/** Errors of an output stream whose reader has gone. */
const CLOSED_OUTPUT = new Set(['EPIPE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

/**
 * Makes writes to `stream` (a process's stdout or stderr) whose reader has gone (`packctl search |
 * head -3`: the pipe is closed, writes fail with EPIPE) dropped rather than thrown: the command
 * still finishes what it was doing and keeps its exit code, without a stack trace. A stream that
 * already has an 'error' listener is left to it.
 */
export function dropOutputWhenClosed(stream: NodeJS.WritableStream): void {
  if (stream.listenerCount('error') > 0) return;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (!CLOSED_OUTPUT.has(err.code ?? '')) throw err;
  });
}
