/**
 * The grammar of the names and versions that become file names, URL paths and storage keys: a
 * pack's name and version (as pack.json writes them) and version selectors. The registry checks
 * path parameters with these before anything reaches storage, and packctl checks what a server
 * sends before it builds a path from it, so both read one definition.
 */
import { MAX_SELECTOR_LENGTH, MAX_VERSION_LENGTH, parseVersion, selectorKind } from './versions.js';

// Defined with the version grammar, which caps its own input at these lengths.
export { MAX_SELECTOR_LENGTH, MAX_VERSION_LENGTH } from './versions.js';

export const MAX_PACK_NAME_LENGTH = 64;

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
