/**
 * `n` and `last` paging of the tag and repository lists, with the `Link: <...>; rel="next"`
 * header when more entries follow (distribution-spec "Listing Tags", "Catalog").
 */
import type { Request, Response } from 'express';
import { queryInteger, queryString } from '../http/params.js';

/** A page can be no longer than this, whatever `n` asks for. */
export const MAX_PAGE = 10_000;

/** What `?n=&last=` asks for: at most `limit` entries, those after `after`. */
export interface PageAsked {
  limit: number;
  after?: string;
}

export function pageAsked(req: Request): PageAsked {
  const n = queryInteger(req, 'n', 0, Number.MAX_SAFE_INTEGER);
  const last = queryString(req, 'last');
  const limit = Math.min(n ?? MAX_PAGE, MAX_PAGE);
  return last === undefined ? { limit } : { limit, after: last };
}

/** Sets the Link header to the page after `page` when `more` entries follow it. */
export function linkNext(res: Response, path: string, asked: PageAsked, page: readonly string[], more: boolean): void {
  const end = page.at(-1);
  if (!more || end === undefined) return;
  const query = new URLSearchParams({ n: String(asked.limit), last: end });
  res.set('Link', `<${path}?${query.toString()}>; rel="next"`);
}

/**
 * The page of `sorted` that `?n=&last=` asks for; sets the Link header when entries remain.
 * `path` is the list's own path (`/v2/_catalog`).
 */
export function pageOf(req: Request, res: Response, sorted: string[], path: string): string[] {
  const asked = pageAsked(req);
  const { after } = asked;
  const rest = after === undefined ? sorted : sorted.filter((entry) => entry > after);
  const page = rest.slice(0, asked.limit);
  linkNext(res, path, asked, page, rest.length > page.length);
  return page;
}
