/**
 * Pack versions. A version string is a pack's identity exactly as written; this module orders
 * versions and matches them against selectors with one comparator:
 *
 * - strict semver when valid ("1.9.0", "0.30.0-5.5.2026");
 * - otherwise numeric dot segments with an optional leading "v", leading zeros ignored and missing
 *   segments read as 0 ("22.04" = "22.4.0", "1.5" = "1.5.0", "v1.8.7"), plus an optional
 *   pre-release and build suffix ordered as semver orders them.
 * - A suffix after "-" is a pre-release only when it starts with a pre-release word (alpha, beta,
 *   rc, pre, preview, dev, snapshot, canary, nightly, next, ...: {@link PRERELEASE_WORD}). Any
 *   other suffix marks a vendor's build of that release, common in real packs ("2.0.2-up.4",
 *   "1.26.3-spectro", "0.30.0-5.5.2026"): a release for ranges, line tags and resolution, ordered
 *   after the bare release and before the next one (2.0.2 < 2.0.2-up.4 < 2.0.2-up.5 < 2.0.3;
 *   suffixes compare identifier by identifier as semver compares pre-releases).
 *
 * Selectors are an exact version, a line tag ending in ".x" ("1.27.x" selects the highest 1.27
 * version) or a semver-style range ("^45.0.0", ">=1.29 <1.30", "1.26 - 1.29", "~22.04 || 24.x").
 * Ranges are evaluated on segments rather than with node-semver, so calendar and short versions
 * take part exactly like strict ones.
 *
 * Everything here reads text from packs, profiles and requests, so it stays linear: one anchored
 * regular expression with disjoint parts for a version, string scans for selectors, and length
 * caps ({@link MAX_VERSION_LENGTH}, {@link MAX_SELECTOR_LENGTH}) before any work that grows with
 * the number of comparators.
 */
import semver from 'semver';

/** Real versions are a few dozen characters; the cap keeps keys and file names short. */
export const MAX_VERSION_LENGTH = 128;
/** Ranges may combine several comparators ("~22.04 || >=24.0 <24.10"). */
export const MAX_SELECTOR_LENGTH = 256;

export interface ParsedVersion {
  /** The version exactly as written. */
  raw: string;
  /** Numeric dot segments, leading zeros dropped: "22.04" -> [22, 4]. */
  segments: number[];
  /** The segments as written, for tags that read like the version: ["22", "04"]. */
  segmentText: string[];
  /** Pre-release identifiers ("rc.1" -> ["rc", 1]); empty for a release. */
  prerelease: Array<string | number>;
  /** A release's vendor suffix ("up.4" -> ["up", 4]); empty for none or a pre-release. */
  suffix: Array<string | number>;
  /** Build metadata after "+"; ignored for ordering. */
  build: string;
}

const VERSION_RE =
  /^v?(\d+(?:\.\d+)*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

/**
 * The first identifier of a pre-release suffix: a pre-release word, alone or followed by digits or
 * a dash ("rc", "rc1", "beta-2", "m3"). Anchored, literal alternatives: linear.
 */
export const PRERELEASE_WORD =
  /^(?:alpha|beta|rc|cr|pre|preview|dev|devel|snapshot|canary|nightly|next|experimental|unstable|test|draft|milestone|m|tp|ea|insiders)(?:\d[0-9A-Za-z-]*|-[0-9A-Za-z-]*)?$/i;

function identifiers(text: string): Array<string | number> {
  return text.split('.').map((id) => (/^\d+$/.test(id) ? Number(id) : id));
}

/**
 * Parses a version in any accepted form; null when it has no leading number, or is longer than
 * {@link MAX_VERSION_LENGTH} characters.
 *
 * @example
 * parseVersion('22.04')?.segments; // [22, 4]
 * parseVersion('latest'); // null
 */
export function parseVersion(raw: string): ParsedVersion | null {
  if (raw.length > MAX_VERSION_LENGTH) return null;
  const known = PARSED.get(raw);
  if (known !== undefined) return known;
  const parsed = parseAfresh(raw);
  if (PARSED.size >= PARSED_KEPT) PARSED.clear();
  PARSED.set(raw, parsed);
  return parsed;
}

/**
 * Parsed forms of the versions seen lately, shared and frozen: a registry's catalog keeps a
 * parsed form of every version it holds, and the same version strings recur across packs
 * ("1.0.0", "2.1.3"), so most versions share one.
 */
const PARSED = new Map<string, ParsedVersion | null>();
const PARSED_KEPT = 8192;

function parseAfresh(raw: string): ParsedVersion | null {
  const match = VERSION_RE.exec(raw);
  if (!match) return null;
  const segmentText = (match[1] ?? '').split('.');
  const segments = segmentText.map((s) => Number(s));
  if (segments.some((n) => !Number.isSafeInteger(n))) return null;
  const dashed = match[2] ? identifiers(match[2]) : NONE;
  const isPrerelease = dashed.length > 0 && PRERELEASE_WORD.test(String(dashed[0]));
  return Object.freeze({
    raw,
    segments: Object.freeze(segments) as number[],
    segmentText: Object.freeze(segmentText) as string[],
    prerelease: isPrerelease ? (Object.freeze(dashed) as Array<string | number>) : NONE,
    suffix: isPrerelease ? NONE : (Object.freeze(dashed) as Array<string | number>),
    build: match[3] ?? '',
  });
}

/** The empty identifier list every parsed version without one shares (frozen, as parsed forms are). */
const NONE = Object.freeze([]) as unknown as Array<string | number>;

/**
 * True when the string is a strict semver version (semver.org 2.0: no leading "v", no leading
 * zeros, exactly three numeric segments).
 *
 * @example
 * isStrictSemver('1.9.0'); // true
 * isStrictSemver('22.04'); // false
 */
export function isStrictSemver(raw: string): boolean {
  return !/^[v=\s]/.test(raw) && semver.parse(raw, { loose: false }) !== null;
}

function compareSegments(a: readonly number[], b: readonly number[]): number {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff < 0 ? -1 : 1;
  }
  return 0;
}

