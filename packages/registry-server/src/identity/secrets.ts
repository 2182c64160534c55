/**
 * The registry's secrets and how they are checked, all with node:crypto:
 *
 * - passwords: scrypt with a per-user random salt, stored as `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>`
 *   so that the cost can be raised later without invalidating older hashes;
 * - access tokens: `pya_<payload>.<signature>`, an HMAC-SHA256 over a short JSON payload (user and
 *   tenant ids, the credential signed in with, expiry) with a key kept in storage, so that every
 *   replica accepts every token;
 * - API keys: `pyk_<id>_<secret>`, of which only the sha256 of the secret is stored.
 *
 * Every comparison of secret material is constant-time.
 */
import { createHash, createHmac, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

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

export function signToken(claims: TokenClaims, key: Buffer): string {
  const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
  const signature = createHmac('sha256', key).update(payload).digest('base64url');
  return `${ACCESS_TOKEN_PREFIX}${payload}.${signature}`;
}

/** The claims of a token signed with `key` that has not expired at `nowSeconds`, else null. */
export function verifyToken(token: string, key: Buffer, nowSeconds: number): TokenClaims | null {
  if (!token.startsWith(ACCESS_TOKEN_PREFIX)) return null;
  const [payload, signature, extra] = token.slice(ACCESS_TOKEN_PREFIX.length).split('.');
  if (!payload || !signature || extra !== undefined) return null;
  const expected = createHmac('sha256', key).update(payload).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  // Tokens of older versions (no user id, no credential) are refused: they named users by name.
  if (!isClaims(claims) || claims.exp <= nowSeconds) return null;
  return claims;
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
