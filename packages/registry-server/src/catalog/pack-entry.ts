/**
 * The index's state per pack: its versions, the live ones in version order, the latest, and the
 * row a catalog page shows of it, derived once per change (./catalog-index.ts applies changes).
 */
import { compareParsedVersions, lineTags, parseVersion, type ParsedVersion } from '@packyard/pack-core';
import type { PackRow } from '@packyard/registry-api';
import type { VersionSummary } from './records.js';

/** What a pack's row and its detail both show: the pack, and its latest version's metadata. */
export type PackHeading = Pick<
  PackRow,
  'registry' | 'name' | 'displayName' | 'layer' | 'addonType' | 'cloudTypes' | 'description'
>;

/** A catalog row is the wire contract's: the index builds the answer itself, once per change. */
export type { PackRow };

export interface PackEntry {
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
  /** The line tags of the live, non-deprecated versions, made on first use. */
  tags: Record<string, string> | null;
  /** Position in the name-ordered list, -1 until it is (re)built. */
  position: number;
}

export function latestOf(live: readonly VersionSummary[]): VersionSummary | null {
  for (let i = live.length - 1; i >= 0; i--) {
    const summary = live[i];
    if (summary && summary.deprecated === null) return summary;
  }
  return live.at(-1) ?? null;
}

export function rowOf(entry: PackEntry, shown: readonly VersionSummary[]): PackRow | null {
  const latest = latestOf(shown);
  if (!latest) return null;
  return {
    registry: entry.registry,
    name: entry.name,
    displayName: latest.displayName,
    layer: latest.layer,
    addonType: latest.addonType,
    cloudTypes: latest.cloudTypes,
    description: latest.description,
    latest: latest.version,
    versions: shown.map((v) => v.version),
    deprecated: latest.deprecated !== null,
    publishedAt: latest.publishedAt,
    digest: latest.digest,
  };
}

export function refresh(entry: PackEntry): void {
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
        latest.description ?? '',
        // Values only: a key such as ingressSupported says nothing about the pack ("ingress"
        // would otherwise find every pack that says it does not support one).
        ...Object.values(latest.annotations),
      ]
        .join('\n')
        .toLowerCase()
    : '';
  entry.row = rowOf(entry, entry.live);
  entry.rowJson = null;
  entry.tags = null;
}

/** The line tags of a pack's live, non-deprecated versions, made once per change of the pack. */
export function tagsOf(entry: PackEntry): Record<string, string> {
  entry.tags ??= lineTags(entry.live.filter((v) => v.deprecated === null).map((v) => v.version));
  return entry.tags;
}

export function rowJsonOf(entry: PackEntry): string {
  entry.rowJson ??= JSON.stringify(entry.row);
  return entry.rowJson;
}

export function entryKey(registry: string, name: string): string {
  return `${registry}\u0000${name}`;
}

export function compareEntries(a: { name: string; registry: string }, b: { name: string; registry: string }): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.registry === b.registry) return 0;
  return a.registry < b.registry ? -1 : 1;
}