/** Identifier lists compared as semver compares pre-releases: numbers below words, shorter first. */
function compareIdentifiers(a: ParsedVersion['prerelease'], b: ParsedVersion['prerelease']): number {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x < y ? -1 : 1;
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

function comparePrerelease(a: ParsedVersion['prerelease'], b: ParsedVersion['prerelease']): number {
  // A release ranks above every pre-release of the same segments (semver 2.0, rule 11).
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 0 : a.length === 0 ? 1 : -1;
  return compareIdentifiers(a, b);
}

function compareSuffix(a: ParsedVersion['suffix'], b: ParsedVersion['suffix']): number {
  // A vendor's build of a release ranks above the bare release.
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 0 : a.length === 0 ? -1 : 1;
  return compareIdentifiers(a, b);
}

/** Orders two parsed versions by segments, then pre-release, then vendor suffix; 0 means equal precedence. */
export function comparePrecedence(a: ParsedVersion, b: ParsedVersion): number {
  return (
    compareSegments(a.segments, b.segments) ||
    comparePrerelease(a.prerelease, b.prerelease) ||
    compareSuffix(a.suffix, b.suffix)
  );
}

/**
 * The one total order of pack versions: by precedence, then (for versions of equal precedence
 * such as "1.5" and "1.5.0", or differing build metadata) by the string as written, so sorting is
 * deterministic. Strings that are not versions at all sort first, by their text.
 *
 * @example
 * ['1.10.0', '1.9.0', '22.04'].sort(compareVersions); // ['1.9.0', '1.10.0', '22.04']
 */
export function compareVersions(a: string, b: string): number {
  return compareParsedVersions({ raw: a, parsed: parseVersion(a) }, { raw: b, parsed: parseVersion(b) });
}

/**
 * {@link compareVersions} for versions parsed once already (`parsed` null: not a version), for
 * callers that sort the same versions again and again.
 */
export function compareParsedVersions(
  a: { raw: string; parsed: ParsedVersion | null },
  b: { raw: string; parsed: ParsedVersion | null },
): number {
  if (a.parsed && b.parsed) {
    const byPrecedence = comparePrecedence(a.parsed, b.parsed);
    if (byPrecedence !== 0) return byPrecedence;
  } else if (a.parsed || b.parsed) {
    return a.parsed ? 1 : -1;
  }
  return a.raw === b.raw ? 0 : a.raw < b.raw ? -1 : 1;
}

/** Sorts versions ascending with {@link compareVersions}, returning a new array. */
export function sortVersions(versions: Iterable<string>): string[] {
  return [...versions].sort(compareVersions);
}

// ---------------------------------------------------------------------------------------------
// Selectors: exact versions, ".x" line tags and ranges.

/** One primitive test of a range; `bound` drives the pre-release rule. */
interface Comparator {
  test(v: ParsedVersion): boolean;
  bound: ParsedVersion | null;
}

interface Partial {
  /** The numeric segments given before any wildcard ("1.27.x" -> [1, 27]). */
  given: number[];
  /** Parsed form when the partial is a complete version; null for a line ("1.27", "1.x"). */
  version: ParsedVersion | null;
}

const WILDCARD = /^[xX*]$/;

function parsePartial(text: string): Partial | null {
  if (text === '' || WILDCARD.test(text)) return { given: [], version: null };
  const wildcard = /^v?((?:\d+\.)*)[xX*](?:\.[xX*])*$/.exec(text);
  if (wildcard) {
    const given = (wildcard[1] ?? '').split('.').filter(Boolean).map(Number);
    return { given, version: null };
  }
  const version = parseVersion(text);
  if (!version) return null;
  // Inside a range, "1.29" reads as semver does: the whole 1.29 line (so "<=1.29" admits 1.29.4).
  if (version.segments.length < 3 && version.prerelease.length === 0 && version.suffix.length === 0) {
    return { given: version.segments, version: null };
  }
  return { given: version.segments, version };
}

function prefixOf(v: ParsedVersion, length: number): number[] {
  return Array.from({ length }, (_, i) => v.segments[i] ?? 0);
}

/** compareSegments(prefixOf(v, given.length), given), without building the prefix (hot in ranges). */
function comparePrefix(v: ParsedVersion, given: readonly number[]): number {
  for (let i = 0; i < given.length; i++) {
    const diff = (v.segments[i] ?? 0) - (given[i] ?? 0);
    if (diff !== 0) return diff < 0 ? -1 : 1;
  }
  return 0;
}

function lowerBound(p: Partial, inclusive: boolean): Comparator {
  if (p.version) {
    const bound = p.version;
    return { bound, test: (v) => (inclusive ? comparePrecedence(v, bound) >= 0 : comparePrecedence(v, bound) > 0) };
  }
  const { given } = p;
  // ">1.2" means past the whole 1.2 line; ">=1.2" means from 1.2.0 on.
  return {
    bound: null,
    test: (v) => {
      const c = comparePrefix(v, given);
      return inclusive ? c >= 0 : c > 0;
    },
  };
}

function upperBound(p: Partial, inclusive: boolean): Comparator {
  if (p.version) {
    const bound = p.version;
    return { bound, test: (v) => (inclusive ? comparePrecedence(v, bound) <= 0 : comparePrecedence(v, bound) < 0) };
  }
  const { given } = p;
  // "<=1.2" includes the whole 1.2 line; "<1.2" stops before it.
  return {
    bound: null,
    test: (v) => {
      const c = comparePrefix(v, given);
      return inclusive ? c <= 0 : c < 0;
    },
  };
}

/** Versions whose first `length` segments equal those of `segments`. */
function sameLine(segments: number[], length: number): Comparator {
  const line = segments.slice(0, length);
  return { bound: null, test: (v) => comparePrefix(v, line) === 0 };
}

function comparatorsFor(op: string, p: Partial): Comparator[] {
  switch (op) {
    case '>':
      return [lowerBound(p, false)];
    case '>=':
      return [lowerBound(p, true)];
    case '<':
      return [upperBound(p, false)];
    case '<=':
      return [upperBound(p, true)];
    case '~': {
      // ~1.2.3 := >=1.2.3 within 1.2; ~1 := within 1.
      const lock = Math.min(Math.max(p.given.length, 1), 2);
      return [lowerBound(p, true), sameLine(p.given, lock)];
    }
    case '^': {
      // Lock everything up to the first non-zero given segment: ^1.2.3 within 1, ^0.2.3 within 0.2.
      const firstNonZero = p.given.findIndex((n) => n !== 0);
      const lock = firstNonZero === -1 ? Math.max(p.given.length, 1) : firstNonZero + 1;
      return [lowerBound(p, true), sameLine(p.given, lock)];
    }
    default: {
      // "=" or nothing: a complete version matches by precedence, a partial one is its line.
      if (p.version) {
        const bound = p.version;
        return [{ bound, test: (v) => comparePrecedence(v, bound) === 0 }];
      }
      return [sameLine(p.given, p.given.length)];
    }
  }
}

const COMPARATOR_RE = /^(<=|>=|<|>|=|~>|~|\^)?(\S*)$/;
const OPERATOR_CHARS = new Set(['<', '>', '=', '~', '^']);
const WHITESPACE = new Set([' ', '\t', '\n', '\r', '\v', '\f']);

/** The whitespace-separated words of `text`, by a scan (a regular-expression split would backtrack on long runs). */
function words(text: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const blank = i === text.length || WHITESPACE.has(text.charAt(i));
    if (blank && start !== -1) {
      out.push(text.slice(start, i));
      start = -1;
    } else if (!blank && start === -1) {
      start = i;
    }
  }
  return out;
}

