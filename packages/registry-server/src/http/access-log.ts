/**
 * Request ids and the access log. Every request gets an id (the caller's `X-Request-Id` when it is
 * a plain token, else a new UUID), echoed in the response; `req.log` is a child logger carrying it,
 * created only when something logs. One line per request is written when it completes (or is
 * aborted) with method, URL, client address, status and time: never headers or bodies, which is
 * why access lines skip the redaction pass that every other line goes through.
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';

declare module 'express-serve-static-core' {
  interface Request {
    /** The request's logger, carrying its id. */
    log: Logger;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export function accessLog(logger: Logger): RequestHandler {
  const access = logger.child({}, { redact: { paths: [] } });
  return (req, res, next) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', id);
    const start = performance.now();
    // Read now: a torn-down request has no socket by the time it closes.
    const remoteAddress = req.socket.remoteAddress;
    let child: Logger | undefined;
    Object.defineProperty(req, 'log', {
      configurable: true,
      enumerable: false,
      get: () => (child ??= logger.child({ reqId: id })),
    });
    res.once('close', () => {
      const line = {
        req: { id, method: req.method, url: req.originalUrl, remoteAddress },
        res: { statusCode: res.statusCode },
        responseTime: Math.round(performance.now() - start),
      };
      if (!res.writableFinished) access.warn(line, 'request aborted');
      else if (res.statusCode >= 500) access.error(line, 'request failed');
      else access.info(line, 'request completed');
    });
    next();
  };
}
