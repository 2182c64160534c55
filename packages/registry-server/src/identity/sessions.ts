/**
 * Signing in and recognising callers: password login, short-lived access tokens (JWTs) signed with
 * keys kept in storage (so every replica accepts them, see ./signing-keys.ts), token refresh, and
 * API keys.
 *
 * A token carries the immutable ids of its user and tenant and the credential it came from (the
 * password generation signed in with, or the API key used), and every request checks them again,
 * with map lookups only: a token ends with its credential (the key revoked or expired, the
 * password changed or reset) and with its user (disabled, deleted; a new user of the same name has
 * another id). A refresh keeps the credential and never reaches past its end: an API key's expiry,
 * or `sessionMaxSeconds` after a password sign-in.
 *
 * Password checks go through ./login-limits.ts: attempts are counted in storage before any hash
 * starts, and hashes are bounded per process.
 */
import type { PackError } from '@packyard/pack-core';
import type { Principal, Session } from './principals.js';
import { loginAttemptsKey } from '../storage/layout.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { IdentityDirectory } from './directory.js';
import { AttemptLedger, HashQueue, type HashTicket } from './login-limits.js';
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
import { SigningKeyring } from './signing-keys.js';
import { tenantIndex, type TenantDirectory } from './tenant-state.js';
import { makersOf, type UserRecord } from './records.js';
import { registryError } from '../errors.js';

export interface SessionOptions {
  tokenTtlSeconds: number;
  passwordHashCost: number;
  /** Failed logins allowed per username in `loginWindowMs`; a client address gets five times as many. */
  maxFailedLogins: number;
  loginWindowMs: number;
  /** How long a session signed in with a password lasts at most, refreshes included (12 h by default). */
  sessionMaxSeconds?: number;
  /** Bounds this process's password hashes; shared with the identity operations (one per process). */
  hashQueue?: HashQueue;
  /** How long this process signs with the signing key it knows before looking for a newer one. */
  keyRefreshMs?: number;
  /**
   * Whether the user `makerId` still holds every permission of `owner` (../access/guards.ts
   * makerStillOutranks): an API key or password one user made for another works only while it
   * does. Without it (tests of sessions alone), such credentials work as their owner's own.
   */
  makerOutranks?: (directory: TenantDirectory, makerId: string, owner: UserRecord) => boolean;
}

export const SESSION_MAX_SECONDS_DEFAULT = 12 * 60 * 60;
const KEY_REFRESH_MS_DEFAULT = 60_000;

export interface IssuedToken {
  token: string;
  tokenType: 'Bearer';
  expiresAt: string;
  expiresIn: number;
}

/** Who a login name is, where they sign in, and their password as stored. */
interface PasswordHolder {
  id: string;
  /** Null for an operator. */
  tenantId: string | null;
  hash: string | null;
  generation: number;
}

/** A password another user set, who does not hold every permission its owner holds now. */
function passwordOutranked(): PackError {
  return registryError(
    'PASSWORD_RESET_REQUIRED',
    'your password was set by another user, who does not hold every permission you hold now',
  );
}

function invalidLogin(): PackError {
  return registryError('LOGIN_FAILED', 'the username or password is wrong');
}

function rateLimited(waitMs: number): PackError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return registryError('LOGIN_RATE_LIMITED', 'too many failed logins: wait before trying again', {
    hint: `try again in ${seconds} s`,
    details: { retryAfterSeconds: seconds },
  });
}

