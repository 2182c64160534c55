/**
 * Search as you type, with facets that count (layer, cloud, add-on type, registry, deprecation)
 * and a sort; the query lives in the URL (?q=&layer=...), so a search is a link. Each keystroke
 * aborts the request before it: only the latest answer is shown.
 */
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { searchPacks, type CatalogPage, type Facets, type SearchQuery } from '../api.js';
import { ErrorBox } from '../components/error-box.js';
import { PackBadges } from '../components/pack-badges.js';
import { PackLogo } from '../components/pack-logo.js';
import { navigate, packHref } from '../router.js';

type Row = CatalogPage['items'][number];

const FACETS: Array<{ key: 'layer' | 'cloudType' | 'addonType' | 'registry'; label: string }> = [
  { key: 'layer', label: 'Layer' },
  { key: 'cloudType', label: 'Cloud' },
  { key: 'addonType', label: 'Add-on type' },
  { key: 'registry', label: 'Registry' },
];

function queryOf(params: URLSearchParams): SearchQuery {
  const get = (key: string) => params.get(key) ?? undefined;
  const deprecated = params.get('deprecated');
  const sort = params.get('sort');
  return {
    q: get('q'),
    layer: get('layer'),
    cloudType: get('cloudType'),
    addonType: get('addonType'),
    registry: get('registry'),
    deprecated: deprecated === 'true' ? true : deprecated === 'false' ? false : undefined,
    sort: sort === '-published' ? '-published' : undefined,
  };
}

function hrefOf(query: SearchQuery): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text === '' ? '/' : `/?${text}`;
}

type State =
  | { kind: 'loading'; previous: CatalogPage | null }
  | { kind: 'done'; page: CatalogPage }
  | { kind: 'error'; error: Error };

