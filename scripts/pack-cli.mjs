#!/usr/bin/env node
/**
 * Packs packctl for `npm install -g`: the compiled CLI (packages/pack-cli/dist, from tsc) bundled
 * by rolldown with every dependency inside (pack-core and registry-api are workspace packages, not
 * on the npm registry), under a package.json of its own with no dependencies, then `npm pack`ed.
 * The three archive libraries pack-core requires at first use (lazy-deps.ts) are imported instead,
 * so that the bundler sees them; they land in the chunks of the commands that read or write
 * archives, never in what `packctl --help` loads. The tarball installs offline, anywhere Node
 * 20.19+ runs:
 *
 *   npm run pack:cli                      # writes packctl-<version>.tgz in the repository root
 *   npm install -g ./packctl-<version>.tgz
 *
 * Usage: node scripts/pack-cli.mjs [--out DIR]   (after `npm run build`)
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'rolldown';

const repo = fileURLToPath(new URL('..', import.meta.url));
const cli = path.join(repo, 'packages/pack-cli');
const { values } = parseArgs({ options: { out: { type: 'string', default: repo } } });
const out = path.resolve(values.out);
const source = JSON.parse(await readFile(path.join(cli, 'package.json'), 'utf8'));
const requireFrom = (file) => createRequire(file);

/** pack-core's lazy-deps.js with its `require('x')` calls made imports a bundler follows. */
const lazyDepsAsImports = {
  name: 'lazy-deps-as-imports',
  transform(code, id) {
    if (!id.endsWith(`${path.sep}pack-core${path.sep}dist${path.sep}lazy-deps.js`)) return null;
    const names = [...code.matchAll(/require\('([a-z-]+)'\)/g)].map((m) => m[1]);
    if (names.length === 0) throw new Error(`${id}: no require() left to rewrite; update scripts/pack-cli.mjs`);
    const local = (name) => `__${name.replace(/-/g, '_')}`;
    // What require() gave: an ES module's namespace, a CommonJS module's exports (its default).
    const imports = names
      .map((name) => {
        const esm = requireFrom(id)(name)[Symbol.toStringTag] === 'Module';
        return esm ? `import * as ${local(name)} from '${name}';` : `import ${local(name)} from '${name}';`;
      })
      .join('\n');
    return `${imports}\n${code.replace(/require\('([a-z-]+)'\)/g, (_, name) => local(name))}`;
  },
};
const staging = path.join(out, `.packctl-${source.version}`);

await rm(staging, { recursive: true, force: true });
await build({
  input: { bin: path.join(cli, 'dist/bin.js') },
  platform: 'node',
  plugins: [lazyDepsAsImports],
  // unzipper can open archives on S3 (Open.s3_v3, requiring the AWS SDK when called): packctl never does.
  external: [/^@aws-sdk\//],
  logLevel: 'warn',
  output: {
    // dist/ one directory below the package, as in the workspace: packctl reads ../package.json.
    dir: path.join(staging, 'dist'),
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: '[name]-[hash].js',
    comments: { legal: true, annotation: false, jsdoc: false },
  },
});
const manifest = {
  name: 'packctl',
  version: source.version,
  description: source.description,
  type: 'module',
  license: source.license,
  bin: { packctl: './dist/bin.js' },
  files: ['dist'],
  engines: source.engines,
};
await writeFile(path.join(staging, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
await writeFile(
  path.join(staging, 'README.md'),
  '# packctl\n\nScaffold, lint, build, push and pull Packyard packs, and administer a Packyard registry.\n' +
    'Run `packctl --help`; the project README has the guides.\n',
);
await mkdir(out, { recursive: true });
const [packed] = JSON.parse(
  execFileSync('npm', ['pack', staging, '--pack-destination', out, '--json', '--silent'], { encoding: 'utf8' }),
);
await rm(staging, { recursive: true, force: true });
console.log(path.join(out, packed.filename));
