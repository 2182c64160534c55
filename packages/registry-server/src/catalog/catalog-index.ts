/**
 * The in-memory catalog: every registry and a summary of every version, kept current from the
 * change log (./catalog-sync.ts), so that queries never touch storage. A pack's row shows its
 * latest version's metadata (the highest live version that is not deprecated, else the highest
 * live one); `version` and `deprecated` filters narrow the versions a row shows.
 */
import { compareVersions, lineTags, parseRange, resolveVersion, selectorKind } from '@packyard/pack-core';
import type { RegistryRecord, VersionSummary } from './records.js';

export type CatalogSort = 'name' | '-name' | 'published' | '-published';

export interface CatalogQuery {
  /** Exact pack name. */
  name?: string;
  /** Words that must all appear in the name, display name, add-on type or annotations. */
  q?: string;
  layer?: string;
  addonType?: string;
  /** Packs for this cloud, or for `all` clouds. */
  cloudType?: string;
  /** A version selector: exact, `.x` tag or range; rows then show the matching versions only. */
  version?: string;
  registry?: string;
  /** true: deprecated versions only; false: no deprecated versions. */
  deprecated?: boolean;
  sort?: CatalogSort;
  limit?: number;
  cursor?: string;
}

export interface PackRow {
  registry: string;
  name: string;
  displayName: string;
  layer: string;
  addonType: string | null;
  cloudTypes: string[];
  /** The latest version among those the row shows. */
  latest: string;
  /** The versions the row shows, ascending. */
  versions: string[];
  deprecated: boolean;
  publishedAt: string;
  digest: string;
}

export interface CatalogPage {
  total: number;
  items: PackRow[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface PackDetail {
  registry: string;
  name: string;
  displayName: string;
  layer: string;
  addonType: string | null;
  cloudTypes: string[];
  latest: string | null;
  /** Live versions, ascending. */
  versions: VersionSummary[];
  /** Line tags ("1.27.x") and the version each selects, deprecated versions left out. */
  tags: Record<string, string>;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

interface PackEntry {
  registry: string;
  name: string;
  versions: Map<string, VersionSummary>;
  /** Live (not deleted) versions, ascending. */
  live: VersionSummary[];
  latest: VersionSummary | null;
  searchText: string;
  row: PackRow | null;
}

function latestOf(live: readonly VersionSummary[]): VersionSummary | null {
  for (let i = live.length - 1; i >= 0; i--) {
    const summary = live[i];
    if (summary && summary.deprecated === null) return summary;
  }
  return live.at(-1) ?? null;
}

function rowOf(entry: PackEntry, shown: readonly VersionSummary[]): PackRow | null {
  const latest = latestOf(shown);
  if (!latest) return null;
  return {
    registry: entry.registry,
    name: entry.name,
    displayName: latest.displayName,
    layer: latest.layer,
    addonType: latest.addonType,
    cloudTypes: latest.cloudTypes,
    latest: latest.version,
    versions: shown.map((v) => v.version),
    deprecated: latest.deprecated !== null,
    publishedAt: latest.publishedAt,
    digest: latest.digest,
  };
}

function refresh(entry: PackEntry): void {
  entry.live = [...entry.versions.values()]
    .filter((v) => !v.deleted)
    .sort((a, b) => compareVersions(a.version, b.version));
  entry.latest = latestOf(entry.live);
  const latest = entry.latest;
  entry.searchText = latest
    ? [
        latest.name,
        latest.displayName,
        latest.addonType ?? '',
        ...Object.entries(latest.annotations).flatMap(([key, value]) => [key, value]),
      ]
        .join('\n')
        .toLowerCase()
    : '';
  entry.row = rowOf(entry, entry.live);
}

function entryKey(registry: string, name: string): string {
  return `${registry}\u0000${name}`;
}

function compareEntries(a: PackEntry, b: PackEntry): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.registry === b.registry) return 0;
  return a.registry < b.registry ? -1 : 1;
}

interface Cursor {
  sort: CatalogSort;
  /** publishedAt for the published sorts. */
  at?: string;
  registry: string;
  name: string;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** The cursor a client sent, or null when it is not one of ours (the caller answers 400). */
export function decodeCursor(text: string): Cursor | null {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (typeof value.registry !== 'string' || typeof value.name !== 'string' || typeof value.sort !== 'string') {
      return null;
    }
    return value as Cursor;
  } catch {
    return null;
  }
}

export class CatalogIndex {
  private readonly registries = new Map<string, RegistryRecord>();
  private readonly packs = new Map<string, PackEntry>();
  /** Packs by name then registry; rebuilt on the first query after a change. */
  private ordered: PackEntry[] | null = null;
  private versionCount = 0;

  /** Applies a registry record unless a newer revision is already known; true when applied. */
  applyRegistry(record: RegistryRecord): boolean {
    const known = this.registries.get(record.name);
    if (known && known.revision >= record.revision) return false;
    this.registries.set(record.name, record);
    return true;
  }

  /** Applies a version summary unless a newer revision is already known; true when applied. */
  applyVersion(summary: VersionSummary): boolean {
    const key = entryKey(summary.registry, summary.name);
    let entry = this.packs.get(key);
    const known = entry?.versions.get(summary.version);
    if (known && known.revision >= summary.revision) return false;
    if (!entry) {
      entry = {
        registry: summary.registry,
        name: summary.name,
        versions: new Map(),
        live: [],
        latest: null,
        searchText: '',
        row: null,
      };
      this.packs.set(key, entry);
      this.ordered = null;
    }
    if (!known) this.versionCount++;
    entry.versions.set(summary.version, summary);
    refresh(entry);
    return true;
  }

