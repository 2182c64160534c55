#!/usr/bin/env node
// @ts-check
/**
 * Benchmark dispatcher: `node bench/run.mjs <name> [args]` imports bench/<name>.mjs and calls its
 * `main(args)`, whose return value (a number) becomes the exit code. Every bench/*.mjs is a bench,
 * except this file and helpers whose names start with `_`. `npm run bench -- <name>` builds first.
 */
import { readdirSync } from 'node:fs';

const benchDir = new URL('./', import.meta.url);

/** @returns {string[]} bench names, sorted */
function listBenches() {
  return readdirSync(benchDir)
    .filter((file) => file.endsWith('.mjs') && file !== 'run.mjs' && !file.startsWith('_'))
    .map((file) => file.slice(0, -'.mjs'.length))
    .sort();
}

/** @param {string} name */
const load = (name) => import(new URL(`${name}.mjs`, benchDir).href);

/** Bench names with the one-line `description` each exports, if any. */
async function describeBenches() {
  const lines = [];
  for (const name of listBenches()) {
    // One broken bench should not hide the others from the list.
    const about = await load(name).then(
      (mod) => (typeof mod.description === 'string' ? mod.description : ''),
      (err) => `(fails to load: ${err.message})`,
    );
    lines.push(`  ${name.padEnd(16)}${about}`);
  }
  return lines.length ? lines.join('\n') : '  (none)';
}

const usage = async () =>
  `Usage: node bench/run.mjs <name> [args]   (or: npm run bench -- <name> [args])\n\n` +
  `Benchmarks:\n${await describeBenches()}\n\nRun \`node bench/run.mjs <name> --help\` for a bench's options.`;

const [name, ...args] = process.argv.slice(2);

if (name === undefined || name === '--help' || name === '-h') {
  console.log(await usage());
} else if (!listBenches().includes(name)) {
  // Checked against the listing, so a name can never reach outside bench/ (../x, helpers).
  console.error(`Unknown benchmark: ${name}\n\n${await usage()}`);
  process.exitCode = 2;
} else {
  try {
    const mod = await load(name);
    if (typeof mod.main !== 'function') {
      throw new Error(`bench/${name}.mjs does not export a main(args) function`);
    }
    const code = await mod.main(args);
    process.exitCode = typeof code === 'number' ? code : 0;
  } catch (err) {
    console.error(`bench ${name} failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
