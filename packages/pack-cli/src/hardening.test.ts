/**
 * Guards over packctl's own source for the classes of issue 11 ("Hardening"): a new command that
 * reads a server's answer whole, talks to the network around the client, or builds a URL path
 * without the "." / ".." check, fails here rather than in the next hostile review.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('.', import.meta.url));

function sources(dir = SRC): Array<{ file: string; text: string }> {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    if (!entry.name.endsWith('.ts') || entry.name.endsWith('.test.ts')) return [];
    return [{ file: path.relative(SRC, full), text: readFileSync(full, 'utf8') }];
  });
}

function offenders(pattern: RegExp, allowed: readonly string[]): string[] {
  return sources()
    .filter(({ file, text }) => !allowed.includes(file) && pattern.test(text))
    .map(({ file }) => file);
}

describe("packctl's source", () => {
  it('reads answers only through the bounded reader', () => {
    const reader = ['registry/bounded-body.ts'];
    expect(offenders(/\.(?:json|text|arrayBuffer|blob|formData|bytes)\(\)/, reader)).toEqual([]);
    expect(offenders(/getReader\(/, reader)).toEqual([]);
  });

  it('sends requests only through RegistryClient, which follows redirects itself', () => {
    expect(offenders(/\bfetch\(/, ['registry/client.ts'])).toEqual([]);
    expect(offenders(/from 'undici'/, ['registry/client.ts', 'registry/bounded-body.ts'])).toEqual([]);
    const client = readFileSync(path.join(SRC, 'registry/client.ts'), 'utf8');
    expect(client).toContain("redirect: 'manual'");
    expect(client).not.toContain("redirect: 'follow'");
  });

  it('writes files only as new files put in place (never through what is at the path)', () => {
    // files.ts replaceFile (temporary file, exclusive, then rename, removed on failure), init's
    // exclusive creates and pull's exclusive .partial file. The credentials go through replaceFile.
    const writers = ['files.ts', 'commands/init.ts', 'commands/pull.ts'];
    expect(offenders(/\b(?:writeFile|appendFile|createWriteStream|copyFile|cp)\(|\bwriteFileSync\(/, writers)).toEqual(
      [],
    );
    // A rename puts a temporary file in place; one of its own would leave it behind on failure.
    expect(offenders(/\brename(?:Sync)?\(/, ['files.ts', 'commands/pull.ts'])).toEqual([]);
    for (const file of ['commands/init.ts', 'commands/pull.ts']) {
      const text = readFileSync(path.join(SRC, file), 'utf8');
      expect(text, file).toMatch(/flags?: 'wx'/);
    }
    expect(readFileSync(path.join(SRC, 'files.ts'), 'utf8')).toContain("open(temp, 'wx'");
    expect(readFileSync(path.join(SRC, 'registry/credentials.ts'), 'utf8')).toMatch(/\breplaceFile\(file, /);
  });

  it('reads files a user names only through readUserFile (regular files, bounded)', () => {
    // cli.ts reads its own package.json; push.ts streams an archive it checked is a regular zip.
    expect(offenders(/\breadFile(?:Sync)?\(/, ['files.ts', 'cli.ts'])).toEqual([]);
  });

  it('prints JSON only through printJson and printJsonLine (no raw DEL, C1 or bidi control)', () => {
    // JSON.stringify escapes C0 controls only: its text reaches a terminal through printableJson.
    // Every other use is one of these shapes (a file, a request body, a comparison, a value quoted
    // in a message or a `safe` line, which are escaped when printed); a new one is reviewed here.
    const shapes = [
      /printableJson\(JSON\.stringify\(/,
      /safe`[^`]*\$\{JSON\.stringify\(/,
      /replaceFile\([^;]*JSON\.stringify\(/,
      /body: JSON\.stringify\(/,
      /JSON\.parse\(JSON\.stringify\(/,
      /JSON\.stringify\([^)]*\) === JSON\.stringify\(/,
    ];
    const reviewed = [
      // A message's quoted value (CliError text is printed terminal-safe by cli.ts).
      'files.ts: throw new CliError(`refusing to write ${JSON.stringify(name)}: it is not a file name inside ${dir}`, {',
      "registry/answers.ts: const text = value === undefined ? 'nothing' : JSON.stringify(value);",
      // search.ts text(): a field as text for safe`` lines and formatTable cells.
      'commands/search.ts: return JSON.stringify(value);',
      '`the home directory (HOME=${JSON.stringify(home)}) is not an absolute path: packctl keeps its credentials there`,',
    ].map((line) => (line.startsWith('`') ? `registry/credentials.ts: ${line}` : line));
    const uses = sources().flatMap(({ file, text }) =>
      text
        .split('\n')
        .filter((line) => line.includes('JSON.stringify(') && !line.trim().startsWith('*'))
        .filter((line) => !line.trim().startsWith('//') && !shapes.some((shape) => shape.test(line)))
        .map((line) => `${file}: ${line.trim()}`),
    );
    expect(uses.sort()).toEqual(reviewed.sort());
  });

  it('builds URL path segments only with pathSegment (which refuses "." and "..")', () => {
    expect(offenders(/encodeURIComponent\(/, ['registry/client.ts'])).toEqual([]);
  });
});
