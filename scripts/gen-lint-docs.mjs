#!/usr/bin/env node
// Writes docs/lint-rules.md from the rule catalogue in pack-core, so the docs list exactly the
// rules lint runs. `--check` fails when the committed file is out of date (a test runs it).
// Needs a built pack-core: run `npm run build` first.
import { readFile, writeFile } from 'node:fs/promises';
import { LINT_RULES } from '../packages/pack-core/dist/index.js';

const file = new URL('../docs/lint-rules.md', import.meta.url);
const cell = (text) => text.replace(/\|/g, '\\|');
const rows = Object.entries(LINT_RULES).map(
  ([id, rule]) => `| \`${id}\` | ${rule.severity} | ${cell(rule.description)} | ${cell(rule.hint)} |`,
);
const text = `# Lint rules

<!-- Generated from packages/pack-core/src/lint/rules.ts by scripts/gen-lint-docs.mjs. Do not edit by hand. -->

\`packctl lint\` (and \`packctl build\`, which lints first) checks every rule below. Rule ids are stable:
scripts may match on them. Errors fail the command (exit 1); warnings fail it only with \`--strict\`.
No rule uses the network. Every finding names its file, and a line and column (YAML, JSON syntax) or
a JSON pointer (pack.json fields) where one applies.

| rule | severity | what it checks | default hint |
| --- | --- | --- | --- |
${rows.join('\n')}

## Go templates

Manifests and values files may hold Go-template expressions (\`{{ .spectro.system.cluster.name }}\`,
\`{{- if .Values.x }}\`): real packs do. Lint parses such files with the expressions neutralised (an
action alone on its line becomes a comment, an inline one a placeholder word) and reports a file that
still does not parse as the warning \`template-unparseable\`, never as an error.
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
