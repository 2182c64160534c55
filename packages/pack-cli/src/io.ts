/**
 * What one run of packctl reads from and writes to: its streams, environment and working
 * directory. bin.ts runs with the process's own; tests run packctl in-process (`run(argv, io)` in
 * ./cli.ts) with their own, so commands never reach for `process.stdout` or `process.env` directly.
 */
import path from 'node:path';

/** Where output goes; `isTTY` and `columns` as a terminal's stream has them. */
export interface OutputStream extends NodeJS.WritableStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Where input comes from: piped text, or a terminal (raw mode for hidden passwords). */
export interface InputStream extends NodeJS.ReadableStream {
  readonly isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  stdin: InputStream;
  env: NodeJS.ProcessEnv;
  /** The directory relative paths on the command line are resolved against. */
  cwd: string;
}

/**
 * The process's own streams, environment and working directory. Output whose reader has gone
 * (`packctl search | head -3`: the pipe is closed, writes fail with EPIPE) is dropped: the command
 * still finishes what it was doing, and exits with its own code, without a stack trace.
 */
export function processIo(): CliIo {
  return {
    stdout: droppingWhenClosed(process.stdout),
    stderr: droppingWhenClosed(process.stderr),
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
  };
}

/** Errors of an output stream whose reader has gone. */
const CLOSED_OUTPUT = new Set(['EPIPE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

function droppingWhenClosed<T extends NodeJS.WriteStream>(stream: T): T {
  if (stream.listenerCount('error') === 0) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (CLOSED_OUTPUT.has(err.code ?? '')) return;
      throw err;
    });
  }
  return stream;
}

/**
 * A path from the command line, for the file system: as given when packctl runs in the process's
 * working directory (so that messages quote it as the user typed it), else resolved against `io.cwd`.
 */
export function pathIn(io: CliIo, file: string): string {
  return path.isAbsolute(file) || path.resolve(io.cwd) === process.cwd() ? file : path.join(io.cwd, file);
}