function isOperator(word: string): boolean {
  for (let i = 0; i < word.length; i++) if (!OPERATOR_CHARS.has(word.charAt(i))) return false;
  return true;
}

function parseComparatorSet(text: string): Comparator[] | null {
  const parts = words(text);
  if (parts.length === 3 && parts[1] === '-') {
    const from = parsePartial(parts[0] ?? '');
    const to = parsePartial(parts[2] ?? '');
    if (!from || !to) return null;
    return [lowerBound(from, true), upperBound(to, true)];
  }
  // Let an operator be written apart from its version (">= 1.2").
  const tokens: string[] = [];
  let pending = '';
  for (const word of parts) {
    if (isOperator(word)) pending += word;
    else {
      tokens.push(pending + word);
      pending = '';
    }
  }
  if (pending !== '') tokens.push(pending);
  const comparators: Comparator[] = [];
  for (const token of tokens) {
    const match = COMPARATOR_RE.exec(token);
    if (!match) return null;
    const op = match[1] === '~>' ? '~' : (match[1] ?? '');
    // An operator needs a version: ">=" alone is a typo, not "anything".
    if (op !== '' && (match[2] ?? '') === '') return null;
    const partial = parsePartial(match[2] ?? '');
    if (!partial) return null;
    comparators.push(...comparatorsFor(op, partial));
  }
  return comparators;
}

