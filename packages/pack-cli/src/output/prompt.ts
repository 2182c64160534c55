/** Asking the user: a line, a hidden line (passwords), or everything piped into stdin. */
import { createInterface } from 'node:readline/promises';
import { usageError } from '../errors.js';
import type { CliIo } from '../io.js';

export async function promptLine(io: CliIo, question: string): Promise<string> {
  const rl = createInterface({ input: io.stdin, output: io.stderr });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

/** Reads a line from the terminal without echoing it. */
export function promptHidden(io: CliIo, question: string): Promise<string> {
  io.stderr.write(question);
  const input = io.stdin;
  return new Promise((resolve, reject) => {
    let value = '';
    input.setRawMode?.(true);
    input.resume();
    input.setEncoding('utf8');
    const done = (err?: Error) => {
      input.setRawMode?.(false);
      input.pause();
      input.off('data', onData);
      io.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') {
          done();
          return;
        }
        if (char === '\u0003') {
          done(new Error('cancelled'));
          return;
        }
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    input.on('data', onData);
  });
}

/** What `--password-stdin` reads at most: passwords, a line or two, never a stream without end. */
const STDIN_MAX_BYTES = 64 * 1024;

/**
 * Everything piped into stdin, as text; a usage error past 64 KiB (`yes | packctl login
 * --password-stdin` would otherwise read for ever, holding it all).
 */
export async function readAllStdin(io: CliIo): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of io.stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    bytes += buffer.length;
    if (bytes > STDIN_MAX_BYTES) {
      throw usageError(
        `stdin holds more than ${STDIN_MAX_BYTES / 1024} KiB: it should hold passwords or an API key, a line each`,
        'pipe in the secret alone: echo "$PASSWORD" | packctl ...',
      );
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
