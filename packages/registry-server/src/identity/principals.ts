/**
 * Who a caller is and where a resource lives: the vocabulary that identity's records, the sign-in
 * sessions and the access policy (../access/) share. Identity defines it; policy only reads it.
 */

/**
 * How a signed-in principal proved who they are. Access tokens carry it, and end with it: the
 * credential revoked, expired or replaced (a new password), or the user disabled or deleted.
 */
export interface Session {
  /** The user's or operator's immutable id. */
  userId: string;
  /** The tenant's immutable id; null for an operator. */
  tenantId: string | null;
  /** The password generation signed in with, or the API key used. */
  via: { password: number } | { apiKey: string };
  /** When the credential was presented, in seconds since the epoch. */
  since: number;
  /** When the session ends whatever refreshes it (seconds); null for an API key that does not expire. */
  until: number | null;
}

export type Principal =
  | { kind: 'anonymous' }
  /** `adminToken`: the bootstrap admin token (no password, nothing to refresh), not a signed-in operator. */
  | { kind: 'operator'; name: string; adminToken?: boolean; session?: Session }
  /**
   * `makers`: the users through whose hands the session's credential came (records.ts Makers); a
   * credential the session makes for its own user inherits them.
   */
  | { kind: 'user'; tenant: string; username: string; session?: Session; makers?: string[] };

export const ANONYMOUS: Principal = { kind: 'anonymous' };

/** Where a resource lives. */
export type Target =
  { scope: 'system' } | { scope: 'tenant'; tenant: string } | { scope: 'project'; tenant: string; project: string };

export const SYSTEM: Target = { scope: 'system' };

/** The name recorded as publisher, deprecator, creator... */
export function authenticatedName(principal: Principal): string {
  if (principal.kind === 'operator') return principal.name;
  if (principal.kind === 'user') return `${principal.tenant}/${principal.username}`;
  return 'anonymous';
}
