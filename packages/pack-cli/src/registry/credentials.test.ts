import { describe, expect, it } from 'vitest';
import { normaliseServer } from './credentials.js';

describe('normaliseServer', () => {
  it('keys a server by scheme, host, port and path prefix, without trailing slashes', () => {
    expect(normaliseServer('packs.example.com')).toBe('https://packs.example.com');
    expect(normaliseServer('https://Packs.Example.com:443/')).toBe('https://packs.example.com');
    expect(normaliseServer('http://127.0.0.1:8080///')).toBe('http://127.0.0.1:8080');
    expect(normaliseServer('https://example.com/registry//')).toBe('https://example.com/registry');
  });

  it('handles long runs of slashes in linear time (a /\\/+$/ scan is quadratic on these)', () => {
    const slashes = '/'.repeat(100_000);
    const started = performance.now();
    expect(normaliseServer(`https://example.com/a${slashes}`)).toBe('https://example.com/a');
    expect(normaliseServer(`https://example.com${slashes}b`)).toBe(`https://example.com${slashes}b`);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('refuses user info, queries and fragments, which would make one key name two servers', () => {
    expect(() => normaliseServer('https://alice:secret@example.com')).toThrow('without user, query or fragment');
    expect(() => normaliseServer('https://example.com/?next=https://evil.example')).toThrow('without user');
    expect(() => normaliseServer('https://example.com/#x')).toThrow('without user');
    expect(() => normaliseServer('ftp://example.com')).toThrow('only http and https');
  });
});
