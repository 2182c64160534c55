/**
 * YAML parsing for pack files, the one parse every untrusted YAML goes through (values.yaml,
 * manifests, presets, schema.yaml, profile values).
 *
 * Templates: real packs put Go-template expressions in manifests and values
 * (`{{ .spectro.system.cluster.name }}`, `{{- if .Values.x }}`), which are not YAML until the
 * platform renders them. We parse such files with the expressions neutralised: an action alone on
 * its line becomes a comment, an inline one a placeholder word (`tpl-` and the line number), and
 * the caller learns that the file was templated so a remaining failure can be a warning rather
 * than an error.
 *
 * Bounds: the `yaml` library's cost grows with its lexical tokens (about a microsecond each, and a
 * few hundred bytes of memory while a document is held), its `uniqueKeys` check is quadratic in the
 * keys of a map, and its `toJS` searches the document once per alias. So the text is lexed, parsed
 * and composed one token at a time under {@link YAML_LIMITS} (bytes, tokens, nesting), and the
 * documents are turned into plain values here, in one linear walk that checks duplicate keys with a
 * set and counts the nodes aliases expand to. Every failure is a {@link YamlProblem}, never a throw.
 */
import {
  Composer,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  Lexer,
  LineCounter,
  Parser,
  type CST,
  type Document,
} from 'yaml';

type Token = CST.Token;

export interface YamlLimits {
  /** UTF-8 bytes of the text. */
  maxBytes: number;
  /** Lexical tokens (scalars, indicators, comments, line breaks): the work the parser does. */
  maxTokens: number;
  /** Documents in the stream (each costs the library far more than a token). */
  maxDocuments: number;
  /** Nesting of collections inside a document. */
  maxDepth: number;
  /** Nodes of all documents, counting an alias as the nodes it stands for. */
  maxNodes: number;
}

/**
 * Limits real packs never reach. In Spectro Cloud's pack-central the largest values.yaml (thanos,
 * 282 KiB) is 24,000 tokens, the largest manifest (kubeflow's training CRDs, 2.4 MiB) 138,000 tokens,
 * 195 documents and 35 levels deep, the deepest 39 levels (argo-rollouts). A parse at the token
 * limit takes about a second on one core.
 */
export const YAML_LIMITS: Readonly<YamlLimits> = Object.freeze({
  maxBytes: 8 * 1024 * 1024,
  maxTokens: 500_000,
  maxDocuments: 10_000,
  maxDepth: 128,
  maxNodes: 1_000_000,
});

export type YamlProblemKind = 'syntax' | 'too-large' | 'too-deep' | 'aliases' | 'duplicate-key';

export interface YamlProblem {
  /** `syntax`: not YAML; `too-large`, `too-deep`, `aliases`: past a {@link YamlLimits} bound. */
  kind: YamlProblemKind;
  /** For `syntax` and `duplicate-key` a sentence; otherwise what the text does ("nests deeper than 128 levels"). */
  message: string;
  line?: number;
  column?: number;
}

export interface YamlDocumentInfo {
  /** The line the document's content starts on. */
  line: number;
  /** True when template actions were neutralised inside the document. */
  templated: boolean;
}

export interface ParsedYaml {
  /** Every document of the stream as a plain value; an empty document (`---` alone) is null. */
  documents: unknown[];
  /** Where each of {@link ParsedYaml.documents} starts, and whether it was templated. */
  documentInfo: YamlDocumentInfo[];
  /** The first syntax problem or exceeded limit, if any; documents are empty then. */
  problem: YamlProblem | null;
  /** Keys given twice in one mapping (the last one wins, as in Helm); not checked when templated. */
  duplicateKeys: YamlProblem[];
  /** True when the text had template actions and was parsed neutralised. */
  templated: boolean;
  /** Lexical tokens read, for callers that budget the work of several parses. */
  tokens: number;
}

// ---------------------------------------------------------------------------------------------
// Template actions, found by a scan instead of a regular expression: `{{` then the first `}}` on
// the same line. A line with `{{` but no `}}` after it has no further action, so every character
// is looked at a bounded number of times.

/** True when `line` has nothing but whitespace between `from` and `to`. */
function blankBetween(line: string, from: number, to: number): boolean {
  return to <= from || line.slice(from, to).trim() === '';
}

/**
 * How a line holds template actions: none, only actions and blanks (a control line such as
 * `{{- if .x }}`), or actions inline with YAML. Allocates nothing per action.
 */
