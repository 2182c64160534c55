/** packctl run in the test's own process (where a module mock reaches it), stdout dropped. */
import { Readable, Writable } from 'node:stream';
import { run } from '../cli.js';

/** Runs `packctl args` with nothing on stdin; its exit status and what it wrote on stderr. */
export async function runInProcess(
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd: string },
): Promise<{ status: number; stderr: string }> {
  let stderr = '';
  const sink = (keep: boolean) =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (keep) stderr += chunk.toString('utf8');
        callback();
      },
    });
  const status = await run(args, { stdout: sink(false), stderr: sink(true), stdin: Readable.from([]), ...options });
  return { status, stderr };
}