export interface VersionRange {
  /** The selector as written. */
  raw: string;
  test(version: string, options?: { includePrerelease?: boolean }): boolean;
  /** {@link VersionRange.test} for a version parsed already (catalogs test many against one range). */
  testParsed(version: ParsedVersion, options?: { includePrerelease?: boolean }): boolean;
}

/**
 * Parses a range ("^1.2.0", ">=1.29 <1.30", "1.26 - 1.29", "22.04.x || 24.x"); null when the text
 * is not a range or is longer than {@link MAX_SELECTOR_LENGTH}. Pre-release versions satisfy a
 * range only when it names a pre-release of the same segments, or with `includePrerelease` (the
 * node-semver rule).
 *
 * @example
 * parseRange('>=1.29 <1.30')?.test('1.29.4'); // true
 * parseRange('~22.04')?.test('22.04.3'); // true
 */
export function parseRange(raw: string): VersionRange | null {
  // Testing a version costs one step per comparator: the length cap bounds that work.
  if (raw.length > MAX_SELECTOR_LENGTH) return null;
  const sets: Comparator[][] = [];
  for (const part of raw.trim().split('||')) {
    const set = parseComparatorSet(part.trim());
    if (!set) return null;
    sets.push(set);
  }
  const range: VersionRange = {
    raw,
    test(version, options = {}) {
      const v = parseVersion(version);
      return v !== null && range.testParsed(v, options);
    },
    testParsed(v, options = {}) {
      return sets.some((set) => {
        if (!set.every((c) => c.test(v))) return false;
        if (v.prerelease.length === 0 || options.includePrerelease) return true;
        return set.some(
          (c) =>
            c.bound !== null && c.bound.prerelease.length > 0 && compareSegments(c.bound.segments, v.segments) === 0,
        );
      });
    },
  };
  return range;
}

/** True when `selector` is a line tag such as "1.27.x" or "22.04.x". */
export function isLineTag(selector: string): boolean {
  return selector.length <= MAX_VERSION_LENGTH && /^v?\d+(?:\.\d+)*\.[xX*]$/.test(selector);
}

export type SelectorKind = 'exact' | 'tag' | 'range';

/** Says how a selector will be read, or null when it is none of the accepted forms. */
export function selectorKind(selector: string): SelectorKind | null {
  if (selector.length > MAX_SELECTOR_LENGTH) return null;
  if (isLineTag(selector)) return 'tag';
  if (parseVersion(selector)) return 'exact';
  return parseRange(selector) ? 'range' : null;
}

/**
 * Picks the version a selector means out of the available ones:
 * - an exact version is matched as written, then by equal precedence ("1.27.4" finds "v1.27.4");
 *   a short version that is not published itself ("1.27") selects the highest of its line;
 * - a ".x" tag or a range selects the highest satisfying version, skipping pre-releases unless
 *   the range names one or `includePrerelease` is set.
 * Returns null when nothing matches or the selector is not valid.
 *
 * @example
 * resolveVersion(['1.27.1', '1.27.4', '1.28.0'], '1.27.x'); // '1.27.4'
 */
