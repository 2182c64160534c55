/**
 * One error envelope for every failure: `{ "error": { "code", "message", "hint"?, "details"? } }`
 * with the PackError's status. Only 5xx are logged as errors; the codes are listed in
 * docs/error-codes.md (a test checks it).
 *
 * Answers never carry storage details (endpoint, bucket, paths, keys, a driver's error text):
 * the storage errors say what happened in general terms, and the log line, under the request id,
 * has the cause. A request torn by its client is answered with nothing: there is no one to
 * answer, and the connection is gone.
 */
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { isPackError, type PackError } from '@packyard/pack-core';
import type { ErrorEnvelope } from '@packyard/registry-api';
import { registryError } from '../errors.js';
import { isDiskFull, isDiskRefusing, storageFull, storageUnavailable } from '../storage/object-store.js';

/**
 * How long the unread rest of a refused request body (an upload over the limit, say) is read and
 * dropped. Closing a connection with bytes still coming in resets it, and a client that is still
 * sending would lose the answer with it; reading on for ever would let a client hold the
 * connection with an endless body.
 */
const LINGER_MS = 5_000;

/** Reads and drops the rest of `req`'s body for up to LINGER_MS, then closes the connection. */
function drainRest(req: Request, res: Response): void {
  const socket = res.socket;
  if (req.complete || !socket) return;
  req.unpipe();
  req.resume();
  const timer = setTimeout(() => {
    socket.destroy();
  }, LINGER_MS);
  timer.unref();
  const done = (): void => {
    clearTimeout(timer);
  };
  req.once('end', done);
  req.once('close', done);
}

/** What a framework error (body parsing, URL decoding) means for the client. */
function fromFramework(err: unknown): PackError | null {
  if (err === null || typeof err !== 'object') return null;
  const { type, status } = err as { type?: unknown; status?: unknown };
  if (type === 'entity.parse.failed') {
    return registryError('INVALID_JSON', 'the request body is not valid JSON', {
      hint: 'send a JSON object with Content-Type: application/json',
    });
  }
  if (type === 'parameters.too.many') {
    return registryError('INVALID_BODY', 'the form has too many fields', {
      hint: 'send only the fields the route takes',
    });
  }
  if (type === 'entity.too.large' || status === 413) {
    return registryError('BODY_TOO_LARGE', 'the request body is too large');
  }
  if (status === 415) {
    return registryError('UNSUPPORTED_MEDIA_TYPE', (err as Error).message || 'unsupported body encoding');
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return registryError('BAD_REQUEST', (err as Error).message || 'bad request');
  }
  return null;
}

/**
 * Whether a system call failed somewhere in `err`'s causes (a Node error with `syscall`: open,
 * read, connect...). Such a failure is the server's, whatever the code around it made of it (an
 * unreadable archive, say), and its message names paths: it is never the client's answer.
 */
function causedBySystemCall(err: unknown): boolean {
  for (let at: unknown = err, depth = 0; at instanceof Error && depth < 8; depth++) {
    if (typeof (at as { syscall?: unknown }).syscall === 'string') return true;
    at = at.cause;
  }
  return false;
}

function internalError(cause: unknown): PackError {
  return registryError('INTERNAL_ERROR', 'the registry failed to handle the request', {
    hint: 'the server log has the details under this request id',
    cause,
  });
}

export function toPackError(err: unknown): PackError {
  // A full disk anywhere is 507, whichever layer saw it first.
  if (isDiskFull(err)) return isPackError(err) && err.status === 507 ? err : storageFull(err);
  // A disk that refuses the registry (read-only, its modes changed) is storage out of service.
  if (isDiskRefusing(err))
    return isPackError(err) && err.status === 503 ? err : storageUnavailable('the local disk', err);
  if (isPackError(err)) return err.status < 500 && causedBySystemCall(err) ? internalError(err) : err;
  return fromFramework(err) ?? internalError(err);
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(
    registryError('ROUTE_NOT_FOUND', `no route for ${req.method} ${req.path}`, {
      hint: 'GET /openapi.json describes every route',
    }),
  );
};

export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  const error = toPackError(err);
  if (res.destroyed && !res.writableFinished && !isPackError(err)) {
    // The client closed the connection first (a download cut off): the stream failing is its doing.
    req.log.info(
      { code: error.code, clientClosed: true },
      'the client closed the connection before the answer was complete',
    );
    return;
  }
  if (error.status >= 500) req.log.error({ err }, error.message);
  else req.log.info({ code: error.code, status: error.status }, error.message);
  if (res.headersSent || res.destroyed || res.writableEnded) {
    // Mid-stream: the status is gone; cut the connection so the client sees a failure. (Or the
    // client went away already, and there is nothing left to write to.)
    res.destroy();
    return;
  }
  // A route may have described a success (an archive download) before it failed.
  const described = ['Content-Disposition', 'ETag', 'Content-Digest', 'Repr-Digest', 'Digest', 'X-Pack-Version'];
  for (const header of [...described, 'Content-Type', 'Content-Length', 'Cache-Control']) {
    res.removeHeader(header);
  }
  if (error.status !== 416) res.removeHeader('Content-Range');
  if (error.code === 'STORAGE_UNAVAILABLE') res.set('Retry-After', '5');
  // An answer that says when to come back (a 429) says it in Retry-After too.
  const retryAfter = (error.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  if (typeof retryAfter === 'number') res.set('Retry-After', String(Math.max(1, Math.ceil(retryAfter))));
  drainRest(req, res);
  const envelope: ErrorEnvelope = {
    error: {
      code: error.code,
      message: error.message,
      ...(error.hint === undefined ? {} : { hint: error.hint }),
      ...(error.details === undefined ? {} : { details: error.details }),
    },
  };
  res.status(error.status).json(envelope);
};
