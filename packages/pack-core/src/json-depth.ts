/**
 * How deeply JSON text nests arrays and objects, found by one pass over its bytes before it is
 * parsed: `JSON.parse` takes any depth, and a few megabytes of `[` cost seconds and gigabytes to
 * parse, then overflow the call stack of every recursive walk (JSON.stringify among them). The
 * registry refuses request bodies by it, packctl answers.
 */
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/** Whether `json` (UTF-8 bytes) nests arrays or objects deeper than `limit`; strings are skipped. */
export function jsonNestsDeeperThan(json: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let at = 0; at < json.length; at++) {
    const byte = json[at] as number;
    if (inString) {
      if (byte === BACKSLASH) at++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      if (++depth > limit) return true;
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}
