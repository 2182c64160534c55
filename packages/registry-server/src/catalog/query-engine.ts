/**
 * The catalog's query engine: filters (registry, layer, add-on type, cloud, full text, name,
 * version and deprecation), sorts and pages over the filter columns of the index's packs.
 */
import type { CatalogPage } from '@packyard/registry-api';
import { parseRange, resolveVersion, selectorKind, type VersionRange } from '@packyard/pack-core';
import { decodeCursor, encodeCursor, type CatalogSort } from './catalog-cursor.js';
import {
  addTrigrams,
  ALL_CLOUDS_BIT,
  cloudBit,
  type Columns,
  OTHER_CLOUDS_BIT,
  SIGNATURE_WORDS,
} from './filter-columns.js';
import { compareEntries, rowJsonOf, rowOf, type PackEntry, type PackRow } from './pack-entry.js';
import type { VersionSummary } from './records.js';

export type { CatalogSort };

export interface CatalogQuery {
  /** Exact pack name. */
  name?: string;
  /** Words that must all appear in the name, display name, add-on type, annotation values or description. */
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
  /** Also count the matches by layer, cloud, add-on type, registry and deprecation. */
  facets?: boolean;
}

/** How many packs each facet value would match (see {@link facetCounts}). */
export type CatalogFacets = NonNullable<CatalogPage['facets']>;

/** A page of the catalog, as the wire contract has it. */
export type { CatalogPage };

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

/**
 * A page of the packs matching `query` among the registries `readable` marks (a mask by the
 * columns' registry ids). Throws an InvalidQueryError for a malformed cursor or version selector, or
 * a full-text query past its bounds.
 */
export function queryPage(query: CatalogQuery, columns: Columns, readable: Uint8Array): CatalogPage {
  const { total, entries, rows, nextCursor, matches } = run(query, columns, readable);
  const page: CatalogPage = { total, items: rows ?? entries.map((entry) => entry.row as PackRow), nextCursor };
  if (query.facets === true) page.facets = facetCounts(query, columns, readable, matches);
  return page;
}

/** {@link queryPage} as the JSON the API sends, from each pack's row JSON where it can. */
export function queryPageJson(query: CatalogQuery, columns: Columns, readable: Uint8Array): string {
  const { total, entries, rows, nextCursor, matches } = run(query, columns, readable);
  const items = rows ? rows.map((row) => JSON.stringify(row)) : entries.map(rowJsonOf);
  const facets =
    query.facets === true ? `,"facets":${JSON.stringify(facetCounts(query, columns, readable, matches))}` : '';
  return `{"total":${total},"items":[${items.join(',')}],"nextCursor":${JSON.stringify(nextCursor)}${facets}}`;
}

/**
 * The facet counts of a query: for each facet, how many packs would match with that facet's own
 * filter set to each value and every other filter kept (so that the counts show the choices a
 * visitor has, not only the one made); `deprecated` counts the matching packs with a deprecated
 * version.
 */
export function facetCounts(
  query: CatalogQuery,
  columns: Columns,
  readable: Uint8Array,
  /** The query's own matches with their rows, when the page's run has them. */
  own?: Matches,
): CatalogFacets {
  // A facet whose filter is not set counts the query's own matches: one scan serves them all.
  let mine: Matches | undefined = own;
  const count = (
    without: 'layer' | 'cloudType' | 'addonType' | 'registry' | 'deprecated',
    each: (row: PackRow, entry: PackEntry, add: (value: string) => void) => void,
  ) => {
    const matches =
      query[without] === undefined
        ? (mine ??= matchingRows(query, columns, readable))
        : matchingRows({ ...query, [without]: undefined }, columns, readable);
    const counts = new Map<string, number>();
    const add = (value: string) => counts.set(value, (counts.get(value) ?? 0) + 1);
    for (let i = 0; i < matches.entries.length; i++) {
      const entry = matches.entries[i] as PackEntry;
      each(matches.rowFor(entry), entry, add);
    }
    return Object.fromEntries(counts);
  };
  const withDeprecated = count('deprecated', (_row, entry, add) => {
    if (entry.live.some((v) => v.deprecated !== null)) add('deprecated');
  });
  return {
    layer: count('layer', (row, _entry, add) => {
      add(row.layer);
    }),
    cloudType: count('cloudType', (row, _entry, add) => {
      for (const cloud of row.cloudTypes) add(cloud);
    }),
    addonType: count('addonType', (row, _entry, add) => {
      if (row.addonType !== null) add(row.addonType);
    }),
    registry: count('registry', (row, _entry, add) => {
      add(row.registry);
    }),
    deprecated: withDeprecated['deprecated'] ?? 0,
  };
}

