/**
 * Signing in and recognising callers: password login (rate-limited per username and per client
 * address), short-lived access tokens signed with a key kept in storage (so every replica accepts
 * them), token refresh, and API keys. A token or key stops working as soon as its user is deleted
 * or disabled, or the key revoked or expired, because each request looks the user up again.
 */
import { randomBytes } from 'node:crypto';
import { PackError } from '@packyard/pack-core';
import type { Principal } from '../access/authorize.js';
import { createJson, readJson } from '../storage/json-documents.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { IdentityDirectory } from './directory.js';
import { IDENTITY_KEYS } from './records.js';
import {
  ACCESS_TOKEN_PREFIX,
  decoyHash,
  parseApiKey,
  sameDigest,
  sha256Hex,
  signToken,
  verifyPassword,
  verifyToken,
  type TokenClaims,
} from './secrets.js';

export interface SessionOptions {
  tokenTtlSeconds: number;
  passwordHashCost: number;
  /** Failed logins allowed per username in `loginWindowMs`; a client address gets five times as many. */
  maxFailedLogins: number;
  loginWindowMs: number;
}

export interface IssuedToken {
  token: string;
  tokenType: 'Bearer';
  expiresAt: string;
  expiresIn: number;
}

interface StoredSigningKey {
  key: string;
  createdAt: string;
}

const MAX_TRACKED = 100_000;

/** Counts failures in a sliding window; memory per key is bounded by the limit, keys by MAX_TRACKED. */
class FailureCounter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  private recent(key: string, now: number): number[] {
    const kept = (this.failures.get(key) ?? []).filter((at) => now - at < this.windowMs);
    if (kept.length === 0) this.failures.delete(key);
    else this.failures.set(key, kept);
    return kept;
  }

  /** Milliseconds until another attempt is allowed, 0 when one is allowed now. */
  retryAfterMs(key: string, now: number): number {
    const recent = this.recent(key, now);
    if (recent.length < this.limit) return 0;
    return (recent[0] ?? now) + this.windowMs - now;
  }

  fail(key: string, now: number): void {
    const recent = this.recent(key, now);
    recent.push(now);
    this.failures.delete(key);
    this.failures.set(key, recent.slice(-this.limit));
    // Bounded memory under a spray of usernames or addresses: the keys failed longest ago go first.
    for (const oldest of this.failures.keys()) {
      if (this.failures.size <= MAX_TRACKED) break;
      this.failures.delete(oldest);
    }
  }

  clear(key: string): void {
    this.failures.delete(key);
  }
}

function invalidLogin(): PackError {
  return new PackError('LOGIN_FAILED', 'the username or password is wrong', {
    status: 401,
    hint: 'check both, or ask a tenant user admin to reset the password',
  });
}

export class Sessions {
  private readonly userFailures: FailureCounter;
  private readonly addressFailures: FailureCounter;
  private decoy: Promise<string> | null = null;

  private constructor(
    private readonly directory: IdentityDirectory,
    private readonly signingKey: Buffer,
    private readonly options: SessionOptions,
  ) {
    this.userFailures = new FailureCounter(options.maxFailedLogins, options.loginWindowMs);
    // Many users may share one address (a NAT, a CI runner pool).
    this.addressFailures = new FailureCounter(options.maxFailedLogins * 5, options.loginWindowMs);
  }

  /** Loads the token signing key from storage, creating it once for every replica to share. */
  static async open(store: ObjectStore, directory: IdentityDirectory, options: SessionOptions): Promise<Sessions> {
    const fresh: StoredSigningKey = { key: randomBytes(32).toString('base64'), createdAt: new Date().toISOString() };
    await createJson(store, IDENTITY_KEYS.signingKey, fresh);
    const stored = await readJson<StoredSigningKey>(store, IDENTITY_KEYS.signingKey);
    if (!stored) throw new Error('the token signing key vanished while starting');
    return new Sessions(directory, Buffer.from(stored.value.key, 'base64'), options);
  }

  private issue(sub: string, ten: string | null): IssuedToken {
    const now = Math.floor(Date.now() / 1000);
    const claims: TokenClaims = { sub, ten, iat: now, exp: now + this.options.tokenTtlSeconds };
    return {
      token: signToken(claims, this.signingKey),
      tokenType: 'Bearer',
      expiresAt: new Date(claims.exp * 1000).toISOString(),
      expiresIn: this.options.tokenTtlSeconds,
    };
  }

