/**
 * Following a paged list (`{items, nextCursor}`) to its end: what the typed client's `listAll`
 * and the web catalog share. Identity lists' cursors are names (or ids) in order, so a cursor that
 * does not move on, or more pages than the largest collection fills, is a server whose pages never
 * end: that is refused rather than followed for ever.
 */
import type { PageOf } from './schemas/common.js';

/** The page size asked for: the largest a server gives. */
export const PAGE_ALL = 500;
/** More pages than the largest identity collection fills (50,000 users or bindings in a tenant). */
export const MAX_PAGES = 1000;

/**
 * Every item of a paged list: `pageAfter(cursor, limit)` fetches one page (the first with a null
 * cursor); `endless(problem)` is the error for pages that do not end.
 *
 * @example
 * const tenants = await allPages((cursor, limit) => getJson(`/v1/tenants?limit=${limit}...`), (p) => new Error(p));
 */
export async function allPages<T>(
  pageAfter: (cursor: string | null, limit: number) => Promise<PageOf<T>>,
  endless: (problem: string) => Error,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: PageOf<T> = await pageAfter(cursor, PAGE_ALL);
    items.push(...page.items);
    pages += 1;
    if (page.nextCursor !== null && ((cursor !== null && page.nextCursor <= cursor) || pages >= MAX_PAGES)) {
      throw endless(`the pages do not end (page ${String(pages)}, nextCursor ${page.nextCursor})`);
    }
    cursor = page.nextCursor;
  } while (cursor !== null);
  return items;
}
