import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  chmodSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { LINT_RULE_IDS, LINT_RULES } from '@packyard/pack-core';
import { BROKEN_FIXTURES } from '../packages/pack-core/src/test-support/broken-fixtures.js';
import { writeValidPack } from '../packages/pack-core/src/test-support/valid-pack.js';
import {
  intoClosedPipe,
  PACKCTL,
  packctl,
  packctlJson,
  REPO,
  runPackctl,
  runPackctlJson,
  SAMPLE_PACKS,
  sha256File,
} from './helpers.js';

const work = mkdtempSync(path.join(tmpdir(), 'packyard-cli-'));
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});
let counter = 0;
function fresh(): string {
  return path.join(work, `t${++counter}`);
}

interface BuildJson {
  name: string;
  version: string;
  path: string;
  size: number;
  digest: string;
  files: number;
}

describe('packctl init', () => {
  it.each([
    ['os', []],
    ['k8s', []],
    ['cni', ['--chart']],
    ['csi', ['--manifest']],
    ['addon', ['--chart']],
    ['addon', ['--manifest']],
    ['addon', []],
    ['kernel', []],
  ])('scaffolds a %s pack %j that lints without errors and builds', async (layer, flags) => {
    const dir = fresh();
    const init = await runPackctl(['init', `my-${layer}`, '--layer', layer, ...flags, '-d', dir]);
    expect(init.status, init.stderr).toBe(0);
    expect(init.stdout).toContain('packctl lint');
    // Its TODO placeholders are its only findings: warnings, until the author fills them in.
    const lint = await runPackctlJson<{ errors: number; warnings: number; findings: Array<{ rule: string }> }>([
      'lint',
      dir,
    ]);
    expect(lint).toMatchObject({ status: 0, errors: 0 });
    expect(lint.warnings).toBeGreaterThan(0);
    expect(new Set(lint.findings.map((finding) => finding.rule))).toEqual(new Set(['placeholder-left']));
    expect((await runPackctl(['lint', dir, '--strict'])).status).toBe(1);
    const build = await runPackctlJson<BuildJson>([
      'build',
      dir,
      '-o',
      path.join(dir, '..', `${path.basename(dir)}-out`),
    ]);
    expect(build.status).toBe(0);
    expect(build.name).toBe(`my-${layer}`);
  });

  it('refuses an invalid name and an unknown layer as usage errors (exit 2)', async () => {
    const bad = await runPackctl(['init', 'My_Pack', '--layer', 'addon', '-d', fresh()]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('not a valid pack name');
    expect(bad.stderr).toContain('hint:');
    expect((await runPackctl(['init', 'x', '--layer', 'database'])).status).toBe(2);
    expect((await runPackctl(['init', 'x'])).status).toBe(2);
    expect((await runPackctl(['init', 'x', '--layer', 'addon', '--chart', '--manifest'])).status).toBe(2);
  });

  it('prints a failure as JSON on stdout with --format json, and as text on stderr', async () => {
    const missing = await runPackctl(['lint', path.join(fresh(), 'nope'), '--format', 'json']);
    expect(missing.status).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({
      error: {
        code: expect.stringMatching(/^[A-Z][A-Z_]+$/) as unknown,
        message: expect.stringContaining('nope') as unknown,
      },
    });
    expect(missing.stderr).toContain('error:');
    const usage = await runPackctl(['search', '--format=json', '--no-such-option']);
    expect(usage.status).toBe(2);
    expect(JSON.parse(usage.stdout)).toEqual({
      error: { code: 'USAGE', message: expect.stringContaining('--no-such-option') as unknown },
    });
  });

  it('never overwrites an existing directory', async () => {
    const dir = fresh();
    expect((await runPackctl(['init', 'one', '--layer', 'addon', '-d', dir])).status).toBe(0);
    const again = await runPackctl(['init', 'two', '--layer', 'addon', '-d', dir]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('already exists');
    expect(JSON.parse(readFileSync(path.join(dir, 'pack.json'), 'utf8'))).toMatchObject({ name: 'one' });
  });
});

describe('packctl lint', () => {
  it.each(LINT_RULE_IDS)('reports %s on its broken fixture with the right exit code', async (rule) => {
    const dir = fresh();
    await writeValidPack(dir);
    await BROKEN_FIXTURES[rule](dir);
    const result = packctlJson<{ findings: Array<{ rule: string }>; errors: number }>(['lint', dir]);
    expect(result.findings.map((f) => f.rule)).toContain(rule);
    const isError = LINT_RULES[rule].severity === 'error';
    expect(result.status).toBe(isError ? 1 : 0);
    if (!isError) expect((await runPackctl(['lint', dir, '--strict'])).status).toBe(1);
  });

  it('prints a grouped human report without colour when not on a TTY', async () => {
    const dir = fresh();
    await writeValidPack(dir);
    await BROKEN_FIXTURES['schema-violation'](dir);
    await BROKEN_FIXTURES['readme-missing'](dir);
    const result = await runPackctl(['lint', dir]);
    expect(result.status).toBe(1);
    expect(result.stdout).not.toContain('\u001b[');
    expect(result.stdout).toMatch(
      /pack\.json\n {2}error {3}\/layer {2}\/layer must be one of: .* {2}schema-violation\n {10}hint: /,
    );
    expect(result.stdout).toContain('README.md\n  warning');
    expect(result.stdout).toContain('1 error, 1 warning');
  });

  it('colours only when forced, and never with NO_COLOR', async () => {
    const dir = fresh();
    await writeValidPack(dir);
    await BROKEN_FIXTURES['readme-missing'](dir);
    expect((await runPackctl(['lint', dir], { env: { FORCE_COLOR: '1' } })).stdout).toContain('\u001b[');
    expect((await runPackctl(['lint', dir], { env: { NO_COLOR: '1' } })).stdout).not.toContain('\u001b[');
  });

  it('exits 1 with a hint for a missing directory, and 2 for usage errors', () => {
    const missing = packctl(['lint', path.join(work, 'nope')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/no such directory\nhint: /);
    expect(packctl(['lint']).status).toBe(2);
    expect(packctl(['lint', '.', '--format', 'xml']).status).toBe(2);
    expect(packctl(['frobnicate']).status).toBe(2);
    expect(packctl(['--help']).status).toBe(0);
  });
});

describe('packctl build', () => {
  it('prints name, version, path, size and digest, matching the file written', async () => {
    const dir = fresh();
    await writeValidPack(dir);
    const out = fresh();
    const result = await runPackctlJson<BuildJson>(['build', dir, '-o', out]);
    expect(result.status).toBe(0);
    expect(result.path).toBe(path.join(out, 'demo-addon-1.4.2.zip'));
    expect(result.size).toBe(statSync(result.path).size);
    expect(result.digest).toBe(sha256File(result.path));
    const human = await runPackctl(['build', dir, '-o', fresh()]);
    expect(human.stdout).toContain('built demo-addon@1.4.2');
    expect(human.stdout).toContain(result.digest);
  });

  it('is reproducible: same bytes across runs, time zones, umasks and file times', async () => {
    const dir = fresh();
    await writeValidPack(dir);
    const first = packctlJson<BuildJson>(['build', dir, '-o', fresh()]);
    utimesSync(path.join(dir, 'values.yaml'), new Date('2030-01-01'), new Date('2030-01-01'));
    chmodSync(path.join(dir, 'README.md'), 0o600);
    const second = packctlJson<BuildJson>(['build', dir, '-o', fresh()], { env: { TZ: 'Pacific/Kiritimati' } });
    const third = packctlJson<BuildJson>(['build', dir, '-o', fresh()], {
      env: { TZ: 'America/Los_Angeles', LANG: 'de_DE.UTF-8' },
    });
    expect(second.digest).toBe(first.digest);
    expect(third.digest).toBe(first.digest);
    expect(readFileSync(second.path)).toEqual(readFileSync(first.path));
    const epoch = packctlJson<BuildJson>(['build', dir, '-o', fresh()], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
    expect(epoch.digest).not.toBe(first.digest);
  });

  it('writes a zip other tools read: entries and bytes equal the source (Python zipfile)', async () => {
    const dir = fresh();
    await writeValidPack(dir);
    const { path: zip } = await runPackctlJson<BuildJson>(['build', dir, '-o', fresh()]);
    const extracted = fresh();
    execFileSync('python3', [
      '-c',
      'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; z.extractall(sys.argv[2])',
      zip,
      extracted,
    ]);
    const names = (root: string): string[] =>
      readdirSync(root, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
        .sort();
    expect(names(extracted)).toEqual(names(dir));
    for (const name of names(dir))
      expect(readFileSync(path.join(extracted, name)), name).toEqual(readFileSync(path.join(dir, name)));
  });

  it.each([
    ['..\\values.yaml', 'contains a backslash'],
    ['..\\..\\evil.bat', 'contains a backslash'],
    ['ab:values.yaml', 'starts with a "name:" prefix'],
    ['\x1b]0;owned\x07.txt', 'contains a control character'],
  ])('refuses to pack the file %j, whose name an archive would not keep', async (name, why) => {
    const dir = fresh();
    await writeValidPack(dir);
    writeFileSync(path.join(dir, name), 'a: 1\n');
    const out = fresh();
    const result = await runPackctl(['build', dir, '-o', out]);
    expect(result.status).toBe(1);
    expect(result.stdout + result.stderr).toContain('entry-name-unsafe');
    expect(result.stdout + result.stderr).toContain(why);
    expect(result.stdout + result.stderr).not.toContain('\x1b]');
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it('stops on lint errors and writes nothing', async () => {
    const dir = fresh();
    await writeValidPack(dir);
    await BROKEN_FIXTURES['chart-not-tgz'](dir);
    const out = fresh();
    const result = await runPackctl(['build', dir, '-o', out]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('chart-not-tgz');
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it('names the path and what to do when the output directory cannot be used', async () => {
    const dir = fresh();
    await writeValidPack(dir);
    const file = fresh();
    writeFileSync(file, 'not a directory\n');
    const onFile = await runPackctl(['build', dir, '-o', file]);
    expect(onFile.status).toBe(1);
    expect(onFile.stderr).toContain(`error: ${file}: a file is already there (mkdir)`);
    expect(onFile.stderr).toContain('hint: move it away, or choose another path');
    const below = await runPackctlJson<{ error: { code: string; message: string; hint: string } }>([
      'build',
      dir,
      '-o',
      path.join(file, 'out'),
    ]);
    expect(below.status).toBe(1);
    expect(below.error).toEqual({
      code: 'ENOTDIR',
      message: `${path.join(file, 'out')}: a file is where a directory should be (mkdir)`,
      hint: 'give a directory, or a path through directories',
    });
  });

  it('with --strict, refuses to build a pack with warnings', async () => {
    const dir = fresh();
    await writeValidPack(dir);
    await BROKEN_FIXTURES['readme-missing'](dir);
    const out = fresh();
    expect((await runPackctl(['build', dir, '-o', out, '--strict'])).status).toBe(1);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    expect((await runPackctl(['build', dir, '-o', out])).status).toBe(0);
  });

  it('refuses an output path that runs, inside the pack, through a link leading out of it', async () => {
    // A pack someone else wrote commits `dist -> elsewhere` and ignores dist in .packignore.
    const dir = fresh();
    await writeValidPack(dir);
    const victim = fresh();
    mkdirSync(victim);
    writeFileSync(path.join(victim, 'demo-addon-1.4.2.zip'), 'precious');
    symlinkSync(victim, path.join(dir, 'dist'));
    symlinkSync(path.join(work, 'nowhere', 'at-all'), path.join(dir, 'dangling'));
    writeFileSync(path.join(dir, '.packignore'), 'dist\ndangling\n');
    const mine = fresh();
    symlinkSync(dir, mine);
    for (const [out, cwd] of <Array<[string, string]>>[
      ['dist/', dir],
      [path.join(dir, 'dist'), REPO],
      [path.join(dir, 'dist', 'sub'), REPO],
      // Through a link of the user's own into the pack: the pack's link is still followed.
      [path.join(mine, 'dist'), REPO],
      [path.join(dir, 'dangling', 'out'), REPO],
    ]) {
      const result = await runPackctl(['build', dir, '-o', out], { cwd });
      expect(result.status, out).toBe(1);
      expect(result.stderr, out).toMatch(/is a symbolic link in the pack directory to .*, outside it/);
      expect(result.stderr, out).toContain('hint: give -o a directory outside the pack, or remove the link');
    }
    const planted = await runPackctl(['build', dir, '-o', 'dist/'], { cwd: dir });
    const why = `${dir}/dist is a symbolic link in the pack directory to ${victim}, outside it`;
    expect(planted.stderr).toContain(`error: refusing to build into ${dir}/dist/: ${why}`);
    expect(readdirSync(victim)).toEqual(['demo-addon-1.4.2.zip']);
    expect(readFileSync(path.join(victim, 'demo-addon-1.4.2.zip'), 'utf8')).toBe('precious');
    expect(existsSync(path.join(work, 'nowhere'))).toBe(false);
  });

  it('builds through links that stay in the pack, and into a link the user names outside it', async () => {
    const dir = fresh();
    await writeValidPack(dir);
    mkdirSync(path.join(dir, 'build'));
    symlinkSync('build', path.join(dir, 'dist'));
    writeFileSync(path.join(dir, '.packignore'), 'dist\nbuild/\n');
    const inside = await runPackctlJson<BuildJson>(['build', dir, '-o', path.join(dir, 'dist')]);
    expect(inside.status).toBe(0);
    expect(inside.path).toBe(path.join(dir, 'build', 'demo-addon-1.4.2.zip'));
    const target = fresh();
    mkdirSync(target);
    const link = fresh();
    symlinkSync(target, link);
    const outside = await runPackctlJson<BuildJson>(['build', dir, '-o', link]);
    expect(outside.status).toBe(0);
    expect(outside.path).toBe(path.join(target, 'demo-addon-1.4.2.zip'));
  });

  it('building into the pack directory does not pack earlier builds', async () => {
    const dir = fresh();
    await writeValidPack(dir);
    const first = await runPackctlJson<BuildJson>(['build', dir, '-o', dir]);
    const second = await runPackctlJson<BuildJson>(['build', dir, '-o', dir]);
    expect(second.digest).toBe(first.digest);
    const nested = await runPackctlJson<BuildJson>(['build', dir, '-o', path.join(dir, 'dist')]);
    const again = await runPackctlJson<BuildJson>(['build', dir, '-o', path.join(dir, 'dist')]);
    expect(again.digest).toBe(nested.digest);
    rmSync(path.join(dir, 'dist'), { recursive: true });
    rmSync(first.path);
    writeFileSync(path.join(dir, 'extra.txt'), 'x');
    expect((await runPackctlJson<BuildJson>(['build', dir, '-o', fresh()])).files).toBe(first.files + 1);
  });
});

describe('packctl push', () => {
  it('refuses what is not a pack directory or a zip before it contacts the server', async () => {
    const tarball = fresh();
    writeFileSync(tarball, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]));
    const empty = fresh();
    writeFileSync(empty, '');
    // Nothing listens on port 9 (discard): a request would fail with "cannot reach".
    for (const [target, message] of [
      [tarball, `${tarball} is not a zip archive`],
      [empty, `${empty} is not a zip archive`],
      ['/dev/null', '/dev/null is neither a directory nor a regular file'],
    ] as const) {
      const result = await runPackctl(['push', target, '--server', 'http://127.0.0.1:9']);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`error: ${message}`);
      expect(result.stderr).toContain('hint: pass a pack directory, or the zip `packctl build` wrote');
    }
  });
});

describe('packctl --password-stdin', () => {
  it('reads at most 64 KiB, never a stream without end', async () => {
    // Nothing listens on port 9: a request would fail with "cannot reach", after the read.
    const flood = await runPackctl(['login', 'http://127.0.0.1:9', '-u', 'ci', '--password-stdin'], {
      input: 'y\n'.repeat(40_000),
    });
    expect(flood.status).toBe(2);
    expect(flood.stderr).toContain('error: stdin holds more than 64 KiB: it should hold passwords or an API key');
    const password = await runPackctl(['login', 'http://127.0.0.1:9', '-u', 'ci', '--password-stdin'], {
      input: 'a-good-long-password\n',
    });
    expect(password.stderr).toContain('cannot reach http://127.0.0.1:9');
  });

  it('takes an API key from stdin (--api-key-stdin), never two secrets at once', async () => {
    const key = await runPackctl(['login', 'http://127.0.0.1:9', '--api-key-stdin'], { input: 'pyk_from_stdin\n' });
    expect(key.stderr).toContain('cannot reach http://127.0.0.1:9');
    const both = await runPackctl(['login', 'http://127.0.0.1:9', '--api-key-stdin', '--password-stdin', '-u', 'x'], {
      input: 'pyk_from_stdin\n',
    });
    expect(both.status).toBe(2);
    const empty = await runPackctl(['login', 'http://127.0.0.1:9', '--api-key-stdin'], { input: '\n' });
    expect(empty.status).toBe(2);
  });
});

describe('packctl and secrets in its errors', () => {
  it('refuses a token it cannot send without quoting it, and hides a password in a bad address', async () => {
    const secret = 'pyk_live_AbCdEf';
    for (const [args, env] of [
      [
        ['search', 'calico', '--format', 'json'],
        { PACKCTL_TOKEN: `${secret}\nGhIjKl`, PACKCTL_SERVER: 'http://127.0.0.1:9' },
      ],
      [['login', 'http://127.0.0.1:9', '--api-key', `${secret} GhIjKl`], {}],
    ] as const) {
      const result = await runPackctl([...args], { env });
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stdout + result.stderr).not.toContain(secret);
      expect(result.stdout + result.stderr).toContain('cannot be sent');
    }
    const address = await runPackctl(['search', 'x', '--server', 'https://alice:S3cretPass@host:99999']);
    expect(address.status).toBe(2);
    expect(address.stderr).not.toContain('S3cretPass');
    expect(address.stderr).toContain('https://host:99999 is not a server address');
    // Whatever else is wrong with the address (its scheme), the user info is never said.
    for (const [args, env] of [
      [['search', 'x', '--server', 'ftp://alice:S3cretPass@host'], {}],
      [['search', 'x'], { PACKCTL_SERVER: 'gopher://alice:S3cretPass@host/x?k=S3cretPass' }],
      [['login', 'alice:S3cretPass@host:99999', '--api-key', 'pyk_x'], {}],
      [['server', 'use', 'ftp://alice:S3cretPass@host'], {}],
    ] as const) {
      const result = await runPackctl([...args, '--format', 'json'], { env });
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stdout + result.stderr).not.toContain('S3cretPass');
      expect(result.stderr).toContain('host');
    }
  });

  it('lists a hand-edited server with user info without it', async () => {
    const config = path.join(fresh(), 'config.json');
    mkdirSync(path.dirname(config));
    writeFileSync(config, JSON.stringify({ auths: { 'https://alice:S3cretPass@host': { token: 'pya_x' } } }));
    for (const format of ['text', 'json']) {
      const result = await runPackctl(['server', 'ls', '--format', format], { env: { PACKCTL_CONFIG: config } });
      expect(result.status).toBe(0);
      expect(result.stdout).toContain('https://host');
      expect(result.stdout).not.toContain('S3cretPass');
    }
  });
});

describe('packctl and its credentials file', () => {
  it('refuses an empty HOME instead of keeping tokens in ./.packctl, wherever it runs', async () => {
    const dir = fresh();
    mkdirSync(dir);
    const result = await runPackctl(['login', 'http://127.0.0.1:9', '--api-key', 'pyk_x'], {
      cwd: dir,
      env: { HOME: '' },
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('the home directory (HOME="") is not an absolute path');
    expect(result.stderr).toContain('hint: set HOME, or name the configuration file with --config');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('never packs a credentials file: .packctl/ is left out, and one elsewhere stops the build', async () => {
    const dir = fresh();
    await writeValidPack(dir);
    const credentials = JSON.stringify({ auths: { 'https://packs.example.com': { token: 'pya_secret' } } });
    mkdirSync(path.join(dir, '.packctl'));
    writeFileSync(path.join(dir, '.packctl', 'config.json'), credentials);
    const out = fresh();
    const built = await runPackctlJson<{ archive: { files: string[] } | null }>(['build', dir, '-o', out]);
    expect(built.status).toBe(0);
    const zip = readdirSync(out).find((name) => name.endsWith('.zip')) ?? '';
    expect(execFileSync('unzip', ['-Z1', path.join(out, zip)], { encoding: 'utf8' })).not.toContain('packctl');
    writeFileSync(path.join(dir, 'creds.json'), credentials);
    const refused = await runPackctl(['build', dir, '-o', fresh()]);
    expect(refused.status).toBe(1);
    expect(refused.stdout + refused.stderr).toContain('creds.json is a packctl credentials file');
  });
});

describe('packctl start-up', () => {
  /**
   * The npm packages that `packctl ARGS` loads, run in a fresh process (the built packctl). Only
   * CommonJS packages are seen (Node's require cache): undici, unzipper, ajv, yaml, and archiver's
   * helpers such as lazystream, which is enough to tell whether a command's implementation loaded.
   */
  function packagesLoaded(args: string[]): string[] {
    const cli = pathToFileURL(path.join(REPO, 'packages/pack-cli/dist/cli.js')).href;
    const script = [
      "import { createRequire } from 'node:module';",
      `const { run } = await import(${JSON.stringify(cli)});`,
      `await run(${JSON.stringify(args)});`,
      "process.stdout.write('\\nLOADED ' + JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));",
    ].join('\n');
    const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO,
      encoding: 'utf8',
    });
    const files = JSON.parse(stdout.slice(stdout.lastIndexOf('\nLOADED ') + '\nLOADED '.length)) as string[];
    const names = files.map((file) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1]);
    return [...new Set(names.filter((name) => name !== undefined))].sort();
  }

  it('loads only commander and picocolors for --version and --help', () => {
    expect(packagesLoaded(['--version'])).toEqual(['commander', 'picocolors']);
    expect(packagesLoaded(['--help'])).toEqual(['commander', 'picocolors']);
  });

  it('lints without loading the HTTP client or the archive reader and writer', () => {
    const loaded = packagesLoaded(['lint', path.join(SAMPLE_PACKS, 'cni-calico')]);
    expect(loaded).toContain('ajv');
    for (const heavy of ['undici', 'unzipper', 'lazystream', 'async']) expect(loaded).not.toContain(heavy);
  });
});

describe('packctl writing to a reader that has gone', () => {
  it("drops the output and exits with the command's own code, without a stack trace", async () => {
    const out = fresh();
    const runs = [
      { args: ['--version'], status: 0 },
      { args: ['--help'], status: 0 },
      { args: ['lint', path.join(SAMPLE_PACKS, 'cni-calico')], status: 0 },
      { args: ['lint', path.join(SAMPLE_PACKS, 'cni-calico'), '--format', 'json'], status: 0 },
      { args: ['build', path.join(SAMPLE_PACKS, 'cni-calico'), '-o', out], status: 0 },
      { args: ['lint', path.join(work, 'missing')], status: 1 },
    ];
    for (const { args, status } of runs) {
      const result = await intoClosedPipe(PACKCTL, args);
      expect({ args, status: result.status }).toEqual({ args, status });
      expect(result.stderr).not.toMatch(/EPIPE|node:events|\n {4}at /);
    }
    // The build went on to the end: its archive is there.
    expect(readdirSync(out).filter((file) => file.endsWith('.zip'))).toHaveLength(1);
  });
});
