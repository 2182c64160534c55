/**
 * The OCI registry tokens of the Docker token protocol
 * (https://distribution.github.io/distribution/spec/auth/token/): what a client asks for
 * (`scope=repository:NAME:pull,push`, `registry:catalog:*`), the token that grants it, and the
 * check of one such token on a /v2 request.
 *
 * A registry token is `pyo_<JWT>`, HS256, signed with the same keyring as the /v1 access tokens
 * (../identity/signing-keys.ts: every replica accepts it, rotation keeps the previous key) but
 * with the header `typ: oci+jwt`, which /v1's check refuses: a token limited to a few
 * repositories never becomes a whole session. It names who asked (the session it came from, so it
 * ends with its credential like an access token does; the bootstrap admin token; or nobody) and,
 * in Docker's `access` claim, the actions granted on each resource asked for: only those the
 * caller may actually do, so the token limits the caller further and never extends them.
 */
import { SignJWT, jwtVerify } from 'jose';
import type { Principal, Session } from '../identity/principals.js';
import { keyNamedBy } from '../identity/secrets.js';
import type { SigningKeyring } from '../identity/signing-keys.js';

export const REGISTRY_TOKEN_PREFIX = 'pyo_';
const TOKEN_TYPE = 'oci+jwt';
/** Tokens carry a handful of scopes; a longer one is refused before it is decoded. */
const MAX_TOKEN_CHARS = 16_384;
/** Scopes one token request may ask for (Docker clients ask for one or two). */
export const MAX_SCOPES = 16;
const MAX_SCOPE_CHARS = 1024;

/** What the /v2 routes do with a repository. */
export type RepositoryAction = 'pull' | 'push' | 'delete';
const REPOSITORY_ACTIONS: readonly RepositoryAction[] = ['pull', 'push', 'delete'];

/** One resource asked for, or granted (Docker's access entry). */
export interface ResourceAccess {
  /** `repository`, or `registry` (its one resource: `catalog`). */
  type: string;
  name: string;
  actions: string[];
}

/** Who a registry token was issued to. */
export type TokenHolder =
  | { kind: 'anonymous' }
  /** `fingerprint`: the admin token's when issued; the token ends when the admin token changes. */
  | { kind: 'admin-token'; fingerprint: string }
  | { kind: 'session'; session: Session };

export interface RegistryTokenClaims {
  /** A label for logs: the username, or `anonymous`. */
  sub: string;
  /** The service the token is for: the challenge's `service`. */
  aud: string;
  who: TokenHolder;
  access: ResourceAccess[];
  iat: number;
  exp: number;
}

/**
 * Parses one `scope` value: `type[(class)]:name:actions`, where the name may itself hold colons
 * (a registry host with a port), so it is what lies between the first and the last colon. Null
 * for anything else.
 */
export function parseScope(value: string): ResourceAccess | null {
  if (value.length > MAX_SCOPE_CHARS) return null;
  const first = value.indexOf(':');
  const last = value.lastIndexOf(':');
  if (first <= 0 || last <= first + 1) return null;
  let type = value.slice(0, first);
  // A resource class, as in `repository(plugin):...`, does not change what is granted.
  const paren = type.indexOf('(');
  if (paren > 0 && type.endsWith(')')) type = type.slice(0, paren);
  const name = value.slice(first + 1, last);
  const actions = value
    .slice(last + 1)
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  if (!/^[a-z]+$/.test(type) || actions.length === 0) return null;
  return { type, name, actions: [...new Set(actions)] };
}

/** The actions a scope's list asks for on a repository, `*` spelled out. */
export function askedRepositoryActions(actions: readonly string[]): RepositoryAction[] {
  if (actions.includes('*')) return [...REPOSITORY_ACTIONS];
  return REPOSITORY_ACTIONS.filter((a) => actions.includes(a));
}

/** The `scope` parameter of a challenge: `repository:NAME:pull,push`. */
export function scopeString(access: ResourceAccess): string {
  return `${access.type}:${access.name}:${access.actions.join(',')}`;
}

