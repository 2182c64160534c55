/**
 * Cluster profiles stored by the registry, at system, tenant or project scope:
 *
 *   profiles/system/<name>.json
 *   profiles/tenant/<tenant id>/<name>.json
 *   profiles/project/<tenant id>/<project id>/<name>.json
 *
 * Keyed by the immutable ids of the tenant and project (see identity/records.ts; before ids
 * existed these were their names, which remain their ids), so that a tenant or project deleted
 * and created again under the same name does not find the old one's profiles; the old ones are
 * removed with their tenant or project (OwnedData).
 *
 * A project sees its own profiles plus, read-only, those of its tenant and of the system; a tenant
 * sees its own plus the system's. Each record is created once and then changed by compare-and-swap;
 * the revision a change replaces is kept under profile-revisions/ (written after the change: a
 * process stopped in between loses that one earlier revision, never the profile), so that two
 * revisions can be compared, the last MAX_REVISIONS_KEPT of them. They go with their profile,
 * tenant or project.
 */
import { LRUCache } from 'lru-cache';
import { type PackError, validateProfile, type ClusterProfile } from '@packyard/pack-core';
import type { Target } from '../identity/principals.js';
import type { IdentityDirectory } from '../identity/directory.js';
import { projectNotFound, tenantNotFound } from '../identity/identity-errors.js';
import type { OwnedData } from '../identity/tenant-mutation.js';
import { createJson, encodeJson, readJson, updateJson } from '../storage/json-documents.js';
import {
  profileKey,
  profileRevisionKey,
  profileRevisionsPrefix,
  projectProfilesPrefix,
  systemProfilesPrefix,
  tenantProfilesPrefix,
  tenantProjectProfilesPrefix,
} from '../storage/layout.js';
import type { ObjectStore } from '../storage/object-store.js';
import { listedProblems, registryError } from '../errors.js';

export interface ProfileRecord {
  scope: Target['scope'];
  tenant: string | null;
  project: string | null;
  profile: ClusterProfile;
  published: { at: string; by: string; version: string } | null;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
  revision: number;
}

/** A profile as a listing names it (ProfileService.listed). */
export interface ListedProfile {
  name: string;
  read(): Promise<ProfileRecord | null>;
}

/** The scopes whose profiles are visible in `target`, own scope first. */
export function visibleScopes(target: Target): Target[] {
  if (target.scope === 'system') return [target];
  if (target.scope === 'tenant') return [target, { scope: 'system' }];
  return [target, { scope: 'tenant', tenant: target.tenant }, { scope: 'system' }];
}

export function profileNotFound(name: string): PackError {
  return registryError('PROFILE_NOT_FOUND', `no cluster profile named ${name} here`);
}

/** Checks a profile document; throws PROFILE_INVALID with every problem. */
export function checkProfile(value: unknown, name?: string): ClusterProfile {
  const { profile, errors } = validateProfile(value);
  if (!profile) {
    const { summary, listed } = listedProblems(errors);
    throw registryError('PROFILE_INVALID', `the cluster profile is invalid: ${summary}`, {
      details: { problems: listed },
    });
  }
  if (name !== undefined && profile.name !== name) {
    throw registryError('PROFILE_INVALID', `the profile is named ${profile.name}, not ${name} as in the URL`, {
      hint: 'PUT a profile to the URL of its own name',
    });
  }
  return profile;
}

/** What a profile selects: its record without the packs' values (pack usage reads no more). */
export type ProfileSelection = ProfileRecord;

function selectionOf(record: ProfileRecord): ProfileSelection {
  const packs = record.profile.packs.map(({ values: _values, ...entry }) => entry);
  return { ...record, profile: { ...record.profile, packs } };
}

/**
 * Earlier revisions of a profile kept (each a whole profile, up to 2 MB): a profile changed more
 * often than this keeps its last ones only.
 */
export const MAX_REVISIONS_KEPT = 100;

/** Most bytes of selections a process keeps (each a few KB at most: 100 packs without values). */
const SELECTIONS_KEPT_BYTES = 16 * 1024 * 1024;

export class ProfileService implements OwnedData {
  private readonly selectionsKept = new LRUCache<string, { etag: string; selection: ProfileSelection }>({
    maxSize: SELECTIONS_KEPT_BYTES,
    sizeCalculation: ({ selection }) => JSON.stringify(selection).length + 200,
  });

  constructor(
    private readonly store: ObjectStore,
    private readonly directory: IdentityDirectory,
  ) {}

  /** Where a scope's profiles are stored: under the ids of its live tenant and project. */
  private prefixOf(target: Target): string {
    if (target.scope === 'system') return systemProfilesPrefix();
    const tenantId = this.directory.tenantId(target.tenant);
    if (tenantId === undefined) throw tenantNotFound(target.tenant);
    if (target.scope === 'tenant') return tenantProfilesPrefix(tenantId);
    const projectId = this.directory.projectId(target.tenant, target.project);
    if (projectId === undefined) throw projectNotFound(target.project);
    return projectProfilesPrefix(tenantId, projectId);
  }

  async removeTenant(tenantId: string): Promise<void> {
    for (const prefix of [tenantProfilesPrefix(tenantId), tenantProjectProfilesPrefix(tenantId)]) {
      await this.removeAll(prefix);
      await this.removeAll(profileRevisionsPrefix(prefix));
    }
  }

