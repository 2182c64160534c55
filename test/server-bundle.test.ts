import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers.js';

const BUNDLE = path.join(REPO, 'packages', 'registry-server', process.env.BUNDLE_DIR ?? 'bundle');

/** name@version -> the package directories (relative to the repository) bundled for it. */
function bundledPackages(dir: string): Map<string, Set<string>> {
  const copies = new Map<string, Set<string>>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.js'))) {
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      // The bundler heads each module with its path: `// node_modules/send/node_modules/mime-types/index.js`.
      const module = /^\/\/ (\S*node_modules\/\S+\.(?:c?js|mjs|json))$/.exec(line)?.[1];
      if (module === undefined) continue;
      const at = module.lastIndexOf('node_modules/') + 'node_modules/'.length;
      const parts = module.slice(at).split('/');
      const packageDir = module.slice(0, at) + parts.slice(0, parts[0]?.startsWith('@') ? 2 : 1).join('/');
      const { name, version } = JSON.parse(readFileSync(path.join(REPO, packageDir, 'package.json'), 'utf8')) as {
        name: string;
        version: string;
      };
      const key = `${name}@${version}`;
      copies.set(key, (copies.get(key) ?? new Set()).add(packageDir));
    }
  }
  return copies;
}

describe('the pack-registry bundle', () => {
  it('holds one copy of each package version (scripts/bundle-server.mjs)', () => {
    const copies = bundledPackages(BUNDLE);
    expect(copies.size).toBeGreaterThan(50);
    const repeated = [...copies]
      .filter(([, dirs]) => dirs.size > 1)
      .map(([key, dirs]) => `${key}: ${[...dirs].join(', ')}`);
    expect(repeated).toEqual([]);
  });
});