function quoted(value: string): string {
  // Names and URLs never hold quotes or backslashes that matter; escaping keeps the header whole.
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * The `WWW-Authenticate` value of a /v2 401: where to get a token, for which service and scopes
 * (several are separated by spaces, as CNCF distribution does), and `error="invalid_token"` when
 * the token sent was refused.
 */
export function bearerChallenge(options: {
  realm: string;
  service: string;
  scopes: readonly ResourceAccess[];
  error?: 'invalid_token' | 'insufficient_scope';
}): string {
  const parts = [`realm=${quoted(options.realm)}`, `service=${quoted(options.service)}`];
  if (options.scopes.length > 0) parts.push(`scope=${quoted(options.scopes.map(scopeString).join(' '))}`);
  if (options.error) parts.push(`error=${quoted(options.error)}`);
  return `Bearer ${parts.join(',')}`;
}

/** Where the token endpoint is, as clients reach it: the configured public URL, else the request's. */
export function tokenRealm(publicUrl: string | undefined, request: { protocol: string; host: string }): string {
  return `${publicUrl ?? `${request.protocol}://${request.host}`}/v2/token`;
}

/** `adminToken`: the current admin token's fingerprint (see AdminTokenCheck). */
export function holderOf(principal: Principal, adminToken: string): TokenHolder {
  if (principal.kind === 'anonymous') return { kind: 'anonymous' };
  if (principal.session) return { kind: 'session', session: principal.session };
  // Only the bootstrap admin token names an operator without a session.
  return { kind: 'admin-token', fingerprint: adminToken };
}

export async function signRegistryToken(claims: RegistryTokenClaims, keys: SigningKeyring): Promise<string> {
  const key = await keys.current();
  const { sub, aud, iat, exp, ...custom } = claims;
  const jwt = await new SignJWT({ ...custom })
    .setProtectedHeader({ alg: 'HS256', typ: TOKEN_TYPE, kid: key.kid })
    .setSubject(sub)
    .setAudience(aud)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(key.secret);
  return `${REGISTRY_TOKEN_PREFIX}${jwt}`;
}

function isAccessList(value: unknown): value is ResourceAccess[] {
  return (
    Array.isArray(value) &&
    value.every((entry: unknown) => {
      if (entry === null || typeof entry !== 'object') return false;
      const e = entry as Record<string, unknown>;
      const actions = e['actions'];
      return (
        typeof e['type'] === 'string' &&
        typeof e['name'] === 'string' &&
        Array.isArray(actions) &&
        actions.every((a) => typeof a === 'string')
      );
    })
  );
}

function isHolder(value: unknown): value is TokenHolder {
  if (value === null || typeof value !== 'object') return false;
  const holder = value as Record<string, unknown>;
  if (holder['kind'] === 'anonymous') return true;
  if (holder['kind'] === 'admin-token') return typeof holder['fingerprint'] === 'string';
  const session = holder['session'] as Record<string, unknown> | null | undefined;
  if (holder['kind'] !== 'session' || typeof session !== 'object' || session === null) return false;
  const via = session['via'] as Record<string, unknown> | null | undefined;
  return (
    typeof session['userId'] === 'string' &&
    (typeof session['tenantId'] === 'string' || session['tenantId'] === null) &&
    typeof via === 'object' &&
    via !== null &&
    (typeof via['password'] === 'number' || typeof via['apiKey'] === 'string') &&
    typeof session['since'] === 'number' &&
    (typeof session['until'] === 'number' || session['until'] === null)
  );
}

/**
 * The claims of a registry token for `service`, signed with a key the keyring still knows and not
 * expired at `nowSeconds`; null for anything else (another kind of token included).
 */
export async function verifyRegistryToken(
  token: string,
  options: { keys: SigningKeyring; service: string; nowSeconds: number },
): Promise<RegistryTokenClaims | null> {
  if (!token.startsWith(REGISTRY_TOKEN_PREFIX) || token.length > MAX_TOKEN_CHARS) return null;
  try {
    const { payload } = await jwtVerify(
      token.slice(REGISTRY_TOKEN_PREFIX.length),
      keyNamedBy((kid) => options.keys.verifier(kid)),
      {
        algorithms: ['HS256'],
        typ: TOKEN_TYPE,
        audience: options.service,
        currentDate: new Date(options.nowSeconds * 1000),
      },
    );
    const { sub, exp, iat } = payload;
    const { who, access } = payload as Record<string, unknown>;
    if (typeof sub !== 'string' || typeof exp !== 'number' || exp <= options.nowSeconds) return null;
    if (!isHolder(who) || !isAccessList(access)) return null;
    return { sub, aud: options.service, who, access, iat: typeof iat === 'number' ? iat : 0, exp };
  } catch {
    // Malformed, forged, expired, for another service or signed with a key no longer kept.
    return null;
  }
}

/** Whether a token's access list grants `action` on the resource. */
export function accessGrants(access: readonly ResourceAccess[], type: string, name: string, action: string): boolean {
  return access.some(
    (a) => a.type === type && a.name === name && (a.actions.includes(action) || a.actions.includes('*')),
  );
}
