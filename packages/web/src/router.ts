/**
 * The catalog's few routes, in the URL's path and query so that every page and every search is a
 * link. Navigation uses the History API; links are plain <a href> (the app intercepts same-origin
 * clicks), so a new tab, a copied link or a reload land on the same page.
 */
import { useEffect, useState } from 'preact/hooks';
import { catalogPage, packPagePath, type ProfileScopeRef } from '@packyard/registry-api/catalog-pages';

export { profilePagePath, profileScopeRef, type ProfileScopeRef } from '@packyard/registry-api/catalog-pages';

export type Route =
  | { page: 'search'; params: URLSearchParams }
  | { page: 'pack'; registry: string; name: string; version: string | null }
  | { page: 'profiles' }
  | { page: 'profile'; where: ProfileScopeRef; name: string }
  | { page: 'signin'; next: string }
  | { page: 'not-found' };

/** The route of a location: the page from the table the server reads too, its query from the URL. */
export function parseRoute(location: { pathname: string; search: string }): Route {
  const params = new URLSearchParams(location.search);
  const page = catalogPage(location.pathname);
  switch (page.page) {
    case 'search':
      return { page: 'search', params };
    case 'pack':
      return { ...page, version: params.get('version') };
    case 'signin':
      return { page: 'signin', next: safeNext(params.get('next')) };
    default:
      return page;
  }
}

/** Only a path of this site may be where signing in returns to. */
function safeNext(next: string | null): string {
  return next !== null && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export const packHref = packPagePath;

const changed = new Set<() => void>();

export function navigate(href: string, { replace = false } = {}): void {
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  for (const listener of changed) listener();
  if (!replace) window.scrollTo(0, 0);
}

/** The current route; re-renders on navigation (links, back and forward). */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location));
    changed.add(update);
    window.addEventListener('popstate', update);
    return () => {
      changed.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return route;
}

/** Same-origin link clicks become History navigation (modifier clicks and new tabs are left alone). */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const anchor = (event.target as Element | null)?.closest('a');
    if (!anchor || anchor.target !== '' || anchor.hasAttribute('download')) return;
    const url = new URL(anchor.href, window.location.href);
    if (url.origin !== window.location.origin || url.pathname.startsWith('/v1/')) return;
    event.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
}
