/**
 * A pack's logo (logo.png of the version), fetched with the visitor's token and shown from an
 * object URL; the pack's initial when it has none. Never an image from another origin.
 */
import { useEffect, useState } from 'preact/hooks';
import { packImage } from '../api.js';

export function PackLogo({ registry, name, version }: { registry: string; name: string; version: string }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    let made: string | null = null;
    setUrl(null);
    packImage({ registry, name, version }, 'logo.png', controller.signal).then(
      (objectUrl) => {
        made = objectUrl;
        if (controller.signal.aborted && objectUrl) URL.revokeObjectURL(objectUrl);
        else setUrl(objectUrl);
      },
      () => undefined,
    );
    return () => {
      controller.abort();
      if (made) URL.revokeObjectURL(made);
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
