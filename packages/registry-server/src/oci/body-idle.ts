/**
 * A bound on how long a /v2 request body may send nothing. The server has no overall request
 * deadline (large blobs on slow links take long), so without it a client trickling a chunk, a
 * monolithic blob or a manifest one byte at a time, or sending nothing after its headers, would
 * hold the connection, the upload session (a busy session is never swept) and its file forever.
 */
import { Transform } from 'node:stream';
import type { RequestHandler } from 'express';
import type { PackError } from '@packyard/pack-core';
import { registryError } from '../errors.js';

/** Default for `oci.bodyIdleSeconds`. */
export const DEFAULT_BODY_IDLE_MS = 60_000;

export function bodyIdle(ms: number): PackError {
  return registryError('BODY_IDLE_TIMEOUT', `the request body sent nothing for ${Math.round(ms / 1000)} s`, {
    hint: 'send the body without pauses; resume a chunked upload with GET on the session (its Range says where it stands)',
  });
}

/**
 * A pass-through that fails with BODY_IDLE_TIMEOUT when no chunk arrives for `ms`. Time spent
 * waiting on the destination (its buffers full: a slow store) is the server's, not the client's,
 * so the clock only runs while this stream holds nothing unsent.
 */
export function idleGuard(ms: number): Transform {
  const guard = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      timer.refresh();
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
    if (guard.readableLength > 0 || guard.writableLength > 0) {
      timer.refresh();
      return;
    }
    guard.destroy(bodyIdle(ms));
  }, ms);
  timer.unref();
  return guard;
}

/**
 * For a /v2 request answered without reading its whole body (an upload session started with a
 * body, a GET with one): the rest gets `ms` to arrive once the answer is sent, then the connection
 * is closed. Node reads and drops such a rest to keep the connection, for as long as it comes.
 */
export function unreadBodyLimit(ms: () => number): RequestHandler {
  return (req, res, next) => {
    // Taken now: once the answer is sent, the request may be detached from its socket.
    const socket = req.socket as typeof req.socket | null;
    res.once('finish', () => {
      if (req.complete || !socket) return;
      const timer = setTimeout(() => {
        if (!req.complete) socket.destroy();
      }, ms());
      timer.unref();
      req.once('end', () => {
        clearTimeout(timer);
      });
      req.once('close', () => {
        clearTimeout(timer);
      });
    });
    next();
  };
}
