import { describe, expect, it } from 'vitest';
import { README_EXCERPT_CHARS, readmeExcerpt } from './readme.js';

describe('readmeExcerpt', () => {
  it('takes the first paragraph after the title, badges and images', () => {
    const readme = [
      '# Cilium',
      '',
      '[![Build](https://ci.example/badge.svg)](https://ci.example) ![logo](logo.png)',
      '<p align="center"><img src="x.png"></p>',
      '',
      'Cilium is **eBPF-based** networking, [observability](https://cilium.io/hubble) and',
      'security for `Kubernetes`.',
      '',
      'Second paragraph.',
    ].join('\n');
    expect(readmeExcerpt(readme)).toBe('Cilium is eBPF-based networking, observability and security for Kubernetes.');
  });

  it('skips setext headings, rules, code, comments, lists and tables', () => {
    const readme = [
      'Calico',
      '======',
      '<!-- a comment',
      'spanning lines -->',
      '```yaml',
      'not: prose',
      '```',
      '- a list item',
      '| a | table |',
      '---',
      '> Calico is a networking and security solution.',
    ].join('\n');
    expect(readmeExcerpt(readme)).toBe('Calico is a networking and security solution.');
  });

  it('keeps snake_case and drops inline HTML, CRLF line ends included', () => {
    expect(readmeExcerpt('Sets max_pods <br/>for __every__ node.\r\nOn all clouds.\r\n')).toBe(
      'Sets max_pods for every node. On all clouds.',
    );
  });

  it('is null when there is no prose', () => {
    expect(readmeExcerpt('')).toBeNull();
    expect(readmeExcerpt('# Title\n\n## Section\n\n```\ncode\n```\n')).toBeNull();
    expect(readmeExcerpt('![only](an-image.png)\n')).toBeNull();
  });

  it('cuts a long paragraph at a word, with an ellipsis', () => {
    const text = readmeExcerpt('word '.repeat(200));
    expect(text?.length).toBeLessThanOrEqual(README_EXCERPT_CHARS);
    expect(text?.endsWith('word\u2026')).toBe(true);
  });

  it('leaves unmatched brackets as written', () => {
    expect(readmeExcerpt('Use [brackets] and (parens) and a < b.')).toBe('Use [brackets] and (parens) and a < b.');
  });
});
