import { describe, expect, it } from 'vitest';
import { duplicateKey } from './json-keys.js';

describe('duplicate JSON keys', () => {
  it('finds a key given twice in one object, at any depth, however it is escaped', () => {
    expect(duplicateKey('{"a":1,"a":2}')).toBe('a');
    expect(duplicateKey('{"layers":[{"digest":"x","size":1,"digest":"y"}]}')).toBe('digest');
    expect(duplicateKey('{"a":1,"\\u0061":2}')).toBe('a');
    expect(duplicateKey('{"x":{"k":1},"y":{"k":2},"x":3}')).toBe('x');
  });

  it('accepts the same key in different objects, and keys that only look alike inside strings', () => {
    expect(duplicateKey('{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}')).toBeNull();
    expect(duplicateKey('{"a":"{\\"a\\":1,\\"a\\":2}","b":"x,\\"a\\""}')).toBeNull();
    expect(duplicateKey('[{"a":1},{"a":1}]')).toBeNull();
    expect(duplicateKey('{"a":["a","a"],"b":"a"}')).toBeNull();
  });

  it('takes linear time on a large document', () => {
    const wide = `{${Array.from({ length: 100_000 }, (_, i) => `"k${i}":[${i},"v"]`).join(',')}}`;
    const started = performance.now();
    expect(duplicateKey(wide)).toBeNull();
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('ends on text that is not JSON (the parser refuses it): an unterminated string, a bad escape', () => {
    for (const text of ['{"a":1,"a', '{"a":"\\', '{"\\x":1,"\\x":2}', '{"a":1,"b":"', '"']) {
      expect(duplicateKey(text), text).toBeNull();
    }
  });
});
