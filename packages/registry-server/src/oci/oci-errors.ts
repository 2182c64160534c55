/**
 * The error answers of /v2: the OCI envelope `{"errors":[{"code","message","detail"}]}` with the
 * specification's codes. Errors raised with a registry code (authentication, storage, limits) are
 * answered under their OCI equivalent, with the same status; nothing else about them changes.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { PackError } from '@packyard/pack-core';
import type { OciErrorEnvelope } from '@packyard/registry-api';
import { errorHandler, toPackError } from '../http/errors.js';
import { registryError } from '../errors.js';

/** The OCI code for a registry code raised under /v2; codes of the OCI catalogue map to themselves. */
const OCI_CODE_OF: Readonly<Record<string, string>> = {
  AUTH_REQUIRED: 'UNAUTHORIZED',
  AUTH_INVALID: 'UNAUTHORIZED',
  API_KEY_INVALID: 'UNAUTHORIZED',
  FORBIDDEN: 'DENIED',
  REGISTRY_NOT_FOUND: 'NAME_UNKNOWN',
  INVALID_NAME: 'NAME_INVALID',
  INVALID_DIGEST: 'DIGEST_INVALID',
  DIGEST_MISMATCH: 'DIGEST_INVALID',
  BODY_TOO_LARGE: 'SIZE_INVALID',
  UPLOAD_TOO_LARGE: 'SIZE_INVALID',
  RANGE_NOT_SATISFIABLE: 'RANGE_INVALID',
  INVALID_PARAMETER: 'UNSUPPORTED',
  BAD_REQUEST: 'UNSUPPORTED',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED',
  METHOD_NOT_ALLOWED: 'UNSUPPORTED',
  LOGIN_RATE_LIMITED: 'TOOMANYREQUESTS',
  LOGIN_BUSY: 'TOOMANYREQUESTS',
  STORAGE_UNAVAILABLE: 'UNAVAILABLE',
};

/** The OCI code an error is answered with. */
export function ociCode(error: PackError): string {
  const mapped = OCI_CODE_OF[error.code];
  if (mapped !== undefined) return mapped;
  if (error.status >= 500) return 'UNKNOWN';
  return error.code;
}

/** The envelope of `error` on /v2. */
export function ociEnvelope(error: PackError): OciErrorEnvelope {
  const detail = error.details ?? (error.hint === undefined ? undefined : { hint: error.hint });
  return { errors: [{ code: ociCode(error), message: error.message, ...(detail === undefined ? {} : { detail }) }] };
}

/** Whether a path is the OCI API's. */
export function isOciPath(path: string): boolean {
  return path === '/v2' || path.startsWith('/v2/');
}

/**
 * For /v2 requests: the app's error handler (logging, headers, draining the body, cutting a
 * broken stream) with the OCI envelope as the body. Other paths pass on untouched.
 */
export const ociErrorHandler: ErrorRequestHandler = (err, req, res, next) => {
  if (!isOciPath(req.path)) {
    next(err);
    return;
  }
  const error = toPackError(err);
  res.set('Docker-Distribution-API-Version', 'registry/2.0');
  // The app's handler writes the answer through res.json: the OCI envelope goes in its place.
  const json = res.json.bind(res);
  res.json = () => json(ociEnvelope(error));
  errorHandler(err, req, res, next);
};

/** No /v2 route matched: the OCI answer for an unknown path. */
export const ociNotFound: RequestHandler = (req, _res, next) => {
  if (!isOciPath(req.path)) {
    next();
    return;
  }
  next(registryError('NAME_UNKNOWN', `no OCI route for ${req.method} ${req.path.slice(0, 200)}`));
};
