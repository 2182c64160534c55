/** Registries, packs and their versions: the catalog and publishing side of the API. */
import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Nullable, REGISTRY_NAME_PATTERN } from './common.js';

const description = Type.Optional(Nullable(Type.String({ maxLength: 2000 })));
const flag = Type.Optional(Nullable(Type.Boolean()));

export const RegistryScope = Type.Union([Type.Literal('system'), Type.Literal('tenant'), Type.Literal('project')]);
export type RegistryScope = Static<typeof RegistryScope>;

export const Registry = Type.Object({
  name: Type.String(),
  scope: RegistryScope,
  /** The owning tenant, for tenant and project registries. */
  tenant: Nullable(Type.String()),
  /** The owning project, for project registries. */
  project: Nullable(Type.String()),
  description: Type.String(),
  /** Anonymous callers may read it (when the server allows anonymous reads). */
  public: Type.Boolean(),
  /** `?force=true` may replace a published version's bytes. */
  allowOverwrite: Type.Boolean(),
  createdAt: DateTime,
  createdBy: Type.String(),
  /** Incremented by every update; replicas keep the highest they have seen. */
  revision: Type.Integer(),
});
export type Registry = Static<typeof Registry>;

export const NewRegistry = Type.Object(
  {
    name: Type.String({ pattern: REGISTRY_NAME_PATTERN, maxLength: 64 }),
    scope: RegistryScope,
    tenant: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 128 }))),
    project: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 128 }))),
    description,
    public: flag,
    allowOverwrite: flag,
  },
  { additionalProperties: false },
);
export type NewRegistry = Static<typeof NewRegistry>;

export const RegistryChanges = Type.Object(
  { description, public: flag, allowOverwrite: flag },
  { additionalProperties: false, minProperties: 1 },
);
export type RegistryChanges = Static<typeof RegistryChanges>;

export const VersionChanges = Type.Object(
  {
    /** true (with a message) deprecates; false clears a deprecation. */
    deprecated: Type.Boolean(),
    message: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 2000 }))),
  },
  { additionalProperties: false },
);
export type VersionChanges = Static<typeof VersionChanges>;

const Digest = Type.String({ description: 'sha256:<hex> of the archive' });

export const Deprecation = Type.Object({ message: Type.String(), at: DateTime, by: Type.String() });

/** The bytes a version pointed at before a forced overwrite. */
export const ReplacedArchive = Type.Object({
  digest: Digest,
  integrity: Type.String(),
  size: Type.Integer(),
  publishedAt: DateTime,
  publisher: Type.String(),
  message: Nullable(Type.String()),
  replacedAt: DateTime,
  replacedBy: Type.String(),
});

export const ArchiveFile = Type.Object({ path: Type.String(), size: Type.Integer() });

/**
 * The most dependencies a published pack.json can list: the registry takes pack.json up to 1 MiB
 * (pack-core's MAX_MANIFEST_BYTES), and the shortest dependency, `{"packName":"a","layer":"b"}`
 * and its comma, takes 29 bytes. A record listing more did not come from a Packyard registry.
 */
export const MAX_MANIFEST_DEPENDENCIES = Math.floor((1024 * 1024) / 29);
/** The most cloud types a published pack.json can list: the shortest, `"a",`, takes 4 bytes of 1 MiB. */
export const MAX_MANIFEST_CLOUD_TYPES = (1024 * 1024) / 4;

/**
 * pack.json as published (schemas/pack.schema.json, checked by the server at publish time): the
 * fields clients act on are spelled out, the rest passes through.
 */
export const PublishedManifest = Type.Object(
  {
    name: Type.String(),
    version: Type.String(),
    displayName: Type.String(),
    layer: Type.String(),
    cloudTypes: Type.Optional(Type.Array(Type.String(), { maxItems: MAX_MANIFEST_CLOUD_TYPES })),
    constraints: Type.Optional(
      Type.Object({
        dependencies: Type.Optional(
          Type.Array(
            Type.Object({
              packName: Type.String(),
              layer: Type.String(),
              minVersion: Type.Optional(Nullable(Type.String())),
              maxVersion: Type.Optional(Nullable(Type.String())),
              type: Type.Optional(
                Type.Union([
                  Type.Literal('required'),
                  Type.Literal('optional'),
                  Type.Literal('notSupported'),
                  Type.Literal('upgrade'),
                ]),
              ),
            }),
            { maxItems: MAX_MANIFEST_DEPENDENCIES },
          ),
        ),
      }),
    ),
  },
  { description: 'pack.json as published' },
);
export type PublishedManifest = Static<typeof PublishedManifest>;

export const VersionRecord = Type.Object({
  registry: Type.String(),
  name: Type.String(),
  version: Type.String(),
  layer: Type.String(),
  digest: Digest,
  integrity: Type.String({
    description:
      'Subresource Integrity of the archive: sha256-<base64>, the same sha256 as `digest` (sha512-<base64> in versions published by earlier releases)',
  }),
  size: Type.Integer({ minimum: 0 }),
  publishedAt: DateTime,
  publisher: Type.String(),
  message: Nullable(Type.String()),
  deprecated: Nullable(Deprecation),
  manifest: PublishedManifest,
  files: Type.Array(ArchiveFile),
  history: Type.Array(ReplacedArchive),
  revision: Type.Integer(),
});
export type VersionRecord = Static<typeof VersionRecord>;

