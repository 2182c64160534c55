import { useEffect } from 'preact/hooks';

export function NotFoundPage() {
  useEffect(() => {
    document.title = 'Not found - Packyard catalog';
  }, []);
  return (
    <section class="empty" aria-labelledby="nf">
      <h1 id="nf">Page not found</h1>
      <p>Nothing lives at this address.</p>
      <p>
        <a href="/">Search the catalog</a>
      </p>
    </section>
  );
}
