import { describe, expect, it } from 'vitest';
import { MAX_MANIFEST_DEPTH, declaredDeprecation, parseManifestText } from './manifest.js';

describe('parseManifestText', () => {
  it('gives the line and column of a syntax error, without the position text', () => {
    expect(parseManifestText('{\n  "name": "demo",\n}\n').error).toEqual({
      message: 'Expected double-quoted property name',
      line: 3,
      column: 1,
    });
    expect(parseManifestText('{"a":1}x').error).toMatchObject({ line: 1, column: 8 });
  });

  it('does not take a position quoted from the input for the position of the error', () => {
    // V8 quotes the input: "position 99" here is text of the pack, not where it failed.
    expect(parseManifestText('{"position 99": x}').error).toMatchObject({ line: 1 });
  });

  it('allows a byte order mark', () => {
    expect(parseManifestText('\ufeff{"a": 1}')).toEqual({ value: { a: 1 }, error: null });
  });

  it(`refuses JSON nested deeper than ${MAX_MANIFEST_DEPTH} levels, which JSON.stringify cannot write back`, () => {
    const deep = `{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    expect(parseManifestText(deep).error?.message).toBe(`pack.json nests deeper than ${MAX_MANIFEST_DEPTH} levels`);
    const fine = `{"x":${'['.repeat(MAX_MANIFEST_DEPTH - 1)}${']'.repeat(MAX_MANIFEST_DEPTH - 1)}}`;
    expect(parseManifestText(fine).error).toBeNull();
  });
});

describe('declaredDeprecation', () => {
  it("reads Palette's system_state annotation", () => {
    expect(declaredDeprecation({ annotations: { system_state: 'deprecated' } })).toBe(
      'pack.json: system_state deprecated',
    );
    expect(declaredDeprecation({ annotations: { system_state: ' Deleted ' } })).toBe('pack.json: system_state deleted');
  });

  it('declares nothing for other states or none', () => {
    expect(declaredDeprecation({ annotations: { system_state: 'active' } })).toBeNull();
    expect(declaredDeprecation({ annotations: { source: 'community' } })).toBeNull();
    expect(declaredDeprecation({})).toBeNull();
  });
});
