/**
 * The token endpoint of the Docker token protocol, where registry clients go after a /v2 401's
 * Bearer challenge: `GET /v2/token?service=..&scope=repository:NAME:pull,push&scope=...` with the
 * caller's credentials as HTTP Basic (access/oci-authenticate.ts has already turned them into the
 * request's principal, through the login limits), or nothing for an anonymous token. The OAuth2
 * variant `POST /v2/token` (form-encoded, `grant_type=password`) carries them in the body.
 * Refresh tokens are not issued: `grant_type=refresh_token` is refused, and clients fall back to
 * asking again with the credentials they hold.
 *
 * The answer is `{token, access_token, expires_in, issued_at}`: a registry token granting, on
 * each resource asked for, only what the caller may do there (../oci/token-grants.ts). It never
 * outlives what it was obtained with: the credential presented (a registry token, an access token
 * or an API key expiring sooner ends it sooner, so presenting each token for the next one never
 * renews a session) nor the session that credential belongs to (`auth.sessionMaxSeconds` after a
 * password sign-in).
 */
import express, { type Request, type Router } from 'express';
import { principalOf } from '../access/authenticate.js';
import { credentialEnd, registryTokenAccess } from '../access/oci-authenticate.js';
import type { Principal } from '../identity/principals.js';
import { holderOf, MAX_SCOPES, parseScope, signRegistryToken, type ResourceAccess } from '../oci/registry-token.js';
import { resolveNamespace } from '../oci/namespaces.js';
import { grantAccess } from '../oci/token-grants.js';
import type { RegistryServices } from '../services.js';
import { registryError } from '../errors.js';

const formBody = express.urlencoded({ extended: false, inflate: false, limit: '16kb', parameterLimit: 32 });

/** The answer of the token endpoint. */
export interface RegistryTokenAnswer {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
}

/** The scopes asked for: each `scope` value may hold several, separated by spaces (OAuth2). */
function scopesOf(values: unknown): ResourceAccess[] {
  const list = (Array.isArray(values) ? values : values === undefined ? [] : [values]).flatMap((v) =>
    typeof v === 'string' ? v.split(' ').filter((s) => s !== '') : [null],
  );
  if (list.length > MAX_SCOPES) {
    throw registryError('INVALID_PARAMETER', `at most ${MAX_SCOPES} scopes may be asked for at once`);
  }
  return list.map((value) => {
    const scope = value === null ? null : parseScope(value);
    if (!scope) {
      throw registryError('INVALID_PARAMETER', 'a scope must read type:name:actions, e.g. repository:public/app:pull', {
        hint: 'see https://distribution.github.io/distribution/spec/auth/scope/',
      });
    }
    return scope;
  });
}

export function registerOciTokenRoutes(router: Router, services: RegistryServices): void {
  /** A token for `principal`, whose credential ends at `credentialEnds` (seconds; null: never). */
  const issue = async (
    req: Request,
    principal: Principal,
    credentialEnds: number | null,
    scopes: ResourceAccess[],
  ): Promise<RegistryTokenAnswer> => {
    const { auth } = services.config;
    const access = grantAccess({
      access: services.access,
      principal,
      scopes,
      registryOf: (name) =>
        resolveNamespace(name, (registry) => services.catalog.index.registry(registry))?.registry ?? null,
      limit: registryTokenAccess(req),
    });
    const now = Math.floor(Date.now() / 1000);
    const sessionEnds = principal.kind === 'anonymous' ? null : (principal.session?.until ?? null);
    const ends = [sessionEnds, credentialEnds].filter((end): end is number => end !== null);
    const exp = Math.min(now + auth.registryTokenTtlSeconds, ...ends);
    // Authentication found the credential and its session still valid: only the second they end.
    if (exp <= now) throw registryError('AUTH_INVALID', 'the credentials sent have just expired');
    const token = await signRegistryToken(
      {
        sub:
          principal.kind === 'user'
            ? `${principal.tenant}/${principal.username}`
            : principal.kind === 'operator'
              ? principal.name
              : 'anonymous',
        aud: auth.registryService,
        who: holderOf(principal, services.adminToken.fingerprint),
        access,
        iat: now,
        exp,
      },
      services.sessions.keys,
    );
    return { token, access_token: token, expires_in: exp - now, issued_at: new Date(now * 1000).toISOString() };
  };

  router.get('/v2/token', async (req, res) => {
    const answer = await issue(req, principalOf(req), credentialEnd(req), scopesOf(req.query['scope']));
    res.set('Cache-Control', 'no-store').json(answer);
  });

  router.post('/v2/token', formBody, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const grant = body['grant_type'];
    let principal = principalOf(req);
    let ends = credentialEnd(req);
    if (grant === 'password') {
      const { username, password } = body;
      if (typeof username !== 'string' || typeof password !== 'string') {
        throw registryError('INVALID_PARAMETER', 'grant_type=password needs username and password');
      }
      const found = await services.ociAuthenticator.credentialForBasic(username, password, req.ip ?? 'unknown');
      if (!found) throw registryError('AUTH_INVALID', 'the credentials sent are not valid');
      principal = found.principal;
      ends = found.expiresAt;
    } else if (grant !== undefined) {
      throw registryError('INVALID_PARAMETER', 'grant_type must be password (refresh tokens are not issued)', {
        hint: 'ask GET /v2/token again with the credentials (HTTP Basic)',
      });
    }
    const answer = await issue(req, principal, ends, scopesOf(body['scope']));
    res.set('Cache-Control', 'no-store').json(answer);
  });
}
