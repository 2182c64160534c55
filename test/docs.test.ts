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
  it('error-codes.md matches the error catalogues', () => {
    expect(() =>
      execFileSync('node', ['scripts/gen-error-docs.mjs', '--check'], { cwd: REPO, stdio: 'pipe' }),
    ).not.toThrow();
  });

  it('raises every error through a catalogue (no PackError made by hand outside errors.ts)', () => {
    const byHand: string[] = [];
    for (const pkg of readdirSync(path.join(REPO, 'packages'))) {
      for (const file of sourceFiles(path.join(REPO, 'packages', pkg, 'src'))) {
        if (path.basename(file) === 'errors.ts') continue;
        if (readFileSync(file, 'utf8').includes('new PackError(')) byHand.push(path.relative(REPO, file));
      }
    }
    expect(byHand).toEqual([]);
  });

  it('lint-rules.md matches the rule catalogue', () => {
    expect(() =>
      execFileSync('node', ['scripts/gen-lint-docs.mjs', '--check'], { cwd: REPO, stdio: 'pipe' }),
    ).not.toThrow();
  });
});
