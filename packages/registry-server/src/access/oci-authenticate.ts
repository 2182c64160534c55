/**
 * Who is calling /v2 (the OCI Distribution API and its token endpoint), as registry clients send
 * it. /v1's rules (./authenticate.ts) plus what Docker, ORAS, skopeo, containerd, Helm and
 * Palette send:
 *
 * - `Authorization: Bearer pyo_...`: a registry token from GET /v2/token (../oci/registry-token.ts).
 *   Its holder is checked again like an access token's (the credential it came from still valid),
 *   and the request is limited to the token's `access` list: {@link tokenAllows}.
 * - `Authorization: Basic base64(user:password)`: a Packyard user's (or operator's) password,
 *   through the same login limits as POST /v1/auth/login; or any username with an API key, an
 *   access token or the bootstrap admin token as the password. Only here: /v1 refuses Basic.
 * - `Authorization: Bearer <API key | access token | admin token>`, as on /v1.
 *
 * A credential that names nobody is a 401 (never anonymous), which the /v2 error handler answers
 * with the OCI UNAUTHORIZED envelope and a Bearer challenge. A password that was right is
 * remembered for a minute (keyed by an HMAC under a per-process key, never the password itself),
 * so that a client sending Basic on every request costs one scrypt hash a minute, not one each;
 * parallel requests with the same credentials share one check.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { LRUCache } from 'lru-cache';
import { isPackError, type PackError } from '@packyard/pack-core';
import type { Principal } from '../identity/principals.js';
import type { Sessions } from '../identity/sessions.js';
import {
  accessGrants,
  bearerChallenge,
  tokenRealm,
  verifyRegistryToken,
  type ResourceAccess,
  type TokenHolder,
} from '../oci/registry-token.js';
import type { AdminTokenCheck } from './admin-token.js';
import { bearerCredential, setPrincipal } from './authenticate.js';
import { registryError } from '../errors.js';

/** Where each /v2 request's clients get tokens: the settings its challenges are built from. */
const challengeSettings = new WeakMap<Request, { publicUrl: string | undefined; service: string }>();

/**
 * The `WWW-Authenticate` value of a 401 on /v2: a Bearer challenge whose realm is the token
 * endpoint as the client reaches it (the configured public URL, else the request's protocol and
 * host, which honour the trust proxy setting), for the configured service and the scopes the
 * request needs; `error` says why a token sent was not enough.
 */
export function ociChallenge(
  req: Request,
  scopes: readonly ResourceAccess[],
  error?: 'invalid_token' | 'insufficient_scope',
): string {
  const settings = challengeSettings.get(req) ?? { publicUrl: undefined, service: 'packyard' };
  return bearerChallenge({
    realm: tokenRealm(settings.publicUrl, { protocol: req.protocol, host: req.host }),
    service: settings.service,
    scopes,
    ...(error ? { error } : {}),
  });
}

/** The access list of the registry token each request came with. */
const tokenAccess = new WeakMap<Request, readonly ResourceAccess[]>();

/** When the credential each request came with ends (seconds), for those that end on their own. */
const credentialEnds = new WeakMap<Request, number>();

/** A principal, and when the credential that named it ends (seconds; null: not on its own). */
export interface Credential {
  principal: Principal;
  expiresAt: number | null;
}

/**
 * When the request's credential ends, in seconds: a registry token's or access token's expiry, an
 * API key's; null for a credential that does not end on its own (a password, the admin token, an
 * API key without expiry) or none. A token the token endpoint issues for it never ends later.
 */
export function credentialEnd(req: Request): number | null {
  return credentialEnds.get(req) ?? null;
}

/** The access list of the request's registry token; null when it came with another credential (or none). */
export function registryTokenAccess(req: Request): readonly ResourceAccess[] | null {
  return tokenAccess.get(req) ?? null;
}

/**
 * Whether the request's credential allows `action` on the resource as far as a registry token
 * limits it: always for other credentials (the principal's permissions decide), else only what
 * the token's access list grants, even where the principal could do more.
 */
export function tokenAllows(req: Request, resource: { type: string; name: string }, action: string): boolean {
  const access = tokenAccess.get(req);
  return access === undefined || accessGrants(access, resource.type, resource.name, action);
}

/** The username and password of an `Authorization: Basic` header; null for any other form. */
export function basicCredentials(header: string): { username: string; password: string } | null {
  const encoded = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)?.[1];
  if (encoded === undefined) return null;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function invalidCredentials(): PackError {
  return registryError('AUTH_INVALID', 'the credentials sent are not valid');
}

const REMEMBERED_LOGINS = 1000;
const REMEMBER_MS = 60_000;

export interface OciAuthenticatorOptions {
  adminToken: AdminTokenCheck;
  sessions: Sessions;
  /** The service registry tokens are issued for and accepted for. */
  service: string;
  /** Where clients reach the registry (server.publicUrl), for the challenge's realm. */
  publicUrl: string | undefined;
}

