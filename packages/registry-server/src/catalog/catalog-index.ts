/**
 * The in-memory catalog: every registry and a summary of every version, kept current from the
 * change log (./catalog-sync.ts), so that queries never touch storage. A pack's row shows its
 * latest version's metadata (the highest live version that is not deprecated, else the highest
 * live one); `version` and `deprecated` filters narrow the versions a row shows.
 *
 * The index is the state; its parts are ./pack-entry.ts (the state per pack), ./filter-columns.ts
 * and ./query-engine.ts (filters, sort and pages), ./catalog-cursor.ts and ./query-cache.ts.
 */
import { resolveVersion } from '@packyard/pack-core';
import { Columns } from './filter-columns.js';
import { compareEntries, entryKey, refresh, tagsOf, type PackEntry, type PackHeading } from './pack-entry.js';
import { QueryCache } from './query-cache.js';
import { queryPage, queryPageJson, type CatalogPage, type CatalogQuery } from './query-engine.js';
import type { RegistryRecord, VersionSummary } from './records.js';

export { DEFAULT_LIMIT, MAX_LIMIT, type CatalogPage, type CatalogQuery, type CatalogSort } from './query-engine.js';
export type { PackRow } from './pack-entry.js';

export interface PackDetail extends PackHeading {
  latest: string | null;
  /** Live versions, ascending. */
  versions: VersionSummary[];
  /** Line tags ("1.27.x") and the version each selects, deprecated versions left out. */
  tags: Record<string, string>;
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

function sameRecord(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/**
 * The summary, holding its pack's strings and lists where another version of the pack holds the
 * same (most metadata does not change between versions): one copy per pack instead of one per
 * version. A summary read from a snapshot or a change is parsed afresh, every string its own.
 */
function shareWithPack(summary: VersionSummary, entry: PackEntry, known: VersionSummary | undefined): VersionSummary {
  const like = known ?? entry.latest ?? entry.versions.values().next().value;
  summary.registry = entry.registry;
  summary.name = entry.name;
  if (!like) return summary;
  if (summary.layer === like.layer) summary.layer = like.layer;
  if (summary.displayName === like.displayName) summary.displayName = like.displayName;
  if (summary.addonType === like.addonType) summary.addonType = like.addonType;
  if (summary.description === like.description) summary.description = like.description;
  if (summary.publisher === like.publisher) summary.publisher = like.publisher;
  if (sameList(summary.cloudTypes, like.cloudTypes)) summary.cloudTypes = like.cloudTypes;
  if (sameRecord(summary.annotations, like.annotations)) summary.annotations = like.annotations;
  if (JSON.stringify(summary.dependencies) === JSON.stringify(like.dependencies)) {
    summary.dependencies = like.dependencies;
  }
  return summary;
}

export class CatalogIndex {
  private readonly registries = new Map<string, RegistryRecord>();
  private readonly packs = new Map<string, PackEntry>();
  /** Packs by name then registry, with their filter columns; rebuilt after a pack is added. */
  private columns: Columns | null = null;
  private versionCount = 0;
  /** Bumped by every change: cached query answers of an older generation are stale. */
  private generation = 0;
  private readonly queryCache: QueryCache | null;

  /** `queryCacheSize`: answers kept by {@link queryJson} (0: none). */
  constructor(queryCacheSize = 256) {
    this.queryCache = queryCacheSize > 0 ? new QueryCache(queryCacheSize) : null;
  }

  /** Applies a registry record unless a newer revision is already known; true when applied. */
  applyRegistry(record: RegistryRecord): boolean {
    const known = this.registries.get(record.name);
    if (known && known.revision >= record.revision) return false;
    this.registries.set(record.name, record);
    this.generation++;
    return true;
  }

  /** Applies a version summary unless a newer revision is already known; true when applied. */
  applyVersion(summary: VersionSummary): boolean {
    const entry = this.store(summary);
    if (!entry) return false;
    this.refreshEntry(entry);
    return true;
  }

  /** Applies many summaries (a snapshot), refreshing each pack once; returns how many applied. */
  applyVersions(summaries: Iterable<VersionSummary>): number {
    const touched = new Set<PackEntry>();
    for (const summary of summaries) {
      const entry = this.store(summary);
      if (entry) touched.add(entry);
    }
    for (const entry of touched) this.refreshEntry(entry);
    return touched.size;
  }

  /** Records a summary in its pack without refreshing it; the pack, or null when not newer. */
  private store(summary: VersionSummary): PackEntry | null {
    // Snapshots and change objects written before these fields existed lack them.
    const written = summary as Omit<VersionSummary, 'description' | 'dependencies'> &
      Partial<Pick<VersionSummary, 'description' | 'dependencies'>>;
    written.description ??= null;
    written.dependencies ??= [];
    const key = entryKey(summary.registry, summary.name);
    let entry = this.packs.get(key);
    const known = entry?.versions.get(summary.version);
    if (known && known.revision >= summary.revision) return null;
    if (!entry) {
      entry = {
        registry: summary.registry,
        name: summary.name,
        versions: new Map(),
        live: [],
        liveParsed: [],
        latest: null,
        searchText: '',
        row: null,
        rowJson: null,
        tags: null,
        position: -1,
      };
      this.packs.set(key, entry);
      this.columns = null;
    }
    if (!known) this.versionCount++;
    entry.versions.set(summary.version, shareWithPack(summary, entry, known));
    return entry;
  }

  private refreshEntry(entry: PackEntry): void {
    refresh(entry);
    this.generation++;
    if (this.columns && entry.position >= 0) this.columns.write(entry.position, entry);
  }

  /** Replaces this index's contents with another's (a reload built off to the side). */
  adopt(other: CatalogIndex): void {
    this.registries.clear();
    for (const [name, record] of other.registries) this.registries.set(name, record);
    this.packs.clear();
    for (const [key, entry] of other.packs) this.packs.set(key, entry);
    this.versionCount = other.versionCount;
    this.columns = null;
    this.generation++;
  }

  registry(name: string): RegistryRecord | undefined {
    return this.registries.get(name);
  }

  listRegistries(): RegistryRecord[] {
    return [...this.registries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The summary of one version, deleted ones included. */
  version(registry: string, name: string, version: string): VersionSummary | undefined {
    return this.packs.get(entryKey(registry, name))?.versions.get(version);
  }

  /**
   * The version a selector means in one pack: the exact version when published (deprecated or
   * not), else the highest live, non-deprecated version a `.x` tag or range selects.
   */
  resolve(registry: string, name: string, selector: string): VersionSummary | null {
    const entry = this.packs.get(entryKey(registry, name));
    if (!entry) return null;
    const exact = entry.versions.get(selector);
    if (exact) return exact;
    const candidates = entry.live.filter((v) => v.deprecated === null).map((v) => v.version);
    const chosen = resolveVersion(candidates, selector);
    return chosen === null ? null : (entry.versions.get(chosen) ?? null);
  }

  /** Whether the registry holds a pack of that name with a live version (what pack() would find). */
  hasPack(registry: string, name: string): boolean {
    return this.packs.get(entryKey(registry, name))?.latest != null;
  }

  pack(registry: string, name: string): PackDetail | null {
    const entry = this.packs.get(entryKey(registry, name));
    if (!entry?.latest) return null;
    const latest = entry.latest;
    return {
      registry,
      name,
      displayName: latest.displayName,
      layer: latest.layer,
      addonType: latest.addonType,
      cloudTypes: latest.cloudTypes,
      description: latest.description,
      latest: latest.version,
      versions: entry.live,
      tags: tagsOf(entry),
    };
  }

  /**
   * The live (not deleted) versions of a pack, deprecated ones included (they are still pulled):
   * what its OCI repository's tags are. Null when it has none.
   */
  liveVersions(registry: string, name: string): VersionSummary[] | null {
    const live = this.packs.get(entryKey(registry, name))?.live;
    return live && live.length > 0 ? [...live] : null;
  }

  /**
   * The packs whose constraints name `packName`: of each, the latest live version that does, in
   * registry and name order. A scan of every pack (a few milliseconds for 10,000).
   */
  dependents(packName: string): VersionSummary[] {
    const found: VersionSummary[] = [];
    for (const entry of this.packs.values()) {
      for (let i = entry.live.length - 1; i >= 0; i--) {
        const summary = entry.live[i];
        if (summary?.dependencies.some((dependency) => dependency.packName === packName)) {
          found.push(summary);
          break;
        }
      }
    }
    return found.sort(compareEntries);
  }

  /** The names of a registry's packs that have a live version, sorted (for OCI's `_catalog`). */
  packNames(registry: string): string[] {
    const names: string[] = [];
    for (const entry of this.packs.values()) {
      if (entry.registry === registry && entry.live.length > 0) names.push(entry.name);
    }
    return names.sort();
  }

  stats(): { registries: number; packs: number; versions: number } {
    return { registries: this.registries.size, packs: this.packs.size, versions: this.versionCount };
  }

  /** Every registry record and version summary, for a snapshot. */
  contents(): { registries: RegistryRecord[]; versions: VersionSummary[] } {
    const versions: VersionSummary[] = [];
    for (const entry of this.packs.values()) versions.push(...entry.versions.values());
    return { registries: [...this.registries.values()], versions };
  }

  /**
   * Runs a catalog query over the registries `readable` admits. Throws an InvalidQueryError for a
   * malformed cursor or version selector (the route answers 400).
   */
  query(query: CatalogQuery, readable: (registry: string) => boolean): CatalogPage {
    const columns = this.columnsNow();
    return queryPage(query, columns, columns.readableMask(readable));
  }

  /**
   * {@link query} as the JSON the API sends, served from a small cache of recent answers that
   * any change to the catalog invalidates (./query-cache.ts).
   */
  queryJson(query: CatalogQuery, readable: (registry: string) => boolean): string {
    const columns = this.columnsNow();
    const mask = columns.readableMask(readable);
    const make = (): string => queryPageJson(query, columns, mask);
    return this.queryCache ? this.queryCache.answer(query, mask, this.generation, make) : make();
  }

  private columnsNow(): Columns {
    this.columns ??= new Columns([...this.packs.values()].sort(compareEntries));
    return this.columns;
  }
}
