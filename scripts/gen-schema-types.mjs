#!/usr/bin/env node
// Generates packages/*/src/generated/*.ts from the JSON Schemas in schemas/, so that the
// TypeScript types, the embedded schema and the validator are always derived from one source
// (schema first). The validators are ajv's standalone code: compiled here, ahead, so that no
// process compiles a schema (ajv's code generation took 35-70 ms of a registry's start for its
// configuration alone, and as long again in every inspection worker and `packctl` run).
// `node scripts/gen-schema-types.mjs --check` fails when a generated file is out of date (CI).
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { compile } from 'json-schema-to-typescript';

const root = new URL('../', import.meta.url);
// ajv 8, as the packages have it (the repository's root holds the linter's older ajv).
const packageRequire = createRequire(new URL('packages/pack-core/package.json', root));
const { Ajv2020 } = packageRequire('ajv/dist/2020');
const standaloneCode = packageRequire('ajv/dist/standalone').default;
const targets = [
  {
    schema: 'pack.schema.json',
    out: 'pack-core/src/generated/pack-manifest.ts',
    constName: 'packManifestSchema',
    validator: 'validatePackManifest',
  },
  {
    schema: 'profile.schema.json',
    out: 'pack-core/src/generated/cluster-profile.ts',
    constName: 'clusterProfileSchema',
    validator: 'validateClusterProfile',
  },
  {
    schema: 'registry-config.schema.json',
    out: 'registry-server/src/generated/registry-config.ts',
    constName: 'registryConfigSchema',
    validator: 'validateRegistryConfigFile',
  },
];

/** What ajv's standalone code in ES module form starts with; anything else is a new ajv to look at. */
const STANDALONE_PREFIX = '"use strict";export const validate = validate0;export default validate0;';

/**
 * The validator of `schema` as a TypeScript module exporting `validator`, a ValidateFunction of the
 * schema's type (named by its title, from the types module next to it): every error reported,
 * strict mode, union types allowed. ajv's standalone code requires its runtime helpers
 * (`require("ajv/dist/runtime/ucs2length")`) even as an ES module: those become imports.
 */
function renderValidator({ schema, out, validator }, json) {
  const checker = new Ajv2020({ strict: true, allowUnionTypes: true });
  if (!checker.validateSchema(json)) throw new Error(`${schema}: ${checker.errorsText(checker.errors)}`);
  // The meta-schema is checked above, by another instance: ajv numbers the functions it generates.
  const options = { allErrors: true, strict: true, allowUnionTypes: true, validateSchema: false };
  const ajv = new Ajv2020({ ...options, code: { source: true, esm: true } });
  let code = standaloneCode(ajv, ajv.compile(json));
  if (!code.startsWith(STANDALONE_PREFIX)) throw new Error(`ajv's standalone code for ${schema} has a new form`);
  code = code.slice(STANDALONE_PREFIX.length);
  const helpers = new Set();
  code = code.replace(/require\("ajv\/dist\/runtime\/([a-z0-9]+)"\)\.default/g, (_match, name) => {
    helpers.add(name);
    return `defaultOf(${name}Module)`;
  });
  if (code.includes('require(')) throw new Error(`ajv's standalone code for ${schema} requires more than its helpers`);
  const typesModule = `./${out.split('/').pop().replace(/\.ts$/, '.js')}`;
  return [
    `// Generated from schemas/${schema} by scripts/gen-schema-types.mjs (ajv's standalone code). Do not edit by hand.`,
    '// @ts-nocheck',
    "import type { ValidateFunction } from 'ajv/dist/2020.js';",
    ...[...helpers].map((name) => `import ${name}Module from 'ajv/dist/runtime/${name}.js';`),
    `import type { ${json.title} } from '${typesModule}';`,
    '',
    "// A CommonJS module's default export, as node (the module) or a bundler (its default) presents it.",
    "const defaultOf = (module) => (typeof module === 'function' ? module : module.default);",
    '',
    code,
    '',
    `export const ${validator} = validate0 as unknown as ValidateFunction<${json.title}>;`,
    '',
  ].join('\n');
}

async function render({ schema, constName }, json) {
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
const outputs = [];
for (const target of targets) {
  const json = JSON.parse(await readFile(new URL(`schemas/${target.schema}`, root), 'utf8'));
  outputs.push({ out: target.out, text: await render(target, json) });
  outputs.push({ out: target.out.replace(/\.ts$/, '-validator.ts'), text: renderValidator(target, json) });
}
for (const { out, text } of outputs) {
  const file = new URL(`packages/${out}`, root);
  await mkdir(new URL('./', file), { recursive: true });
  if (check) {
    const current = await readFile(file, 'utf8').catch(() => '');
    if (current !== text) {
      console.error(`${out} is out of date: run node scripts/gen-schema-types.mjs`);
      stale++;
    }
  } else {
    await writeFile(file, text);
    console.log(`wrote packages/${out}`);
  }
}
process.exitCode = stale ? 1 : 0;
