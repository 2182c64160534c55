/**
 * A pack's logo (logo.png of the version), fetched with the visitor's token and shown from an
 * object URL; the pack's initial when it has none. Never an image from another origin. Logos are
 * kept by version (a version's files never change): typing a search shows the same cards again
 * and again, and each would otherwise fetch its logo anew on every keystroke.
 *
 * At most a few logos are fetched at once, the most recently asked for first: a browser opens six
 * connections to a host, and 30 cards' logos at once would make the next keystroke's search wait
 * for one of them.
 */
import { useEffect, useState } from 'preact/hooks';
import { onSessionChange, packImage, type PackVersionRef } from '../api.js';

/** Logos kept, oldest first; past this many the oldest object URLs are released. */
const KEPT_LOGOS = 2000;
const logos = new Map<string, Promise<string | null>>();

function release(logo: Promise<string | null> | undefined): void {
  void logo?.then((url) => {
    if (url) URL.revokeObjectURL(url);
  });
}

/**
 * Signing in or out changes what may be read: logos are looked up afresh under the new session.
 * The old session's stay until the cache releases them as its oldest: released at once, a logo
 * still on screen (or one whose fetch ends after the change) would be an image of a revoked URL,
 * which the browser fails to load (ERR_FILE_NOT_FOUND).
 */
let session = 0;
onSessionChange(() => {
  session++;
});

/** Logo fetches at once (of a browser's six connections per host), and those waiting, newest last. */
const MAX_FETCHING = 3;
let fetching = 0;
const waiting: Array<() => void> = [];

function limited<T>(start: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    waiting.push(() => {
      fetching++;
      start()
        .then(resolve, reject)
        .finally(() => {
          fetching--;
          waiting.pop()?.();
        });
    });
    if (fetching < MAX_FETCHING) waiting.pop()?.();
  });
}

function logoOf(pack: PackVersionRef): Promise<string | null> {
  const key = `${session}/${pack.registry}/${pack.name}@${pack.version}`;
  let logo = logos.get(key);
  if (!logo) {
    logo = limited(() => packImage(pack, 'logo.png')).catch(() => null);
    logos.set(key, logo);
    if (logos.size > KEPT_LOGOS) {
      const oldest = logos.keys().next().value;
      if (oldest !== undefined) {
        release(logos.get(oldest));
        logos.delete(oldest);
      }
    }
  }
  return logo;
}

export function PackLogo({ registry, name, version }: PackVersionRef) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    setUrl(null);
    void logoOf({ registry, name, version }).then((found) => {
      if (current) setUrl(found);
    });
    return () => {
      current = false;
    };
  }, [registry, name, version]);
  return url ? (
    <img class="logo" src={url} alt="" width={48} height={48} />
  ) : (
    <span class="logo placeholder" aria-hidden="true">
      {name.slice(0, 1).toUpperCase()}
    </span>
  );
}
