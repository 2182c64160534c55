import { describe, expect, it } from 'vitest';
import {
  adminTokenKey,
  anonymousAuditStream,
  auditEntryKey,
  auditEntriesAfter,
  auditIdOfKey,
  ungroupedAuditEntryKey,
  blobGcKey,
  blobKey,
  blobUseKey,
  gcRunKey,
  changeKey,
  changesFrom,
  digestOfBlobKey,
  downloadCountsKey,
  downloadsPrefix,
  identitySystemKey,
  identityTenantKey,
  UNGROUPED_CHANGES_PREFIX,
  identityJournalKey,
  identityJournalPrefix,
  identityChangeKey,
  identityChangesFrom,
  identityChangesPrefix,
  parseIdentityJournalKey,
  parseIdentityChangeKey,
  identityTenantsPrefix,
  isOciManifestKey,
  loginAttemptsKey,
  loginIndexKey,
  ociBlobLinkKey,
  ociRegistryBlobLinkKey,
  ociTaggedKey,
  ociManifestKey,
  ociPrefix,
  ociReferrerKey,
  ociReferrersPrefix,
  ociRepositoriesPrefix,
  ociRepositoryIndexKey,
  ociTagKey,
  ociTagsPrefix,
  parseVersionKey,
  probeKey,
  profileKey,
  repositoryOfIndexKey,
  projectAuditStream,
  projectProfilesPrefix,
  registryKey,
  signingKeyKey,
  snapshotKey,
  systemAuditStream,
  systemProfilesPrefix,
  tenantAuditStream,
  tenantIdOfKey,
  tenantProfilesPrefix,
  tenantProjectProfilesPrefix,
  timeOfKey,
  versionKey,
} from './layout.js';
import { assertValidKey } from './object-store.js';

const HEX = 'ab'.repeat(32);
const SHA = 'c'.repeat(64);
const HEX512 = 'de'.repeat(64);

