/**
 * `packctl completion` end to end: the script of the built packctl, loaded into a real bash as a
 * user does (`source <(packctl completion bash)`) and asked what <TAB> offers; the zsh and fish
 * scripts parsed (and their quoting checked) by zsh and fish, where those shells are installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packctl, PACKCTL, REPO, runPackctl } from './helpers.js';

const work = mkdtempSync(path.join(tmpdir(), 'packyard-completion-'));
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function installed(shell: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${shell}`], { stdio: 'ignore' }).status === 0;
}

/** Runs `script` with SHELL (bash, zsh, fish) in the repository, PACKCTL and NODE in its environment. */
function inShell(shell: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(shell, args, {
    cwd: REPO,
    env: { PATH: process.env['PATH'], HOME: work, NODE: process.execPath, PACKCTL },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `'text'` for bash. */
function quoted(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** What bash offers for <TAB> at the end of `words` (the last one is the word being completed). */
function bashCompletes(...words: string[]): string[] {
  const script = `source <("$NODE" "$PACKCTL" completion bash) || exit 1
COMP_WORDS=(${words.map(quoted).join(' ')})
COMP_CWORD=${words.length - 1}
_packctl || exit 1
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = inShell('bash', ['-c', script]);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout.split('\n').filter((line) => line !== '');
}

function scriptFile(shell: string, name: string): string {
  const result = packctl(['completion', shell]);
  expect(result.status, result.stderr).toBe(0);
  const file = path.join(work, name);
  writeFileSync(file, result.stdout);
  return file;
}

describe('packctl completion', () => {
  it.each(['bash', 'zsh', 'fish'])('prints the %s script on stdout and exits 0', async (shell) => {
    const result = await runPackctl(['completion', shell]);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('profile');
  });

  it('refuses another shell as a usage error (exit 2)', async () => {
    const result = await runPackctl(['completion', 'tcsh']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('bash, zsh, fish');
  });

  it('shows how to install each script in its help', async () => {
    const result = await runPackctl(['completion', '--help']);
    expect(result.stdout).toContain('source <(packctl completion bash)');
    expect(result.stdout).toContain('packctl completion zsh > "${fpath[1]}/_packctl"');
    expect(result.stdout).toContain('~/.config/fish/completions/packctl.fish');
  });
});

describe('bash completion', () => {
  it('completes commands, nested subcommands and options', () => {
    expect(bashCompletes('packctl', 'prof')).toEqual(['profile']);
    expect(bashCompletes('packctl', 'profile', '')).toEqual(expect.arrayContaining(['resolve', 'pull', 'push']));
    expect(bashCompletes('packctl', 'server', '')).toEqual(expect.arrayContaining(['ls', 'use']));
    expect(bashCompletes('packctl', 'lint', '--for')).toEqual(['--format']);
    expect(bashCompletes('packctl', 'profile', 'resolve', '--fr')).toEqual(['--frozen']);
  });

  it('completes the values commander knows, and paths', () => {
    expect(bashCompletes('packctl', 'lint', '--format', '').sort()).toEqual(['json', 'text']);
    // --format=j: bash splits the word at the =.
    expect(bashCompletes('packctl', 'lint', '--format', '=', 'j')).toEqual(['json']);
    expect(bashCompletes('packctl', 'init', 'x', '--layer', 'c').sort()).toEqual(['cni', 'csi']);
    expect(bashCompletes('packctl', 'completion', '').sort()).toEqual(['bash', 'fish', 'zsh']);
    expect(bashCompletes('packctl', 'lint', 'sample-p').sort()).toEqual(['sample-packs', 'sample-profiles']);
    expect(bashCompletes('packctl', 'build', '-o', 'sample-pa')).toEqual(['sample-packs']);
    expect(bashCompletes('packctl', 'profile', 'resolve', '--server', 'x', 'sample-pro')).toEqual(['sample-profiles']);
    // A pack name is not a path: nothing to offer.
    expect(bashCompletes('packctl', 'pull', 'sample-p')).toEqual([]);
  });

  it('leaves the hidden `registry use` out', () => {
    const offered = bashCompletes('packctl', 'registry', '');
    expect(offered).toEqual(expect.arrayContaining(['ls', 'show', 'create', 'update']));
    expect(offered).not.toContain('use');
  });
});

describe('zsh completion', () => {
  it.skipIf(!installed('zsh'))('parses, and its quoted descriptions reach _describe and _arguments intact', () => {
    const file = scriptFile('zsh', '_packctl');
    expect(inShell('zsh', ['-n', file])).toMatchObject({ status: 0, stderr: '' });
    // With _arguments and _describe replaced by functions that print what they were given.
    const script = `compdef() { :; }
source ${quoted(file)}
_arguments() { [[ $1 == -C ]] && state=command; printf '%s\\n' "$@"; }
_describe() { printf '%s\\n' "\${(@P)4}"; }
_packctl
_packctl_logout`;
    const result = inShell('zsh', ['-f', '-c', script]);
    expect(result.stderr).toBe('');
    const lines = result.stdout.split('\n');
    expect(lines).toContain("logout:forget a server's credentials");
    expect(lines).toContain('profile:cluster profiles: packs by layer, resolved against a registry');
    expect(lines).toContain('--format=[output format]:format:(text json)');
    expect(lines).toContain('--config=[credentials file]:file:_files');
  });
});

describe('fish completion', () => {
  it.skipIf(!installed('fish'))('parses, and completes nested commands, options and values', () => {
    const file = scriptFile('fish', 'packctl.fish');
    expect(inShell('fish', ['-n', file])).toMatchObject({ status: 0, stderr: '' });
    const completes = (line: string) => {
      const result = inShell('fish', ['--no-config', '-c', `source ${quoted(file)}; complete -C ${quoted(line)}`]);
      expect(result.stderr).toBe('');
      return result.stdout.split('\n').filter((entry) => entry !== '');
    };
    expect(completes('packctl prof')).toEqual([
      'profile\tcluster profiles: packs by layer, resolved against a registry',
    ]);
    expect(completes('packctl logou')).toEqual(["logout\tforget a server's credentials"]);
    expect(completes('packctl profile ').map((entry) => entry.split('\t')[0])).toEqual(
      expect.arrayContaining(['resolve', 'pull', 'push']),
    );
    expect(completes('packctl profile resolve --fr')).toEqual([
      '--frozen\tfail when FILE.lock no longer matches, instead of rewriting it',
    ]);
    expect(completes('packctl lint --format ').map((entry) => entry.split('\t')[0])).toEqual(['json', 'text']);
    expect(completes('packctl registry ').map((entry) => entry.split('\t')[0])).not.toContain('use');
  });
});
