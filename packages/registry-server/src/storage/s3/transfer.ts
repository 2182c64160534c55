/**
 * Time bounds of S3 calls. A metadata call is bounded by one deadline across its retries; a
 * transfer (an upload part, the completion of an upload) by the time no byte has moved, watched
 * from inside the SDK's middleware stack, since the transfer as a whole may be large and the link slow.
 */
import { pipeline, Readable, Transform } from 'node:stream';
import type { UploadPartCommand } from '@aws-sdk/client-s3';
import { progressStream, Watchdog } from '../watchdog.js';

/** Runs a call under a time bound, given the abort signal that enforces it. */
export type Bounded = <T>(run: (abortSignal: AbortSignal) => Promise<T>) => Promise<T>;

/** The middleware stack of an S3 command, as far as watchTransfer needs it. */
export interface TransferStack {
  add: UploadPartCommand['middlewareStack']['add'];
}

/**
 * What a transfer's watchdog is told: bytes moved, the whole request body sent, and an attempt
 * over (its answer read to its end).
 */
interface TransferProgress {
  moved: () => void;
  sent: () => void;
  attemptOver: () => void;
}

/**
 * Counts the bytes of a transfer as they move, for its watchdog: an attempt starting, the request
 * body handed to the connection in slices (each slice taken), the response's arrival and the
 * chunks of its body are progress. Installed innermost, next to the HTTP handler, so that it runs
 * for every attempt the SDK makes. Once an attempt's answer has been read to its end the watchdog
 * rests, until the next attempt starts: the network has nothing more to do for this one, and the
 * SDK may wait there on purpose before it tries again (a throttled part backs off up to a second
 * on its first retry, two on its second), which a short idle time must not take for a stall.
 */
function watchTransfer(stack: TransferStack, progress: TransferProgress): void {
  const { moved, attemptOver } = progress;
  stack.add(
    (next) => async (args) => {
      moved();
      const result = await next(withProgressBody(args, progress));
      moved();
      const response = result.response as { body?: unknown };
      if (response.body instanceof Readable) {
        const source = response.body;
        const tapped = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            moved();
            callback(null, chunk);
          },
          flush(callback) {
            attemptOver();
            callback();
          },
        });
        pipeline(source, tapped, () => undefined);
        response.body = tapped;
      }
      return result;
    },
    { step: 'deserialize', priority: 'low', name: 'packyardTransferWatchdog' },
  );
}

/** `args` with a byte-array request body replaced by a stream that reports each slice taken. */
function withProgressBody<A extends { request: unknown }>(args: A, progress: TransferProgress): A {
  const request = args.request as { body?: unknown } | null;
  if (request === null || typeof request !== 'object' || !(request.body instanceof Uint8Array)) return args;
  // A copy per attempt: the SDK retries with the same request, whose body must stay the bytes.
  const copy = Object.assign(Object.create(Object.getPrototypeOf(request) as object) as object, request, {
    body: progressStream(request.body, progress.moved, progress.sent),
  });
  return { ...args, request: copy };
}

/** Runs a transfer of the command whose middleware stack is `stack` under its watchdog. */
export type Transfer = <T>(stack: TransferStack, run: (abortSignal: AbortSignal) => Promise<T>) => Promise<T>;

/**
 * Transfers of one store: each fails once no byte has moved for `idleMs` while the body is sent,
 * and when the answer does not come within `idleMs + deadlineMs` of the body's last byte (the
 * connection may have taken megabytes that the backend still has to read before it answers).
 */
export function boundedTransfers(idleMs: number, deadlineMs: number): Transfer {
  return async function transfer<T>(stack: TransferStack, run: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const watchdog = new Watchdog();
    const progress: TransferProgress = {
      moved: () => {
        watchdog.arm(idleMs, `storage moved no byte for ${idleMs} ms`);
      },
      sent: () => {
        watchdog.arm(idleMs + deadlineMs, `storage gave no answer within ${idleMs + deadlineMs} ms of the last byte`);
      },
      attemptOver: () => {
        watchdog.disarm();
      },
    };
    watchTransfer(stack, progress);
    progress.moved();
    try {
      return await run(watchdog.signal);
    } finally {
      watchdog.disarm();
    }
  };
}