  /** The stored password hash of a login name, with its tenant (null for an operator). */
  private passwordOf(username: string): { tenant: string | null; hash: string | null } | null {
    const operator = this.directory.systemDirectory().operators.find((o) => o.username === username);
    if (operator) return { tenant: null, hash: operator.passwordHash };
    const tenant = this.directory.tenantOfUser(username);
    const user =
      tenant === undefined ? undefined : this.directory.tenant(tenant)?.users.find((u) => u.username === username);
    if (!tenant || !user || user.disabled) return null;
    return { tenant, hash: user.passwordHash };
  }

  async login(username: string, password: string, client: string): Promise<IssuedToken> {
    const found = await this.checkPassword(username, password, client);
    if (!found) throw invalidLogin();
    return this.issue(username, found.tenant);
  }

  /**
   * Checks the password of the caller before it is changed; throws 403 CURRENT_PASSWORD_INCORRECT
   * when it is wrong. Failures count against the same limits as logins.
   */
  async confirmPassword(username: string, password: string, client: string): Promise<void> {
    if (await this.checkPassword(username, password, client)) return;
    throw new PackError('CURRENT_PASSWORD_INCORRECT', 'the current password is wrong', {
      status: 403,
      hint: 'send the password you sign in with as currentPassword; a user admin can reset a forgotten one',
    });
  }

  /** Where `username` signs in, when `password` is theirs; null (a failure counted) otherwise. */
  private async checkPassword(
    username: string,
    password: string,
    client: string,
  ): Promise<{ tenant: string | null } | null> {
    const now = Date.now();
    const wait = Math.max(
      this.userFailures.retryAfterMs(username, now),
      this.addressFailures.retryAfterMs(client, now),
    );
    if (wait > 0) {
      throw new PackError('LOGIN_RATE_LIMITED', 'too many failed logins: wait before trying again', {
        status: 429,
        hint: `try again in ${Math.ceil(wait / 1000)} s`,
        details: { retryAfterSeconds: Math.ceil(wait / 1000) },
      });
    }
    const found = this.passwordOf(username);
    // Hash even for an unknown user, so that the answer takes as long either way.
    this.decoy ??= decoyHash(this.options.passwordHashCost);
    const hash = found?.hash ?? (await this.decoy);
    const ok = await verifyPassword(password, hash);
    if (!found || found.hash === null || !ok) {
      this.userFailures.fail(username, now);
      this.addressFailures.fail(client, now);
      return null;
    }
    this.userFailures.clear(username);
    return { tenant: found.tenant };
  }

  /** A new token for the caller of a still valid one. */
  refresh(principal: Principal): IssuedToken {
    if (principal.kind === 'user') return this.issue(principal.username, principal.tenant);
    if (principal.kind === 'operator' && !principal.adminToken) return this.issue(principal.name, null);
    throw new PackError('TOKEN_NOT_REFRESHABLE', 'only a signed-in user or operator can refresh a token', {
      status: 400,
      hint: 'use POST /v1/auth/login with a username and password',
    });
  }

  /** The principal a bearer credential names, or null when it names nobody (expired, revoked, unknown). */
  principalFor(credential: string): Principal | null {
    if (credential.startsWith(ACCESS_TOKEN_PREFIX)) {
      const claims = verifyToken(credential, this.signingKey, Math.floor(Date.now() / 1000));
      if (!claims) return null;
      if (claims.ten === null) {
        const operator = this.directory.systemDirectory().operators.some((o) => o.username === claims.sub);
        return operator ? { kind: 'operator', name: claims.sub } : null;
      }
      return this.activeUser(claims.ten, claims.sub);
    }
    const parsed = parseApiKey(credential);
    if (!parsed) return null;
    const secretSha256 = sha256Hex(parsed.secret);
    const tenant = this.directory.tenantOfApiKey(parsed.id);
    const key =
      tenant === undefined ? undefined : this.directory.tenant(tenant)?.apiKeys.find((k) => k.id === parsed.id);
    if (!tenant || !key) return null;
    if (!sameDigest(key.secretSha256, secretSha256)) return null;
    if (key.revokedAt !== null) return null;
    if (key.expiresAt !== null && Date.parse(key.expiresAt) <= Date.now()) return null;
    return this.activeUser(tenant, key.username);
  }

  private activeUser(tenant: string, username: string): Principal | null {
    const user = this.directory.tenant(tenant)?.users.find((u) => u.username === username);
    return user && !user.disabled ? { kind: 'user', tenant, username } : null;
  }
}
