/**
 * `.packignore` patterns (gitignore syntax), matched without regular expressions. The `ignore`
 * package turns `a*a*a*c` into `a[^/]*a[^/]*a[^/]*c`, which backtracks polynomially with the number
 * of stars: one such line and a file named `aaaa…` (40 characters) held `packctl lint` for 20
 * seconds. Here a segment is matched with the two-pointer wildcard algorithm (a mismatch retries
 * from the last star only), and `**` the same way over path segments, so one check costs at most
 * the pattern's length times the path's.
 *
 * Semantics follow gitignore(5): blank lines and `#` comments are skipped, `!` re-includes, a
 * trailing `/` matches directories only, a pattern with a `/` before its end is anchored at the
 * pack root (otherwise it matches at any depth), `*`, `?` and `[...]` stay within a segment, `**`
 * as a whole segment spans any number of them (`a/**` everything inside a, not a itself), `\`
 * escapes, and the last matching pattern decides. A path inside an ignored directory is ignored.
 * Lines longer than 4096 characters are skipped. Unlike the `ignore` package, `[!a]` negates a
 * class, as in git.
 *
 * What a listing costs is bounded as a whole, not only per check: each folder is decided once (the
 * files inside ask their folders' decisions again), a `.packignore` holds at most
 * {@link MAX_PACKIGNORE_PATTERNS} patterns, and a matcher's checks together take at most `budget` steps of
 * the wildcard matches (each one a character or segment compared), past which it throws
 * PACKIGNORE_TOO_LARGE: 100,000 patterns against a file 60 folders deep held a registry's event
 * loop for two minutes.
 */
import { packError } from './errors.js';

/** The most bytes of a `.packignore` (a real one is a few hundred). */
export const MAX_PACKIGNORE_BYTES = 64 * 1024;
/** The most patterns one `add` takes: a `.packignore`'s (a real one has a few dozen). */
export const MAX_PACKIGNORE_PATTERNS = 1000;
/**
 * The most steps of wildcard matching a matcher spends on all its checks together: about half a
 * second (10-13 ns a step here). A pack of 10,000 files under 50 patterns takes a fifth of it.
 */
export const PACKIGNORE_STEP_BUDGET = 50_000_000;

function tooLarge(what: string) {
  return packError('PACKIGNORE_TOO_LARGE', `.packignore ${what}`);
}

/** A glob element: a run of literal characters, `?`, `*` or a `[...]` class. */
type Atom =
  | { kind: 'text'; text: string }
  | { kind: 'any' }
  | { kind: 'star' }
  | { kind: 'class'; negated: boolean; ranges: Array<[string, string]> };

const ANY: Atom = { kind: 'any' };
const STAR: Atom = { kind: 'star' };

/** A path segment pattern, or `**` (any number of segments), or exactly one segment. */
type Segment = { kind: 'glob'; atoms: Atom[] } | { kind: 'globstar' } | { kind: 'one' };

interface Rule {
  segments: Segment[];
  negated: boolean;
  directoryOnly: boolean;
}

/**
 * Reads `[...]` starting at `start` (the `[`); null when it does not close. `lastClose`, the last
 * `]` of the text, spares a scan to the end for each `[` of a run that never closes.
 */
function readClass(text: string, start: number, lastClose: number): { atom: Atom; end: number } | null {
  if (lastClose <= start + 1) return null;
  let i = start + 1;
  const negated = text[i] === '!' || text[i] === '^';
  if (negated) i++;
  const ranges: Array<[string, string]> = [];
  let first = true;
  while (i < text.length && (text[i] !== ']' || first)) {
    first = false;
    let low = text[i] ?? '';
    if (low === '\\' && i + 1 < text.length) low = text[++i] ?? '';
    let high = low;
    if (text[i + 1] === '-' && i + 2 < text.length && text[i + 2] !== ']') {
      high = text[i + 2] ?? low;
      if (high === '\\' && i + 3 < text.length) high = text[++i + 2] ?? low;
      i += 2;
    }
    ranges.push([low, high]);
    i++;
  }
  if (i >= text.length) return null;
  return { atom: { kind: 'class', negated, ranges }, end: i + 1 };
}

const SPECIAL = new Set(['\\', '*', '?', '[']);

