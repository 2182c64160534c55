#!/usr/bin/env node
// Generates packages/*/src/generated/*.ts from the JSON Schemas in schemas/, so that the
// TypeScript types and the embedded schema are always derived from one source (schema first).
// `node scripts/gen-schema-types.mjs --check` fails when a generated file is out of date (CI).
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { compile } from 'json-schema-to-typescript';

const root = new URL('../', import.meta.url);
const targets = [
  { schema: 'pack.schema.json', out: 'pack-core/src/generated/pack-manifest.ts', constName: 'packManifestSchema' },
  {
    schema: 'profile.schema.json',
    out: 'pack-core/src/generated/cluster-profile.ts',
    constName: 'clusterProfileSchema',
  },
  {
    schema: 'registry-config.schema.json',
    out: 'registry-server/src/generated/registry-config.ts',
    constName: 'registryConfigSchema',
  },
];

async function render({ schema, constName }) {
  const json = JSON.parse(await readFile(new URL(`schemas/${schema}`, root), 'utf8'));
  const types = await compile(json, json.title, {
    bannerComment: '',
    additionalProperties: true,
    strictIndexSignatures: true,
    format: true,
    style: { singleQuote: true, printWidth: 110 },
  });
  return [
    `// Generated from schemas/${schema} by scripts/gen-schema-types.mjs. Do not edit by hand.`,
    '',
    types.trim(),
    '',
    `export const ${constName} = ${JSON.stringify(json, null, 2)} as const;`,
    '',
  ].join('\n');
}

const check = process.argv.includes('--check');
let stale = 0;
for (const target of targets) {
  const text = await render(target);
  const file = new URL(`packages/${target.out}`, root);
  await mkdir(new URL('./', file), { recursive: true });
  if (check) {
    const current = await readFile(file, 'utf8').catch(() => '');
    if (current !== text) {
      console.error(`${target.out} is out of date: run node scripts/gen-schema-types.mjs`);
      stale++;
    }
  } else {
    await writeFile(file, text);
    console.log(`wrote packages/${target.out}`);
  }
}
process.exitCode = stale ? 1 : 0;
