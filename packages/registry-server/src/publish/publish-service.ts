/**
 * The record step of a publish (see publish-upload.ts): an inspected archive becomes a version
 * record, created once. The rules:
 *
 * - a new name@version: 201;
 * - the same bytes again: 200, nothing written (idempotent re-push);
 * - other bytes: 409 PACK_VERSION_EXISTS, unless `force` with a `message` in a registry that
 *   allows overwrite: the record then points at the new archive and keeps the old one in history;
 * - a deleted version: only its original bytes may come back (npm's rule), 409 otherwise.
 *
 * Concurrent publishes of one name@version race on the create-once write of the record: exactly
 * one wins, the others re-read and answer as above.
 */
import { declaredDeprecation, type PackError, type Finding } from '@packyard/pack-core';
import type { CatalogSync } from '../catalog/catalog-sync.js';
import { summarise, type RegistryRecord, type VersionRecord, type VersionSummary } from '../catalog/records.js';
import { blobKey, versionKey } from '../storage/layout.js';
import { createJson, readJson, updateJson } from '../storage/json-documents.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { InspectedPack } from './inspect-pack.js';
import { registryError } from '../errors.js';
import { holdAnswerFor } from '../audit/change-gate.js';

/**
 * The overwrites a version's record remembers, newest last (every one is in the audit log): the
 * record is read for every request on the version, and a registry that allows overwrites allows
 * as many as its publishers make.
 */
export const MAX_HISTORY = 100;

export interface PublishRequest {
  registry: RegistryRecord;
  /** The archive: received, hashed and inspected. */
  archive: { digest: string; integrity: string; size: number };
  inspected: InspectedPack;
  publisher: string;
  force: boolean;
  message: string | null;
  /** The digest of the OCI manifest the pack was pushed with (a push through OCI). */
  ociManifest?: string;
}

export type PublishOutcome = 'created' | 'unchanged' | 'overwritten' | 'restored';

export interface PublishResult {
  outcome: PublishOutcome;
  record: VersionRecord;
  warnings: Finding[];
}

function versionExists(record: VersionRecord): PackError {
  return registryError(
    'PACK_VERSION_EXISTS',
    `${record.name}@${record.version} is already published in ${record.registry} with other content (${record.digest})`,
    {},
  );
}

function versionDeleted(record: VersionRecord): PackError {
  return registryError(
    'PACK_VERSION_DELETED',
    `${record.name}@${record.version} was deleted from ${record.registry}; a deleted version can only be restored with its original content`,
    {},
  );
}

/**
 * `record` with the OCI manifest it was pushed with: `digest` when given, none when null (an
 * overwrite through /v1: the old manifest no longer describes the archive), unchanged otherwise.
 */
function withOciManifest(record: VersionRecord, digest: string | null | undefined): VersionRecord {
  if (digest === undefined) return record;
  const next = { ...record };
  delete next.ociManifest;
  return digest === null ? next : { ...next, ociManifest: digest };
}

/** A version's deprecation from its pack.json (Palette's system_state annotation), if it declares one. */
function declaredDeprecated(manifest: InspectedPack['manifest'], by: string, at: string): VersionRecord['deprecated'] {
  const message = declaredDeprecation(manifest);
  return message === null ? null : { message, at, by };
}

export class PublishService {
  constructor(
    private readonly store: ObjectStore,
    private readonly catalog: CatalogSync,
  ) {}

  /**
   * Tells the catalog of a version record just written: this process's index at once, the other
   * replicas through the change log, whose entry the answer waits for alongside the request's
   * final audit entry (not after it: that entry does not depend on it).
   */
  private async announce(summary: VersionSummary): Promise<void> {
    const logged = this.catalog.record({ kind: 'version', summary });
    if (!holdAnswerFor(logged)) await logged;
  }

