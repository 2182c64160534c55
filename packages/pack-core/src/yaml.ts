/**
 * YAML parsing for pack files. Real packs put Go-template expressions in manifests and values
 * (`{{ .spectro.system.cluster.name }}`, `{{- if .Values.x }}`), which are not YAML until the
 * platform renders them. We parse such files with the expressions neutralised: an action alone on
 * its line becomes a comment, an inline one a plain placeholder scalar, and the caller learns that
 * the file was templated so a remaining failure can be a warning rather than an error.
 */
import { parseAllDocuments, type YAMLError } from 'yaml';

const ACTION = /\{\{[\s\S]*?\}\}/g;
const ONLY_ACTIONS = /^\s*(\{\{[\s\S]*?\}\}\s*)+$/;

/** True when the text holds at least one `{{ ... }}` template action. */
export function hasTemplates(text: string): boolean {
  return /\{\{[\s\S]*?\}\}/.test(text);
}

/**
 * Replaces Go-template actions so that the text can be parsed as YAML, keeping line numbers.
 *
 * @example
 * neutraliseTemplates('name: {{ .Values.name }}\n'); // 'name: tpl-1\n'
 */
export function neutraliseTemplates(text: string): string {
  let counter = 0;
  return text
    .split('\n')
    .map((line) => {
      // Control lines ({{- if }}, {{ end }}, {{ toYaml . | nindent 4 }}) carry no YAML of their own.
      if (ONLY_ACTIONS.test(line)) return `#${' '.repeat(Math.max(0, line.length - 1))}`;
      // Numbered placeholders keep templated keys distinct; plain words stay valid in any quoting.
      return line.replace(ACTION, () => `tpl-${++counter}`);
    })
    .join('\n');
}

export interface YamlProblem {
  message: string;
  line?: number;
  column?: number;
}

export interface ParsedYaml {
  /** The documents as plain JavaScript values (empty documents are dropped). */
  documents: unknown[];
  /** The first syntax problem, if any; documents are empty then. */
  problem: YamlProblem | null;
  /** True when the text had template actions and was parsed neutralised. */
  templated: boolean;
}

function firstProblem(errors: readonly YAMLError[]): YamlProblem | null {
  const error = errors[0];
  if (!error) return null;
  const message = error.message.split('\n')[0] ?? error.message;
  const pos = error.linePos?.[0];
  return pos ? { message, line: pos.line, column: pos.col } : { message };
}

/**
 * Parses every YAML document in `text`, neutralising template actions first when there are any.
 *
 * @example
 * parseYaml('a: 1\n---\nb: 2\n').documents; // [{ a: 1 }, { b: 2 }]
 */
export function parseYaml(text: string): ParsedYaml {
  const templated = hasTemplates(text);
  const source = templated ? neutraliseTemplates(text) : text;
  // Both branches of an {{ if }} may set the same key, so duplicates are allowed when templated.
  const docs = parseAllDocuments(source, { uniqueKeys: !templated, prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    const problem = firstProblem(doc.errors);
    if (problem) return { documents: [], problem, templated };
  }
  const documents = list
    .filter((doc) => doc.contents !== null)
    .map((doc) => doc.toJS({ maxAliasCount: 100 }) as unknown);
  return { documents, problem: null, templated };
}
