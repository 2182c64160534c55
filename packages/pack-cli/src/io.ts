/**
 * What one run of packctl reads from and writes to: its streams, environment and working
 * directory. bin.ts runs with the process's own; tests run packctl in-process (`run(argv, io)` in
 * ./cli.ts) with their own, so commands never reach for `process.stdout` or `process.env` directly.
 */
import path from 'node:path';
import { dropOutputWhenClosed } from '@packyard/pack-core/streams';

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
 * (`packctl search | head -3`) is dropped: the command still finishes what it was doing, and exits
 * with its own code, without a stack trace.
 */
export function processIo(): CliIo {
  dropOutputWhenClosed(process.stdout);
  dropOutputWhenClosed(process.stderr);
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

/**
 * A path from the command line, for the file system: as given when packctl runs in the process's
 * working directory (so that messages quote it as the user typed it), else resolved against `io.cwd`.
 */
export function pathIn(io: CliIo, file: string): string {
  return path.isAbsolute(file) || path.resolve(io.cwd) === process.cwd() ? file : path.join(io.cwd, file);
}
