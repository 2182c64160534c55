import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { pipelineUntilClosed, untilClosed } from './streams.js';

/** A sink whose "open" takes `ms` (a file open queued on a busy thread pool). */
function slowToOpen(ms: number): Writable {
  return new Writable({
    construct(callback) {
      setTimeout(callback, ms);
    },
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
}

/** A source that fails at once. */
function failing(): Readable {
  return new Readable({
    read() {
      this.destroy(new Error('the client went away'));
    },
  });
}

describe('pipelineUntilClosed', () => {
  it('rejects only once the sink has closed, where a pipeline rejects before', async () => {
    const early = slowToOpen(50);
    await expect(pipeline(failing(), early)).rejects.toThrow('the client went away');
    expect(early.closed).toBe(false);

    const sink = slowToOpen(50);
    await expect(pipelineUntilClosed([failing(), sink])).rejects.toThrow('the client went away');
    expect(sink.closed).toBe(true);
  });

  it('resolves as a pipeline does when every stream succeeds', async () => {
    const seen: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        seen.push(chunk.toString());
        callback();
      },
    });
    await pipelineUntilClosed([Readable.from(['a', 'b']), sink]);
    expect(seen).toEqual(['a', 'b']);
  });
});

describe('untilClosed', () => {
  it('destroys a running stream and waits for its close', async () => {
    const sink = slowToOpen(30);
    sink.write('x');
    await untilClosed(sink);
    expect(sink.destroyed && sink.closed).toBe(true);
  });

  it('resolves at once for a closed stream, and for one that failed without a listener', async () => {
    const sink = slowToOpen(0);
    sink.on('error', () => undefined);
    sink.destroy(new Error('disk full'));
    await sleep(10);
    await untilClosed(sink);
    const unheard = slowToOpen(20);
    unheard.destroy(new Error('EIO'));
    await expect(untilClosed(unheard)).resolves.toBeUndefined();
  });
});