function lineKind(line: string): 'none' | 'control' | 'inline' {
  let from = 0;
  let found = false;
  for (;;) {
    const start = line.indexOf('{{', from);
    if (start === -1) break;
    const close = line.indexOf('}}', start + 2);
    if (close === -1) break;
    found = true;
    if (!blankBetween(line, from, start)) return 'inline';
    from = close + 2;
  }
  if (!found) return 'none';
  return blankBetween(line, from, line.length) ? 'control' : 'inline';
}

/** True when the text holds at least one `{{ ... }}` template action (opened and closed on one line). */
export function hasTemplates(text: string): boolean {
  if (!text.includes('{{')) return false;
  return text.split('\n').some((line) => lineKind(line) !== 'none');
}

interface Neutralised {
  text: string;
  /** 1-based numbers of the lines that held actions, ascending. */
  templatedLines: number[];
}

function neutralise(text: string): Neutralised {
  const templatedLines: number[] = [];
  if (!text.includes('{{')) return { text, templatedLines };
  const lines = text.split('\n').map((line, index) => {
    const kind = lineKind(line);
    if (kind === 'none') return line;
    templatedLines.push(index + 1);
    // Control lines ({{- if }}, {{ end }}, {{ toYaml . | nindent 4 }}) carry no YAML of their own.
    if (kind === 'control') return `#${' '.repeat(Math.max(0, line.length - 1))}`;
    // Placeholders numbered by line keep templated keys of a block mapping distinct; plain words
    // stay valid in any quoting. One string per line keeps a line of many actions cheap.
    const placeholder = `tpl-${index + 1}`;
    let out = '';
    let from = 0;
    for (let start = line.indexOf('{{'); start !== -1; start = line.indexOf('{{', from)) {
      const close = line.indexOf('}}', start + 2);
      if (close === -1) break;
      out += line.slice(from, start) + placeholder;
      from = close + 2;
    }
    return out + line.slice(from);
  });
  return { text: lines.join('\n'), templatedLines };
}

/**
 * Replaces Go-template actions so that the text can be parsed as YAML, keeping line numbers.
 *
 * @example
 * neutraliseTemplates('name: {{ .Values.name }}\n'); // 'name: tpl-1\n'
 * neutraliseTemplates('{{- if .x }}\nk: "{{ a }}-{{ b }}"\n'); // '#           \nk: "tpl-2-tpl-2"\n'
 */
export function neutraliseTemplates(text: string): string {
  return neutralise(text).text;
}

// ---------------------------------------------------------------------------------------------
// The bounded parse.

/** Thrown inside this module only, to stop a walk at the first problem. */
class Stop extends Error {
  constructor(readonly problem: YamlProblem) {
    super(problem.message);
  }
}

function at(lines: LineCounter, offset: number | undefined): { line?: number; column?: number } {
  if (offset === undefined) return {};
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

interface Anchored {
  value: unknown;
  /** Nodes the anchored node stands for; null while it is being converted. */
  size: number | null;
}

interface Walk {
  lines: LineCounter;
  limits: YamlLimits;
  /** Anchors of the current document, in document order (a later one of the same name wins). */
  anchors: Map<string, Anchored>;
  nodes: number;
  duplicates: YamlProblem[];
}

const MAX_DUPLICATES_LISTED = 100;

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: unknown } | null)?.range;
  return Array.isArray(range) && typeof range[0] === 'number' ? range[0] : undefined;
}

function countNodes(walk: Walk, count: number, offset: number | undefined, viaAlias: boolean): void {
  walk.nodes += count;
  if (walk.nodes <= walk.limits.maxNodes) return;
  const message = viaAlias
    ? `has aliases that expand to more than ${walk.limits.maxNodes} nodes`
    : `has more than ${walk.limits.maxNodes} nodes`;
  throw new Stop({ kind: viaAlias ? 'aliases' : 'too-large', message, ...at(walk.lines, offset) });
}

function scalarValue(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  // YAML 1.1 timestamps become Date objects; plain values carry them as their JSON form.
  if (value instanceof Date) return value.toJSON();
  return value;
}

function keyString(key: unknown): string {
  if (key === null || key === undefined) return '';
  if (typeof key === 'string') return key;
  if (typeof key === 'number' || typeof key === 'boolean') return String(key);
  // A collection as a key (rare, but YAML allows it) is named by its JSON form.
  return JSON.stringify(key);
}

