/**
 * A bound on how slowly a /v2 request body may come. The server has no overall request deadline
 * (large blobs on slow links take long), so without it a client trickling a chunk, a monolithic
 * blob or a manifest one byte at a time, or sending nothing after its headers, would hold the
 * connection, the upload session (a busy session is never swept) and its file forever.
 */
import { Transform } from 'node:stream';
import type { PackError } from '@packyard/pack-core';
import { registryError } from '../errors.js';
import { bodyFloorBytes } from '../http/idle-transfers.js';

/** Default for `oci.bodyIdleSeconds`. */
export const DEFAULT_BODY_IDLE_MS = 60_000;

export function bodyIdle(ms: number): PackError {
  const floor = bodyFloorBytes(ms);
  const least = floor >= 1024 ? `${Math.round(floor / 1024)} KiB` : `${floor} bytes`;
  return registryError('BODY_IDLE_TIMEOUT', `the request body sent less than ${least} in ${Math.round(ms / 1000)} s`, {
    hint: 'send the body without pauses; resume a chunked upload with GET on the session (its Range says where it stands)',
  });
}

/**
 * A pass-through that fails with BODY_IDLE_TIMEOUT when a window of `ms` brings less than
 * {@link bodyFloorBytes} and the body has not ended. Time spent waiting on the destination (its
 * buffers full: a slow store) is the server's, not the client's, so a window in which this stream
 * holds something unsent starts again.
 */
export function idleGuard(ms: number): Transform {
  const floor = bodyFloorBytes(ms);
  let inWindow = 0;
  let heldInWindow = false;
  const guard = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      inWindow += chunk.length;
      // Chunks still waiting for the destination: the store is setting the pace.
      if (guard.readableLength > 0) heldInWindow = true;
      done(null, chunk);
    },
    flush(done) {
      clearTimeout(timer);
      done();
    },
    destroy(err, done) {
      clearTimeout(timer);
      done(err);
    },
  });
  const timer: NodeJS.Timeout = setTimeout(function check() {
    const held = heldInWindow || guard.readableLength > 0 || guard.writableLength > 0;
    if (held || inWindow >= floor) {
      inWindow = 0;
      heldInWindow = false;
      timer.refresh();
      return;
    }
    guard.destroy(bodyIdle(ms));
  }, ms);
  timer.unref();
  return guard;
}
