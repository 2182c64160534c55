/**
 * The seam between the OCI API and packs. Inside a registry, the repositories
 * `spectro-packs/archive/<pack name>` hold packs (what Palette reads): a manifest pushed there is a
 * publish, and packs published through /v1 are served there too. The routes send every manifest,
 * tag and blob operation on such a repository to an {@link OciPackRepositories}, which services
 * provide; every other repository is generic OCI content (./repository-store.ts).
 *
 * The default implementation here treats pack repositories like generic ones, so that the API is
 * whole before packs speak OCI.
 */
import type { Principal } from '../identity/principals.js';
import type { RegistryRecord } from '../catalog/records.js';
import type { ObjectRead } from '../storage/object-store.js';
import type { OciNamespace } from './namespaces.js';
import type { PageAsked } from './paging.js';
import { storedOf, type ParsedManifest } from './manifests.js';
import type { RepositoryRef, RepositoryStore, StoredManifest } from './repository-store.js';
import { isPackRepository, PACK_REPOSITORY_PREFIX } from './oci-names.js';

/** The pack name of a pack repository. */
export function packNameOf(repository: string): string {
  return repository.slice(PACK_REPOSITORY_PREFIX.length);
}

/** A manifest reference: a tag, or a digest (sha256 or sha512, already validated). */
export type ManifestReference = { tag: string } | { digest: string };

/** A manifest push, validated by the route: shape, media type, digest, and referenced blobs present. */
export interface ManifestPush {
  /** The parsed manifest: its record (digest, media type, size, subject, references). */
  manifest: ParsedManifest;
  /** Its bytes, exactly as pushed. */
  body: Buffer;
  /** The tag it is pushed under, if it is pushed by tag. */
  tag?: string;
  /** Who pushes it (the publisher of a pack). */
  principal: Principal;
  /**
   * Authorizes the pusher again right before a pack is recorded (its layer is checked first, which
   * takes a while); throws to refuse.
   */
  authorize?: () => void;
}

/** The manifest operations of one kind of repository. */
export interface ManifestBackend {
  /** Stores a manifest (and moves or creates the tag); throws a PackError to refuse it. */
  putManifest(at: OciNamespace, push: ManifestPush): Promise<void>;
  /** The manifest a tag or digest names, or null (MANIFEST_UNKNOWN). */
  getManifest(at: OciNamespace, reference: ManifestReference): Promise<StoredManifest | null>;
  /** By digest: deletes the manifest (and tags on it); by tag: the tag only. False when there was none. */
  deleteManifest(at: OciNamespace, reference: ManifestReference): Promise<boolean>;
  /**
   * A page of the repository's tags, sorted: at most `limit`, those after `after`, and whether more
   * follow; null when the repository does not exist (NAME_UNKNOWN).
   */
  tags(at: OciNamespace, page: PageAsked): Promise<{ tags: string[]; more: boolean } | null>;
}

/** What services provide for pack repositories. */
export interface OciPackRepositories extends ManifestBackend {
  /** The pack repositories of a registry (`spectro-packs/archive/<name>`), sorted, for `_catalog`. */
  repositories(registry: RegistryRecord): Promise<string[]>;
  /**
   * A blob of a pack repository, or a range of it; null when it has none of that digest. (A pack
   * published through /v1 is served as a tar.gz that is not a stored blob.)
   */
  readBlob(at: OciNamespace, digest: string, range?: { start: number; end?: number }): Promise<ObjectRead | null>;
  /** The size of a blob of a pack repository, or null. */
  blobSize(at: OciNamespace, digest: string): Promise<number | null>;
}

function ref(at: OciNamespace): RepositoryRef {
  return { registry: at.registry.name, repository: at.repository };
}

/** Generic OCI content: manifests, tags and blobs as stored by the repository store. */
export function genericManifests(store: RepositoryStore): ManifestBackend {
  return {
    async putManifest(at, push) {
      await store.putManifest(
        ref(at),
        { record: push.manifest.record, body: push.body, stored: storedOf(push.manifest) },
        push.tag,
      );
    },
    async getManifest(at, reference) {
      const digest = 'digest' in reference ? reference.digest : await store.resolveTag(ref(at), reference.tag);
      return digest === null ? null : store.getManifest(ref(at), digest);
    },
    async deleteManifest(at, reference) {
      if ('tag' in reference) return store.deleteTag(ref(at), reference.tag);
      return store.deleteManifest(ref(at), reference.digest);
    },
    async tags(at, page) {
      const tags = await store.tags(ref(at), page);
      if (tags.tags.length > 0 || (await store.hasRepository(ref(at)))) return tags;
      return null;
    },
  };
}

/** Until packs speak OCI: pack repositories hold generic content. */
export function genericPackRepositories(store: RepositoryStore): OciPackRepositories {
  return {
    ...genericManifests(store),
    async repositories(registry) {
      return (await store.repositories(registry.name)).filter(isPackRepository);
    },
    readBlob: (at, digest, range) => store.readBlob(ref(at), digest, range),
    blobSize: (at, digest) => store.blobSize(ref(at), digest),
  };
}
