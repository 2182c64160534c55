/**
 * YAML shown with light highlighting (keys, comments, list dashes, values), line by line in one
 * pass over each line's characters: no regular expression sees the publisher's text.
 */
import type { JSX } from 'preact';

/** Where a comment starts in `line` (a `#` at the start or after whitespace, outside quotes), or -1. */
function commentStart(line: string): number {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== null) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || line[i - 1] === ' ' || line[i - 1] === '\t')) {
      return i;
    }
  }
  return -1;
}

/** The end of a `key:` at the start of `text` (after any dash), or -1. */
function keyEnd(text: string): number {
  if (text.startsWith('"') || text.startsWith("'")) return -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === ':' && (i + 1 === text.length || text[i + 1] === ' ')) return i;
    if (c === ' ' && text[i + 1] === '#') return -1;
  }
  return -1;
}

function Line({ line }: { line: string }) {
  const parts: JSX.Element[] = [];
  const comment = commentStart(line);
  let code = comment === -1 ? line : line.slice(0, comment);
  let indent = 0;
  while (indent < code.length && code[indent] === ' ') indent++;
  parts.push(<>{code.slice(0, indent)}</>);
  code = code.slice(indent);
  if (code.startsWith('- ') || code === '-') {
    parts.push(<span class="y-dash">-</span>);
    parts.push(<>{code.slice(1, 2)}</>);
    code = code.slice(2);
  }
  const end = keyEnd(code);
  if (end !== -1) {
    parts.push(<span class="y-key">{code.slice(0, end)}</span>);
    parts.push(<>:</>);
    code = code.slice(end + 1);
  }
  if (code !== '') parts.push(<span class="y-value">{code}</span>);
  if (comment !== -1) parts.push(<span class="y-comment">{line.slice(comment)}</span>);
  return <>{parts}</>;
}

export function YamlView({ text, label }: { text: string; label: string }) {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return (
    <pre class="code" aria-label={label} tabIndex={0}>
      <code>
        {lines.map((line, index) => (
          <span key={index} class="line">
            <Line line={line} />
            {'\n'}
          </span>
        ))}
      </code>
    </pre>
  );
}