  async removeProject(tenantId: string, projectId: string): Promise<void> {
    const prefix = projectProfilesPrefix(tenantId, projectId);
    await this.removeAll(prefix);
    await this.removeAll(profileRevisionsPrefix(prefix));
  }

  private async removeAll(prefix: string): Promise<void> {
    const keys: string[] = [];
    for await (const object of this.store.list(prefix)) keys.push(object.key);
    for (const key of keys) await this.store.delete(key);
  }

  /**
   * The profiles of exactly this scope, those named after `after`, in the order of their keys
   * (`<name>.json`, by byte), as the caller iterates: each by name, read only when the caller asks
   * (null: deleted since it was listed), so that a page stops reading where it is full.
   */
  async *listed(target: Target, after?: string): AsyncGenerator<ListedProfile> {
    const prefix = this.prefixOf(target);
    const options = { keysOnly: true, ...(after === undefined ? {} : { startAfter: profileKey(prefix, after) }) };
    for await (const object of this.store.list(prefix, options)) {
      if (!object.key.endsWith('.json')) continue;
      const name = object.key.slice(prefix.length, -'.json'.length);
      yield { name, read: async () => (await readJson<ProfileRecord>(this.store, object.key))?.value ?? null };
    }
  }

  /**
   * What each profile of exactly this scope selects (its packs without their values), as the
   * caller iterates: kept per key and ETag, so that a profile is read from storage again only once
   * it changed (a listing with ETags costs a stat per key on the fs store, one LIST per thousand
   * keys on S3), where a profile may be 2 MB.
   */
  async *selections(target: Target): AsyncGenerator<ProfileSelection> {
    for await (const object of this.store.list(this.prefixOf(target))) {
      if (!object.key.endsWith('.json')) continue;
      const kept = this.selectionsKept.get(object.key);
      if (kept && object.etag !== '' && kept.etag === object.etag) {
        yield kept.selection;
        continue;
      }
      const read = await readJson<ProfileRecord>(this.store, object.key);
      if (!read) continue;
      const selection = selectionOf(read.value);
      this.selectionsKept.set(object.key, { etag: read.etag, selection });
      yield selection;
    }
  }

  /** The profile `name` of exactly this scope, or null. */
  async find(target: Target, name: string): Promise<ProfileRecord | null> {
    return (await readJson<ProfileRecord>(this.store, profileKey(this.prefixOf(target), name)))?.value ?? null;
  }

  async create(target: Target, profile: ClusterProfile, by: string): Promise<ProfileRecord> {
    const now = new Date().toISOString();
    const record: ProfileRecord = {
      scope: target.scope,
      tenant: target.scope === 'system' ? null : target.tenant,
      project: target.scope === 'project' ? target.project : null,
      profile,
      published: null,
      createdAt: now,
      createdBy: by,
      updatedAt: now,
      updatedBy: by,
      revision: 1,
    };
    if ((await createJson(this.store, profileKey(this.prefixOf(target), profile.name), record)) === null) {
      throw registryError('PROFILE_EXISTS', `a cluster profile named ${profile.name} already exists here`);
    }
    return record;
  }

  /** Changes a profile of exactly this scope; `change` returning undefined leaves it (and its revision) as it is. */
  async update(
    target: Target,
    name: string,
    change: (record: ProfileRecord) => ProfileRecord | undefined,
  ): Promise<ProfileRecord> {
    const prefix = this.prefixOf(target);
    let replaced: ProfileRecord | undefined;
    const updated = await updateJson<ProfileRecord>(this.store, profileKey(prefix, name), (current) => {
      const next = change(current);
      replaced = current;
      return next === undefined ? undefined : { ...next, revision: current.revision + 1 };
    });
    if (!updated) throw profileNotFound(name);
    if (updated.changed && replaced) {
      const key = profileRevisionKey(prefix, name, replaced.revision);
      await this.store.put(key, encodeJson(replaced), { contentType: 'application/json' });
      // The earlier revisions kept are the last MAX_REVISIONS_KEPT: the one that falls out goes.
      const dropped = replaced.revision - MAX_REVISIONS_KEPT;
      if (dropped >= 1) await this.store.delete(profileRevisionKey(prefix, name, dropped));
    }
    return updated.value;
  }

  /**
   * Revision `revision` of a profile of exactly this scope whose current record (as {@link find}
   * gave it) is `current`: that record, or one kept; null if neither.
   */
  async revision(target: Target, current: ProfileRecord, revision: number): Promise<ProfileRecord | null> {
    if (revision > current.revision) return null;
    if (revision === current.revision) return current;
    const key = profileRevisionKey(this.prefixOf(target), current.profile.name, revision);
    return (await readJson<ProfileRecord>(this.store, key))?.value ?? null;
  }

  async remove(target: Target, name: string): Promise<void> {
    if (!(await this.find(target, name))) throw profileNotFound(name);
    const prefix = this.prefixOf(target);
    await this.store.delete(profileKey(prefix, name));
    // A profile made again under this name starts at revision 1, without these.
    await this.removeAll(profileRevisionsPrefix(prefix, name));
  }
}