function compileGlob(text: string): Segment {
  if (text === '**') return { kind: 'globstar' };
  const atoms: Atom[] = [];
  const lastClose = text.lastIndexOf(']');
  // Literal characters gather into one text atom, so a long pattern is a few atoms.
  let literal = '';
  // A `[` starts a class only when a `]` follows; the last `]` decides that at once.
  const special = (at: number): boolean => {
    const c = text.charAt(at);
    return c === '[' ? at + 1 < lastClose : SPECIAL.has(c);
  };
  const flush = (): void => {
    if (literal !== '') atoms.push({ kind: 'text', text: literal });
    literal = '';
  };
  for (let i = 0; i < text.length;) {
    const c = text.charAt(i);
    if (!special(i)) {
      let end = i + 1;
      while (end < text.length && !special(end)) end++;
      literal += text.slice(i, end);
      i = end;
    } else if (c === '\\' && i + 1 < text.length) {
      literal += text.charAt(i + 1);
      i += 2;
    } else if (c === '*') {
      flush();
      // Runs of stars inside a segment are one star.
      if (atoms.at(-1) !== STAR) atoms.push(STAR);
      i++;
    } else if (c === '?') {
      flush();
      atoms.push(ANY);
      i++;
    } else {
      const cls = c === '[' ? readClass(text, i, lastClose) : null;
      if (cls) {
        flush();
        atoms.push(cls.atom);
        i = cls.end;
      } else {
        literal += c;
        i++;
      }
    }
  }
  flush();
  return { kind: 'glob', atoms };
}

/** Drops trailing spaces that are not escaped with a backslash. */
function trimTrailingSpaces(line: string): string {
  let end = line.length;
  while (end > 0 && line[end - 1] === ' ' && line[end - 2] !== '\\') end--;
  return line.slice(0, end);
}

/** No path is longer than PATH_MAX (4096 bytes on Linux), nor is any real pattern. */
const MAX_PATTERN_LENGTH = 4096;

