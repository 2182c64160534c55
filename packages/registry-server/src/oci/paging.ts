/**
 * `n` and `last` paging of the tag and repository lists, with the `Link: <...>; rel="next"`
 * header when more entries follow (distribution-spec "Listing Tags", "Catalog").
 */
import type { Request, Response } from 'express';
import { queryInteger, queryString } from '../http/params.js';

/** A page can be no longer than this, whatever `n` asks for. */
export const MAX_PAGE = 10_000;

/**
 * The page of `sorted` that `?n=&last=` asks for; sets the Link header when entries remain.
 * `path` is the list's own path (`/v2/<name>/tags/list`).
 */
export function pageOf(req: Request, res: Response, sorted: string[], path: string): string[] {
  const n = queryInteger(req, 'n', 0, Number.MAX_SAFE_INTEGER);
  const last = queryString(req, 'last');
  const after = last === undefined ? sorted : sorted.filter((entry) => entry > last);
  const size = Math.min(n ?? MAX_PAGE, MAX_PAGE);
  const page = after.slice(0, size);
  const end = page.at(-1);
  if (after.length > page.length && end !== undefined) {
    const query = new URLSearchParams({ n: String(size), last: end });
    res.set('Link', `<${path}?${query.toString()}>; rel="next"`);
  }
  return page;
}