export function SearchPage({ params, signedIn }: { params: URLSearchParams; signedIn: boolean }) {
  const query = queryOf(params);
  const key = hrefOf(query);
  const [state, setState] = useState<State>({ kind: 'loading', previous: null });
  const last = useRef<CatalogPage | null>(null);
  // Pages after the first, fetched by "Show more": dropped when the search changes.
  const [more, setMore] = useState<{ items: Row[]; cursor: string | null; loading: boolean }>({
    items: [],
    cursor: null,
    loading: false,
  });

  // A layout effect: the search starts right after the keystroke's render, not a frame later.
  useLayoutEffect(() => {
    document.title = query.q ? `${query.q} - Packyard catalog` : 'Packyard catalog';
    const controller = new AbortController();
    setState({ kind: 'loading', previous: last.current });
    searchPacks(query, controller.signal).then(
      (page) => {
        last.current = page;
        setState({ kind: 'done', page });
        setMore({ items: [], cursor: page.nextCursor, loading: false });
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setState({ kind: 'error', error: error instanceof Error ? error : new Error(String(error)) });
      },
    );
    return () => controller.abort();
    // The search is the URL: `key` names every part of it; a sign-in may show more registries.
  }, [key, signedIn]);

  const showMore = () => {
    if (more.cursor === null || more.loading) return;
    setMore({ ...more, loading: true });
    searchPacks(query, undefined, more.cursor).then(
      (next) => setMore({ items: [...more.items, ...next.items], cursor: next.nextCursor, loading: false }),
      (error: unknown) => setState({ kind: 'error', error: error instanceof Error ? error : new Error(String(error)) }),
    );
  };

  const update = (change: Partial<SearchQuery>) => navigate(hrefOf({ ...query, ...change }), { replace: true });
  const page = state.kind === 'done' ? state.page : state.kind === 'loading' ? state.previous : null;
  const rows = page === null ? [] : [...page.items, ...(state.kind === 'done' ? more.items : [])];

  return (
    <div class="search">
      <h1 class="visually-hidden">Search the pack catalog</h1>
      <form class="searchbar" role="search" onSubmit={(event) => event.preventDefault()}>
        <label for="q" class="visually-hidden">
          Search packs
        </label>
        <input
          id="q"
          type="search"
          placeholder="Search packs by name, description, add-on type..."
          autoComplete="off"
          spellcheck={false}
          value={query.q ?? ''}
          onInput={(event) => update({ q: event.currentTarget.value })}
        />
        <label>
          Sort
          <select
            value={query.sort ?? 'name'}
            onChange={(event) =>
              update({ sort: event.currentTarget.value === '-published' ? '-published' : undefined })
            }
          >
            {/* Without a sort, the registry orders a search by relevance, else by name. */}
            <option value="name">{query.q ? 'Best match' : 'Name'}</option>
            <option value="-published">Recently published</option>
          </select>
        </label>
      </form>
      <div class="search-body">
        <aside class="facets" aria-label="Filters">
          {FACETS.map(({ key: facet, label }) => (
            <FacetGroup
              key={facet}
              label={label}
              counts={page?.facets?.[facet] ?? {}}
              selected={query[facet]}
              onSelect={(value) => update({ [facet]: value })}
            />
          ))}
          <fieldset class="facet">
            <legend>Deprecated versions</legend>
            <select
              aria-label="Deprecated versions"
              value={query.deprecated === undefined ? 'any' : query.deprecated ? 'only' : 'hide'}
              onChange={(event) => {
                const value = event.currentTarget.value;
                update({ deprecated: value === 'only' ? true : value === 'hide' ? false : undefined });
              }}
            >
              <option value="any">Shown</option>
              <option value="hide">Hidden</option>
              <option value="only">Only deprecated ({page?.facets?.deprecated ?? 0})</option>
            </select>
          </fieldset>
          {key !== '/' && (
            <p>
              <a href="/">Clear the search</a>
            </p>
          )}
        </aside>
        <section class="results" aria-live="polite" aria-busy={state.kind === 'loading'}>
          {state.kind === 'error' ? (
            <ErrorBox error={state.error} />
          ) : page === null ? (
            <p class="muted">Searching...</p>
          ) : page.total === 0 ? (
            <div class="empty">
              <h2>No packs match</h2>
              <p class="muted">Try fewer words, or clear a filter.</p>
            </div>
          ) : (
            <>
              <p class="count" data-testid="result-count">
                {page.total} {page.total === 1 ? 'pack' : 'packs'}
                {rows.length < page.total ? `, the first ${rows.length} shown` : ''}
              </p>
              <ul class="cards">
                {rows.map((row) => (
                  <PackCard key={`${row.registry}/${row.name}`} row={row} />
                ))}
              </ul>
              {state.kind === 'done' && more.cursor !== null && (
                <button type="button" class="more" onClick={showMore} disabled={more.loading}>
                  {more.loading ? 'Loading...' : 'Show more'}
                </button>
              )}
            </>
          )}
        </section>
      </div>
    </div>
  );
}

function FacetGroup(props: {
  label: string;
  counts: Facets['layer'];
  selected: string | undefined;
  onSelect: (value: string | undefined) => void;
}) {
  const entries = Object.entries(props.counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (entries.length === 0 && props.selected === undefined) return null;
  return (
    <fieldset class="facet">
      <legend>{props.label}</legend>
      <ul>
        {entries.map(([value, count]) => {
          const on = props.selected === value;
          return (
            <li key={value}>
              <button type="button" aria-pressed={on} onClick={() => props.onSelect(on ? undefined : value)}>
                <span>{value}</span>
                <span class="n">{count}</span>
              </button>
            </li>
          );
        })}
      </ul>
    </fieldset>
  );
}

function PackCard({ row }: { row: Row }) {
  return (
    <li class="card">
      <a href={packHref(row.registry, row.name)}>
        <PackLogo registry={row.registry} name={row.name} version={row.latest} />
        <span class="card-text">
          <span class="card-title">
            {row.displayName} <span class="version">{row.latest}</span>
          </span>
          <span class="card-name">
            {row.registry}/{row.name}
          </span>
          {row.description && <span class="card-desc">{row.description}</span>}
          <PackBadges
            layer={row.layer}
            addonType={row.addonType}
            cloudTypes={row.cloudTypes}
            deprecated={row.deprecated}
          />
        </span>
      </a>
    </li>
  );
}