function notRefreshable(message: string): PackError {
  return registryError('TOKEN_NOT_REFRESHABLE', message);
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

export class Sessions {
  private readonly ledger: AttemptLedger;
  private readonly hashQueue: HashQueue;
  private decoy: Promise<string> | null = null;

  private constructor(
    store: ObjectStore,
    private readonly directory: IdentityDirectory,
    /** Also signs the registry's other tokens (the OCI registry tokens of ../oci/registry-token.ts). */
    readonly keys: SigningKeyring,
    private readonly options: SessionOptions,
  ) {
    this.ledger = new AttemptLedger(store, options.loginWindowMs);
    this.hashQueue = options.hashQueue ?? new HashQueue();
  }

  /** Loads the token signing keys from storage, creating one once for every replica to share. */
  static async open(store: ObjectStore, directory: IdentityDirectory, options: SessionOptions): Promise<Sessions> {
    const keys = await SigningKeyring.open(store, options.keyRefreshMs ?? KEY_REFRESH_MS_DEFAULT);
    return new Sessions(store, directory, keys, options);
  }

  private async issue(username: string, session: Session): Promise<IssuedToken> {
    const now = nowSeconds();
    const exp = Math.min(now + this.options.tokenTtlSeconds, session.until ?? Number.POSITIVE_INFINITY);
    if (exp <= now) throw notRefreshable('the session has ended: sign in again');
    const claims: TokenClaims = {
      sub: username,
      uid: session.userId,
      tid: session.tenantId,
      via: session.via,
      auth: session.since,
      end: session.until,
      iat: now,
      exp,
    };
    return {
      token: await signToken(claims, await this.keys.current()),
      tokenType: 'Bearer',
      expiresAt: new Date(exp * 1000).toISOString(),
      expiresIn: exp - now,
    };
  }

  /** The stored password of a login name; null for nobody, or a disabled user. */
  private passwordOf(username: string): PasswordHolder | null {
    const operator = this.directory.operatorNamed(username);
    if (operator) {
      return { id: operator.id, tenantId: null, hash: operator.passwordHash, generation: operator.passwordGeneration };
    }
    const tenantId = this.directory.tenantIdOfUser(username);
    const directory = tenantId === undefined ? undefined : this.directory.tenantById(tenantId);
    const user = directory && tenantIndex(directory).usersByName.get(username);
    if (tenantId === undefined || !user || user.disabled) return null;
    return { id: user.id, tenantId, hash: user.passwordHash, generation: user.passwordGeneration };
  }

  async login(username: string, password: string, client: string): Promise<IssuedToken> {
    const found = await this.checkPassword(username, password, client);
    if (!found) throw invalidLogin();
    const now = nowSeconds();
    const session: Session = {
      userId: found.id,
      tenantId: found.tenantId,
      via: { password: found.generation },
      since: now,
      until: now + (this.options.sessionMaxSeconds ?? SESSION_MAX_SECONDS_DEFAULT),
    };
    // The right password, worth nothing now: said as such, not as a wrong password.
    if (this.outrankedMaker(session)) throw passwordOutranked();
    return this.issue(username, session);
  }

  /**
   * Checks the password of the caller before it is changed; throws 403 CURRENT_PASSWORD_INCORRECT
   * when it is wrong. It goes through the same limits as logins.
   */
  async confirmPassword(username: string, password: string, client: string): Promise<void> {
    if (await this.checkPassword(username, password, client)) return;
    throw registryError('CURRENT_PASSWORD_INCORRECT', 'the current password is wrong');
  }

  /**
   * Who `username` is when `password` is theirs; null otherwise. In this order: a place in the
   * hash queue (429 LOGIN_BUSY), an attempt counted for the username and for the address (429
   * LOGIN_RATE_LIMITED), the hash (a decoy for unknown users, so that the answer takes as long
   * either way). The attempt stays counted as a failure unless the password is right.
   */
  private async checkPassword(username: string, password: string, client: string): Promise<PasswordHolder | null> {
    const ticket = this.hashQueue.admit(client);
    try {
      const keys = {
        user: loginAttemptsKey('user', sha256Hex(username)),
        address: loginAttemptsKey('address', sha256Hex(client)),
      };
      const address = await this.reserve(keys);
      const ok = await this.verify(ticket, username, password);
      if (!ok) return null;
      await Promise.all([this.ledger.clear(keys.user), this.ledger.release(keys.address, address)]);
      return ok;
    } finally {
      ticket.cancel();
    }
  }

  /** Counts one attempt for the username and one for the address; the address reservation's id. */
  private async reserve(keys: { user: string; address: string }): Promise<string> {
    const [user, address] = await Promise.all([
      this.ledger.reserve(keys.user, this.options.maxFailedLogins),
      // Many users may share one address (a NAT, a CI runner pool).
      this.ledger.reserve(keys.address, this.options.maxFailedLogins * 5),
    ]);
    if ('retryAfterMs' in user || 'retryAfterMs' in address) {
      // An attempt refused is not an attempt made: give back the half that was counted.
      if ('id' in user) await this.ledger.release(user.key, user.id);
      if ('id' in address) await this.ledger.release(address.key, address.id);
      const waits = [user, address].map((r) => ('retryAfterMs' in r ? r.retryAfterMs : 0));
      throw rateLimited(Math.max(...waits));
    }
    return address.id;
  }

  private async verify(ticket: HashTicket, username: string, password: string): Promise<PasswordHolder | null> {
    const found = this.passwordOf(username);
    const hash = found?.hash ?? (await this.decoyHash());
    const ok = await ticket.run(() => verifyPassword(password, hash));
    return found && found.hash !== null && ok ? found : null;
  }

  private decoyHash(): Promise<string> {
    this.decoy ??= this.hashQueue.run(() => decoyHash(this.options.passwordHashCost));
    return this.decoy;
  }

  /** A new token for the caller of a still valid one, with the same credential and end. */
  refresh(principal: Principal): Promise<IssuedToken> {
    if (principal.kind === 'anonymous' || !principal.session) {
      throw notRefreshable('only a signed-in user or operator can refresh a token');
    }
    return this.issue(principal.kind === 'user' ? principal.username : principal.name, principal.session);
  }

  /** The principal a bearer credential names, or null when it names nobody (expired, revoked, unknown). */
  async principalFor(credential: string): Promise<Principal | null> {
    return (await this.credentialFor(credential))?.principal ?? null;
  }

  /**
   * The principal a bearer credential names and when the credential itself ends (seconds; null:
   * an API key that does not expire), or null when it names nobody. A token obtained in exchange
   * for this credential (../routes/oci-token.ts) must not outlive it.
   */
  async credentialFor(credential: string): Promise<{ principal: Principal; expiresAt: number | null } | null> {
    if (credential.startsWith(ACCESS_TOKEN_PREFIX)) {
      const claims = await verifyToken(credential, (kid) => this.keys.verifier(kid), nowSeconds());
      if (!claims) return null;
      const principal = this.principalOf({
        userId: claims.uid,
        tenantId: claims.tid,
        via: claims.via,
        since: claims.auth,
        until: claims.end,
      });
      return principal && { principal, expiresAt: claims.exp };
    }
    const parsed = parseApiKey(credential);
    const tenantId = parsed && this.directory.tenantOfApiKey(parsed.id);
    const directory = tenantId ? this.directory.tenantById(tenantId) : undefined;
    const key = parsed && directory ? tenantIndex(directory).apiKeys.get(parsed.id) : undefined;
    if (!parsed || !tenantId || !key || !sameDigest(key.secretSha256, sha256Hex(parsed.secret))) return null;
    const until = key.expiresAt === null ? null : Math.floor(Date.parse(key.expiresAt) / 1000);
    const principal = this.principalOf({
      userId: key.userId,
      tenantId,
      via: { apiKey: key.id },
      since: nowSeconds(),
      until,
    });
    return principal && { principal, expiresAt: until };
  }

  /**
   * The principal of a session whose user and credential are still valid and whose end has not
   * come, else null. Access tokens never outlive their session's end, but what else carries a
   * session (an OCI registry token, ../oci/registry-token.ts) is held to it here, on every use.
   */
  principalOf(session: Session): Principal | null {
    if (session.until !== null && session.until <= nowSeconds()) return null;
    if (session.tenantId === null) {
      const operator = this.directory.operatorById(session.userId);
      const valid = operator && 'password' in session.via && session.via.password === operator.passwordGeneration;
      return valid ? { kind: 'operator', name: operator.username, session } : null;
    }
    const ref = this.directory.tenantRefById(session.tenantId);
    const directory = ref && this.directory.tenantById(ref.id);
    const index = directory && tenantIndex(directory);
    const user = index?.usersById.get(session.userId);
    if (!ref || !directory || !index || !user || user.disabled) return null;
    let makers: string[];
    if ('password' in session.via) {
      if (user.passwordHash === null || session.via.password !== user.passwordGeneration) return null;
      makers = makersOf(user.passwordSetBy);
    } else {
      const key = index.apiKeys.get(session.via.apiKey);
      if (!key || key.userId !== user.id || key.revokedAt !== null) return null;
      if (key.expiresAt !== null && Date.parse(key.expiresAt) <= Date.now()) return null;
      makers = makersOf(key.madeBy);
    }
    // Made through other users' hands: worth no more than any of them (checked on every use, as
    // roles change).
    if (this.outranked(directory, makers, user)) return null;
    const principal = { kind: 'user' as const, tenant: ref.name, username: user.username, session };
    return makers.length === 0 ? principal : { ...principal, makers };
  }

  /** Whether a session's credential was made by another user who no longer outranks its owner. */
  private outrankedMaker(session: Session): boolean {
    if (session.tenantId === null || !('password' in session.via)) return false;
    const directory = this.directory.tenantById(session.tenantId);
    const user = directory && tenantIndex(directory).usersById.get(session.userId);
    if (!directory || !user) return false;
    return this.outranked(directory, makersOf(user.passwordSetBy), user);
  }

  /** Whether one of a credential's makers no longer holds every permission its owner holds. */
  private outranked(directory: TenantDirectory, makers: readonly string[], owner: UserRecord): boolean {
    const { makerOutranks } = this.options;
    return makerOutranks !== undefined && makers.some((maker) => !makerOutranks(directory, maker, owner));
  }
}
