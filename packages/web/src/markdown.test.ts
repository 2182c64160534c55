import { describe, expect, it } from 'vitest';
import { renderReadme } from './markdown.js';

const fileUrl = (path: string) => `/v1/registries/public/packs/p/1.0.0/files/${path}`;

describe('README rendering (untrusted markdown)', () => {
  it('shows raw HTML as text', () => {
    const html = renderReadme(
      `<script>alert(1)</script>\n\n<img src=x onerror="alert(1)">\n\n<style>body{}</style>`,
      fileUrl,
    );
    expect(html).not.toMatch(/<script|<img|<style/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('keeps http(s) and mailto links, and drops javascript:, data:, vbscript: and protocol-relative ones', () => {
    const html = renderReadme(
      [
        '[ok](https://example.com/docs)',
        '[mail](mailto:team@example.com)',
        '[js](javascript:alert(1))',
        '[js2](JaVaScRiPt:alert(1))',
        '[data](data:text/html;base64,PHNjcmlwdD4=)',
        '[vb](vbscript:msgbox)',
        '[proto](//evil.example/x)',
      ].join('\n\n'),
      fileUrl,
    );
    expect(html).toContain('href="https://example.com/docs" rel="noopener noreferrer nofollow" target="_blank"');
    expect(html).toContain('href="mailto:team@example.com"');
    expect(html).not.toMatch(/href="(javascript|data|vbscript):|href="\/\//i);
  });

  it('points relative links at the pack file, and refuses paths that leave the pack', () => {
    const html = renderReadme('[values](./values.yaml)\n\n[out](../../secrets)\n\n[anchor](#install)', fileUrl);
    expect(html).toContain(`href="${fileUrl('values.yaml')}"`);
    expect(html).not.toContain('secrets');
    expect(html).toContain('href="#install"');
  });

  it('loads images from the pack only: a remote image becomes a link', () => {
    const html = renderReadme('![diagram](docs/arch.png)\n\n![pixel](https://tracker.example/p.gif)', fileUrl);
    expect(html).toContain('<img data-pack-src="docs/arch.png" alt="diagram">');
    expect(html).not.toMatch(/<img[^>]*\ssrc=/i);
    expect(html).toContain('<a class="remote-image" href="https://tracker.example/p.gif"');
  });
});
