/**
 * The in-memory catalog: every registry and a summary of every version, kept current from the
 * change log (./catalog-sync.ts), so that queries never touch storage. A pack's row shows its
 * latest version's metadata (the highest live version that is not deprecated, else the highest
 * live one); `version` and `deprecated` filters narrow the versions a row shows.
 */
import { LRUCache } from 'lru-cache';
import {
  CLOUD_TYPES,
  compareParsedVersions,
  LAYERS,
  lineTags,
  parseRange,
  parseVersion,
  resolveVersion,
  selectorKind,
  type ParsedVersion,
  type VersionRange,
} from '@packyard/pack-core';
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
  /** Live (not deleted) versions, ascending, and their parsed forms (null: not a version). */
  live: VersionSummary[];
  liveParsed: Array<ParsedVersion | null>;
  latest: VersionSummary | null;
  searchText: string;
  row: PackRow | null;
  /** `row` as JSON, made on first use. */
  rowJson: string | null;
  /** Position in the name-ordered list, -1 until it is (re)built. */
  position: number;
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
  const live = [...entry.versions.values()]
    .filter((v) => !v.deleted)
    .map((summary) => ({ summary, raw: summary.version, parsed: parseVersion(summary.version) }))
    .sort(compareParsedVersions);
  entry.live = live.map((v) => v.summary);
  entry.liveParsed = live.map((v) => v.parsed);
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
  entry.rowJson = null;
}

function rowJsonOf(entry: PackEntry): string {
  entry.rowJson ??= JSON.stringify(entry.row);
  return entry.rowJson;
}

function entryKey(registry: string, name: string): string {
  return `${registry}\u0000${name}`;
}

function compareEntries(a: { name: string; registry: string }, b: { name: string; registry: string }): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.registry === b.registry) return 0;
  return a.registry < b.registry ? -1 : 1;
}

const NO_LAYER = 255;
/** Words of the trigram signature of each pack's search text: 256 bits. */
const SIGNATURE_WORDS = 8;

/**
 * Sets the bit of every character trigram of `text` in `out` (SIGNATURE_WORDS words from
 * `offset`). A pack whose signature lacks one of a search term's trigram bits cannot contain the
 * term, so most packs are ruled out with a few integer tests before any substring search.
 */
function addTrigrams(text: string, out: Uint32Array, offset: number): void {
  for (let i = 0; i + 2 < text.length; i++) {
    const hash = Math.imul(text.charCodeAt(i) * 961 + text.charCodeAt(i + 1) * 31 + text.charCodeAt(i + 2), 2654435761);
    const bit = hash >>> 24;
    const word = offset + (bit >>> 5);
    out[word] = (out[word] ?? 0) | (1 << (bit & 31));
  }
}
const CLOUD_BITS = new Map<string, number>(CLOUD_TYPES.map((cloud, i) => [cloud, 2 ** i]));
const ALL_CLOUDS_BIT = CLOUD_BITS.get('all') ?? 0;

/**
 * The filterable attributes of every pack's latest version, one typed array per attribute in the
 * name order, so that a query tests numbers in tight loops rather than walking objects.
 */
class Columns {
  readonly layer: Uint8Array;
  readonly clouds: Uint32Array;
  readonly addonType: Int32Array;
  readonly registry: Int32Array;
  readonly signatures: Uint32Array;
  private readonly addonTypeIds = new Map<string, number>();
  private readonly registryIds = new Map<string, number>();

  constructor(readonly entries: readonly PackEntry[]) {
    const n = entries.length;
    this.layer = new Uint8Array(n);
    this.clouds = new Uint32Array(n);
    this.addonType = new Int32Array(n);
    this.registry = new Int32Array(n);
    this.signatures = new Uint32Array(n * SIGNATURE_WORDS);
    entries.forEach((entry, i) => {
      entry.position = i;
      this.write(i, entry);
    });
  }

  private id(map: Map<string, number>, key: string): number {
    let id = map.get(key);
    if (id === undefined) {
      id = map.size;
      map.set(key, id);
    }
    return id;
  }

  write(i: number, entry: PackEntry): void {
    const latest = entry.latest;
    const layer = latest ? (LAYERS as readonly string[]).indexOf(latest.layer) : -1;
    this.layer[i] = layer === -1 ? NO_LAYER : layer;
    let clouds = 0;
    for (const cloud of latest?.cloudTypes ?? []) clouds |= CLOUD_BITS.get(cloud) ?? 0;
    this.clouds[i] = clouds;
    this.addonType[i] = latest?.addonType ? this.id(this.addonTypeIds, latest.addonType.toLowerCase()) : -1;
    this.registry[i] = this.id(this.registryIds, entry.registry);
    this.signatures.fill(0, i * SIGNATURE_WORDS, (i + 1) * SIGNATURE_WORDS);
    addTrigrams(entry.searchText, this.signatures, i * SIGNATURE_WORDS);
  }

