/**
 * `npm install -g` of the packed CLI (scripts/pack-cli.mjs), as the README says: the tarball
 * installs offline (everything is inside it), and the installed `packctl` works as the workspace's
 * does: the same version, the same lint, the same bytes for the same pack.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../packages/registry-server/src/test-support/test-registry.js';
import { packctlJson, REPO, SAMPLE_PACKS } from './helpers.js';

let work: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  work = await tempDir('packyard-pack-cli-');
});
afterAll(async () => {
  await work.cleanup();
});

describe('the packed packctl', () => {
  it('installs globally from its tarball, offline, and runs as the workspace packctl does', () => {
    const tarball = execFileSync(process.execPath, ['scripts/pack-cli.mjs', '--out', work.dir], {
      cwd: REPO,
      encoding: 'utf8',
    }).trim();
    expect(path.basename(tarball)).toMatch(/^packctl-\d+\.\d+\.\d+\.tgz$/);
    const prefix = path.join(work.dir, 'prefix');
    // --offline: no registry is asked for anything; the tarball has no dependencies to fetch.
    execFileSync('npm', ['install', '-g', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, tarball], {
      cwd: work.dir,
      stdio: 'pipe',
    });
    const installed = path.join(prefix, 'bin', 'packctl');
    const run = (args: string[]) => execFileSync(installed, args, { cwd: work.dir, encoding: 'utf8' });
    const { version } = JSON.parse(readFileSync(path.join(REPO, 'packages/pack-cli/package.json'), 'utf8')) as {
      version: string;
    };
    expect(run(['--version']).trim()).toBe(version);
    expect(run(['lint', path.join(SAMPLE_PACKS, 'cert-manager')])).toContain('no problems');
    const built = JSON.parse(
      run(['build', path.join(SAMPLE_PACKS, 'cert-manager'), '-o', path.join(work.dir, 'out'), '--format', 'json']),
    ) as { digest: string };
    const reference = packctlJson<{ digest: string }>([
      'build',
      path.join(SAMPLE_PACKS, 'cert-manager'),
      '-o',
      path.join(work.dir, 'out-workspace'),
    ]);
    expect(built.digest).toBe(reference.digest);
    expect(run(['completion', 'bash'])).toContain('complete -F');
  });
});
