/**
 * Text from a server or a pack is shown, never obeyed: a display name, an error message or a
 * finding may carry terminal escape sequences (colours, cursor moves, window titles, hyperlinks,
 * a cleared screen) or bidi overrides that reorder what the reader sees. Every printer passes such
 * text through {@link terminalSafe} (or builds its line with the {@link safe} template), and JSON
 * output through {@link printableJson}, so no control character a server chose reaches the
 * terminal. Escaped characters stay visible ("\x1b", "\u202e") instead of vanishing silently.
 */

/**
 * C0 controls, DEL and C1 controls (\p{Cc}), the bidi embeddings, overrides, isolates and marks
 * (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), and the Unicode line and paragraph
 * separators. One character class: linear on any input.
 */
const UNSAFE = /[\p{Cc}\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/gu;

function escape(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `text` with every control character escaped visibly. A single line by default (table cells,
 * names, one-line messages): newlines and tabs are escaped too. `multiline` keeps newlines and tabs
 * (error messages and hints that span lines); a carriage return is escaped in both modes, since it
 * would let the text overwrite what came before it on the line.
 *
 * @example
 * terminalSafe('evil\x1b[2J'); // 'evil\\x1b[2J'
 * terminalSafe('a\nb', { multiline: true }); // 'a\nb'
 */
export function terminalSafe(text: string, options: { multiline?: boolean } = {}): string {
  const keep = options.multiline === true;
  return text.replace(UNSAFE, (char) => (keep && (char === '\n' || char === '\t') ? char : escape(char)));
}

/**
 * A template tag for one line of output: the literal parts are packctl's own, every substituted
 * value is made {@link terminalSafe} (on one line).
 *
 * @example
 * process.stdout.write(safe`pulled ${record.name}@${record.version}\n`);
 */
export function safe(
  strings: TemplateStringsArray,
  ...values: ReadonlyArray<string | number | boolean | null>
): string {
  let line = strings[0] ?? '';
  values.forEach((value, i) => {
    line += terminalSafe(String(value)) + (strings[i + 1] ?? '');
  });
  return line;
}

/**
 * JSON text that is safe on a terminal. JSON.stringify escapes C0 controls but passes DEL, the C1
 * controls (0x9b is a CSI on some terminals) and the bidi overrides through raw; these can only
 * appear inside strings, where "\uXXXX" means the same character, so the JSON is unchanged for
 * any parser.
 */
export function printableJson(json: string): string {
  // C0 characters here are the layout's own newlines and indentation: JSON.stringify escaped any in strings.
  return json.replace(UNSAFE, (char) =>
    char < ' ' ? char : `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
  );
}