  layerCode(layer: string): number {
    const code = (LAYERS as readonly string[]).indexOf(layer);
    return code === -1 ? -2 : code;
  }

  addonTypeId(addonType: string): number {
    return this.addonTypeIds.get(addonType.toLowerCase()) ?? -2;
  }

  /** 1 for each registry id the caller may read. */
  readableMask(readable: (registry: string) => boolean): Uint8Array {
    const mask = new Uint8Array(this.registryIds.size);
    for (const [name, id] of this.registryIds) mask[id] = readable(name) ? 1 : 0;
    return mask;
  }
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
  /** Packs by name then registry, with their filter columns; rebuilt after a pack is added. */
  private columns: Columns | null = null;
  private versionCount = 0;
  /** Bumped by every change: cached query answers of an older generation are stale. */
  private generation = 0;
  private readonly queryCache: LRUCache<string, { generation: number; json: string }> | null;

  /** `queryCacheSize`: answers kept by {@link queryJson} (0: none). */
  constructor(queryCacheSize = 256) {
    this.queryCache = queryCacheSize > 0 ? new LRUCache({ max: queryCacheSize }) : null;
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
        position: -1,
      };
      this.packs.set(key, entry);
      this.columns = null;
    }
    if (!known) this.versionCount++;
    entry.versions.set(summary.version, summary);
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
    const columns = this.columnsNow();
    const { total, entries, rows, nextCursor } = this.run(query, columns, columns.readableMask(readable));
    return { total, items: rows ?? entries.map((entry) => entry.row as PackRow), nextCursor };
  }

  /**
   * {@link query} as the JSON the API sends, served from a small cache of recent answers that
   * any change to the catalog invalidates (profile builders and CI ask the same questions often).
   */
  queryJson(query: CatalogQuery, readable: (registry: string) => boolean): string {
    const columns = this.columnsNow();
    const mask = columns.readableMask(readable);
    const key = `${mask.join('')}\u0000${JSON.stringify(query, Object.keys(query).sort())}`;
    const cached = this.queryCache?.get(key);
    if (cached?.generation === this.generation) return cached.json;
    const { total, entries, rows, nextCursor } = this.run(query, columns, mask);
    const items = rows ? rows.map((row) => JSON.stringify(row)) : entries.map(rowJsonOf);
    const json = `{"total":${total},"items":[${items.join(',')}],"nextCursor":${JSON.stringify(nextCursor)}}`;
    this.queryCache?.set(key, { generation: this.generation, json });
    return json;
  }

  private columnsNow(): Columns {
    this.columns ??= new Columns([...this.packs.values()].sort(compareEntries));
    return this.columns;
  }

  /**
   * The matching packs of one page: `entries` when rows are the packs' own, or `rows` when the
   * version or deprecated filter narrowed them.
   */
  private run(
    query: CatalogQuery,
    columns: Columns,
    readable: Uint8Array,
  ): { total: number; entries: PackEntry[]; rows: PackRow[] | null; nextCursor: string | null } {
    const sort = query.sort ?? 'name';
    const limit = Math.min(Math.max(query.limit ?? DEFAULT_LIMIT, 1), MAX_LIMIT);
    const cursor = query.cursor === undefined ? null : decodeCursor(query.cursor);
    if (query.cursor !== undefined && (!cursor || cursor.sort !== sort)) {
      throw new RangeError('the cursor is not valid for this query');
    }
    const narrow = this.narrower(query);
    const matches = this.scan(columns, query, readable);

    // Rows a version or deprecated filter leaves with no version do not match at all.
    const rowOfEntry = new Map<PackEntry, PackRow>();
    let matching = matches;
    if (narrow) {
      matching = [];
      for (const entry of matches) {
        const row = narrow(entry);
        if (row) {
          rowOfEntry.set(entry, row);
          matching.push(entry);
        }
      }
    }
    const rowFor = (entry: PackEntry): PackRow => rowOfEntry.get(entry) ?? (entry.row as PackRow);

    let ordered: PackEntry[];
    let after: (entry: PackEntry) => boolean = () => true;
    if (sort === 'name' || sort === '-name') {
      ordered = sort === 'name' ? matching : [...matching].reverse();
      if (cursor) {
        after = (entry) => {
          const c = compareEntries(entry, cursor);
          return sort === 'name' ? c > 0 : c < 0;
        };
      }
    } else {
      const direction = sort === 'published' ? 1 : -1;
      const key = (entry: PackEntry) => ({ at: rowFor(entry).publishedAt, name: entry.name, registry: entry.registry });
      const compare = (a: { at: string; name: string; registry: string }, b: typeof a): number =>
        a.at !== b.at ? (a.at < b.at ? -1 : 1) * direction : compareEntries(a, b);
      ordered = [...matching].sort((a, b) => compare(key(a), key(b)));
      if (cursor) after = (entry) => compare(key(entry), { at: cursor.at ?? '', ...cursor }) > 0;
    }
    let start = 0;
    while (start < ordered.length && !after(ordered[start] as PackEntry)) start++;
    const page = ordered.slice(start, start + limit);
    const last = page.at(-1);
    const nextCursor =
      start + limit < ordered.length && last
        ? encodeCursor({
            sort,
            ...(sort === 'published' || sort === '-published' ? { at: rowFor(last).publishedAt } : {}),
            registry: last.registry,
            name: last.name,
          })
        : null;
    return { total: matching.length, entries: page, rows: narrow ? page.map(rowFor) : null, nextCursor };
  }

  /** The packs whose latest version passes the query's filters, in name order. */
  private scan(columns: Columns, query: CatalogQuery, readable: Uint8Array): PackEntry[] {
    const { entries } = columns;
    const layer = query.layer === undefined ? -1 : columns.layerCode(query.layer);
    const addonType = query.addonType === undefined ? -1 : columns.addonTypeId(query.addonType);
    const clouds = query.cloudType === undefined ? 0 : (CLOUD_BITS.get(query.cloudType) ?? 0) | ALL_CLOUDS_BIT;
    const terms = (query.q ?? '')
      .toLowerCase()
      .split(/\s+/)
      .filter((t) => t !== '');
    const registry = query.registry;
    const name = query.name;
    const wanted = new Uint32Array(SIGNATURE_WORDS);
    for (const term of terms) addTrigrams(term, wanted, 0);
    const { signatures } = columns;
    const out: PackEntry[] = [];
    entries: for (let i = 0; i < entries.length; i++) {
      if (readable[columns.registry[i] ?? 0] !== 1) continue;
      if (layer !== -1 && columns.layer[i] !== layer) continue;
      if (addonType !== -1 && columns.addonType[i] !== addonType) continue;
      if (clouds !== 0 && ((columns.clouds[i] ?? 0) & clouds) === 0) continue;
      for (let w = 0; w < SIGNATURE_WORDS; w++) {
        const bits = wanted[w] ?? 0;
        // `>>> 0`: & gives a signed 32-bit result; the words are unsigned.
        if (((signatures[i * SIGNATURE_WORDS + w] ?? 0) & bits) >>> 0 !== bits) continue entries;
      }
      const entry = entries[i] as PackEntry;
      if (!entry.row) continue;
      if (name !== undefined && entry.name !== name) continue;
      if (registry !== undefined && entry.registry !== registry) continue;
      let found = true;
      for (const term of terms) {
        if (!entry.searchText.includes(term)) {
          found = false;
          break;
        }
      }
      if (found) out.push(entry);
    }
    return out;
  }

  /**
   * For version and deprecated filters: a function giving a pack's row narrowed to the versions
   * that pass, or null when none do; null when the query has neither filter.
   */
  private narrower(query: CatalogQuery): ((entry: PackEntry) => PackRow | null) | null {
    const selector = query.version;
    if (selector === undefined && query.deprecated === undefined) return null;
    let range: VersionRange | null = null;
    let exact = false;
    if (selector !== undefined) {
      const kind = selectorKind(selector);
      if (kind === null) throw new RangeError(`"${selector}" is not a version, a .x tag or a range`);
      exact = kind === 'exact';
      range = exact ? null : parseRange(selector);
    }
    const deprecated = query.deprecated;
    return (entry) => {
      const resolved =
        exact && selector !== undefined
          ? resolveVersion(
              entry.live.map((v) => v.version),
              selector,
            )
          : null;
      const { live, liveParsed } = entry;
      let shown: VersionSummary[] | null = null;
      for (let i = 0; i < live.length; i++) {
        const v = live[i] as VersionSummary;
        if (deprecated !== undefined && (v.deprecated !== null) !== deprecated) continue;
        if (exact && v.version !== resolved) continue;
        const parsed = liveParsed[i];
        if (range && !(parsed && range.testParsed(parsed))) continue;
        (shown ??= []).push(v);
      }
      return shown ? rowOf(entry, shown) : null;
    };
  }
}
