import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../test-support/test-registry.js';
import { workerEntry } from './worker-entry.js';

/** Starts the worker module `compiled` as the registry does, and returns its first message. */
async function firstMessage(compiled: URL): Promise<unknown> {
  const { filename, workerData } = workerEntry(compiled);
  const worker = new Worker(filename, workerData ? { workerData } : {});
  try {
    const [message] = (await once(worker, 'message')) as [unknown];
    return message;
  } finally {
    await worker.terminate();
  }
}

describe('workerEntry', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    work = await tempDir();
  });
  afterAll(async () => {
    await work.cleanup();
  });

  it('starts the workers of the sources while the tests run them, not a build in dist/', () => {
    for (const name of ['hash-worker', 'inspect-worker']) {
      const entry = workerEntry(new URL(`./${name}.js`, import.meta.url));
      expect(entry.filename.pathname).toMatch(/\/src\/publish\/source-worker\.mjs$/);
      expect(entry.workerData?.sourceWorker).toBe(new URL(`./${name}.ts`, import.meta.url).href);
    }
  });

  it('runs what the TypeScript source says now: a change to it is what the next worker runs', async () => {
    const source = path.join(work.dir, 'probe-worker.ts');
    const helper = path.join(work.dir, 'probe-answer.ts');
    const compiled = new URL(pathToFileURL(source).href.replace(/\.ts$/, '.js'));
    const write = async (answer: string) => {
      await writeFile(helper, `export const answer: string = ${JSON.stringify(answer)};\n`);
      await writeFile(
        source,
        [
          "import { parentPort } from 'node:worker_threads';",
          "import { answer } from './probe-answer.js';",
          'interface Reply { answer: string }',
          'parentPort?.postMessage({ answer } satisfies Reply);',
        ].join('\n'),
      );
    };
    await write('first');
    await expect(firstMessage(compiled)).resolves.toEqual({ answer: 'first' });
    await write('second');
    await expect(firstMessage(compiled)).resolves.toEqual({ answer: 'second' });
  });

  it('refuses a worker that is neither built nor in the sources', () => {
    expect(() => workerEntry(new URL('./no-such-worker.js', import.meta.url))).toThrow(/no worker module/);
  });
});