/** The packs matching a query (in name order), and the row each shows. */
interface Matches {
  entries: PackEntry[];
  rowFor: (entry: PackEntry) => PackRow;
  /** Whether a version or deprecated filter narrowed the rows (they are not the packs' own). */
  narrowed: boolean;
}

/** The packs matching `query`, each with its row narrowed by the version and deprecated filters. */
function matchingRows(query: CatalogQuery, columns: Columns, readable: Uint8Array): Matches {
  const narrow = narrower(query);
  const scanned = scan(columns, query, readable);
  if (!narrow) return { entries: scanned, rowFor: (entry) => entry.row as PackRow, narrowed: false };
  // Rows a version or deprecated filter leaves with no version do not match at all.
  const rowOfEntry = new Map<PackEntry, PackRow>();
  const entries: PackEntry[] = [];
  for (const entry of scanned) {
    const row = narrow(entry);
    if (row) {
      rowOfEntry.set(entry, row);
      entries.push(entry);
    }
  }
  return { entries, rowFor: (entry) => rowOfEntry.get(entry) ?? (entry.row as PackRow), narrowed: true };
}

/**
 * The matching packs of one page: `entries` when rows are the packs' own, or `rows` when the
 * version or deprecated filter narrowed them.
 */
function run(
  query: CatalogQuery,
  columns: Columns,
  readable: Uint8Array,
): { total: number; entries: PackEntry[]; rows: PackRow[] | null; nextCursor: string | null; matches: Matches } {
  const terms = termsOf(query);
  const sort = query.sort ?? (terms.length > 0 ? 'relevance' : 'name');
  const limit = Math.min(Math.max(query.limit ?? DEFAULT_LIMIT, 1), MAX_LIMIT);
  const cursor = query.cursor === undefined ? null : decodeCursor(query.cursor);
  if (query.cursor !== undefined && (!cursor || cursor.sort !== sort)) {
    throw new InvalidQueryError('the cursor is not valid for this query');
  }
  const matches = matchingRows(query, columns, readable);
  const { entries: matching, rowFor, narrowed } = matches;

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
  } else if (sort === 'relevance') {
    type Key = { rank: number; name: string; registry: string };
    const keyOf = (entry: PackEntry): Key => ({
      rank: relevance(entry, terms),
      name: entry.name,
      registry: entry.registry,
    });
    const compare = (a: Key, b: Key): number => a.rank - b.rank || compareEntries(a, b);
    const keyed = matching.map((entry) => ({ entry, key: keyOf(entry) }));
    keyed.sort((a, b) => compare(a.key, b.key));
    ordered = keyed.map((k) => k.entry);
    if (cursor) after = (entry) => compare(keyOf(entry), { rank: cursor.rank ?? 0, ...cursor }) > 0;
  } else {
    const direction = sort === 'published' ? 1 : -1;
    type Key = { at: string; name: string; registry: string };
    const keyOf = (entry: PackEntry): Key => ({
      at: rowFor(entry).publishedAt,
      name: entry.name,
      registry: entry.registry,
    });
    const compare = (a: Key, b: Key): number =>
      a.at !== b.at ? (a.at < b.at ? -1 : 1) * direction : compareEntries(a, b);
    // Each key made once, not at every comparison.
    const keyed = matching.map((entry) => ({ entry, key: keyOf(entry) }));
    keyed.sort((a, b) => compare(a.key, b.key));
    ordered = keyed.map((k) => k.entry);
    if (cursor) after = (entry) => compare(keyOf(entry), { at: cursor.at ?? '', ...cursor }) > 0;
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
          ...(sort === 'relevance' ? { rank: relevance(last, terms) } : {}),
          registry: last.registry,
          name: last.name,
        })
      : null;
  return { total: matching.length, entries: page, rows: narrowed ? page.map(rowFor) : null, nextCursor, matches };
}