  /**
   * Writes the version record of an inspected archive. `storeBlob` makes the archive's blob
   * visible: it is called once the outcome needs the blob, before the record that points at it
   * is written, and never when the publish is refused or changes nothing.
   */
  async record(request: PublishRequest, storeBlob: () => Promise<void>): Promise<PublishResult> {
    const { registry, inspected } = request;
    const { manifest } = inspected;
    const now = new Date().toISOString();
    const archive = {
      ...request.archive,
      publishedAt: now,
      publisher: request.publisher,
      message: request.message,
    };
    const key = versionKey(registry.name, manifest.name, manifest.version);
    const decide = (current: VersionRecord): { outcome: PublishOutcome; next: VersionRecord | undefined } => {
      if (current.deleted) {
        if (current.digest !== archive.digest) throw versionDeleted(current);
        return {
          outcome: 'restored',
          next: withOciManifest({ ...current, deleted: null, revision: current.revision + 1 }, request.ociManifest),
        };
      }
      if (current.digest === archive.digest) return { outcome: 'unchanged', next: undefined };
      if (!request.force) throw versionExists(current);
      if (!registry.allowOverwrite) {
        throw registryError('OVERWRITE_NOT_ALLOWED', `registry ${registry.name} does not allow overwriting versions`);
      }
      if (!request.message) {
        throw registryError('MESSAGE_REQUIRED', 'a forced overwrite needs a message saying why');
      }
      const { digest, integrity, size, publishedAt, publisher, message } = current;
      return {
        outcome: 'overwritten',
        next: withOciManifest(
          {
            ...current,
            ...archive,
            layer: manifest.layer,
            manifest,
            files: inspected.files,
            description: inspected.description,
            history: [
              ...current.history,
              {
                digest,
                integrity,
                size,
                publishedAt,
                publisher,
                message,
                replacedAt: now,
                replacedBy: request.publisher,
              },
            ].slice(-MAX_HISTORY),
            revision: current.revision + 1,
          },
          request.ociManifest ?? null,
        ),
      };
    };

    // Fail fast, before storing a blob, when the answer is already known. The catalog (current
    // within about a second across replicas) tells whether there is a record to read: when it
    // knows of none, the create-once write below finds out, and a version another process created
    // meanwhile is decided as an existing one then (its blob, content-addressed, is the same one
    // for the same bytes; another is left to gc). On S3 that spares every new version a GET
    // answered 404, which Ceph RGW with Nagle on (its default) holds ~40 ms.
    const known = this.catalog.index.version(registry.name, manifest.name, manifest.version) !== undefined;
    const existing = known ? await readJson<VersionRecord>(this.store, key) : null;
    if (existing) {
      const { outcome } = decide(existing.value);
      if (outcome === 'unchanged') {
        // The same bytes again put back an archive storage lost (BLOB_MISSING says to do this).
        if ((await this.store.head(blobKey(archive.digest))) === null) await storeBlob();
        return { outcome: 'unchanged', record: existing.value, warnings: inspected.warnings };
      }
    }

    if (!existing) {
      const record: VersionRecord = {
        registry: registry.name,
        name: manifest.name,
        version: manifest.version,
        layer: manifest.layer,
        ...archive,
        manifest,
        files: inspected.files,
        description: inspected.description,
        deprecated: declaredDeprecated(manifest, request.publisher, now),
        deleted: null,
        history: [],
        revision: 1,
        ...(request.ociManifest === undefined ? {} : { ociManifest: request.ociManifest }),
      };
      // The record's bytes go to disk while the blob is stored; it appears only after the blob.
      const stored = storeBlob();
      const [blob, created] = await Promise.allSettled([
        stored,
        createJson(this.store, key, record, { after: stored }),
      ]);
      if (blob.status === 'rejected') throw blob.reason;
      if (created.status === 'rejected') throw created.reason;
      const etag = created.value;
      if (etag !== null) {
        await this.announce(summarise(record, etag));
        return { outcome: 'created', record, warnings: inspected.warnings };
      }
      // Another publisher created it in the meantime: answer as for an existing version.
    } else {
      await storeBlob();
    }

    let outcome: PublishOutcome = 'unchanged';
    const updated = await updateJson<VersionRecord>(this.store, key, (current) => {
      const decision = decide(current);
      outcome = decision.outcome;
      return decision.next;
    });
    if (!updated) throw new Error(`version record ${key} disappeared during publish`);
    if (updated.changed) await this.announce(summarise(updated.value, updated.etag));
    return { outcome, record: updated.value, warnings: inspected.warnings };
  }
}
