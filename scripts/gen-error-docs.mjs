#!/usr/bin/env node
// Writes docs/error-codes.md from the error catalogues (pack-core's and registry-server's
// src/errors.ts, packctl's exit codes), so the docs list exactly the codes the code can raise.
// `--check` fails when the committed file is out of date (a test runs it). Needs a build first.
import { readFile, writeFile } from 'node:fs/promises';
import { ARCHIVE_ERRORS, PACK_CONTENT_ERRORS } from '../packages/pack-core/dist/index.js';
import { IDENTITY_ERRORS, OCI_ERRORS, SERVER_ERRORS } from '../packages/registry-server/dist/errors.js';
import { EXIT, EXIT_MEANINGS } from '../packages/pack-cli/dist/errors.js';

const file = new URL('../docs/error-codes.md', import.meta.url);
const cell = (text) => text.replace(/\|/g, '\\|');
const table = (catalogue) =>
  [
    '| code | status | meaning |',
    '| --- | --- | --- |',
    ...Object.entries(catalogue).map(
      ([code, spec]) => `| \`${code}\` | ${spec.status ?? '—'} | ${cell(spec.meaning)} |`,
    ),
  ].join('\n');
const exits = [
  '| exit code | meaning |',
  '| --- | --- |',
  ...Object.entries(EXIT).map(([name, code]) => `| ${code} | ${cell(EXIT_MEANINGS[name])} |`),
].join('\n');

const text = `# Error codes

<!-- Generated from the error catalogues (packages/*/src/errors.ts) by scripts/gen-error-docs.mjs. Do not edit by hand. -->

Every error Packyard reports carries a stable code. The registry answers with
\`{ "error": { "code": "…", "message": "…", "hint": "…" } }\` and the HTTP status below; \`packctl\`
prints \`error: <message>\` and \`hint: <hint>\` on stderr (with \`--format json\`, also
\`{ "error": { "code", "message", "hint" } }\` on stdout) and exits with the code given in the CLI
section. Codes never change meaning, and each has one status. Errors are raised through the
catalogues' factories (\`packError\`, \`registryError\`), so a code that is not in a catalogue does not
compile.

## Pack archives (\`pack-core\`, used when the registry reads an upload and when \`packctl\` extracts)

${table(ARCHIVE_ERRORS)}

## Pack contents (\`pack-core\`)

${table(PACK_CONTENT_ERRORS)}

Lint findings are not errors of this kind: they are listed, with their own stable ids, in
[lint-rules.md](lint-rules.md).

## Registry server (\`pack-registry\`)

Every response with one of these codes has the body \`{ "error": { "code", "message", "hint"?, "details"? } }\`.
Only 5xx answers are logged as errors.

${table(SERVER_ERRORS)}

## Identity and access (\`pack-registry\`)

${table(IDENTITY_ERRORS)}

## OCI Distribution API (\`/v2/\`)

Answers on \`/v2/\` carry the OCI envelope \`{"errors":[{"code","message","detail"}]}\` instead; the
registry codes above are answered there under their OCI equivalent (AUTH_REQUIRED and AUTH_INVALID
as UNAUTHORIZED, FORBIDDEN as DENIED, REGISTRY_NOT_FOUND as NAME_UNKNOWN, INVALID_NAME as
NAME_INVALID, 5xx as UNKNOWN or UNAVAILABLE).

${table(OCI_ERRORS)}

## \`packctl\` exit codes

${exits}
`;

if (process.argv.includes('--check')) {
  const current = await readFile(file, 'utf8').catch(() => '');
  if (current !== text) {
    console.error('docs/error-codes.md is out of date: run node scripts/gen-error-docs.mjs');
    process.exitCode = 1;
  }
} else {
  await writeFile(file, text);
  console.log('wrote docs/error-codes.md');
}
