/**
 * Pages of the identity collections (tenants, projects, users, teams, custom roles, bindings, API
 * keys). Their records are held in memory, so a page is a slice of them in key order (names; ids
 * for bindings and keys): the cursor is the previous page's last key, and a page starts after it
 * whether or not that record is still there. A tenant's records sorted are kept while its records
 * do not change (its directory's `version`), so a page costs its own items, not the tenant's size.
 */
import type { PageOf } from '@packyard/registry-api';
import type { Request } from 'express';
import { invalidCursor, queryInteger, queryString } from '../http/params.js';
import { perVersion, type TenantDirectory } from '../identity/tenant-state.js';

/** Items per page unless `limit` says, and the most a page holds. */
export const IDENTITY_PAGE = 100;
export const IDENTITY_PAGE_MAX = 500;
/** Longer than any key (usernames, the longest, are 128 characters). */
const MAX_CURSOR = 256;

/** Records in key order, per directory version and collection. */
const sorted = new WeakMap<object, Map<string, readonly unknown[]>>();

/**
 * `items` sorted by `keyOf` (code units, as cursors compare): as it is for small collections (a
 * tenant list, a user's keys), through tenantInOrder for a tenant's.
 */
export function inOrder<V>(items: Iterable<V>, keyOf: (item: V) => string): readonly V[] {
  return [...items].sort((a, b) => {
    const ka = keyOf(a);
    const kb = keyOf(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/**
 * The `which` collection of a tenant's directory in key order, sorted once per version of its
 * records (a draft's, which has none, every time).
 */
export function tenantInOrder<V>(
  directory: TenantDirectory,
  which: string,
  items: () => Iterable<V>,
  keyOf: (item: V) => string,
): readonly V[] {
  return perVersion(sorted, directory, which, () => inOrder(items(), keyOf)) as readonly V[];
}

/**
 * The page the request asks for (`limit`, `cursor`) of `items` in key order, as `view` shows them;
 * `include` leaves out items the caller may not see (they do not count toward the page).
 */
export function pageOf<V, T>(
  req: Request,
  items: readonly V[],
  keyOf: (item: V) => string,
  view: (item: V) => T,
  include: (item: V) => boolean = () => true,
): PageOf<T> {
  const limit = queryInteger(req, 'limit', 1, IDENTITY_PAGE_MAX) ?? IDENTITY_PAGE;
  const cursor = queryString(req, 'cursor');
  if (cursor !== undefined && (cursor.length === 0 || cursor.length > MAX_CURSOR)) throw invalidCursor(cursor);
  let index = cursor === undefined ? 0 : firstAfter(items, keyOf, cursor);
  const page: T[] = [];
  let last: V | undefined;
  for (; index < items.length && page.length < limit; index++) {
    const item = items[index] as V;
    if (!include(item)) continue;
    page.push(view(item));
    last = item;
  }
  // Another page only if an item the caller may see is left.
  while (index < items.length && !include(items[index] as V)) index++;
  return { items: page, nextCursor: index < items.length && last !== undefined ? keyOf(last) : null };
}

/** The index of the first item whose key sorts after `cursor` (binary search). */
function firstAfter<V>(items: readonly V[], keyOf: (item: V) => string, cursor: string): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (keyOf(items[middle] as V) <= cursor) low = middle + 1;
    else high = middle;
  }
  return low;
}
