/**
 * The server's modules point one way (issue 12): identity holds the data model and knows nothing of
 * policy, access holds policy and knows nothing of the routes or the audit log, and no module
 * imports itself back through others. Imports are read with TypeScript's own pre-processor, type
 * imports included (a type-only circle is still a circle to whoever reads the code).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = path.dirname(fileURLToPath(import.meta.url));

/** Every source file of the server (tests left out), relative to src/, with `/` separators. */
function sourceFiles(): string[] {
  return readdirSync(SRC, { recursive: true, encoding: 'utf8' })
    .map((file) => file.split(path.sep).join('/'))
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && !file.startsWith('test-support/'));
}

/** The server files `file` imports (relative specifiers only). */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(SRC, file), 'utf8');
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((imported) => imported.fileName)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => path.posix.join(path.posix.dirname(file), specifier).replace(/\.js$/, '.ts'));
}

const graph = new Map(sourceFiles().map((file) => [file, importsOf(file)]));

function folderOf(file: string): string {
  return file.includes('/') ? file.slice(0, file.indexOf('/')) : file;
}

/** The imports of files in `folder` that reach into any of `forbidden`, as `from -> to`. */
function reaching(folder: string, forbidden: readonly string[]): string[] {
  return [...graph]
    .filter(([file]) => folderOf(file) === folder)
    .flatMap(([file, imports]) =>
      imports.filter((target) => forbidden.includes(folderOf(target))).map((target) => `${file} -> ${target}`),
    );
}

/** One import circle per strongly connected group of files, as a path (empty when there is none). */
function circles(): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

describe('the layering of the server modules', () => {
  it('reads the imports it checks', () => {
    // A walker that saw no imports would pass every rule below.
    expect(graph.get('access/authorize.ts')).toContain('identity/principals.ts');
    expect(graph.size).toBeGreaterThan(50);
  });

  it('keeps identity free of policy, routes, audit and HTTP', () => {
    expect(reaching('identity', ['access', 'audit', 'routes', 'http', 'registries', 'catalog'])).toEqual([]);
  });

  it('keeps access (policy) free of the routes and the audit log', () => {
    expect(reaching('access', ['audit', 'routes'])).toEqual([]);
  });

  it('has no import circle', () => {
    expect(circles().map((circle) => circle.join(' -> '))).toEqual([]);
  });
});
