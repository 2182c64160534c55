/**
 * A pack's one-line description, taken from its README's first paragraph: what a catalog card
 * shows under the pack's name. Headings, badges, images, HTML, code blocks, tables and lists
 * before the first paragraph of prose are skipped; inside it, links keep their text, images and
 * inline HTML go, and emphasis and code marks are dropped.
 *
 * Every step is one pass over a bounded prefix of the text (no regular expression backtracks over
 * user input): the README comes from any publisher.
 */

/** Characters of a description at most (cut at a word, with an ellipsis). */
export const README_EXCERPT_CHARS = 240;
/** The part of a README looked at: the first paragraph is near the top. */
export const README_EXCERPT_SCAN_CHARS = 64 * 1024;
/** A paragraph longer than this is cut before its inline markup is read. */
const PARAGRAPH_CHARS = 4 * 1024;

/** The README's first paragraph as plain text, at most `maxChars` long; null when it has none. */
export function readmeExcerpt(markdown: string, maxChars = README_EXCERPT_CHARS): string | null {
  const paragraph = firstParagraph(markdown.slice(0, README_EXCERPT_SCAN_CHARS));
  if (paragraph === null) return null;
  const text = collapseSpaces(plainInline(paragraph.slice(0, PARAGRAPH_CHARS)));
  return text === '' ? null : clip(text, maxChars);
}

function isRule(line: string): boolean {
  // A thematic break or a setext underline: only one of - = * _ repeated, spaces allowed.
  const mark = line[0];
  if (mark !== '-' && mark !== '=' && mark !== '*' && mark !== '_') return false;
  for (const char of line) if (char !== mark && char !== ' ') return false;
  return true;
}

function isListItem(line: string): boolean {
  if ((line[0] === '-' || line[0] === '*' || line[0] === '+') && line[1] === ' ') return true;
  let digits = 0;
  while (digits < line.length && line.charCodeAt(digits) >= 48 && line.charCodeAt(digits) <= 57) digits++;
  return digits > 0 && digits <= 9 && (line[digits] === '.' || line[digits] === ')') && line[digits + 1] === ' ';
}

/** A line that is not prose: a heading, HTML, a table row, a list item, or badges and images only. */
function isStructural(line: string): boolean {
  if (line.startsWith('#') || line.startsWith('<') || line.startsWith('|') || isListItem(line)) return true;
  return collapseSpaces(plainInline(line)) === '';
}

function firstParagraph(markdown: string): string | null {
  const lines: string[] = [];
  let fence: string | null = null;
  let inComment = false;
  for (const raw of markdown.split('\n')) {
    const line = raw.trim();
    if (fence !== null) {
      if (line.startsWith(fence)) fence = null;
      continue;
    }
    if (inComment) {
      if (line.includes('-->')) inComment = false;
      continue;
    }
    const started = lines.length > 0;
    if (line === '') {
      if (started) break;
      continue;
    }
    if (line.startsWith('```') || line.startsWith('~~~')) {
      if (started) break;
      fence = line.slice(0, 3);
      continue;
    }
    if (line.startsWith('<!--')) {
      if (started) break;
      inComment = !line.includes('-->');
      continue;
    }
    if (isRule(line)) {
      // Under text, === or --- make that text a heading: not the paragraph.
      lines.length = 0;
      continue;
    }
    if (!started && (raw.startsWith('    ') || raw.startsWith('\t'))) continue;
    if (isStructural(line)) {
      if (started) break;
      continue;
    }
    lines.push(line.startsWith('>') ? line.slice(1).trimStart() : line);
  }
  return lines.length === 0 ? null : lines.join(' ');
}

/** For each position, where the next `char` is at or after it (-1: none); one pass from the end. */
function nextIndexes(text: string, char: string): Int32Array {
  const out = new Int32Array(text.length + 1);
  let next = -1;
  out[text.length] = -1;
  for (let i = text.length - 1; i >= 0; i--) {
    if (text[i] === char) next = i;
    out[i] = next;
  }
  return out;
}

/** Where `[text](target)` starting at `open` ends, with the end of its text; null if it is not one. */
function linkAt(
  text: string,
  open: number,
  closeBracket: Int32Array,
  closeParen: Int32Array,
): { textEnd: number; end: number } | null {
  const textEnd = closeBracket[open + 1] ?? -1;
  if (textEnd < 0 || text[textEnd + 1] !== '(') return null;
  const end = closeParen[textEnd + 2] ?? -1;
  return end < 0 ? null : { textEnd, end };
}

/** Drops images (`![alt](src)`) and HTML tags, keeps links' text, drops emphasis and code marks. */
function plainInline(text: string): string {
  const withoutImages = dropImagesAndTags(text);
  const closeBracket = nextIndexes(withoutImages, ']');
  const closeParen = nextIndexes(withoutImages, ')');
  let out = '';
  for (let i = 0; i < withoutImages.length; i++) {
    const char = withoutImages[i] ?? '';
    if (char === '[') {
      const link = linkAt(withoutImages, i, closeBracket, closeParen);
      if (link) {
        out += withoutImages.slice(i + 1, link.textEnd);
        i = link.end;
        continue;
      }
    }
    if (char === '*' || char === '`') continue;
    if (char === '_' && withoutImages[i + 1] === '_') {
      i++;
      continue;
    }
    out += char;
  }
  return out;
}

function dropImagesAndTags(text: string): string {
  const closeBracket = nextIndexes(text, ']');
  const closeParen = nextIndexes(text, ')');
  const closeAngle = nextIndexes(text, '>');
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i] ?? '';
    if (char === '!' && text[i + 1] === '[') {
      const image = linkAt(text, i + 1, closeBracket, closeParen);
      if (image) {
        i = image.end;
        continue;
      }
    }
    if (char === '<' && /[A-Za-z/!]/.test(text[i + 1] ?? '')) {
      const end = closeAngle[i] ?? -1;
      if (end >= 0) {
        i = end;
        continue;
      }
    }
    out += char;
  }
  return out;
}

function collapseSpaces(text: string): string {
  let out = '';
  let space = false;
  for (const char of text) {
    if (char === ' ' || char === '\t' || char === '\r' || char === '\n') {
      space = out !== '';
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += char;
  }
  return out;
}

function clip(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const cut = text.lastIndexOf(' ', maxChars - 1);
  return `${text.slice(0, cut > maxChars / 2 ? cut : maxChars - 1).trimEnd()}\u2026`;
}
