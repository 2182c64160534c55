/**
 * The grammar of the names and versions that become file names, URL paths and storage keys: a
 * pack's name and version (as pack.json writes them) and version selectors. The registry checks
 * path parameters with these before anything reaches storage, and packctl checks what a server
 * sends before it builds a path from it, so both read one definition.
 */
import { parseVersion, selectorKind } from './versions.js';

export const MAX_PACK_NAME_LENGTH = 64;
/** Real versions are a few dozen characters; the cap keeps keys and file names short. */
export const MAX_VERSION_LENGTH = 128;
/** Ranges may combine several comparators ("~22.04 || >=24.0 <24.10"). */
export const MAX_SELECTOR_LENGTH = 256;

const PACK_NAME = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/**
 * True for a pack name: lowercase letters, digits and inner hyphens, at most 64 characters.
 *
 * @example
 * isPackName('cni-calico'); // true
 * isPackName('../escape'); // false
 */
export function isPackName(value: string): boolean {
  return value.length <= MAX_PACK_NAME_LENGTH && PACK_NAME.test(value);
}

/**
 * True for a pack version in any accepted form (see ./versions.ts), at most 128 characters: no
 * slash, no dot segment, nothing that could leave a directory.
 *
 * @example
 * isPackVersion('22.04'); // true
 * isPackVersion('1.0.0/../../x'); // false
 */
export function isPackVersion(value: string): boolean {
  return value.length <= MAX_VERSION_LENGTH && parseVersion(value) !== null;
}

/**
 * True for a version selector: an exact version, a line tag (`1.29.x`) or a range, at most 256
 * characters.
 *
 * @example
 * isVersionSelector('>=1.29 <1.30'); // true
 */
export function isVersionSelector(value: string): boolean {
  return value.length <= MAX_SELECTOR_LENGTH && selectorKind(value) !== null;
}
