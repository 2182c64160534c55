/** The page frame: header (sections, who is signed in, theme), the routed page, and its title. */
import { useEffect, useState } from 'preact/hooks';
import { onSessionChange, signOut, type Me } from './api.js';
import { NotFoundPage } from './pages/not-found-page.js';
import { PackPage } from './pages/pack-page.js';
import { ProfilePage } from './pages/profile-page.js';
import { ProfilesPage } from './pages/profiles-page.js';
import { SearchPage } from './pages/search-page.js';
import { SignInPage } from './pages/sign-in-page.js';
import { navigate, useRoute } from './router.js';
import { session } from './session.js';

type Theme = 'light' | 'dark';

function initialTheme(): Theme {
  return window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function App() {
  const route = useRoute();
  const [me, setMe] = useState<Me | null>(session.me);
  const [theme, setTheme] = useState<Theme>(initialTheme);

  useEffect(() => onSessionChange(() => setMe(session.me)), []);
  useEffect(() => {
    document.documentElement.dataset['theme'] = theme;
  }, [theme]);

  const here = window.location.pathname + window.location.search;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/">
          Packyard <span>catalog</span>
        </a>
        <nav aria-label="Sections" class="sections">
          <a href="/" aria-current={route.page === 'search' || route.page === 'pack' ? 'page' : undefined}>
            Packs
          </a>
          <a href="/profiles" aria-current={route.page === 'profiles' || route.page === 'profile' ? 'page' : undefined}>
            Cluster profiles
          </a>
        </nav>
        <nav aria-label="Account">
          {me ? (
            <>
              <span class="who" data-testid="who">
                {me.username}
                {me.tenant ? ` (${me.tenant})` : ''}
              </span>
              <button
                type="button"
                onClick={() => {
                  signOut();
                  navigate('/');
                }}
              >
                Sign out
              </button>
            </>
          ) : route.page === 'signin' ? null : (
            <a href={`/signin?next=${encodeURIComponent(here)}`}>Sign in</a>
          )}
          <button
            type="button"
            class="theme"
            aria-pressed={theme === 'dark'}
            onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
          >
            {theme === 'dark' ? 'Light theme' : 'Dark theme'}
          </button>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {route.page === 'search' && <SearchPage params={route.params} signedIn={me !== null} />}
        {route.page === 'pack' && (
          <PackPage registry={route.registry} name={route.name} version={route.version} signedIn={me !== null} />
        )}
        {route.page === 'profiles' && <ProfilesPage me={me} />}
        {route.page === 'profile' && <ProfilePage where={route.where} name={route.name} me={me} />}
        {route.page === 'signin' && <SignInPage next={route.next} />}
        {route.page === 'not-found' && <NotFoundPage />}
      </main>
    </>
  );
}