// Stores written by earlier releases must keep working: these keys are a storage format, and a
// change here is a migration, not a refactoring.
describe('storage key layout', () => {
  const samples: Array<[string, string]> = [
    [registryKey('public'), 'registries/public.json'],
    [versionKey('public', 'cni-calico', '3.27.0'), 'packs/public/cni-calico/3.27.0.json'],
    [versionKey('acme', 'demo', '1.0.0+build.1'), 'packs/acme/demo/1.0.0%2Bbuild.1.json'],
    [blobKey(`sha256:${HEX}`), `blobs/sha256/ab/${HEX}`],
    [blobKey(`sha512:${HEX512}`), `blobs/sha512/de/${HEX512}`],
    [blobUseKey(`sha256:${HEX}`), `blob-uses/sha256/ab/${HEX}`],
    [gcRunKey(), 'system/gc-run.json'],
    [blobGcKey(`sha512:${HEX512}`), `blob-gc/sha512/de/${HEX512}`],
    [ociRepositoryIndexKey('public', 'library/alpine'), 'oci/public/_repositories/library%2Falpine'],
    [ociBlobLinkKey('public', 'library/alpine', `sha256:${HEX}`), `oci/public/library/alpine/_layers/sha256/${HEX}`],
    [ociRegistryBlobLinkKey('public', `sha256:${HEX}`), `oci/public/_generic-layers/sha256/${HEX}`],
    [
      ociTaggedKey('public', 'library/alpine', `sha256:${HEX}`, 'v1'),
      `oci/public/library/alpine/_manifests/tagged/sha256/${HEX}/v1`,
    ],
    [ociManifestKey('acme-reg', 'app', `sha512:${HEX512}`), `oci/acme-reg/app/_manifests/revisions/sha512/${HEX512}`],
    [ociTagKey('public', 'library/alpine', 'v1.0_rc-1'), 'oci/public/library/alpine/_manifests/tags/v1.0_rc-1'],
    [
      ociReferrerKey('public', 'app', `sha256:${HEX}`, `sha256:${SHA}`),
      `oci/public/app/_referrers/sha256/${HEX}/sha256-${SHA}`,
    ],
    [downloadCountsKey('public', 'cni-calico'), 'downloads/public/cni-calico.json'],
    [changeKey(1_700_000_000_123, 'f00d'), 'changes/028333333/1700000000123-f00d.json'],
    [changeKey(42.9, 'x'), 'changes/000000000/0000000000042-x.json'],
    [snapshotKey(1_700_000_000_123, 'f00d'), 'snapshots/1700000000123-f00d.json.gz'],
    [adminTokenKey(), 'system/admin-token.json'],
    [identitySystemKey(), 'identity/system.json'],
    [identityTenantKey('tn_0123'), 'identity/tenants/tn_0123.json'],
    [identityJournalKey('tn_0123', 42), 'identity/journal/tn_0123/000000000042.json'],
    [
      identityChangeKey(1_700_000_000_123, 'tn_0123', 42),
      'identity/changes/028333333/1700000000123-000000000042-tn_0123',
    ],
    [loginIndexKey(SHA), `identity/logins/${SHA}.json`],
    [loginAttemptsKey('user', SHA), `identity/attempts/user-${SHA}.json`],
    [loginAttemptsKey('address', SHA), `identity/attempts/address-${SHA}.json`],
    [signingKeyKey(), 'identity/signing-key.json'],
    [profileKey(systemProfilesPrefix(), 'edge'), 'profiles/system/edge.json'],
    [profileKey(tenantProfilesPrefix('tn_1'), 'edge'), 'profiles/tenant/tn_1/edge.json'],
    [profileKey(projectProfilesPrefix('tn_1', 'pj_2'), 'edge'), 'profiles/project/tn_1/pj_2/edge.json'],
    [
      auditEntryKey(systemAuditStream(), '8299999999876-0123456789ab'),
      'audit/system/82999/999/8299999999876-0123456789ab.json',
    ],
    [
      auditEntryKey(anonymousAuditStream(), '8299999999876-0123456789ab'),
      'audit/anonymous/82999/999/8299999999876-0123456789ab.json',
    ],
    [
      ungroupedAuditEntryKey(systemAuditStream(), '8299999999876-0123456789ab'),
      'audit/system/8299999999876-0123456789ab.json',
    ],
    [auditEntriesAfter(systemAuditStream(), '8299999999876'), 'audit/system/82999/999/8299999999876'],
    [auditEntryKey(tenantAuditStream('tn_1'), 'e'), 'audit/tenants/tn_1/e.json'],
    [auditEntryKey(projectAuditStream('tn_1', 'pj_2'), 'e'), 'audit/projects/tn_1/pj_2/e.json'],
  ];

  it.each(samples)('builds %s', (built, expected) => {
    expect(built).toBe(expected);
    assertValidKey(built);
  });

  it('refuses a key whose segment is no file name: past 255 bytes, empty, "." or ".."', () => {
    assertValidKey(`a/${'x'.repeat(255)}/b`);
    for (const key of [`a/${'x'.repeat(256)}/b`, 'a//b', 'a/./b', 'a/../b', '']) {
      expect(
        () => {
          assertValidKey(key);
        },
        key.slice(0, 20),
      ).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }) as Error);
    }
  });

  it('builds the listing prefixes', () => {
    expect(identityTenantsPrefix()).toBe('identity/tenants/');
    expect(identityJournalPrefix()).toBe('identity/journal/');
    expect(identityJournalPrefix('tn_1')).toBe('identity/journal/tn_1/');
    expect(identityChangesPrefix()).toBe('identity/changes/');
    expect(identityChangesFrom(1_700_000_000_123)).toBe('identity/changes/028333333/1700000000123');
    expect(tenantProjectProfilesPrefix('tn_1')).toBe('profiles/project/tn_1/');
    expect(projectProfilesPrefix('tn_1', 'pj_2').startsWith(tenantProjectProfilesPrefix('tn_1'))).toBe(true);
    expect(changesFrom(1_700_000_000_123)).toBe('changes/028333333/1700000000123');
    expect(ociPrefix()).toBe('oci/');
    expect(downloadsPrefix('acme-reg')).toBe('downloads/acme-reg/');
    expect(ociRepositoriesPrefix('public')).toBe('oci/public/_repositories/');
    expect(ociTagsPrefix('public', 'a/b')).toBe('oci/public/a/b/_manifests/tags/');
    expect(ociReferrersPrefix('public', 'a', `sha256:${HEX}`)).toBe(`oci/public/a/_referrers/sha256/${HEX}/`);
  });

  it('reads back what a key names', () => {
    expect(parseVersionKey(versionKey('acme', 'demo', '1.0.0+build.1'))).toEqual({
      registry: 'acme',
      name: 'demo',
      version: '1.0.0+build.1',
    });
    expect(parseVersionKey('registries/public.json')).toBeNull();
    expect(digestOfBlobKey(blobKey(`sha256:${HEX}`))).toBe(`sha256:${HEX}`);
    expect(digestOfBlobKey('blobs/sha256/ab/not-a-digest')).toBeNull();
    expect(digestOfBlobKey(blobKey(`sha512:${HEX512}`))).toBe(`sha512:${HEX512}`);
    expect(digestOfBlobKey(`blobs/sha512/ab/${HEX}`)).toBeNull();
    expect(repositoryOfIndexKey(ociRepositoryIndexKey('public', 'library/alpine'))).toBe('library/alpine');
    expect(isOciManifestKey(ociManifestKey('public', 'a', `sha256:${HEX}`))).toBe(true);
    expect(isOciManifestKey(ociTagKey('public', 'a', 'latest'))).toBe(false);
    expect(tenantIdOfKey(identityTenantKey('tn_0123'))).toBe('tn_0123');
    for (const key of [
      auditEntryKey(systemAuditStream(), '8299999999876-0123456789ab'),
      ungroupedAuditEntryKey(systemAuditStream(), '8299999999876-0123456789ab'),
    ]) {
      expect(auditIdOfKey(key)).toBe('8299999999876-0123456789ab');
    }
    expect(parseIdentityJournalKey(identityJournalKey('legacy-name', 7))).toEqual({
      tenantId: 'legacy-name',
      revision: 7,
    });
    expect(parseIdentityJournalKey('identity/journal/tn_1/notes.json')).toBeNull();
    expect(parseIdentityChangeKey(identityChangeKey(1_700_000_000_123, 'a-b', 9))).toEqual({
      time: 1_700_000_000_123,
      tenantId: 'a-b',
      revision: 9,
    });
    expect(parseIdentityChangeKey('identity/changes/028333333/garbage')).toBeNull();
    // Markers written at or after a time sort after its bound, earlier ones before it.
    expect(identityChangeKey(1_700_000_000_123, 'a', 1) > identityChangesFrom(1_700_000_000_123)).toBe(true);
    expect(identityChangeKey(1_700_000_000_122, 'a', 1) < identityChangesFrom(1_700_000_000_123)).toBe(true);
    expect(identityChangeKey(1_699_999_999_999, 'a', 1) < identityChangesFrom(1_700_000_000_000)).toBe(true);
    expect(timeOfKey(changeKey(1_700_000_000_123, 'a'))).toBe(1_700_000_000_123);
    // As earlier releases wrote them.
    expect(timeOfKey('changes/1700000000123-f00d.json')).toBe(1_700_000_000_123);
    expect(timeOfKey(snapshotKey(1_700_000_000_123, 'a'))).toBe(1_700_000_000_123);
    expect(timeOfKey('registries/public.json')).toBeNaN();
  });

  it('orders change keys by time, and the bound between them', () => {
    const early = changeKey(999, 'zz');
    const late = changeKey(1000, '00');
    expect(early < late).toBe(true);
    expect(early < changesFrom(1000) && changesFrom(1000) < late).toBe(true);
    // Across a minute's folders, and before every change an earlier release wrote (ungrouped).
    expect(changeKey(59_999, 'zz') < changesFrom(60_000)).toBe(true);
    expect(changesFrom(60_000) < changeKey(60_000, '00')).toBe(true);
    const ungrouped = 'changes/1700000000123-f00d.json';
    expect(ungrouped.startsWith(UNGROUPED_CHANGES_PREFIX)).toBe(true);
    expect(changeKey(4_102_444_800_000, 'a') < UNGROUPED_CHANGES_PREFIX).toBe(true); // 2100
  });

  it('refuses a blob key for anything but a sha256 or sha512 digest', () => {
    expect(() => blobKey(HEX)).toThrow(/not a sha256 digest/);
    expect(() => blobKey(`sha512:${HEX}`)).toThrow(/not a sha256 digest/);
    expect(() => blobKey(`md5:${HEX.slice(0, 32)}`)).toThrow(/not a sha256 digest/);
    expect(() => ociManifestKey('public', 'a', `sha256:${HEX.toUpperCase()}`)).toThrow(/not a sha256 digest/);
  });

  it('keeps the probe in a top-level folder no other kind of key uses', () => {
    expect(probeKey('t')).toBe('_probe/t');
    for (const [built] of samples) expect(built.startsWith('_probe/')).toBe(false);
  });
});
