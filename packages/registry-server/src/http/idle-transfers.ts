/**
 * Bounds on how long a connection may move no bytes while a transfer is under way, in either
 * direction. The server sets no overall request deadline, as a large publish or download on a slow
 * link takes long; without these, a client that sent its headers and then a byte now and then, or
 * nothing, or that stopped reading an answer, would hold its connection, a body parser's buffers,
 * a publish's temporary file, or an archive's descriptor and send buffers for ever, and a few
 * thousand such clients every descriptor and gigabytes of the process.
 *
 * - A request body outside /v2 (/v2 has its own, which answers 408 and keeps the upload session:
 *   ../oci/body-idle.ts): while it is incomplete, no byte read from the socket over `bodyIdleMs`,
 *   while nothing held the request back (a route that has not started reading yet, or a slow store
 *   pausing an upload, is the server's time, not the client's).
 * - An answer, on every path: while it is being sent, bytes waiting to go out and none taken by
 *   the client over `answerIdleMs` (an answer the server is slow to produce has nothing waiting).
 *
 * Either closes the connection, as when a client goes away: every route cleans up after that
 * already (an upload's file is removed, a parser gives up, a download closes its file).
 */
import type { RequestHandler } from 'express';
import { isOciPath } from '../oci/oci-errors.js';

export interface IdleLimits {
  bodyIdleMs: () => number;
  answerIdleMs: () => number;
}

export function idleTransferLimits(limits: IdleLimits): RequestHandler {
  return (req, res, next) => {
    const socket = req.socket as typeof req.socket | null;
    if (!socket) {
      next();
      return;
    }
    const watchBody = !req.complete && !isOciPath(req.path);
    let read = socket.bytesRead;
    let bodyIdleSince = Date.now();
    let written = socket.bytesWritten;
    let answerIdleSince = Date.now();
    const tick = Math.max(50, Math.min(limits.bodyIdleMs(), limits.answerIdleMs()) / 4);
    const timer = setInterval(() => {
      if (socket.destroyed) {
        clearInterval(timer);
        return;
      }
      const now = Date.now();
      if (watchBody && !req.complete) {
        const held = req.isPaused() || req.readableLength > 0;
        if (socket.bytesRead !== read || held) bodyIdleSince = now;
        read = socket.bytesRead;
        if (now - bodyIdleSince >= limits.bodyIdleMs()) {
          socket.destroy();
          return;
        }
      }
      if (res.headersSent && !res.writableFinished) {
        if (socket.bytesWritten !== written || socket.writableLength === 0) answerIdleSince = now;
        written = socket.bytesWritten;
        if (now - answerIdleSince >= limits.answerIdleMs()) socket.destroy();
      }
    }, tick);
    timer.unref();
    const stop = (): void => {
      clearInterval(timer);
    };
    res.once('finish', stop);
    res.once('close', stop);
    next();
  };
}
