import { describe, expect, it } from 'vitest';
import { hasTemplates, neutraliseTemplates, parseYaml, YAML_LIMITS } from './yaml.js';

/** Milliseconds `run` takes. */
function timed(run: () => void): number {
  const start = performance.now();
  run();
  return performance.now() - start;
}

describe('neutraliseTemplates', () => {
  it('turns control lines into comments and inline actions into words numbered by line, keeping lines', () => {
    const text = '{{- if .x }}\nname: {{ .Values.name }}\n  {{ a }} {{ b }}  \nk: "{{ v }}-{{ w }}"\n{{- end }}\n';
    expect(neutraliseTemplates(text)).toBe(
      '#           \nname: tpl-2\n#                  \nk: "tpl-4-tpl-4"\n#         \n',
    );
  });

  it('leaves an unclosed action, and one that spans lines, as text', () => {
    expect(neutraliseTemplates('a: {{ x\n}}\nb: {{{{\n')).toBe('a: {{ x\n}}\nb: {{{{\n');
    expect(hasTemplates('a: {{ x\n}}\n')).toBe(false);
    expect(hasTemplates('a: {{ x }}\n')).toBe(true);
  });
});

describe('parseYaml', () => {
  it('returns every document, an empty one as null, with the line it starts on', () => {
    const parsed = parseYaml('a: 1\n---\n---\n# only a comment\n---\nb: 2\n---\n');
    expect(parsed.documents).toEqual([{ a: 1 }, null, null, { b: 2 }, null]);
    expect(parsed.documentInfo.map((d) => d.line)).toEqual([1, 2, 3, 6, 7]);
    expect(parseYaml('').documents).toEqual([]);
    expect(parseYaml('# nothing\n').documents).toEqual([]);
  });

  it('says which documents held template actions', () => {
    const parsed = parseYaml('kind: A\n---\n{{ include "header" . }}\nname: x\n---\nkind: B\n');
    expect(parsed.templated).toBe(true);
    expect(parsed.documentInfo.map((d) => d.templated)).toEqual([false, true, false]);
  });

  it('reports syntax errors with line and column, never throwing', () => {
    expect(parseYaml('a:\n  b: [1\n').problem).toMatchObject({ kind: 'syntax', line: 3 });
    expect(parseYaml('a: *nowhere\n').problem).toMatchObject({ kind: 'syntax', line: 1, column: 4 });
  });

  it('lists keys given twice (the last one wins), but not in templated files', () => {
    const parsed = parseYaml('a: 1\nb:\n  c: 1\n  c: 2\na: 3\n');
    expect(parsed.problem).toBeNull();
    expect(parsed.documents).toEqual([{ a: 3, b: { c: 2 } }]);
    expect(parsed.duplicateKeys.map((d) => d.line)).toEqual([4, 5]);
    expect(parseYaml('{{ if .x }}\na: 1\n{{ else }}\na: 2\n{{ end }}\n').duplicateKeys).toEqual([]);
  });

  it('checks the duplicate keys of a large mapping in linear time', () => {
    // 25,000 keys (227 KiB) took 8.7 s with the library's quadratic uniqueKeys check; 50,000 take 4 times that.
    const text = Array.from({ length: 50_000 }, (_, i) => `key${i}: ${i}`).join('\n');
    let parsed = parseYaml('');
    // A bound a loaded two-core CI box keeps with room to spare; the quadratic check took seconds.
    expect(timed(() => (parsed = parseYaml(text)))).toBeLessThan(3000);
    expect(parsed.problem).toBeNull();
    expect(Object.keys(parsed.documents[0] as object)).toHaveLength(50_000);
  });

  it('resolves any number of aliases, each in constant time', () => {
    // The library's toJS answered more than 100 aliases with an exception (a 500 from the registry).
    const text = `base: &base { cpu: 1, memory: 2 }\nlist:\n${'  - *base\n'.repeat(20_000)}`;
    let parsed = parseYaml('');
    expect(timed(() => (parsed = parseYaml(text)))).toBeLessThan(3000);
    expect(parsed.problem).toBeNull();
    expect((parsed.documents[0] as { list: unknown[] }).list[19_999]).toEqual({ cpu: 1, memory: 2 });
  });

  it('refuses an alias bomb and an alias inside the node it names', () => {
    const levels = Array.from({ length: 9 }, (_, i) =>
      i === 0
        ? 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]'
        : `a${i}: &a${i} [${Array(10)
            .fill(`*a${i - 1}`)
            .join(', ')}]`,
    );
    expect(parseYaml(levels.join('\n')).problem).toMatchObject({ kind: 'aliases', line: 6 });
    expect(parseYaml('a: &a [1, *a]\n').problem).toMatchObject({ kind: 'aliases' });
  });

  it('stops at the token, document, depth and size limits', () => {
    expect(parseYaml('- 1\n'.repeat(100), { maxTokens: 50 }).problem).toMatchObject({
      kind: 'too-large',
      message: 'has more than 50 YAML tokens',
    });
    expect(parseYaml('---\n'.repeat(20), { maxDocuments: 10 }).problem?.kind).toBe('too-large');
    expect(parseYaml('a: 1\n', { maxBytes: 3 }).problem?.kind).toBe('too-large');
    for (const deep of [
      '['.repeat(20),
      '- '.repeat(20),
      '? '.repeat(20),
      Array.from({ length: 20 }, (_, i) => `${' '.repeat(i)}a:`).join('\n'),
    ]) {
      expect(parseYaml(deep, { maxDepth: 10 }).problem?.kind, deep).toBe('too-deep');
    }
  });

  it('stops a default parse of 8 MiB of line breaks at the token limit', () => {
    // The 8 MiB values.yaml of the review blocked for 15 s and took 1.2 GiB; now it stops at 500,000 tokens.
    const parsed = parseYaml('\n'.repeat(8 * 1024 * 1024));
    expect(parsed.problem).toMatchObject({ kind: 'too-large' });
    expect(parsed.tokens).toBe(YAML_LIMITS.maxTokens + 1);
  });

  it('keeps __proto__ a plain key', () => {
    const [doc] = parseYaml('__proto__: { polluted: true }\n').documents as [Record<string, unknown>];
    expect(Object.getPrototypeOf(doc)).toBe(Object.prototype);
    expect(Object.keys(doc)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('gives plain JSON-like values: YAML 1.1 timestamps as strings, big integers as numbers', () => {
    expect(parseYaml('%YAML 1.1\n---\nt: 2001-12-14 21:59:43.10 -5\nnum: 123456789012345678901\n').documents).toEqual([
      { t: '2001-12-15T02:59:43.100Z', num: 123456789012345680000 },
    ]);
  });
});
