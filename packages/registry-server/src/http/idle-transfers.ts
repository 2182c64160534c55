/**
 * Bounds on how slowly a connection may move bytes while a transfer is under way, in either
 * direction. The server sets no overall request deadline, as a large publish or download on a slow
 * link takes long; without these, a client that sent its headers and then a byte now and then, or
 * nothing, or that stopped reading an answer, would hold its connection, a body parser's buffers,
 * a publish's temporary file, or an archive's descriptor and send buffers for ever, and a few
 * thousand such clients every descriptor and gigabytes of the process.
 *
 * - A request body, on every path: while it is incomplete, a window of `bodyIdleMs` that reads less
 *   than the floor below (1 KiB a second) from the socket, while nothing held the
 *   request back (a route that has not started reading yet, or a slow store pausing an upload, is
 *   the server's time, not the client's). /v2 routes that read bodies answer 408 themselves at that
 *   floor and keep the upload session; here /v2 gets twice the window, a backstop for the rest (the
 *   token form).
 * - The rest of a body a route answered without reading (a GET sent with a body, a refusal before
 *   the upload): `bodyIdleMs` once the answer is sent. Node reads and drops such a rest, to keep the
 *   connection, for as long as it comes.
 * - An answer, on every path: while it is being sent, bytes waiting to go out and none taken by
 *   the client over `answerIdleMs` (an answer the server is slow to produce has nothing waiting).
 *
 * Each closes the connection, as when a client goes away: every route cleans up after that
 * already (an upload's file is removed, a parser gives up, a download closes its file).
 */
import type { RequestHandler } from 'express';
import { isOciPath } from '../oci/oci-errors.js';

/**
 * The slowest a request body may come, on average over each `oci.bodyIdleSeconds`: 1 KiB a second
 * (curl's `--speed-limit` default unit; 8 kbit/s is below any real link). A pause alone would be
 * beaten by a byte now and then, each one restarting the clock. /v2's own guard holds its bodies
 * to it too (../oci/body-idle.ts).
 */
export const BODY_FLOOR_BYTES_PER_SECOND = 1024;

/** The bytes a body must bring in a window of `ms` unless it ends within it. */
export function bodyFloorBytes(ms: number): number {
  return Math.ceil((BODY_FLOOR_BYTES_PER_SECOND * ms) / 1000);
}

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
    const bodyWindow = (isOciPath(req.path) ? 2 : 1) * limits.bodyIdleMs();
    const floor = bodyFloorBytes(bodyWindow);
    let readAtWindow = socket.bytesRead;
    let bodyWindowSince = Date.now();
    let written = socket.bytesWritten;
    let answerIdleSince = Date.now();
    const tick = Math.max(50, Math.min(limits.bodyIdleMs(), limits.answerIdleMs()) / 4);
    const timer = setInterval(() => {
      if (socket.destroyed) {
        clearInterval(timer);
        return;
      }
      const now = Date.now();
      if (!req.complete) {
        if (req.isPaused() || req.readableLength > 0) {
          bodyWindowSince = now;
          readAtWindow = socket.bytesRead;
        } else if (now - bodyWindowSince >= bodyWindow) {
          if (socket.bytesRead - readAtWindow < floor) {
            socket.destroy();
            return;
          }
          bodyWindowSince = now;
          readAtWindow = socket.bytesRead;
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
    res.once('finish', () => {
      stop();
      if (req.complete) return;
      // Answered without reading the whole body: the rest gets one window to arrive.
      const rest = setTimeout(() => {
        if (!req.complete) socket.destroy();
      }, limits.bodyIdleMs());
      rest.unref();
      const done = () => {
        clearTimeout(rest);
      };
      req.once('end', done);
      req.once('close', done);
    });
    res.once('close', stop);
    next();
  };
}
