/**
 * The storage key layout: every key the registry reads or writes is built here, one function
 * per kind of object (as CNCF distribution's registry/storage/paths.go does), so that the whole
 * tree can be read in one place. Keys are relative to the storage root (fs) or the bucket prefix
 * (S3). They are a storage format: a store written by an older release must keep working, so a
 * key never changes shape (layout.test.ts pins them).
 *
 *   registries/<registry>.json                               registry records
 *   packs/<registry>/<pack>/<version, percent-encoded>.json  version records (create-once, then CAS)
 *   blobs/sha256/<hex[0:2]>/<hex>                            pack archives and OCI blobs, content-addressed
 *   blobs/sha512/<hex[0:2]>/<hex>                            OCI blobs pushed under a sha512 digest
 *   blob-uses/<alg>/<hex[0:2]>/<hex>                         a blob's last claim by a record about to point at it
 *   blob-gc/<alg>/<hex[0:2]>/<hex>                           a gc run deciding whether to remove a blob (seconds)
 *   changes/<minute>/<13-digit ms>-<id>.json                 the catalog change log replicas follow
 *   changes/<13-digit ms>-<id>.json                          (the same, as earlier releases wrote it)
 *   snapshots/<13-digit ms covered>-<id>.json.gz             compacted catalog index snapshots
 *   system/admin-token.json                                  the bootstrap admin token's hash
 *   system/gc-run.json                                       the lease of the gc run under way
 *   identity/system.json                                     the tenants (id, name) and operators
 *   identity/tenants/<tenant id>.json                        a snapshot of one tenant's users, teams, projects...
 *   identity/journal/<tenant id>/<12-digit revision>.json    ...and the record changes after it (create-once)
 *   identity/changes/<minute>/<ms>-<revision>-<tenant id>    which tenant changed when, for replicas to follow
 *   identity/logins/<sha256 of username>.json                username -> tenant, for sign-in
 *   identity/attempts/<user|address>-<sha256>.json           failed sign-ins counted per key
 *   identity/signing-key.json                                the access tokens' signing keys
 *   profiles/system/<name>.json                              cluster profiles, per scope
 *   profiles/tenant/<tenant id>/<name>.json
 *   profiles/project/<tenant id>/<project id>/<name>.json
 *   profile-revisions/<scope path as above>/<name>/<revision>.json   a profile's earlier revisions
 *   audit/system/<id[0:5]>/<id[5:8]>/<entry id>.json         audit streams, newest first (an entry id
 *   audit/anonymous/<id[0:5]>/<id[5:8]>/<entry id>.json        starts with an inverted time; earlier
 *   audit/tenants/<tenant id>/<...as above>                    releases wrote <stream>/<entry id>.json)
 *   audit/projects/<tenant id>/<project id>/<...as above>
 *   oci/<registry>/_repositories/<repository, %-encoded>     the OCI repositories of a registry (_catalog)
 *   oci/<registry>/_layers/<alg>/<hex>                       blobs once pushed or mounted into any repository of it
 *   oci/<registry>/<repository>/_layers/<alg>/<hex>          blobs pushed or mounted into a repository
 *   oci/<registry>/<repository>/_manifests/revisions/<alg>/<hex>   the manifests of a repository
 *   oci/<registry>/<repository>/_manifests/tags/<tag>        a tag: the digest it points at (CAS)
 *   oci/<registry>/<repository>/_manifests/tagged/<alg>/<hex>/<tag>  tags once set to a manifest (its delete)
 *   oci/<registry>/<repository>/_referrers/<alg>/<hex>/<alg>-<hex>  manifests whose subject is a digest
 *   downloads/<registry>/<pack>.json                         archive downloads per version (CAS-added deltas)
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

/** The sha256 blobs: every pack archive, and most OCI blobs. */
export const BLOBS_PREFIX = 'blobs/sha256/';
/** Every blob, whatever its digest's algorithm (garbage collection lists them all). */
export const ALL_BLOBS_PREFIX = 'blobs/';

const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };

/** The algorithm and hex of a sha256 or sha512 digest, or null for anything else. */
function digestParts(digest: string): { algorithm: string; hex: string } | null {
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const length = DIGEST_HEX_LENGTH[algorithm];
  return colon > 0 && length === hex.length && /^[0-9a-f]+$/.test(hex) ? { algorithm, hex } : null;
}

