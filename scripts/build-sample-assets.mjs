#!/usr/bin/env node
// Writes the binary files of sample-packs/ from their sources, reproducibly:
// - charts/<chart>-<version>.tgz from sample-packs/_chart-sources/<chart>-<version>/<chart>/;
// - logo.png (a placeholder) for a pack that has none.
// `--check` writes nothing and fails when a committed archive differs from its source (CI).
// Needs a built pack-core: run `npm run build` first.
import { readdir, readFile, writeFile, mkdir, access } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { placeholderLogo, writeTarGz } from '../packages/pack-core/dist/index.js';

const root = fileURLToPath(new URL('../sample-packs/', import.meta.url));
const sources = path.join(root, '_chart-sources');
const check = process.argv.includes('--check');

async function filesUnder(dir, prefix = '') {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await filesUnder(path.join(dir, entry.name), rel)));
    else out.push(rel);
  }
  return out;
}

const exists = (file) =>
  access(file).then(
    () => true,
    () => false,
  );
let problems = 0;
for (const entry of await readdir(root, { withFileTypes: true })) {
  if (!entry.isDirectory() || entry.name.startsWith('_')) continue;
  const packDir = path.join(root, entry.name);
  const manifest = JSON.parse(await readFile(path.join(packDir, 'pack.json'), 'utf8'));
  for (const chart of manifest.charts ?? []) {
    const base = path.basename(chart, '.tgz');
    const sourceDir = path.join(sources, base);
    if (!(await exists(sourceDir))) {
      console.error(`${entry.name}: no chart source at _chart-sources/${base}/`);
      problems++;
      continue;
    }
    const names = await filesUnder(sourceDir);
    const tgz = await writeTarGz(
      await Promise.all(names.map(async (name) => ({ name, content: await readFile(path.join(sourceDir, name)) }))),
    );
    const target = path.join(packDir, chart);
    const current = await readFile(target).catch(() => null);
    if (current && current.equals(tgz)) continue;
    if (check) {
      console.error(
        `${entry.name}/${chart} is out of date with _chart-sources/${base}/: run node scripts/build-sample-assets.mjs`,
      );
      problems++;
    } else {
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, tgz);
      console.log(`wrote ${entry.name}/${chart}`);
    }
  }
  const logo = path.join(packDir, 'logo.png');
  if (!(await exists(logo))) {
    if (check) {
      console.error(`${entry.name}/logo.png is missing: run node scripts/build-sample-assets.mjs`);
      problems++;
    } else {
      await writeFile(logo, placeholderLogo(manifest.name));
      console.log(`wrote ${entry.name}/logo.png`);
    }
  }
}
process.exitCode = problems ? 1 : 0;
