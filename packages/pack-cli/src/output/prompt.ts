/** Asking the user: a line, a hidden line (passwords), or everything piped into stdin. */
import { createInterface } from 'node:readline/promises';
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

export async function readAllStdin(io: CliIo): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