  /** Replaces this index's contents with another's (a reload built off to the side). */
  adopt(other: CatalogIndex): void {
    this.registries.clear();
    for (const [name, record] of other.registries) this.registries.set(name, record);
    this.packs.clear();
    for (const [key, entry] of other.packs) this.packs.set(key, entry);
    this.versionCount = other.versionCount;
    this.ordered = null;
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
      latest: latest.version,
      versions: entry.live,
      tags: lineTags(entry.live.filter((v) => v.deprecated === null).map((v) => v.version)),
    };
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
   * Runs a catalog query over the registries `readable` admits. Throws a RangeError for a
   * malformed cursor or version selector (the route answers 400).
   */
  query(query: CatalogQuery, readable: (registry: string) => boolean): CatalogPage {
    const sort = query.sort ?? 'name';
    const limit = Math.min(Math.max(query.limit ?? DEFAULT_LIMIT, 1), MAX_LIMIT);
    const cursor = query.cursor === undefined ? null : decodeCursor(query.cursor);
    if (query.cursor !== undefined && (!cursor || cursor.sort !== sort)) {
      throw new RangeError('the cursor is not valid for this query');
    }
    const match = this.matcher(query, readable);
    this.ordered ??= [...this.packs.values()].sort(compareEntries);
    const ordered = sort === '-name' ? [...this.ordered].reverse() : this.ordered;

    if (sort === 'name' || sort === '-name') {
      const after = (entry: PackEntry): boolean => {
        if (!cursor) return true;
        const c = compareEntries(entry, { name: cursor.name, registry: cursor.registry } as PackEntry);
        return sort === 'name' ? c > 0 : c < 0;
      };
      let total = 0;
      const items: PackRow[] = [];
      let more = false;
      for (const entry of ordered) {
        const row = match(entry);
        if (!row) continue;
        total++;
        if (!after(entry)) continue;
        if (items.length < limit) items.push(row);
        else more = true;
      }
      const last = items.at(-1);
      return {
        total,
        items,
        nextCursor: more && last ? encodeCursor({ sort, registry: last.registry, name: last.name }) : null,
      };
    }

    const rows: PackRow[] = [];
    for (const entry of ordered) {
      const row = match(entry);
      if (row) rows.push(row);
    }
    const direction = sort === 'published' ? 1 : -1;
    const compare = (a: PackRow, b: PackRow): number => {
      if (a.publishedAt !== b.publishedAt) return (a.publishedAt < b.publishedAt ? -1 : 1) * direction;
      if (a.name !== b.name) return a.name < b.name ? -1 : 1;
      return a.registry < b.registry ? -1 : a.registry > b.registry ? 1 : 0;
    };
    rows.sort(compare);
    let start = 0;
    if (cursor) {
      const marker = { publishedAt: cursor.at ?? '', name: cursor.name, registry: cursor.registry } as PackRow;
      while (start < rows.length && compare(rows[start] as PackRow, marker) <= 0) start++;
    }
    const items = rows.slice(start, start + limit);
    const last = items.at(-1);
    return {
      total: rows.length,
      items,
      nextCursor:
        start + limit < rows.length && last
          ? encodeCursor({ sort, at: last.publishedAt, registry: last.registry, name: last.name })
          : null,
    };
  }

  /** A function giving a pack's row under the query's filters, or null when it does not match. */
  private matcher(query: CatalogQuery, readable: (registry: string) => boolean): (entry: PackEntry) => PackRow | null {
    const terms = (query.q ?? '')
      .toLowerCase()
      .split(/\s+/)
      .filter((t) => t !== '');
    const addonType = query.addonType?.toLowerCase();
    const selector = query.version;
    let versionTest: ((version: string, all: readonly string[]) => boolean) | null = null;
    if (selector !== undefined) {
      const kind = selectorKind(selector);
      if (kind === null) throw new RangeError(`"${selector}" is not a version, a .x tag or a range`);
      if (kind === 'exact') {
        versionTest = (version, all) => version === resolveVersion(all, selector);
      } else {
        const range = parseRange(selector);
        versionTest = (version) => range?.test(version) ?? false;
      }
    }
    const narrowed = versionTest !== null || query.deprecated !== undefined;
    const readableCache = new Map<string, boolean>();
    const canRead = (registry: string): boolean => {
      let allowed = readableCache.get(registry);
      if (allowed === undefined) {
        allowed = readable(registry);
        readableCache.set(registry, allowed);
      }
      return allowed;
    };

    return (entry) => {
      const latest = entry.latest;
      if (!latest || !entry.row) return null;
      if (query.registry !== undefined && entry.registry !== query.registry) return null;
      if (query.name !== undefined && entry.name !== query.name) return null;
      if (query.layer !== undefined && latest.layer !== query.layer) return null;
      if (addonType !== undefined && latest.addonType?.toLowerCase() !== addonType) return null;
      if (
        query.cloudType !== undefined &&
        !latest.cloudTypes.includes(query.cloudType) &&
        !latest.cloudTypes.includes('all')
      ) {
        return null;
      }
      for (const term of terms) if (!entry.searchText.includes(term)) return null;
      if (!canRead(entry.registry)) return null;
      if (!narrowed) return entry.row;
      const all = entry.live.map((v) => v.version);
      const shown = entry.live.filter(
        (v) =>
          (query.deprecated === undefined || (v.deprecated !== null) === query.deprecated) &&
          (versionTest === null || versionTest(v.version, all)),
      );
      return rowOf(entry, shown);
    };
  }
}
