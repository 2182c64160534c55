/**
 * A bound on how long any request body outside /v2 may send nothing (/v2 has its own, which
 * answers 408 and keeps the upload session: ../oci/body-idle.ts). The server sets no overall
 * request deadline, as a large publish on a slow link takes long; without this, a client that sent
 * its headers and then a byte now and then, or nothing at all, would hold its connection, a body
 * parser's buffers or a publish's temporary file for ever, and a few thousand such clients every
 * descriptor of the process.
 *
 * While a request's body is incomplete, the bytes its socket has read are looked at every `ms`.
 * None came in since the last look, while nothing held the request back (a route that has not
 * started reading yet, or a slow store pausing the upload, is the server's time, not the client's),
 * and the connection is closed, as when a client goes away: every route cleans up after that
 * already (an upload's file is removed, a parser gives up).
 */
import type { RequestHandler } from 'express';
import { isOciPath } from '../oci/oci-errors.js';

export function bodyIdleLimit(ms: () => number): RequestHandler {
  return (req, _res, next) => {
    const socket = req.socket as typeof req.socket | null;
    if (req.complete || !socket || isOciPath(req.path)) {
      next();
      return;
    }
    let seen = socket.bytesRead;
    const timer = setInterval(() => {
      if (req.complete || socket.destroyed) {
        clearInterval(timer);
        return;
      }
      const read = socket.bytesRead;
      const held = req.isPaused() || req.readableLength > 0;
      if (read === seen && !held) {
        clearInterval(timer);
        socket.destroy();
        return;
      }
      seen = read;
    }, ms());
    timer.unref();
    const stop = (): void => {
      clearInterval(timer);
    };
    req.once('end', stop);
    req.once('close', stop);
    next();
  };
}
