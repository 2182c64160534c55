/**
 * Who is calling: `Authorization: Bearer <credential>` names a principal (the bootstrap admin
 * token, a signed access token from POST /v1/auth/login, or an API key), no header is anonymous,
 * and a credential that names nobody (expired, revoked, unknown) is a 401, never a silent
 * downgrade to anonymous.
 */
import type { Request, RequestHandler } from 'express';
import type { PackError } from '@packyard/pack-core';
import type { Sessions } from '../identity/sessions.js';
import type { AdminTokenCheck } from './admin-token.js';
import { ANONYMOUS, type Principal } from '../identity/principals.js';
import { registryError } from '../errors.js';

const principals = new WeakMap<Request, Principal>();

/** The principal `authenticate` found for this request. */
export function principalOf(req: Request): Principal {
  return principals.get(req) ?? ANONYMOUS;
}

/** Records the request's principal: for /v2's own rules (./oci-authenticate.ts). */
export function setPrincipal(req: Request, principal: Principal): void {
  principals.set(req, principal);
}

function invalidCredentials(): PackError {
  return registryError('AUTH_INVALID', 'the credentials sent are not valid');
}

/** The credential of an `Authorization: Bearer <credential>` header; null for any other form. */
export function bearerCredential(header: string): string | null {
  return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] ?? null;
}

export function authenticate(adminToken: AdminTokenCheck, sessions: Sessions): RequestHandler {
  // Async since token signatures are checked with WebCrypto (jose); express 5 passes a rejection on.
  return async (req, res, next) => {
    const header = req.headers.authorization;
    if (header === undefined || header === '') {
      next();
      return;
    }
    const credential = bearerCredential(header);
    if (credential === null) {
      res.set('WWW-Authenticate', 'Bearer realm="packyard"');
      next(invalidCredentials());
      return;
    }
    if (adminToken.matches(credential)) {
      principals.set(req, { kind: 'operator', name: 'admin', adminToken: true });
      next();
      return;
    }
    const principal = await sessions.principalFor(credential);
    if (principal) {
      principals.set(req, principal);
      next();
      return;
    }
    res.set('WWW-Authenticate', 'Bearer realm="packyard", error="invalid_token"');
    next(invalidCredentials());
  };
}