/** `<alg>/<hex>` of a digest, for the OCI keys below; throws for anything but sha256 and sha512. */
function digestPath(digest: string): string {
  const parts = digestParts(digest);
  if (parts === null) throw new Error(`not a sha256 digest (nor a sha512 one): ${digest}`);
  return `${parts.algorithm}/${parts.hex}`;
}

/** The key of the blob of `digest` ("sha256:<hex>" or "sha512:<hex>"); throws for anything else. */
export function blobKey(digest: string): string {
  const parts = digestParts(digest);
  if (parts === null) throw new Error(`not a sha256 digest (nor a sha512 one): ${digest}`);
  // Fanned out by the first byte, so that no directory of the fs store grows too large.
  return `${ALL_BLOBS_PREFIX}${parts.algorithm}/${parts.hex.slice(0, 2)}/${parts.hex}`;
}

/** The digest whose blob `key` holds, or null for another key. */
export function digestOfBlobKey(key: string): string | null {
  const segments = key.split('/');
  const digest = `${segments.at(-3) ?? ''}:${segments.at(-1) ?? ''}`;
  return segments.length === 4 && segments[0] === 'blobs' && digestParts(digest) ? digest : null;
}

// Blob claims (blobs/blob-claims.ts): how a record about to point at a stored blob and a gc run
// about to remove it learn of each other.

export const BLOB_USES_PREFIX = 'blob-uses/';
export const BLOB_GC_PREFIX = 'blob-gc/';

/** The blob's claim marker, rewritten by every record about to point at the blob as it is. */
export function blobUseKey(digest: string): string {
  return `${BLOB_USES_PREFIX}${blobKey(digest).slice(ALL_BLOBS_PREFIX.length)}`;
}

/** The marker a gc run holds while it decides whether to remove the blob. */
export function blobGcKey(digest: string): string {
  return `${BLOB_GC_PREFIX}${blobKey(digest).slice(ALL_BLOBS_PREFIX.length)}`;
}

// OCI repositories (the /v2 API): metadata only; their blobs are the blobs above. Repository
// components never start with "_", so the underscore folders cannot collide with a repository.

const OCI_PREFIX = 'oci/';

/** Everything the OCI API keeps (garbage collection reads the manifests below it). */
export function ociPrefix(): string {
  return OCI_PREFIX;
}

/** The index of a registry's OCI repositories, one empty object per repository. */
export function ociRepositoriesPrefix(registry: string): string {
  return `${OCI_PREFIX}${registry}/_repositories/`;
}

export function ociRepositoryIndexKey(registry: string, repository: string): string {
  return `${ociRepositoriesPrefix(registry)}${keySegment(repository)}`;
}

/** The repository an index key names. */
export function repositoryOfIndexKey(key: string): string {
  return decodeURIComponent(key.split('/').at(-1) ?? '');
}

function ociRepositoryPrefix(registry: string, repository: string): string {
  return `${OCI_PREFIX}${registry}/${repository}/`;
}

/**
 * A blob once pushed or mounted into some generic repository of the registry (not a pack
 * repository, whose blobs go with deleted versions): an automatic mount (no `from`) looks here, one
 * lookup, instead of in every repository. (`_layers/` beside it, its name until pack repositories'
 * blobs were left out, is no longer read.)
 */
export function ociRegistryBlobLinkKey(registry: string, digest: string): string {
  return `${OCI_PREFIX}${registry}/_generic-layers/${digestPath(digest)}`;
}

/** A blob readable in a repository: pushed or mounted there (a repository sees no other's blobs). */
export function ociBlobLinkKey(registry: string, repository: string, digest: string): string {
  return `${ociRepositoryPrefix(registry, repository)}_layers/${digestPath(digest)}`;
}

/** A manifest of a repository (its bytes are the blob of its digest). */
export function ociManifestKey(registry: string, repository: string, digest: string): string {
  return `${ociRepositoryPrefix(registry, repository)}_manifests/revisions/${digestPath(digest)}`;
}

/** Whether a key is a manifest revision (gc keeps what they reference). */
export function isOciManifestKey(key: string): boolean {
  return key.startsWith(OCI_PREFIX) && key.includes('/_manifests/revisions/');
}

export function ociTagsPrefix(registry: string, repository: string): string {
  return `${ociRepositoryPrefix(registry, repository)}_manifests/tags/`;
}

export function ociTagKey(registry: string, repository: string, tag: string): string {
  return `${ociTagsPrefix(registry, repository)}${tag}`;
}