/** A query the engine refuses: what the caller asked for is malformed or past a bound (a 400). */
export class InvalidQueryError extends Error {}

/** Longest full-text query, and most distinct words in it: each word is matched against every pack. */
export const MAX_QUERY_CHARS = 256;
export const MAX_QUERY_TERMS = 16;

/** The distinct words of the full-text query, lowercased. */
function termsOf(query: CatalogQuery): string[] {
  const q = query.q ?? '';
  if (q.length > MAX_QUERY_CHARS) {
    throw new InvalidQueryError(`q is ${String(q.length)} characters long: at most ${String(MAX_QUERY_CHARS)}`);
  }
  const terms = [...new Set(q.toLowerCase().split(/\s+/))].filter((t) => t !== '');
  if (terms.length > MAX_QUERY_TERMS) {
    throw new InvalidQueryError(`q has ${String(terms.length)} different words: at most ${String(MAX_QUERY_TERMS)}`);
  }
  return terms;
}

/**
 * How well a matching pack answers the words (lower first): 0 its name is the query ("cni-calico",
 * or the words joined by dashes), 1 its name starts with it, 2 its name holds every word, 3 its
 * display name does, 4 the words are elsewhere (add-on type, annotation values, description).
 */
function relevance(entry: PackEntry, terms: readonly string[]): number {
  const name = entry.name.toLowerCase();
  const joined = terms.join('-');
  if (name === joined || name === terms.join('')) return 0;
  if (name.startsWith(joined)) return 1;
  if (terms.every((term) => name.includes(term))) return 2;
  const display = (entry.latest?.displayName ?? '').toLowerCase();
  if (terms.every((term) => display.includes(term))) return 3;
  return 4;
}

/** The packs whose latest version passes the query's filters, in name order. */
function scan(columns: Columns, query: CatalogQuery, readable: Uint8Array): PackEntry[] {
  const { entries } = columns;
  const layer = query.layer === undefined ? -1 : columns.layerCode(query.layer);
  const addonType = query.addonType === undefined ? -1 : columns.addonTypeId(query.addonType);
  const cloud = query.cloudType === undefined ? 0 : cloudBit(query.cloudType);
  const clouds = cloud === 0 ? 0 : cloud | ALL_CLOUDS_BIT;
  const terms = termsOf(query);
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
    if (clouds !== 0) {
      const has = columns.clouds[i] ?? 0;
      if ((has & clouds) === 0) continue;
      // Custom clouds share one bit: the pack must name this one (or all clouds).
      if (cloud === OTHER_CLOUDS_BIT && (has & ALL_CLOUDS_BIT) === 0) {
        if (!entries[i]?.latest?.cloudTypes.includes(query.cloudType ?? '')) continue;
      }
    }
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
function narrower(query: CatalogQuery): ((entry: PackEntry) => PackRow | null) | null {
  const selector = query.version;
  if (selector === undefined && query.deprecated === undefined) return null;
  let range: VersionRange | null = null;
  let exact = false;
  if (selector !== undefined) {
    const kind = selectorKind(selector);
    if (kind === null) throw new InvalidQueryError(`"${selector}" is not a version, a .x tag or a range`);
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
