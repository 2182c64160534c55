/**
 * A pack's README as HTML. The README is untrusted (any publisher writes it), so markdown-it runs
 * with raw HTML off (a <script> or <img onerror> is shown as text), links are kept only for
 * http(s), mailto and the pack's own files (never javascript:, data: or vbscript:), and images
 * come only from the pack itself: a relative image becomes a placeholder the page fills from the
 * archive, a remote one a plain link (an offline registry cannot load it, and it would tell a
 * third party who reads the page). Loaded only by the pack page.
 */
import MarkdownIt from 'markdown-it';

const SAFE_SCHEMES = new Set(['http:', 'https:', 'mailto:']);

/** What a link or image target is: remote (with a safe scheme), the pack's own, or refused. */
function classify(target: string): 'remote' | 'pack' | 'anchor' | 'refused' {
  const trimmed = target.trim();
  if (trimmed.startsWith('#')) return 'anchor';
  if (trimmed.startsWith('//')) return 'refused';
  const scheme = /^[a-z][a-z\d+.-]*:/i.exec(trimmed);
  if (scheme) return SAFE_SCHEMES.has(scheme[0].toLowerCase()) ? 'remote' : 'refused';
  return trimmed === '' || trimmed.startsWith('/') ? 'refused' : 'pack';
}

/** A path inside the pack, from a README-relative target; null when it would leave the pack. */
function packPath(target: string): string | null {
  const path = target.trim().split('#')[0]?.split('?')[0] ?? '';
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return null;
      out.pop();
    } else {
      try {
        out.push(decodeURIComponent(part));
      } catch {
        return null;
      }
    }
  }
  return out.length === 0 ? null : out.join('/');
}

/**
 * Renders `source`; `fileUrl` turns a path inside the pack into the URL its file is served at.
 * Images of the pack come out as `<img data-pack-src="PATH">` (no src) for the page to fill.
 */
export function renderReadme(source: string, fileUrl: (path: string) => string): string {
  const md = new MarkdownIt({ html: false, linkify: false, typographer: false });
  // markdown-it's own check drops javascript:, vbscript:, file: and most data: links; this one
  // keeps only what the catalog can follow safely.
  md.validateLink = (url) => classify(url) !== 'refused';

  md.renderer.rules['link_open'] = (tokens, index, options, _env, self) => {
    const token = tokens[index];
    if (token) {
      const href = String(token.attrGet('href') ?? '');
      const kind = classify(href);
      if (kind === 'remote') {
        token.attrSet('rel', 'noopener noreferrer nofollow');
        token.attrSet('target', '_blank');
      } else if (kind === 'pack') {
        const path = packPath(href);
        token.attrSet('href', path === null ? '#' : fileUrl(path));
        token.attrSet('target', '_blank');
        token.attrSet('rel', 'noopener noreferrer');
      }
    }
    return self.renderToken(tokens, index, options);
  };

  md.renderer.rules['image'] = (tokens, index) => {
    const token = tokens[index];
    if (!token) return '';
    const src = String(token.attrGet('src') ?? '');
    const alt = md.utils.escapeHtml(token.content);
    const kind = classify(src);
    if (kind === 'pack') {
      const path = packPath(src);
      if (path !== null) return `<img data-pack-src="${md.utils.escapeHtml(path)}" alt="${alt}">`;
    }
    if (kind === 'remote') {
      // A remote image is offered as a link, never loaded.
      const href = md.utils.escapeHtml(src);
      return `<a class="remote-image" href="${href}" rel="noopener noreferrer nofollow" target="_blank">image: ${alt || href}</a>`;
    }
    return alt === '' ? '' : `<span class="missing-image">[image: ${alt}]</span>`;
  };

  return md.render(source);
}