/**
 * The tags once pointed at a manifest (some may have moved since): deleting the manifest looks
 * at these, not at every tag of the repository.
 */
export function ociTaggedPrefix(registry: string, repository: string, digest: string): string {
  return `${ociRepositoryPrefix(registry, repository)}_manifests/tagged/${digestPath(digest)}/`;
}

export function ociTaggedKey(registry: string, repository: string, digest: string, tag: string): string {
  return `${ociTaggedPrefix(registry, repository, digest)}${tag}`;
}

/** The manifests of a repository whose `subject` is `subject`. */
export function ociReferrersPrefix(registry: string, repository: string, subject: string): string {
  return `${ociRepositoryPrefix(registry, repository)}_referrers/${digestPath(subject)}/`;
}

export function ociReferrerKey(registry: string, repository: string, subject: string, digest: string): string {
  return `${ociReferrersPrefix(registry, repository, subject)}${digestPath(digest).replace('/', '-')}`;
}

// Download counts: one document per pack, `{ "versions": { "<version>": <count> } }`, to which
// every replica adds what it counted (blobs/download-counts.ts).

export const DOWNLOADS_PREFIX = 'downloads/';

/** The download counts of every pack of a registry. */
export function downloadsPrefix(registry: string): string {
  return `${DOWNLOADS_PREFIX}${registry}/`;
}

export function downloadCountsKey(registry: string, name: string): string {
  return `${downloadsPrefix(registry)}${name}.json`;
}

// The catalog's change log and snapshots.

export const CHANGES_PREFIX = 'changes/';
export const SNAPSHOTS_PREFIX = 'snapshots/';

/** Milliseconds since the epoch, zero-padded so that keys sort by time. */
function timeKey(time: number): string {
  return String(Math.max(0, Math.floor(time))).padStart(13, '0');
}

/**
 * Minutes since the epoch, zero-padded: the folder of a change written then. A listing that starts
 * after a recent key skips every older minute's folder unread (the fs store reads a folder whole),
 * so a poll costs what changed since, not what the log holds.
 */
function minuteKey(time: number): string {
  return String(Math.floor(Math.max(0, time) / 60_000)).padStart(9, '0');
}

export function changeKey(time: number, id: string): string {
  return `${CHANGES_PREFIX}${minuteKey(time)}/${timeKey(time)}-${id}.json`;
}

/** A bound below every change written at `time` or later, above every earlier one. */
export function changesFrom(time: number): string {
  return `${CHANGES_PREFIX}${minuteKey(time)}/${timeKey(time)}`;
}

/**
 * Where earlier releases wrote changes: `changes/<13-digit ms>-<id>.json`, side by side. They sort
 * after every minute's folder (a minute count starts with 0 for centuries, a time in ms with 1),
 * and are read and pruned by their time like the others.
 */
export const UNGROUPED_CHANGES_PREFIX = `${CHANGES_PREFIX}1`;

export function snapshotKey(time: number, id: string): string {
  return `${SNAPSHOTS_PREFIX}${timeKey(time)}-${id}.json.gz`;
}

/** The time a change or snapshot key was written, or NaN for a foreign key. */
export function timeOfKey(key: string): number {
  const match = /^(?:changes\/(?:\d{9}\/)?|snapshots\/)(\d{13})-/.exec(key);
  return match ? Number(match[1]) : Number.NaN;
}

// Bootstrap state.

export function adminTokenKey(): string {
  return 'system/admin-token.json';
}

