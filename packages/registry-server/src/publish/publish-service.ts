/**
 * The publish pipeline: an uploaded archive (already streamed to a temporary file and hashed) is
 * inspected, its blob stored content-addressed, then its version record created once. The rules:
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
import type { PackError, ArchiveLimits, Finding } from '@packyard/pack-core';
import { stageBlobFromFile } from '../blobs/blob-store.js';
import type { CatalogSync } from '../catalog/catalog-sync.js';
import { summarise, type RegistryRecord, type VersionRecord } from '../catalog/records.js';
import { versionKey } from '../storage/layout.js';
import { createJson, readJson, updateJson } from '../storage/json-documents.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { PackInspector } from './pack-inspector.js';
import type { ReceivedUpload } from './receive-upload.js';
import { registryError } from '../errors.js';

export interface PublishRequest {
  registry: RegistryRecord;
  upload: ReceivedUpload;
  publisher: string;
  force: boolean;
  message: string | null;
}

export type PublishOutcome = 'created' | 'unchanged' | 'overwritten' | 'restored';

export interface PublishResult {
  outcome: PublishOutcome;
  record: VersionRecord;
  warnings: Finding[];
  /** Milliseconds spent checking the archive, storing its blob, and writing the record. */
  timings: PublishTimings;
}

export interface PublishTimings {
  inspectMs: number;
  blobMs: number;
  recordMs: number;
}

const since = (start: number): number => Math.round(performance.now() - start);

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

export class PublishService {
  private readonly limits: ArchiveLimits;
  /** Runs the archive check on a worker thread, within a time budget. */
  private readonly inspector: PackInspector;

  constructor(
    private readonly store: ObjectStore,
    private readonly catalog: CatalogSync,
    options: { limits: ArchiveLimits; inspector: PackInspector },
  ) {
    this.limits = options.limits;
    this.inspector = options.inspector;
  }

  async publish(request: PublishRequest): Promise<PublishResult> {
    const { upload } = request;
    // The blob goes up to storage while the archive is checked; it becomes visible only when
    // committed, after every check has passed (or it was streamed up with the body already).
    let staged = upload.staged ?? (await stageBlobFromFile(this.store, upload.digest, upload.file, upload.size));
    try {
      return await this.publishStaged(request, async () => {
        // A failed commit cleans up after itself: nothing is left to abort then.
        const committing = staged;
        staged = null;
        await committing?.commit();
      });
    } finally {
      await staged?.abort();
    }
  }

  private async publishStaged(request: PublishRequest, storeBlob: () => Promise<void>): Promise<PublishResult> {
    const { registry, upload } = request;
    const timings: PublishTimings = { inspectMs: 0, blobMs: 0, recordMs: 0 };
    let start = performance.now();
    const inspected = await this.inspector.inspect(upload.file, this.limits, upload.blocks);
    timings.inspectMs = since(start);
    const { manifest } = inspected;
    const now = new Date().toISOString();
    const archive = {
      digest: upload.digest,
      integrity: upload.integrity,
      size: upload.size,
      publishedAt: now,
      publisher: request.publisher,
      message: request.message,
    };
    const key = versionKey(registry.name, manifest.name, manifest.version);
    const decide = (current: VersionRecord): { outcome: PublishOutcome; next: VersionRecord | undefined } => {
      if (current.deleted) {
        if (current.digest !== upload.digest) throw versionDeleted(current);
        return {
          outcome: 'restored',
          next: { ...current, deleted: null, revision: current.revision + 1 },
        };
      }
      if (current.digest === upload.digest) return { outcome: 'unchanged', next: undefined };
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
        next: {
          ...current,
          ...archive,
          layer: manifest.layer,
          manifest,
          files: inspected.files,
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
          ],
          revision: current.revision + 1,
        },
      };
    };

    // Fail fast, before storing a blob, when the answer is already known.
    const existing = await readJson<VersionRecord>(this.store, key);
    if (existing) {
      const { outcome } = decide(existing.value);
      if (outcome === 'unchanged')
        return { outcome: 'unchanged', record: existing.value, warnings: inspected.warnings, timings };
    }

    start = performance.now();
    await storeBlob();
    timings.blobMs = since(start);
    start = performance.now();

    if (!existing) {
      const record: VersionRecord = {
        registry: registry.name,
        name: manifest.name,
        version: manifest.version,
        layer: manifest.layer,
        ...archive,
        manifest,
        files: inspected.files,
        deprecated: null,
        deleted: null,
        history: [],
        revision: 1,
      };
      const etag = await createJson(this.store, key, record);
      if (etag !== null) {
        await this.catalog.record({ kind: 'version', summary: summarise(record, etag) });
        timings.recordMs = since(start);
        return { outcome: 'created', record, warnings: inspected.warnings, timings };
      }
      // Another publisher created it in the meantime: answer as for an existing version.
    }

    let outcome: PublishOutcome = 'unchanged';
    const updated = await updateJson<VersionRecord>(this.store, key, (current) => {
      const decision = decide(current);
      outcome = decision.outcome;
      return decision.next;
    });
    if (!updated) throw new Error(`version record ${key} disappeared during publish`);
    if (updated.changed) {
      await this.catalog.record({ kind: 'version', summary: summarise(updated.value, updated.etag) });
    }
    timings.recordMs = since(start);
    return { outcome, record: updated.value, warnings: inspected.warnings, timings };
  }
}
