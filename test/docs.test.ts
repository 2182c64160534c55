import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers.js';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter(
      (e) =>
        e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.parentPath.includes('test-support'),
    )
    .map((e) => path.join(e.parentPath, e.name));
}

describe('docs', () => {
  it('list every error code the code can throw', () => {
    const documented = readFileSync(path.join(REPO, 'docs/error-codes.md'), 'utf8');
    const thrown = new Set<string>();
    for (const pkg of readdirSync(path.join(REPO, 'packages'))) {
      for (const file of sourceFiles(path.join(REPO, 'packages', pkg, 'src'))) {
        // PackError('CODE', ...) directly or through a small factory such as unsafe('CODE', ...).
        for (const match of readFileSync(file, 'utf8').matchAll(/(?:new PackError|unsafe)\(\s*'([A-Z0-9_]+)'/g)) {
          thrown.add(match[1] ?? '');
        }
      }
    }
    expect(thrown.size).toBeGreaterThan(10);
    const missing = [...thrown].filter((code) => !documented.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });

  it('lint-rules.md matches the rule catalogue', () => {
    expect(() =>
      execFileSync('node', ['scripts/gen-lint-docs.mjs', '--check'], { cwd: REPO, stdio: 'pipe' }),
    ).not.toThrow();
  });
});