/** The lease of the gc run under way (one at a time per store). */
export function gcRunKey(): string {
  return 'system/gc-run.json';
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

const JOURNAL_PREFIX = 'identity/journal/';
const IDENTITY_CHANGES_PREFIX = 'identity/changes/';

/** Every tenant's journal, or one tenant's. */
export function identityJournalPrefix(tenantId?: string): string {
  return tenantId === undefined ? JOURNAL_PREFIX : `${JOURNAL_PREFIX}${tenantId}/`;
}

/** A tenant's journal entry of `revision` (revisions count from 1; zero-padded so keys sort). */
export function identityJournalKey(tenantId: string, revision: number): string {
  return `${JOURNAL_PREFIX}${tenantId}/${String(revision).padStart(12, '0')}.json`;
}

/** The tenant and revision a journal key names, or null for a foreign key. */
export function parseIdentityJournalKey(key: string): { tenantId: string; revision: number } | null {
  if (!key.startsWith(JOURNAL_PREFIX)) return null;
  const rest = key.slice(JOURNAL_PREFIX.length);
  const slash = rest.indexOf('/');
  const file = rest.slice(slash + 1);
  if (slash <= 0 || file.length !== 17 || !file.endsWith('.json')) return null;
  const revision = Number(file.slice(0, 12));
  return Number.isSafeInteger(revision) && revision > 0 ? { tenantId: rest.slice(0, slash), revision } : null;
}

export function identityChangesPrefix(): string {
  return IDENTITY_CHANGES_PREFIX;
}

/**
 * The marker saying tenant `tenantId` reached `revision` at `time` (ms). Grouped by minute, so a
 * listing that starts after a recent key skips every older minute's folder unread.
 */
export function identityChangeKey(time: number, tenantId: string, revision: number): string {
  return `${IDENTITY_CHANGES_PREFIX}${minuteKey(time)}/${timeKey(time)}-${String(revision).padStart(12, '0')}-${tenantId}`;
}

/** A bound below every identity change marker written at `time` or later. */
export function identityChangesFrom(time: number): string {
  return identityChangeKey(time, '', 0).slice(0, -'-000000000000-'.length);
}

/** What a change marker says, or null for a foreign key. */
export function parseIdentityChangeKey(key: string): { time: number; tenantId: string; revision: number } | null {
  const rest = key.slice(IDENTITY_CHANGES_PREFIX.length);
  if (!key.startsWith(IDENTITY_CHANGES_PREFIX) || rest.length < 10 + 13 + 1 + 12 + 2 || rest[9] !== '/') return null;
  const time = Number(rest.slice(10, 23));
  const revision = Number(rest.slice(24, 36));
  const tenantId = rest.slice(37);
  if (rest[23] !== '-' || rest[36] !== '-' || tenantId === '' || !Number.isSafeInteger(time)) return null;
  return Number.isSafeInteger(revision) ? { time, tenantId, revision } : null;
}

export function loginIndexKey(usernameSha256: string): string {
  return `identity/logins/${usernameSha256}.json`;
}

export const LOGIN_ATTEMPTS_PREFIX = 'identity/attempts/';

export function loginAttemptsKey(kind: 'user' | 'address', sha256: string): string {
  return `${LOGIN_ATTEMPTS_PREFIX}${kind}-${sha256}.json`;
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

/** The earlier revisions of the profiles of a scope (given by its profiles prefix), or of one of them. */
export function profileRevisionsPrefix(scopePrefix: string, name?: string): string {
  const scope = `profile-revisions/${scopePrefix.slice('profiles/'.length)}`;
  return name === undefined ? scope : `${scope}${name}/`;
}

/** One earlier revision of a profile. */
export function profileRevisionKey(scopePrefix: string, name: string, revision: number): string {
  return `${profileRevisionsPrefix(scopePrefix, name)}${revision}.json`;
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

/**
 * An entry's key. An id starts with the inverted time (13 digits), and the entry sits under
 * folders of its first 5 digits (about a day) and the next 3 (100 seconds): a listing of the newest
 * page, or of the page after a cursor, reads those few folders and skips the rest unread (the fs
 * store reads a folder whole), however long the log. Earlier releases kept entries directly in
 * the stream: see {@link ungroupedAuditEntryKey}.
 */
export function auditEntryKey(stream: string, id: string): string {
  return /^\d{13}-/.test(id) ? `${stream}${id.slice(0, 5)}/${id.slice(5, 8)}/${id}.json` : `${stream}${id}.json`;
}

/** Where earlier releases kept an entry: directly in its stream (read, listed and pruned still). */
export function ungroupedAuditEntryKey(stream: string, id: string): string {
  return `${stream}${id}.json`;
}

/** The entry id an entry key names (either layout). */
export function auditIdOfKey(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1).replace(/\.json$/, '');
}

/**
 * A bound for listing a stream after the entry `id`, or after a time (13 inverted digits): every
 * entry key of a greater id (older) sorts after it, in either layout. Ungrouped keys of a smaller
 * id may too: a reader compares ids.
 */
export function auditEntriesAfter(stream: string, id: string): string {
  return /^\d{13}/.test(id) ? `${stream}${id.slice(0, 5)}/${id.slice(5, 8)}/${id}` : `${stream}${id}`;
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
