/**
 * What an OCI repository holds, over the object store: blob links (a blob is readable in a
 * repository only once pushed or mounted there), manifests (their bytes are content-addressed
 * blobs, like every blob; a revision record beside them says what they are), tags, referrers, and
 * each registry's index of repositories for `_catalog`. Keys come from storage/layout.ts.
 *
 * Several replicas may share one bucket: tags are written create-once or compare-and-swap, and
 * every other record is either create-once or written whole with the same content by any writer.
 */
import {
  blobKey,
  ociBlobLinkKey,
  ociRegistryBlobLinkKey,
  ociManifestKey,
  ociReferrerKey,
  ociReferrersPrefix,
  ociRepositoriesPrefix,
  ociRepositoryIndexKey,
  ociTagKey,
  ociTaggedKey,
  ociTaggedPrefix,
  ociTagsPrefix,
  repositoryOfIndexKey,
} from '../storage/layout.js';
import { createOnce, type ObjectRead, type ObjectStore } from '../storage/object-store.js';
import { claimBlobs, keepStored } from '../blobs/blob-claims.js';
import { putBlobBytes } from '../blobs/blob-store.js';
import { registryError } from '../errors.js';
import { encodeJson, readJson, updateJson } from '../storage/json-documents.js';
import { KeyedLock } from '../storage/keyed-lock.js';
import { isPackRepository } from './oci-names.js';

/** A repository inside a registry. */
export interface RepositoryRef {
  registry: string;
  repository: string;
}

/** What the store records about a manifest of a repository. */
export interface ManifestRecord {
  digest: string;
  mediaType: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  /** The digest of the manifest this one refers to (OCI 1.1 `subject`). */
  subject?: string;
  /** Every blob and manifest it references (config, layers, index children): gc keeps them. */
  references: string[];
  /**
   * In a pack repository, the pack version the manifest carries: it is pulled by digest only
   * while that version is live (a deleted version's manifest is gone by tag and by digest).
   */
  packVersion?: string;
  /**
   * In a pack repository, the digest of the pack archive the manifest carries (absent in records
   * written before it was kept: see ./pack-repositories.ts packDigestOf). A version overwritten
   * with `force` carries another archive: the manifests of the archive it replaced are gone.
   */
  packDigest?: string;
  pushedAt: string;
}

/** A manifest and its bytes. */
export interface StoredManifest {
  record: ManifestRecord;
  body: Buffer;
}

/**
 * A manifest to store, and what of its references must be in storage for it (./manifests.ts
 * storedOf): its config, layers and index children, not foreign layers (with URLs), nor a subject.
 */
export interface ManifestToStore extends StoredManifest {
  stored: readonly string[];
  /**
   * Those of `stored` the caller itself has just made sure of for this manifest (blobs/blob-claims.ts
   * keepStored: made by its own write, or claimed): not claimed again.
   */
  kept?: readonly string[];
}

/** A tag: the manifest it points at. */
interface TagRecord {
  digest: string;
}

/** The descriptor of a referrer, as the referrers API lists it. */
export interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

async function* keysUnder(store: ObjectStore, prefix: string): AsyncIterable<string> {
  for await (const object of store.list(prefix)) yield object.key.slice(prefix.length);
}

export class RepositoryStore {
  /** Repositories known to be in the index already: each is written once per process at most. */
  private readonly indexed = new Set<string>();
  /** Deletes of one manifest, tag or blob link, one at a time (see deleteManifest). */
  private readonly deletes = new KeyedLock();

  constructor(private readonly store: ObjectStore) {}

  /** Records the repository in its registry's index (idempotent, create-once). */
  async register(at: RepositoryRef): Promise<void> {
    const key = ociRepositoryIndexKey(at.registry, at.repository);
    if (this.indexed.has(key)) return;
    await createOnce(this.store, key, '');
    this.indexed.add(key);
  }

  /** The repositories of a registry, sorted. */
  async repositories(registry: string): Promise<string[]> {
    const names: string[] = [];
    for await (const key of keysUnder(this.store, ociRepositoriesPrefix(registry))) {
      names.push(repositoryOfIndexKey(key));
    }
    return names.sort();
  }

  async hasRepository(at: RepositoryRef): Promise<boolean> {
    return (await this.store.head(ociRepositoryIndexKey(at.registry, at.repository))) !== null;
  }

  // Blobs.

  /** The size of a blob readable in the repository, or null: linked there, and still stored. */
  async blobSize(at: RepositoryRef, digest: string): Promise<number | null> {
    const link = await this.store.head(ociBlobLinkKey(at.registry, at.repository, digest));
    if (!link) return null;
    const blob = await this.store.head(blobKey(digest));
    return blob ? blob.size : null;
  }