export class OciAuthenticator {
  /** Access tokens of passwords that were right lately, by HMAC of username and password. */
  private readonly logins = new LRUCache<string, string>({ max: REMEMBERED_LOGINS, ttl: REMEMBER_MS });
  private readonly cacheKey = randomBytes(32);
  /** Password checks under way, by the same HMAC: their access token, or null for a wrong password. */
  private readonly signingIn = new Map<string, Promise<string | null>>();

  constructor(private readonly options: OciAuthenticatorOptions) {}

  /** What a bearer credential (not a registry token) or a Basic password names, or null. */
  private async credentialForSecret(secret: string): Promise<Credential | null> {
    if (this.options.adminToken.matches(secret)) {
      return { principal: { kind: 'operator', name: 'admin', adminToken: true }, expiresAt: null };
    }
    return this.options.sessions.credentialFor(secret);
  }

  /**
   * The principal of a Basic header's credentials, or null when they name nobody. A password goes
   * through the login limits (429 LOGIN_RATE_LIMITED, LOGIN_BUSY are thrown as they are).
   */
  async principalForBasic(username: string, password: string, client: string): Promise<Principal | null> {
    return (await this.credentialForBasic(username, password, client))?.principal ?? null;
  }

  /**
   * {@link principalForBasic}, with when the credential ends: an API key's or access token's
   * expiry; null for a password (its session's end bounds what is issued for it), the admin token.
   */
  async credentialForBasic(username: string, password: string, client: string): Promise<Credential | null> {
    // API keys, access tokens and the admin token work whatever the username (Docker needs one).
    const bySecret = await this.credentialForSecret(password);
    if (bySecret) return bySecret;
    const login = username.toLowerCase();
    const key = createHmac('sha256', this.cacheKey).update(login).update('\0').update(password).digest('base64url');
    const remembered = this.logins.get(key);
    // The access token is checked again: a password changed meanwhile ends it.
    const known = remembered === undefined ? null : await this.options.sessions.principalFor(remembered);
    if (known) return { principal: known, expiresAt: null };
    this.logins.delete(key);
    // Clients send their first requests in parallel (a push's layers): one password check serves
    // them all, instead of each taking a hash and a place in the login limits.
    let signingIn = this.signingIn.get(key);
    if (!signingIn) {
      signingIn = this.options.sessions
        .login(login, password, client)
        .then(
          (issued) => issued.token,
          (err: unknown) => {
            if (isPackError(err) && err.code === 'LOGIN_FAILED') return null;
            throw err;
          },
        )
        .finally(() => this.signingIn.delete(key));
      this.signingIn.set(key, signingIn);
    }
    const token = await signingIn;
    if (token === null) return null;
    this.logins.set(key, token);
    const principal = await this.options.sessions.principalFor(token);
    return principal && { principal, expiresAt: null };
  }

  /** The principal of a registry token's holder, if the credential it came from is still valid. */
  private principalOfHolder(holder: TokenHolder): Principal | null {
    if (holder.kind === 'anonymous') return { kind: 'anonymous' };
    if (holder.kind === 'admin-token') {
      // Issued to an admin token since changed (or to one of an older release, which named none).
      if (holder.fingerprint !== this.options.adminToken.fingerprint) return null;
      return { kind: 'operator', name: 'admin', adminToken: true };
    }
    return this.options.sessions.principalOf(holder.session);
  }

  /** Middleware for /v2: sets the request's principal (and token limits), or fails with 401. */
  middleware(): RequestHandler {
    const settings = { publicUrl: this.options.publicUrl, service: this.options.service };
    return async (req, res, next) => {
      challengeSettings.set(req, settings);
      const header = req.headers.authorization;
      if (header === undefined || header === '') {
        next();
        return;
      }
      const basic = basicCredentials(header);
      const bearer = basic ? null : bearerCredential(header);
      let found: Credential | null = null;
      if (basic) {
        found = await this.credentialForBasic(basic.username, basic.password, req.ip ?? 'unknown');
      } else if (bearer !== null) {
        const claims = await verifyRegistryToken(bearer, {
          keys: this.options.sessions.keys,
          service: this.options.service,
          nowSeconds: Math.floor(Date.now() / 1000),
        });
        if (claims) {
          const principal = this.principalOfHolder(claims.who);
          if (principal) {
            tokenAccess.set(req, claims.access);
            found = { principal, expiresAt: claims.exp };
          }
        } else {
          found = await this.credentialForSecret(bearer);
        }
      }
      if (!found) {
        // The token endpoint asks for Basic credentials again; the other routes send clients there.
        const token = req.path === '/v2/token';
        res.set(
          'WWW-Authenticate',
          token ? `Basic realm="${this.options.service}"` : ociChallenge(req, [], 'invalid_token'),
        );
        next(invalidCredentials());
        return;
      }
      setPrincipal(req, found.principal, this.options.sessions);
      if (found.expiresAt !== null) credentialEnds.set(req, found.expiresAt);
      next();
    };
  }
}