export function resolveVersion(
  available: Iterable<string>,
  selector: string,
  options: { includePrerelease?: boolean } = {},
): string | null {
  const versions = [...available];
  const kind = selectorKind(selector);
  if (kind === null) return null;
  if (kind === 'exact') {
    if (versions.includes(selector)) return selector;
    const wanted = parseVersion(selector);
    // A short version that is not itself published ("1.27") means its line, as in a range.
    if (wanted && wanted.segments.length >= 3) {
      const equal = versions.filter((v) => {
        const p = parseVersion(v);
        return p !== null && comparePrecedence(p, wanted) === 0;
      });
      return sortVersions(equal).at(-1) ?? null;
    }
  }
  const range = parseRange(selector);
  if (!range) return null;
  const matching = versions.filter((v) => range.test(v, options));
  return sortVersions(matching).at(-1) ?? null;
}

/** Deepest line a {@link lineTags} map names: "1.2.3.x" (every line of a four-segment version). */
export const MAX_LINE_TAG_DEPTH = 3;

/**
 * The line tags of a set of versions and the version each selects: for "1.27.4" and "1.29.2",
 * `{ "1.x": "1.29.2", "1.27.x": "1.27.4", "1.29.x": "1.29.2" }`. Tags are spelled like the highest
 * version of the line ("22.04.x"); pre-releases are left out, as in {@link resolveVersion}. Lines
 * deeper than {@link MAX_LINE_TAG_DEPTH} are not listed (a version may have 60 segments, and
 * 10,000 of them made 610,000 tags); {@link resolveVersion} resolves them all the same.
 */
export function lineTags(versions: Iterable<string>): Record<string, string> {
  // Keyed by the numeric prefix so "22.04.x" and "22.4.x" are one line.
  const tags = new Map<string, { tag: string; version: string }>();
  for (const version of sortVersions(versions)) {
    const parsed = parseVersion(version);
    if (!parsed || parsed.prerelease.length > 0) continue;
    for (let length = 1; length < Math.min(parsed.segments.length, MAX_LINE_TAG_DEPTH + 1); length++) {
      const key = parsed.segments.slice(0, length).join('.');
      // Ascending order: the last version of a line wins and spells the tag.
      tags.set(key, { tag: `${parsed.segmentText.slice(0, length).join('.')}.x`, version });
    }
  }
  const result: Record<string, string> = {};
  for (const { tag, version } of tags.values()) result[tag] = version;
  return result;
}

// ---------------------------------------------------------------------------------------------
// Constraint bounds (pack.json constraints.dependencies[].minVersion / maxVersion).

/**
 * Reads a constraint bound: null for no bound (empty, or a bare wildcard), the version otherwise,
 * 'invalid' when it is neither. A trailing wildcard is the partial version before it: "1.27.x" is
 * "1.27", as Palette writes line bounds.
 *
 * @example
 * parseBound('1.27.x')?.segments; // [1, 27]
 * parseBound(''); // null
 */
export function parseBound(text: string | null | undefined): ParsedVersion | null | 'invalid' {
  if (text === undefined || text === null) return null;
  let bound = text.trim();
  while (bound.length >= 2 && bound.charAt(bound.length - 2) === '.' && WILDCARD.test(bound.charAt(bound.length - 1))) {
    bound = bound.slice(0, -2);
  }
  if (bound === '' || WILDCARD.test(bound)) return null;
  return parseVersion(bound) ?? 'invalid';
}

/**
 * True when `version` lies within [min, max]. Bounds may be empty/null (no bound) or partial: a
 * partial maximum covers its whole line ("1.27" admits "1.27.9"), a partial minimum starts at the
 * line's beginning ("1.27" admits "1.27.0").
 *
 * @example
 * withinBounds('1.27.9', '1.26', '1.27'); // true
 */
export function withinBounds(version: string, min?: string | null, max?: string | null): boolean {
  const v = parseVersion(version);
  const lo = parseBound(min);
  const hi = parseBound(max);
  if (!v || lo === 'invalid' || hi === 'invalid') return false;
  if (lo && compareSegments(v.segments, lo.segments) < 0) return false;
  if (lo && lo.prerelease.length > 0 && comparePrecedence(v, lo) < 0) return false;
  if (hi && compareSegments(prefixOf(v, hi.segments.length), hi.segments) > 0) return false;
  return true;
}

/**
 * True when some version can satisfy [min, max]: false for "min 1.30, max 1.27". Invalid bounds
 * give false; check them with {@link parseVersion} first to report them separately.
 */
export function boundsOrdered(min?: string | null, max?: string | null): boolean {
  const lo = parseBound(min);
  const hi = parseBound(max);
  if (lo === 'invalid' || hi === 'invalid') return false;
  if (!lo || !hi) return true;
  return compareSegments(prefixOf(lo, hi.segments.length), hi.segments) <= 0;
}