function setKey(walk: Walk, target: Record<string, unknown>, pair: { key: unknown; value: unknown }, depth: number) {
  const key = keyString(toValue(walk, pair.key, depth));
  const value = toValue(walk, pair.value, depth);
  if (Object.hasOwn(target, key) && walk.duplicates.length < MAX_DUPLICATES_LISTED) {
    walk.duplicates.push({
      kind: 'duplicate-key',
      message: `key "${key.slice(0, 80)}" is given twice in one mapping; the last one wins`,
      ...at(walk.lines, rangeStart(pair.key)),
    });
  }
  // A key named __proto__ is data, never the prototype.
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** One node to a plain value (the `toJS` of the yaml library, linear in the nodes it expands). */
function toValue(walk: Walk, node: unknown, depth: number): unknown {
  if (node === null || node === undefined) return null;
  const offset = rangeStart(node);
  if (depth > walk.limits.maxDepth) {
    throw new Stop({
      kind: 'too-deep',
      message: `nests deeper than ${walk.limits.maxDepth} levels`,
      ...at(walk.lines, offset),
    });
  }
  if (isAlias(node)) {
    const anchored = walk.anchors.get(node.source);
    if (!anchored) {
      throw new Stop({
        kind: 'syntax',
        message: `alias *${node.source} names no anchor before it`,
        ...at(walk.lines, offset),
      });
    }
    if (anchored.size === null) {
      throw new Stop({
        kind: 'aliases',
        message: `has an alias, *${node.source}, inside the node it refers to`,
        ...at(walk.lines, offset),
      });
    }
    countNodes(walk, anchored.size, offset, true);
    return anchored.value;
  }
  const anchor = (node as { anchor?: unknown }).anchor;
  const anchored: Anchored | null = typeof anchor === 'string' && anchor !== '' ? { value: null, size: null } : null;
  if (anchored) walk.anchors.set(anchor as string, anchored);
  const before = walk.nodes;
  countNodes(walk, 1, offset, false);
  let value: unknown;
  if (isScalar(node)) {
    value = scalarValue(node.value);
  } else if (isMap(node)) {
    const map: Record<string, unknown> = {};
    for (const pair of node.items) setKey(walk, map, pair, depth + 1);
    value = map;
  } else if (isSeq(node)) {
    value = node.items.map((item) => {
      if (!isPair(item)) return toValue(walk, item, depth + 1);
      // A `key: value` inside a flow sequence is a one-pair mapping.
      const single: Record<string, unknown> = {};
      setKey(walk, single, item, depth + 1);
      return single;
    });
  } else {
    value = null;
  }
  if (anchored) {
    anchored.value = value;
    anchored.size = walk.nodes - before;
  }
  return value;
}

/** Where the library's error source (an offset, a range or a token) starts. */
type ErrorSource = number | readonly number[] | { offset: number };

function errorOffset(source: ErrorSource): number {
  if (typeof source === 'number') return source;
  return 'offset' in source ? source.offset : (source[0] ?? 0);
}

/**
 * A composer that stops at the first error. The library collects every error of a document before
 * handing the document over, an Error object each (some 10 µs): a file of half a million stray
 * tokens took seconds. Only the first error is reported, so composing stops there. `onError` is
 * the composer's own handler (yaml/dist/compose/composer.js); were it renamed, this would only
 * stop early no more, as every document's errors are checked when it is taken.
 */
function firstErrorComposer(lines: LineCounter): Composer {
  // Duplicate keys are found by toValue in linear time; the library's own check is quadratic.
  const composer = new Composer({ uniqueKeys: false });
  // The library catches what a collection throws and reports it again for the enclosing one:
  // the first Stop is thrown again unchanged, so it keeps its position.
  let first: Stop | null = null;
  const handler = (source: ErrorSource, _code: string, message: string, warning?: boolean): void => {
    if (warning === true) return;
    first ??= new Stop({ kind: 'syntax', message, ...at(lines, errorOffset(source)) });
    throw first;
  };
  (composer as unknown as { onError: typeof handler }).onError = handler;
  return composer;
}

/** UTF-8 bytes of `text`: Buffer's count on Node, the encoder's in a browser (the web catalog resolves profiles). */
function utf8Length(text: string): number {
  return typeof Buffer === 'undefined' ? new TextEncoder().encode(text).length : Buffer.byteLength(text, 'utf8');
}

function tooLong(text: string, limits: YamlLimits): YamlProblem | null {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: only a long text needs counting.
  if (text.length * 3 <= limits.maxBytes || utf8Length(text) <= limits.maxBytes) return null;
  return { kind: 'too-large', message: `is larger than ${Math.round(limits.maxBytes / 1024)} KiB` };
}

function parseBounded(text: string, limits: YamlLimits): ParsedYaml {
  const result: ParsedYaml = {
    documents: [],
    documentInfo: [],
    problem: null,
    duplicateKeys: [],
    templated: false,
    tokens: 0,
  };
  const tooBig = tooLong(text, limits);
  if (tooBig) return { ...result, problem: tooBig };
  const { text: source, templatedLines } = neutralise(text);
  result.templated = templatedLines.length > 0;

  const lines = new LineCounter();
  lines.addNewLine(0);
  const walk: Walk = { lines, limits, anchors: new Map(), nodes: 0, duplicates: [] };
  let nextTemplated = 0;
  // Each document is turned into a plain value as soon as it is composed, and then dropped.
  const take = (doc: Document.Parsed): void => {
    if (result.documents.length >= limits.maxDocuments) {
      const message = `has more than ${limits.maxDocuments} YAML documents`;
      throw new Stop({ kind: 'too-large', message, ...at(lines, doc.range[0]) });
    }
    const error = doc.errors[0];
    if (error) {
      const message = error.message.split('\n')[0] ?? error.message;
      throw new Stop({ kind: 'syntax', message, ...at(lines, error.pos[0]) });
    }
    walk.anchors = new Map();
    result.documents.push(toValue(walk, doc.contents, 0));
    // The lines since the previous document belong to this one: a control line such as
    // `{{ include "header" . }}` before the content is where the template writes it.
    const lastLine = lines.linePos(doc.range[2]).line;
    const templatedHere = (templatedLines[nextTemplated] ?? Infinity) <= lastLine;
    while ((templatedLines[nextTemplated] ?? Infinity) <= lastLine) nextTemplated++;
    result.documentInfo.push({
      line: lines.linePos(rangeStart(doc.contents) ?? doc.range[0]).line,
      templated: templatedHere,
    });
  };

  const parser = new Parser(lines.addNewLine);
  const composer = firstErrorComposer(lines);
  const compose = (token: Token): void => {
    // A stray token is an error of its own in the token stream.
    if (token.type === 'error') throw new Stop({ kind: 'syntax', message: token.message, ...at(lines, token.offset) });
    for (const doc of composer.next(token)) take(doc);
  };
  try {
    for (const lexeme of new Lexer().lex(source)) {
      if (++result.tokens > limits.maxTokens) {
        const message = `has more than ${limits.maxTokens} YAML tokens`;
        throw new Stop({ kind: 'too-large', message, ...at(lines, parser.offset) });
      }
      for (const token of parser.next(lexeme)) compose(token);
      // The parser's stack holds the document and each collection still open around this token.
      if (parser.stack.length - 1 > limits.maxDepth) {
        const message = `nests deeper than ${limits.maxDepth} levels`;
        throw new Stop({ kind: 'too-deep', message, ...at(lines, parser.offset) });
      }
    }
    for (const token of parser.end()) compose(token);
    for (const doc of composer.end()) take(doc);
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    return { ...result, documents: [], documentInfo: [], problem: err.problem };
  }
  // Both branches of an {{ if }} may set the same key, so duplicates count only without templates.
  if (!result.templated) result.duplicateKeys = walk.duplicates;
  return result;
}

/**
 * Parses every YAML document in `text` within {@link YAML_LIMITS} (or tighter `limits`),
 * neutralising template actions first when there are any. Never throws: a syntax error or an
 * exceeded limit is the `problem`.
 *
 * @example
 * parseYaml('a: 1\n---\nb: 2\n').documents; // [{ a: 1 }, { b: 2 }]
 * parseYaml('a: [1\n').problem?.kind; // 'syntax'
 */
export function parseYaml(text: string, limits: Partial<YamlLimits> = {}): ParsedYaml {
  const bounds: YamlLimits = { ...YAML_LIMITS, ...limits };
  try {
    return parseBounded(text, bounds);
  } catch (err) {
    // The library failing on some input (a stack overflow, say) is still a problem of that input.
    const message = `does not parse: ${err instanceof Error ? err.message : String(err)}`;
    return {
      documents: [],
      documentInfo: [],
      problem: { kind: 'syntax', message },
      duplicateKeys: [],
      templated: false,
      tokens: 0,
    };
  }
}
