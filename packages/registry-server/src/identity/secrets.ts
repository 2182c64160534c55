/**
 * The registry's secrets and how they are checked, with node:crypto (and jose for tokens):
 *
 * - passwords: scrypt with a per-user random salt, stored as `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>`
 *   so that the cost can be raised later without invalidating older hashes;
 * - access tokens: `pya_<JWT>`, HS256 JWTs (signed and checked with `jose`) of a short payload
 *   (user and tenant ids, the credential signed in with, expiry) with keys kept in storage (see
 *   ./signing-keys.ts), so that every replica accepts every token and the key can be rotated;
 * - API keys: `pyk_<id>_<secret>`, of which only the sha256 of the secret is stored.
 *
 * Every comparison of secret material is constant-time.
 */
import {
  createHash,
  randomBytes,
  scrypt,
  timingSafeEqual,
  type KeyObject,
  type ScryptOptions,
  type webcrypto,
} from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';

const SALT_BYTES = 16;
const KEY_BYTES = 32;

function scryptAsync(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_BYTES, options, (err, key) => {
      if (err) reject(err);
      else resolve(key);
    });
  });
}

function scryptOptions(log2N: number, r: number, p: number): ScryptOptions {
  // scrypt needs 128 * N * r bytes; allow that plus headroom (node's default cap is 32 MiB).
  return { N: 2 ** log2N, r, p, maxmem: 256 * 2 ** log2N * r };
}

/** Hashes `password` with scrypt at cost 2^log2N (r = 8, p = 1). */
export async function hashPassword(password: string, log2N: number): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scryptAsync(password, salt, scryptOptions(log2N, 8, 1));
  return `scrypt$${log2N}$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** A stored hash to compare with when the user does not exist, so that timing reveals nothing. */
export async function decoyHash(log2N: number): Promise<string> {
  return hashPassword(randomBytes(16).toString('hex'), log2N);
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, log2N, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !log2N || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scryptAsync(
    password,
    Buffer.from(salt, 'base64url'),
    scryptOptions(Number(log2N), Number(r), Number(p)),
  );
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Constant-time equality of two hex digests. */
export function sameDigest(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

export interface TokenClaims {
  /** Username: a label; the user is found by `uid`. */
  sub: string;
  /** The user's or operator's immutable id. */
  uid: string;
  /** The tenant's immutable id, null for a system operator. */
  tid: string | null;
  /** The credential signed in with: a password generation or an API key id. */
  via: { password: number } | { apiKey: string };
  /** When the credential was presented, and the latest any refresh may reach (null: none). */
  auth: number;
  end: number | null;
  /** Issued at and expiry, seconds since the epoch. */
  iat: number;
  exp: number;
}

function isClaims(value: unknown): value is TokenClaims {
  if (value === null || typeof value !== 'object') return false;
  const c = value as Record<string, unknown>;
  const via = c['via'] as Record<string, unknown> | null | undefined;
  const validVia =
    typeof via === 'object' &&
    via !== null &&
    (typeof via['password'] === 'number' || typeof via['apiKey'] === 'string');
  return (
    typeof c['sub'] === 'string' &&
    typeof c['uid'] === 'string' &&
    (typeof c['tid'] === 'string' || c['tid'] === null) &&
    validVia &&
    typeof c['auth'] === 'number' &&
    (typeof c['end'] === 'number' || c['end'] === null) &&
    typeof c['exp'] === 'number'
  );
}

export const ACCESS_TOKEN_PREFIX = 'pya_';
export const API_KEY_PREFIX = 'pyk_';

const MAX_TOKEN_CHARS = 4096;

/** A key access tokens are signed or verified with, named by its `kid`. */
export interface TokenKey {
  kid: string;
  secret: TokenSecret;
}

/**
 * An HS256 key as jose takes it. The keyring holds WebCrypto keys, imported once: jose on Node 20
 * turns a KeyObject (or bytes) into one at every call, which costs about half of a verification.
 */
export type TokenSecret = KeyObject | webcrypto.CryptoKey;

/** Signs `claims` as an HS256 JWT naming `key.kid` in its header, behind the access token prefix. */
export async function signToken(claims: TokenClaims, key: TokenKey): Promise<string> {
  const { sub, iat, exp, ...custom } = claims;
  const jwt = await new SignJWT({ ...custom })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: key.kid })
    .setSubject(sub)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(key.secret);
  return `${ACCESS_TOKEN_PREFIX}${jwt}`;
}

/** jose's key lookup for tokens naming their key by `kid`: the key, or a failure for an unknown one. */
export function keyNamedBy(
  keyFor: (kid: string) => TokenSecret | undefined | Promise<TokenSecret | undefined>,
): (header: { kid?: string | undefined }) => Promise<TokenSecret> {
  return async (header) => {
    const secret = header.kid === undefined ? undefined : await keyFor(header.kid);
    if (!secret) throw new Error('the token names no known key');
    return secret;
  };
}

/**
 * The claims of a token signed with the key its header names (`keyFor` finds it; undefined for a
 * key not known) that has not expired at `nowSeconds`, else null.
 */
export async function verifyToken(
  token: string,
  keyFor: (kid: string) => TokenSecret | undefined | Promise<TokenSecret | undefined>,
  nowSeconds: number,
): Promise<TokenClaims | null> {
  // Ours are a few hundred characters: a longer one is refused before jose splits and decodes it.
  if (!token.startsWith(ACCESS_TOKEN_PREFIX) || token.length > MAX_TOKEN_CHARS) return null;
  try {
    const { payload } = await jwtVerify(
      token.slice(ACCESS_TOKEN_PREFIX.length),
      keyNamedBy(keyFor),
      // Only the algorithm the keys are for: a token cannot choose another (or none). Only this
      // kind of token: an OCI registry token signed with the same keys (typ oci+jwt) is limited to
      // its scope and must not become a whole session here, whatever prefix is put in front of it.
      { algorithms: ['HS256'], typ: 'JWT', currentDate: new Date(nowSeconds * 1000) },
    );
    // Tokens of older versions (no user id, no credential) are refused: they named users by name.
    return isClaims(payload) && payload.exp > nowSeconds ? payload : null;
  } catch {
    // Malformed, forged, expired or signed with a key no longer kept: a token that names nobody.
    return null;
  }
}

/** A new API key: the full key to show once, and what is stored. */
export function newApiKey(): { id: string; key: string; secretSha256: string } {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, key: `${API_KEY_PREFIX}${id}_${secret}`, secretSha256: sha256Hex(secret) };
}

/** The id and secret of a string shaped like an API key, else null. */
export function parseApiKey(token: string): { id: string; secret: string } | null {
  const match = /^pyk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/.exec(token);
  return match?.[1] && match[2] ? { id: match[1], secret: match[2] } : null;
}