  /** Streams a blob of the repository (or a range of it), or null when it is not readable there. */
  async readBlob(
    at: RepositoryRef,
    digest: string,
    range?: { start: number; end?: number },
  ): Promise<ObjectRead | null> {
    const link = await this.store.head(ociBlobLinkKey(at.registry, at.repository, digest));
    if (!link) return null;
    return this.store.get(blobKey(digest), range ? { range } : {});
  }

  /** The size of a blob in storage, whatever repository holds it; null when none does. */
  async storedSize(digest: string): Promise<number | null> {
    return (await this.store.head(blobKey(digest)))?.size ?? null;
  }

  /**
   * Whether some generic repository of the registry was given the blob (it stays so after a blob
   * delete: anyone who may push to the registry may pull every repository of it) and it is still
   * stored. Pack repositories' blobs do not count: a deleted version's blobs are withdrawn from its
   * repository (./pack-repositories.ts), and an automatic mount must not bring them back.
   */
  async registryHolds(registry: string, digest: string): Promise<boolean> {
    if ((await this.store.head(ociRegistryBlobLinkKey(registry, digest))) === null) return false;
    return (await this.storedSize(digest)) !== null;
  }

  /** Makes a stored blob readable in the repository. */
  async linkBlob(at: RepositoryRef, digest: string): Promise<void> {
    // Independent writes, made at once: a blob push waits for one durable write here, not three.
    // Links are empty markers, written create-once: no store needs a compare-and-swap (on the fs
    // store, a lock) for them, and one already there is as good as a new one.
    await Promise.all([
      isPackRepository(at.repository) ? null : createOnce(this.store, ociRegistryBlobLinkKey(at.registry, digest), ''),
      createOnce(this.store, ociBlobLinkKey(at.registry, at.repository, digest), ''),
      this.register(at),
    ]);
  }

  /** Takes a blob out of the repository; false when it was not there. Storage keeps the bytes for gc. */
  async unlinkBlob(at: RepositoryRef, digest: string): Promise<boolean> {
    return this.deleteIfThere(ociBlobLinkKey(at.registry, at.repository, digest));
  }

  /**
   * Deletes `key` if it is there; false when it was not. One at a time per key in this process: of
   * concurrent deletes, only the first finds it.
   */
  private deleteIfThere(key: string): Promise<boolean> {
    return this.deletes.run(key, async () => {
      if (!(await this.store.head(key))) return false;
      await this.store.delete(key);
      return true;
    });
  }

  // Manifests.

  /**
   * Stores a manifest: its bytes as the blob of its digest, its record, its referrer entry (with a
   * subject), and the tag when one is given (moved there if it pointed elsewhere).
   */
  async putManifest(at: RepositoryRef, manifest: ManifestToStore, tag?: string): Promise<void> {
    const { record, body } = manifest;
    // Content-addressed: whoever wrote the key first wrote the same bytes. Bytes there from before,
    // and every blob the manifest needs stored, are claimed: garbage collection may be deciding on them.
    const storeBytes = () => putBlobBytes(this.store, record.digest, body);
    await keepStored(this.store, record.digest, await storeBytes(), storeBytes);
    const kept = new Set(manifest.kept);
    const gone = await claimBlobs(
      this.store,
      manifest.stored.filter((digest) => !kept.has(digest)),
    );
    if (gone.length > 0) {
      throw registryError('MANIFEST_BLOB_UNKNOWN', 'manifest references a manifest or blob no longer in storage', {
        details: { digests: gone },
      });
    }
    await this.store.put(ociManifestKey(at.registry, at.repository, record.digest), encodeJson(record), {
      contentType: 'application/json',
    });
    if (record.subject !== undefined) {
      const descriptor: ReferrerDescriptor = {
        mediaType: record.mediaType,
        digest: record.digest,
        size: record.size,
        ...(record.artifactType === undefined ? {} : { artifactType: record.artifactType }),
        ...(record.annotations === undefined ? {} : { annotations: record.annotations }),
      };
      await this.store.put(
        ociReferrerKey(at.registry, at.repository, record.subject, record.digest),
        encodeJson(descriptor),
        {
          contentType: 'application/json',
        },
      );
    }
    if (tag !== undefined) await this.setTag(at, tag, record.digest);
    await this.register(at);
  }

  /** Points `tag` at `digest` (compare-and-swap, so that concurrent writers on other replicas are not lost). */
  async setTag(at: RepositoryRef, tag: string, digest: string): Promise<void> {
    // First the marker, then the tag: a tag on a manifest always has its marker, crash or not.
    await this.store.put(ociTaggedKey(at.registry, at.repository, digest, tag), '');
    await updateJson<TagRecord>(
      this.store,
      ociTagKey(at.registry, at.repository, tag),
      (current) => (current.digest === digest ? undefined : { digest }),
      () => ({ digest: '' }),
    );
  }

  /** The digest a tag points at, or null. */
  async resolveTag(at: RepositoryRef, tag: string): Promise<string | null> {
    const found = await readJson<TagRecord>(this.store, ociTagKey(at.registry, at.repository, tag));
    return found ? found.value.digest : null;
  }

