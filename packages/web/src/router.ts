/**
 * The catalog's few routes, in the URL's path and query so that every page and every search is a
 * link. Navigation uses the History API; links are plain <a href> (the app intercepts same-origin
 * clicks), so a new tab, a copied link or a reload land on the same page.
 */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'search'; params: URLSearchParams }
  | { page: 'pack'; registry: string; name: string; version: string | null }
  | { page: 'signin'; next: string }
  | { page: 'not-found' };

export function parseRoute(location: { pathname: string; search: string }): Route {
  const params = new URLSearchParams(location.search);
  const parts = location.pathname.split('/').filter((part) => part !== '');
  if (parts.length === 0) return { page: 'search', params };
  if (parts[0] === 'packs' && parts.length === 3) {
    try {
      return {
        page: 'pack',
        registry: decodeURIComponent(parts[1] ?? ''),
        name: decodeURIComponent(parts[2] ?? ''),
        version: params.get('version'),
      };
    } catch {
      return { page: 'not-found' };
    }
  }
  if (parts[0] === 'signin' && parts.length === 1) return { page: 'signin', next: safeNext(params.get('next')) };
  return { page: 'not-found' };
}

/** Only a path of this site may be where signing in returns to. */
function safeNext(next: string | null): string {
  return next !== null && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export function packHref(registry: string, name: string, version?: string): string {
  const path = `/packs/${encodeURIComponent(registry)}/${encodeURIComponent(name)}`;
  return version === undefined ? path : `${path}?version=${encodeURIComponent(version)}`;
}

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
