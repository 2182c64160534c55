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
/** The sessions each request's principal was found in: to check it again (callerNow). */
const sessionsOf = new WeakMap<Request, Pick<Sessions, 'principalOf'>>();

/** The principal `authenticate` found for this request. */
export function principalOf(req: Request): Principal {
  return principals.get(req) ?? ANONYMOUS;
}

/** Records the request's principal: for /v2's own rules (./oci-authenticate.ts). */
export function setPrincipal(req: Request, principal: Principal, sessions?: Pick<Sessions, 'principalOf'>): void {
  principals.set(req, principal);
  if (sessions) sessionsOf.set(req, sessions);
}

/**
 * The request's caller as they stand now, recorded for the rest of the request. A request is
 * authenticated when its headers arrive, but a body may take minutes to arrive (a slow upload, a
 * trickled JSON body): meanwhile the user may have been disabled or deleted, or the API key or
 * password the credential came from revoked or changed. So every write checks its caller again
 * once its body is in, before anything becomes visible, and authorizes what it does for the caller
 * this returns. A credential that ended meanwhile is a 401, as it would be on a new request.
 */
export function callerNow(req: Request): Principal {
  const principal = principalOf(req);
  const sessions = sessionsOf.get(req);
  // The bootstrap admin token and anonymous callers have no session to end.
  if (principal.kind === 'anonymous' || principal.session === undefined || !sessions) return principal;
  const now = sessions.principalOf(principal.session);
  if (!now) {
    throw registryError('AUTH_INVALID', 'the credentials sent ended while the request was arriving', {
      hint: 'the user was disabled or deleted, or the key or password was revoked or changed: sign in again',
    });
  }
  principals.set(req, now);
  return now;
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
      setPrincipal(req, principal, sessions);
      next();
      return;
    }
    res.set('WWW-Authenticate', 'Bearer realm="packyard", error="invalid_token"');
    next(invalidCredentials());
  };
}