  async manifestRecord(at: RepositoryRef, digest: string): Promise<ManifestRecord | null> {
    const found = await readJson<ManifestRecord>(this.store, ociManifestKey(at.registry, at.repository, digest));
    return found ? found.value : null;
  }

  /** A manifest of the repository with its bytes, or null. */
  async getManifest(at: RepositoryRef, digest: string): Promise<StoredManifest | null> {
    const record = await this.manifestRecord(at, digest);
    if (!record) return null;
    const blob = await this.store.getBuffer(blobKey(digest));
    return blob ? { record, body: blob.body } : null;
  }

  /** Deletes a manifest, its referrer entry and every tag pointing at it; false when it was not there. */
  async deleteManifest(at: RepositoryRef, digest: string): Promise<boolean> {
    // One delete of a manifest at a time in this process: of concurrent ones, only the first finds
    // it (the others answer MANIFEST_UNKNOWN, as they would a moment later).
    return this.deletes.run(ociManifestKey(at.registry, at.repository, digest), () =>
      this.deleteManifestNow(at, digest),
    );
  }

  private async deleteManifestNow(at: RepositoryRef, digest: string): Promise<boolean> {
    const record = await this.manifestRecord(at, digest);
    if (!record) return false;
    // The tags once set to it (one lookup each), not every tag of the repository.
    const tagged: string[] = [];
    for await (const tag of keysUnder(this.store, ociTaggedPrefix(at.registry, at.repository, digest)))
      tagged.push(tag);
    for (const tag of tagged) {
      if ((await this.resolveTag(at, tag)) === digest) await this.deleteTag(at, tag);
      await this.store.delete(ociTaggedKey(at.registry, at.repository, digest, tag));
    }
    if (record.subject !== undefined) {
      await this.store.delete(ociReferrerKey(at.registry, at.repository, record.subject, digest));
    }
    await this.store.delete(ociManifestKey(at.registry, at.repository, digest));
    return true;
  }

  /** Deletes a tag (not the manifest); false when there was no such tag. */
  async deleteTag(at: RepositoryRef, tag: string): Promise<boolean> {
    return this.deleteIfThere(ociTagKey(at.registry, at.repository, tag));
  }

  /**
   * A page of a repository's tags, sorted: at most `limit`, those after `after`, and whether more
   * follow. Lists no more than the page's keys (tags are key-safe as they are, so the keys sort as
   * the tags do): a request's cost does not grow with the repository's tags.
   */
  async tags(at: RepositoryRef, page: { after?: string; limit: number }): Promise<{ tags: string[]; more: boolean }> {
    const prefix = ociTagsPrefix(at.registry, at.repository);
    const listing = this.store.list(prefix, {
      keysOnly: true,
      ...(page.after === undefined ? {} : { startAfter: `${prefix}${page.after}` }),
    });
    const tags: string[] = [];
    for await (const object of listing) {
      if (tags.length === page.limit) return { tags, more: true };
      tags.push(object.key.slice(prefix.length));
    }
    return { tags, more: false };
  }

  /**
   * The descriptors of the manifests whose subject is `subject`, by digest, one page at a time:
   * those after `after` (a digest), at most `limit` of them and `maxBytes` of stored descriptors
   * (at least one: a descriptor carries its manifest's annotations, which may be megabytes). Lists
   * no more than a page's keys and reads no more than its descriptors (one storage read each).
   * `next` is where the following page starts, when referrers remain.
   */
  async referrers(
    at: RepositoryRef,
    subject: string,
    page: { after?: string; limit: number; maxBytes: number },
  ): Promise<{ descriptors: ReferrerDescriptor[]; next?: string }> {
    const prefix = ociReferrersPrefix(at.registry, at.repository, subject);
    // `<alg>-<hex>`: the referrer's digest, its `:` made `-`; keys sort as the digests do.
    const listing = this.store.list(prefix, {
      keysOnly: true,
      ...(page.after === undefined ? {} : { startAfter: `${prefix}${page.after.replace(':', '-')}` }),
    });
    const descriptors: ReferrerDescriptor[] = [];
    let bytes = 0;
    let last: string | undefined;
    for await (const object of listing) {
      const digest = object.key.slice(prefix.length).replace('-', ':');
      if (descriptors.length === page.limit) return { descriptors, ...(last === undefined ? {} : { next: last }) };
      const found = await this.store.getBuffer(object.key);
      if (!found) continue; // deleted since it was listed
      if (descriptors.length > 0 && bytes + found.body.length > page.maxBytes) {
        return { descriptors, ...(last === undefined ? {} : { next: last }) };
      }
      descriptors.push(JSON.parse(found.body.toString('utf8')) as ReferrerDescriptor);
      bytes += found.body.length;
      last = digest;
    }
    return { descriptors };
  }
}
