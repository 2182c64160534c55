/**
 * The storage key layout: every key the registry reads or writes is built here, one function
 * per kind of object (as CNCF distribution's registry/storage/paths.go does), so that the whole
 * tree can be read in one place. Keys are relative to the storage root (fs) or the bucket prefix
 * (S3). They are a storage format: a store written by an older release must keep working, so a
 * key never changes shape (layout.test.ts pins them).
 *
 *   registries/<registry>.json                               registry records
 *   packs/<registry>/<pack>/<version, percent-encoded>.json  version records (create-once, then CAS)
 *   blobs/sha256/<hex[0:2]>/<hex>                            pack archives, content-addressed
 *   changes/<13-digit ms>-<id>.json                          the catalog change log replicas follow
 *   snapshots/<13-digit ms covered>-<id>.json.gz             compacted catalog index snapshots
 *   system/admin-token.json                                  the bootstrap admin token's hash
 *   identity/system.json                                     the tenants (id, name) and operators
 *   identity/tenants/<tenant id>.json                        one tenant's users, teams, projects
 *   identity/logins/<sha256 of username>.json                username -> tenant, for sign-in
 *   identity/attempts/<user|address>-<sha256>.json           failed sign-ins counted per key
 *   identity/signing-key.json                                the access tokens' signing keys
 *   profiles/system/<name>.json                              cluster profiles, per scope
 *   profiles/tenant/<tenant id>/<name>.json
 *   profiles/project/<tenant id>/<project id>/<name>.json
 *   audit/system/<entry id>.json                             audit streams, newest first (an entry
 *   audit/anonymous/<entry id>.json                            id starts with an inverted time)
 *   audit/tenants/<tenant id>/<entry id>.json
 *   audit/projects/<tenant id>/<project id>/<entry id>.json
 *   _probe/<temp name>                                       the S3 driver's start-up probe
 *
 * Tenants and projects are stored under their immutable ids, not their names, so that one
 * re-created under an old name never sees the old one's objects.
 */
import { keySegment } from './object-store.js';

// Registries and versions.

export const REGISTRIES_PREFIX = 'registries/';

export function registryKey(name: string): string {
  return `${REGISTRIES_PREFIX}${name}.json`;
}

export const VERSIONS_PREFIX = 'packs/';

export function versionKey(registry: string, name: string, version: string): string {
  return `${VERSIONS_PREFIX}${registry}/${name}/${keySegment(version)}.json`;
}

/** The registry, name and version a version record key names, or null for another key. */
export function parseVersionKey(key: string): { registry: string; name: string; version: string } | null {
  const match = /^packs\/([^/]+)\/([^/]+)\/([^/]+)\.json$/.exec(key);
  if (!match) return null;
  try {
    return { registry: match[1] ?? '', name: match[2] ?? '', version: decodeURIComponent(match[3] ?? '') };
  } catch {
    return null;
  }
}

// Blobs.

export const BLOBS_PREFIX = 'blobs/sha256/';

/** The key of the blob of `digest` ("sha256:<hex>"); throws for anything else. */
export function blobKey(digest: string): string {
  const hex = /^sha256:([0-9a-f]{64})$/.exec(digest)?.[1];
  if (hex === undefined) throw new Error(`not a sha256 digest: ${digest}`);
  // Fanned out by the first byte, so that no directory of the fs store grows too large.
  return `${BLOBS_PREFIX}${hex.slice(0, 2)}/${hex}`;
}

/** The digest whose blob `key` holds, or null for another key. */
export function digestOfBlobKey(key: string): string | null {
  const hex = key.split('/').at(-1) ?? '';
  return /^[0-9a-f]{64}$/.test(hex) ? `sha256:${hex}` : null;
}

// The catalog's change log and snapshots.

export const CHANGES_PREFIX = 'changes/';
export const SNAPSHOTS_PREFIX = 'snapshots/';

/** Milliseconds since the epoch, zero-padded so that keys sort by time. */
function timeKey(time: number): string {
  return String(Math.max(0, Math.floor(time))).padStart(13, '0');
}

export function changeKey(time: number, id: string): string {
  return `${CHANGES_PREFIX}${timeKey(time)}-${id}.json`;
}

/** A bound below every change written at `time` or later, above every earlier one. */
export function changesFrom(time: number): string {
  return `${CHANGES_PREFIX}${timeKey(time)}`;
}

export function snapshotKey(time: number, id: string): string {
  return `${SNAPSHOTS_PREFIX}${timeKey(time)}-${id}.json.gz`;
}

/** The time a change or snapshot key was written, or NaN for a foreign key. */
export function timeOfKey(key: string): number {
  const match = /^(?:changes|snapshots)\/(\d{13})-/.exec(key);
  return match ? Number(match[1]) : Number.NaN;
}

// Bootstrap state.

export function adminTokenKey(): string {
  return 'system/admin-token.json';
}

// Identity.

const IDENTITY_TENANTS_PREFIX = 'identity/tenants/';

export function identitySystemKey(): string {
  return 'identity/system.json';
}

/** The prefix of every tenant document, for listing them. */
export function identityTenantsPrefix(): string {
  return IDENTITY_TENANTS_PREFIX;
}

export function identityTenantKey(tenantId: string): string {
  return `${IDENTITY_TENANTS_PREFIX}${tenantId}.json`;
}

/** The tenant id a tenant document's key names. */
export function tenantIdOfKey(key: string): string {
  return key.slice(IDENTITY_TENANTS_PREFIX.length).replace(/\.json$/, '');
}

export function loginIndexKey(usernameSha256: string): string {
  return `identity/logins/${usernameSha256}.json`;
}

export function loginAttemptsKey(kind: 'user' | 'address', sha256: string): string {
  return `identity/attempts/${kind}-${sha256}.json`;
}

export function signingKeyKey(): string {
  return 'identity/signing-key.json';
}

// Cluster profiles: one prefix per scope, a document per profile name.

export function systemProfilesPrefix(): string {
  return 'profiles/system/';
}

export function tenantProfilesPrefix(tenantId: string): string {
  return `profiles/tenant/${tenantId}/`;
}

/** The profiles of every project of a tenant. */
export function tenantProjectProfilesPrefix(tenantId: string): string {
  return `profiles/project/${tenantId}/`;
}

export function projectProfilesPrefix(tenantId: string, projectId: string): string {
  return `${tenantProjectProfilesPrefix(tenantId)}${projectId}/`;
}

/** A profile's key below the prefix of its scope. */
export function profileKey(scopePrefix: string, name: string): string {
  return `${scopePrefix}${name}.json`;
}

// Audit streams: a prefix per stream, a document per entry.

export function systemAuditStream(): string {
  return 'audit/system/';
}

/** Failed requests of unauthenticated callers; read as part of the system log, pruned after a while. */
export function anonymousAuditStream(): string {
  return 'audit/anonymous/';
}

export function tenantAuditStream(tenantId: string): string {
  return `audit/tenants/${tenantId}/`;
}

export function projectAuditStream(tenantId: string, projectId: string): string {
  return `audit/projects/${tenantId}/${projectId}/`;
}

export function auditEntryKey(stream: string, id: string): string {
  return `${stream}${id}.json`;
}

// Driver-internal objects.

/**
 * Where the S3 driver's start-up probe writes a scratch object: a top-level folder of its own,
 * so that no other key can clash with it; the driver's listings skip it.
 */
export const PROBE_PREFIX = '_probe/';

export function probeKey(name: string): string {
  return `${PROBE_PREFIX}${name}`;
}
