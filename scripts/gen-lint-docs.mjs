#!/usr/bin/env node
// Writes docs/lint-rules.md from the rule catalogue in pack-core, so the docs list exactly the
// rules lint runs. `--check` fails when the committed file is out of date (a test runs it).
// Needs a built pack-core: run `npm run build` first.
import { readFile, writeFile } from 'node:fs/promises';
import {
  LINT_RULES,
  MAX_FINDINGS_PER_RULE,
  MAX_MANIFEST_DEPTH,
  MAX_PACK_YAML_TOKENS,
  YAML_LIMITS,
} from '../packages/pack-core/dist/index.js';

const file = new URL('../docs/lint-rules.md', import.meta.url);
const cell = (text) => text.replace(/\|/g, '\\|');
const rows = Object.entries(LINT_RULES).map(
  ([id, rule]) => `| \`${id}\` | ${rule.severity} | ${cell(rule.description)} | ${cell(rule.hint)} |`,
);
const rationales = Object.entries(LINT_RULES).map(([id, rule]) => `- \`${id}\` (${rule.severity}): ${rule.rationale}`);
const n = (value) => value.toLocaleString('en-US');
const text = `# Lint rules

<!-- Generated from packages/pack-core/src/lint/rules.ts by scripts/gen-lint-docs.mjs. Do not edit by hand. -->

\`packctl lint\` (and \`packctl build\`, which lints first) checks every rule below. Rule ids are stable:
scripts may match on them. Errors fail the command (exit 1); warnings fail it only with \`--strict\`.
No rule uses the network. Every finding names its file, and a line and column (YAML, JSON syntax) or
a JSON pointer (pack.json fields) where one applies.

| rule | severity | what it checks | default hint |
| --- | --- | --- | --- |
${rows.join('\n')}

## Why each rule has its severity

A rule is an error only when the platform refuses the same input too: Palette (its pack validator,
validator/pack-schema.json in spectrocloud/pack-central), Helm for values and charts, kubectl for
manifests, or when Packyard cannot check the pack safely. Everything else is a warning.

${rationales.join('\n')}

## Go templates

Manifests and values files may hold Go-template expressions (\`{{ .spectro.system.cluster.name }}\`,
\`{{- if .Values.x }}\`): real packs do. Lint parses such files with the expressions neutralised (an
action alone on its line becomes a comment, an inline one the placeholder word \`tpl-<line>\`) and
reports a file that still does not parse as the warning \`template-unparseable\`, never as an error.
A manifest document holding template actions is not checked for \`apiVersion\` and \`kind\`, and keys
given twice are not reported in a templated file (both branches of an \`if\` may set one).

## Limits

Every YAML file is parsed within fixed bounds, far above real packs (the largest files of
spectrocloud/pack-central: a 282 KiB values.yaml of 24,000 tokens, a 2.4 MiB CRD manifest of 138,000
tokens and 195 documents, 39 levels of nesting):

- ${n(YAML_LIMITS.maxBytes / 1024 / 1024)} MiB, ${n(YAML_LIMITS.maxTokens)} YAML tokens and ${n(YAML_LIMITS.maxDocuments)} documents per file, and ${n(MAX_PACK_YAML_TOKENS)} tokens for all the files of a pack together (\`yaml-too-large\`);
- ${n(YAML_LIMITS.maxDepth)} levels of nesting (\`yaml-too-deep\`);
- ${n(YAML_LIMITS.maxNodes)} nodes once aliases are expanded, and no alias inside the node it names (\`yaml-alias-expansion\`);
- pack.json: 1 MiB and ${MAX_MANIFEST_DEPTH} levels of nesting (\`pack-json-syntax\`).

A parse at the token limit takes about a second on one core. At most ${MAX_FINDINGS_PER_RULE} findings of one rule are
listed per file; one more finding says how many were left out.
`;

if (process.argv.includes('--check')) {
  const current = await readFile(file, 'utf8').catch(() => '');
  if (current !== text) {
    console.error('docs/lint-rules.md is out of date: run node scripts/gen-lint-docs.mjs');
    process.exitCode = 1;
  }
} else {
  await writeFile(file, text);
  console.log('wrote docs/lint-rules.md');
}