function compileRule(raw: string): Rule | null {
  if (raw.length > MAX_PATTERN_LENGTH) return null;
  let line = trimTrailingSpaces(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
  if (line === '' || line.startsWith('#')) return null;
  const negated = line.startsWith('!');
  if (negated) line = line.slice(1);
  else if (line.startsWith('\\!') || line.startsWith('\\#')) line = line.slice(1);
  const directoryOnly = line.endsWith('/');
  if (directoryOnly) line = line.slice(0, -1);
  // A slash at the start or in the middle anchors the pattern at the root.
  const anchored = line.includes('/');
  if (line.startsWith('/')) line = line.slice(1);
  if (line === '') return null;
  const segments = line.split('/').map(compileGlob);
  if (!anchored) segments.unshift({ kind: 'globstar' });
  // "a/**" matches everything inside a, and not a itself.
  if (segments.at(-1)?.kind === 'globstar' && segments.length > 1) segments.splice(-1, 0, { kind: 'one' });
  return { segments, negated, directoryOnly };
}

/** Where matching `atom` at `at` of `name` ends, or -1 when it does not match there. */
function matchAtom(atom: Atom, name: string, at: number): number {
  switch (atom.kind) {
    case 'text':
      return name.startsWith(atom.text, at) ? at + atom.text.length : -1;
    case 'any':
      return at + 1;
    case 'class': {
      const char = name.charAt(at);
      const inRange = atom.ranges.some(([low, high]) => low <= char && char <= high);
      return inRange !== atom.negated ? at + 1 : -1;
    }
    case 'star':
      return -1;
  }
}

/**
 * The two-pointer wildcard match of a pattern (elements 0..patternLength) against a subject of
 * `subjectLength` units: `step(p, s)` matches element p at s and says where it ends (-1: no
 * match). On a mismatch only the last star is extended by one unit. As every non-star element
 * matches one fixed stretch, retrying the last star alone is complete, and the cost is at most
 * pattern length times subject length.
 */
/** The steps a matcher has left to spend (see {@link PACKIGNORE_STEP_BUDGET}). */
interface Fuel {
  left: number;
}

function wildcardMatch(
  patternLength: number,
  subjectLength: number,
  isStar: (p: number) => boolean,
  step: (p: number, s: number) => number,
  fuel: Fuel,
): boolean {
  let p = 0;
  let s = 0;
  let starP = -1;
  let starS = 0;
  while (s < subjectLength) {
    if (--fuel.left < 0) {
      throw tooLarge(
        `costs more than ${PACKIGNORE_STEP_BUDGET.toLocaleString('en')} steps to match against the pack's paths: fewer or simpler patterns`,
      );
    }
    const next = p < patternLength && !isStar(p) ? step(p, s) : -1;
    if (p < patternLength && isStar(p)) {
      starP = p++;
      starS = s;
    } else if (next !== -1 && next <= subjectLength) {
      p++;
      s = next;
    } else if (starP !== -1) {
      p = starP + 1;
      s = ++starS;
    } else {
      return false;
    }
  }
  while (p < patternLength && isStar(p)) p++;
  return p === patternLength;
}

function segmentMatches(segment: Segment, name: string, fuel: Fuel): boolean {
  if (segment.kind === 'one') return true;
  if (segment.kind === 'globstar') return false;
  const { atoms } = segment;
  return wildcardMatch(
    atoms.length,
    name.length,
    (p) => atoms[p]?.kind === 'star',
    (p, s) => matchAtom(atoms[p] as Atom, name, s),
    fuel,
  );
}

function ruleMatches(rule: Rule, parts: readonly string[], isDirectory: boolean, fuel: Fuel): boolean {
  if (rule.directoryOnly && !isDirectory) return false;
  const { segments } = rule;
  return wildcardMatch(
    segments.length,
    parts.length,
    (p) => segments[p]?.kind === 'globstar',
    (p, s) => (segmentMatches(segments[p] as Segment, parts[s] ?? '', fuel) ? s + 1 : -1),
    fuel,
  );
}

export interface PackIgnore {
  /** Adds gitignore-syntax lines (a whole file's text, or single patterns). */
  add(patterns: string | readonly string[]): PackIgnore;
  /** Whether `path` (pack-relative, forward slashes) is left out of the pack. */
  ignores(path: string, isDirectory?: boolean): boolean;
}

/**
 * A `.packignore` matcher.
 *
 * @example
 * packIgnore().add('*.tmp\nscratch/\n!keep.tmp').ignores('a/b.tmp'); // true
 */
export function packIgnore(options: { budget?: number } = {}): PackIgnore {
  const rules: Rule[] = [];
  const fuel: Fuel = { left: options.budget ?? PACKIGNORE_STEP_BUDGET };
  /** Whether each folder asked about is ignored, itself or through a folder above it. */
  const folders = new Map<string, boolean>();
  const decide = (parts: readonly string[], isDirectory: boolean): boolean | null => {
    for (let i = rules.length - 1; i >= 0; i--) {
      const rule = rules[i] as Rule;
      if (ruleMatches(rule, parts, isDirectory, fuel)) return !rule.negated;
    }
    return null;
  };
  const folderIgnored = (parts: readonly string[]): boolean => {
    const key = parts.join('/');
    let ignored = folders.get(key);
    if (ignored === undefined) {
      // Nothing inside an ignored directory can be re-included (gitignore(5)).
      ignored = (parts.length > 1 && folderIgnored(parts.slice(0, -1))) || decide(parts, true) === true;
      folders.set(key, ignored);
    }
    return ignored;
  };
  const matcher: PackIgnore = {
    add(patterns) {
      const lines = typeof patterns === 'string' ? patterns.split('\n') : patterns.flatMap((p) => p.split('\n'));
      let added = 0;
      for (const line of lines) {
        const rule = compileRule(line);
        if (!rule) continue;
        if (++added > MAX_PACKIGNORE_PATTERNS) {
          throw tooLarge(`holds more than ${MAX_PACKIGNORE_PATTERNS.toLocaleString('en')} patterns`);
        }
        rules.push(rule);
      }
      // New patterns may change what was decided.
      if (added > 0) folders.clear();
      return matcher;
    },
    ignores(path, isDirectory = false) {
      const directory = isDirectory || path.endsWith('/');
      const parts = path.split('/').filter((part) => part !== '');
      if (parts.length > 1 && folderIgnored(parts.slice(0, -1))) return true;
      if (directory) return folderIgnored(parts);
      return decide(parts, false) === true;
    },
  };
  return matcher;
}
