/**
 * Reading one version, and the changes that follow a publish: deprecation (with a message,
 * reversible) and deletion (a tombstone: name@version can only come back with the same bytes).
 */
import { parseVersion, type PackError } from '@packyard/pack-core';
import { LRUCache } from 'lru-cache';
import type { CatalogSync } from '../catalog/catalog-sync.js';
import { summarise, type VersionRecord } from '../catalog/records.js';
import { versionKey } from '../storage/layout.js';
import { updateJson } from '../storage/json-documents.js';
import type { ObjectStore } from '../storage/object-store.js';
import { registryError } from '../errors.js';

export function packNotFound(registry: string, name: string): PackError {
  return registryError('PACK_NOT_FOUND', `pack "${name}" is not in registry ${registry}`, {
    hint: `packctl search ${name} finds it in the registries you can read`,
  });
}

function versionNotFound(registry: string, name: string, selector: string): PackError {
  return registryError('PACK_VERSION_NOT_FOUND', `${name}@${selector} is not in registry ${registry}`, {
    hint: `packctl show ${name} --registry ${registry} lists its versions and tags`,
  });
}

function versionGone(record: VersionRecord): PackError {
  return registryError('PACK_VERSION_GONE', `${record.name}@${record.version} was deleted`, {
    hint: `packctl show ${record.name} --registry ${record.registry} lists the versions still published`,
  });
}

/** Bytes of stored version records kept in memory (as stored; parsed, they take about twice that). */
const RECORD_CACHE_BYTES = 16 * 1024 * 1024;

export class VersionService {
  /**
   * Records read lately, by key. A record changes only by deprecation or deletion, each of which
   * raises its revision and reaches the catalog index (from any replica, within about a second):
   * a kept record is served while the index names the same revision (and ETag), and read again
   * otherwise.
   */
  private readonly records = new LRUCache<string, { record: VersionRecord; etag: string; bytes: number }>({
    maxSize: RECORD_CACHE_BYTES,
    sizeCalculation: (kept) => kept.bytes,
  });

  constructor(
    private readonly store: ObjectStore,
    private readonly catalog: CatalogSync,
  ) {}

  private keep(key: string, record: VersionRecord, stored: { etag: string; bytes: number }): void {
    if (!record.deleted) this.records.set(key, { record, etag: stored.etag, bytes: Math.max(1, stored.bytes) });
  }

  private missing(registry: string, name: string, selector: string): PackError {
    return this.catalog.index.hasPack(registry, name)
      ? versionNotFound(registry, name, selector)
      : packNotFound(registry, name);
  }

  /**
   * The full record a selector (exact version, `.x` tag or range) means, read from storage (the
   * source of truth). Tags and ranges resolve through the catalog index; an exact version is
   * looked up in storage even when this replica has not heard of it yet.
   */
  async get(registry: string, name: string, selector: string): Promise<VersionRecord> {
    const summary = this.catalog.index.resolve(registry, name, selector);
    // Only an exact version may name a record this replica has not heard of: a tag or range that
    // resolves to nothing here is not looked up in storage under its own text.
    if (!summary && parseVersion(selector) === null) throw this.missing(registry, name, selector);
    const version = summary?.version ?? selector;
    const key = versionKey(registry, name, version);
    const kept = summary ? this.records.get(key) : undefined;
    // The same revision, and the same stored object when the index knows its ETag (a record
    // removed and written anew starts again at revision 1).
    if (
      kept &&
      summary &&
      !summary.deleted &&
      kept.record.revision === summary.revision &&
      (summary.etag === null || summary.etag === kept.etag)
    ) {
      return kept.record;
    }
    const found = await this.store.getBuffer(key);
    if (!found) throw this.missing(registry, name, selector);
    const record = JSON.parse(found.body.toString('utf8')) as VersionRecord;
    if (record.deleted) throw versionGone(record);
    this.keep(key, record, { etag: found.etag, bytes: found.body.length });
    return record;
  }

  /** Sets (message given) or clears (null) a version's deprecation. */
  async deprecate(
    registry: string,
    name: string,
    version: string,
    change: { message: string | null; by: string },
  ): Promise<VersionRecord> {
    return this.change(registry, name, version, (current) => {
      if (change.message === null) {
        if (current.deprecated === null) return undefined;
        return { ...current, deprecated: null, revision: current.revision + 1 };
      }
      if (current.deprecated?.message === change.message) return undefined;
      const deprecated = { message: change.message, at: new Date().toISOString(), by: change.by };
      return { ...current, deprecated, revision: current.revision + 1 };
    });
  }

  /** Deletes a version, leaving a tombstone. */
  async remove(
    registry: string,
    name: string,
    version: string,
    change: { message: string | null; by: string },
  ): Promise<VersionRecord> {
    return this.change(registry, name, version, (current) => ({
      ...current,
      deleted: { at: new Date().toISOString(), by: change.by, message: change.message },
      revision: current.revision + 1,
    }));
  }

  private async change(
    registry: string,
    name: string,
    version: string,
    update: (current: VersionRecord) => VersionRecord | undefined,
  ): Promise<VersionRecord> {
    const updated = await updateJson<VersionRecord>(this.store, versionKey(registry, name, version), (current) => {
      if (current.deleted) throw versionGone(current);
      return update(current);
    });
    if (!updated) throw this.missing(registry, name, version);
    this.records.delete(versionKey(registry, name, version));
    if (updated.changed) {
      await this.catalog.record({ kind: 'version', summary: summarise(updated.value, updated.etag) });
    }
    return updated.value;
  }
}
