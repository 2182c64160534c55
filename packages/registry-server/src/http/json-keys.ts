/**
 * Duplicate keys in a JSON document. JSON.parse keeps the last of them, other parsers (Go's for
 * one) may keep another: a manifest checked by the registry as one thing could then be read by a
 * client as another (its layers, its subject). One pass over the text, no backtracking.
 */

/**
 * The first key that appears twice in one object of `text`, or null. Meant for valid JSON; on
 * anything else it ends all the same (at the end of the text, or at a key that does not decode),
 * and the answer means nothing: the parser refuses such text.
 */
export function duplicateKey(text: string): string | null {
  /** For each open container: the keys of an object so far, or null for an array. */
  const open: (Set<string> | null)[] = [];
  /** Whether the next string in the innermost object is a key. */
  let expectKey = false;
  for (let at = 0; at < text.length; at++) {
    const char = text[at];
    if (char === '"') {
      const start = at;
      for (at++; at < text.length && text[at] !== '"'; at++) if (text[at] === '\\') at++;
      if (at >= text.length) return null;
      const keys = open.at(-1);
      if (expectKey && keys) {
        // Decoded, so that "a" and "\u0061" are the same key.
        const key = decodedKey(text.slice(start, at + 1));
        if (key === null) return null;
        if (keys.has(key)) return key;
        keys.add(key);
      }
      expectKey = false;
    } else if (char === '{') {
      open.push(new Set());
      expectKey = true;
    } else if (char === '[') {
      open.push(null);
      expectKey = false;
    } else if (char === '}' || char === ']') {
      open.pop();
    } else if (char === ',') {
      expectKey = open.at(-1) instanceof Set;
    }
  }
  return null;
}

/** A JSON string literal decoded, or null when it does not decode (invalid JSON). */
function decodedKey(literal: string): string | null {
  try {
    return JSON.parse(literal) as string;
  } catch {
    return null;
  }
}