/** A lint finding the server reports about a published pack (pack-core's lint). */
export const LintFinding = Type.Object({
  rule: Type.String(),
  severity: Type.String(),
  message: Type.String(),
  file: Type.Optional(Type.String()),
});

/** The answer to a publish: the version record, what happened, and lint warnings. */
export const Published = Type.Composite([
  VersionRecord,
  Type.Object({
    /** created, restored, unchanged or overwritten. */
    outcome: Type.String(),
    warnings: Type.Array(LintFinding),
  }),
]);
export type Published = Static<typeof Published>;

/** The answer to deleting a version: the tombstone left in its place. */
export const DeletedVersion = Type.Object({
  registry: Type.String(),
  name: Type.String(),
  version: Type.String(),
  deleted: Nullable(Type.Object({ at: DateTime, by: Type.String(), message: Nullable(Type.String()) })),
});
export type DeletedVersion = Static<typeof DeletedVersion>;

/** What a search row and a pack's page both say of the pack (from its latest version's manifest). */
const packFields = {
  registry: Type.String(),
  name: Type.String(),
  displayName: Type.String(),
  layer: Type.String(),
  addonType: Nullable(Type.String()),
  cloudTypes: Type.Array(Type.String()),
  /**
   * The first paragraph of the latest version's README.md as plain text, at most 240 characters;
   * null when it has none (or was published before the registry kept descriptions). Optional for
   * clients: registries older than it do not send it.
   */
  description: Type.Optional(Nullable(Type.String())),
};

export const PackRow = Type.Object({
  ...packFields,
  /** The latest version among those the row shows. */
  latest: Type.String(),
  /** The versions the row shows, ascending. */
  versions: Type.Array(Type.String()),
  deprecated: Type.Boolean(),
  publishedAt: DateTime,
  digest: Digest,
});
export type PackRow = Static<typeof PackRow>;

/** Packs per value of a facet. */
const FacetCounts = Type.Record(Type.String(), Type.Integer({ minimum: 0 }));

/**
 * With `facets=true`: for each facet, how many packs match with that facet's own filter set to
 * each value and the other filters kept; `deprecated`, the matches with a deprecated version.
 */
export const CatalogFacets = Type.Object({
  layer: FacetCounts,
  cloudType: FacetCounts,
  addonType: FacetCounts,
  registry: FacetCounts,
  deprecated: Type.Integer({ minimum: 0 }),
});

export const CatalogPage = Type.Object({
  total: Type.Integer(),
  items: Type.Array(PackRow),
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: Nullable(Type.String()),
  facets: Type.Optional(CatalogFacets),
});
export type CatalogPage = Static<typeof CatalogPage>;

/** Who uses a version: the cluster profiles selecting it and the packs whose constraints name it. */
export const PackUsage = Type.Object({
  /** Profiles (of the scopes the caller may list) whose entry for the pack resolves to this version. */
  profiles: Type.Array(
    Type.Object({
      scope: Type.Union([Type.Literal('system'), Type.Literal('tenant'), Type.Literal('project')]),
      tenant: Nullable(Type.String()),
      project: Nullable(Type.String()),
      name: Type.String(),
      version: Type.String(),
      /** The version selector the profile gives the pack (exact, line tag or range). */
      selector: Type.String(),
    }),
  ),
  /** Of each pack (in registries the caller may read) whose constraints name this one, its latest live version that does. */
  dependents: Type.Array(
    Type.Object({
      registry: Type.String(),
      name: Type.String(),
      displayName: Type.String(),
      version: Type.String(),
      /** required, optional, notSupported or upgrade; null when the constraint has no type. */
      type: Nullable(Type.String()),
      minVersion: Nullable(Type.String()),
      maxVersion: Nullable(Type.String()),
      /** Whether this version is within [minVersion, maxVersion]. */
      includes: Type.Boolean(),
    }),
  ),
});
export type PackUsage = Static<typeof PackUsage>;

/** One live version of a pack, as the pack's page lists it. */
export const PackVersion = Type.Object({
  version: Type.String(),
  digest: Digest,
  size: Type.Integer(),
  publishedAt: DateTime,
  publisher: Type.String(),
  /** The deprecation message, or null. */
  deprecated: Nullable(Type.String()),
  cloudTypes: Type.Array(Type.String()),
});
export type PackVersion = Static<typeof PackVersion>;

export const PackDetail = Type.Object({
  ...packFields,
  latest: Nullable(Type.String()),
  /** Live versions, ascending. */
  versions: Type.Array(PackVersion),
  /** Line tags ("1.27.x") and the version each selects, deprecated versions left out. */
  tags: Type.Record(Type.String(), Type.String()),
});
export type PackDetail = Static<typeof PackDetail>;

/** How many times each version of a pack was downloaded; versions never downloaded may be absent. */
export const PackDownloads = Type.Object({
  /** Archive downloads by version: whole GETs, ranges from byte 0, redirects to storage. */
  versions: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
});
export type PackDownloads = Static<typeof PackDownloads>;
