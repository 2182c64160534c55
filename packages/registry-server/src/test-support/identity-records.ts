/** Identity records for unit tests of tenant state (made by hand, as a snapshot holds them). */
import type { ApiKeyRecord, TeamRecord, TenantRef, UserRecord } from '../identity/records.js';

export const TENANT: TenantRef = {
  id: 'tn_1',
  name: 'acme',
  displayName: 'Acme',
  createdAt: '2026-01-01T00:00:00.000Z',
};

/** A user of TENANT who signs in with API keys only, made when the tenant was. */
export function userRecord(username: string): UserRecord {
  return {
    id: `us_${username}`,
    username,
    displayName: username,
    passwordHash: null,
    passwordGeneration: 0,
    disabled: false,
    createdAt: TENANT.createdAt,
    createdBy: 'test',
  };
}

export function teamRecord(name: string, members: string[]): TeamRecord {
  return { name, description: '', members, createdAt: TENANT.createdAt, createdBy: 'test' };
}

/** An API key of `username`: working, or revoked or expired as `spent` says (on 2026-02-01). */
export function apiKeyRecord(
  id: string,
  username: string,
  createdAt = TENANT.createdAt,
  spent?: 'revoked' | 'expired',
): ApiKeyRecord {
  return {
    id,
    userId: `us_${username}`,
    username,
    name: id,
    secretSha256: '0'.repeat(64),
    createdAt,
    expiresAt: spent === 'expired' ? '2026-02-01T00:00:00.000Z' : null,
    revokedAt: spent === 'revoked' ? '2026-02-01T00:00:00.000Z' : null,
  };
}
