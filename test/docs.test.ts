import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../packages/registry-server/src/config/config.js';
import { REPO } from './helpers.js';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter(
      (e) =>
        e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.parentPath.includes('test-support'),
    )
    .map((e) => path.join(e.parentPath, e.name));
}

describe('docs', () => {
  it('error-codes.md matches the error catalogues', () => {
    expect(() =>
      execFileSync('node', ['scripts/gen-error-docs.mjs', '--check'], { cwd: REPO, stdio: 'pipe' }),
    ).not.toThrow();
  });

  it('raises every error through a catalogue (no PackError made by hand outside errors.ts)', () => {
    const byHand: string[] = [];
    for (const pkg of readdirSync(path.join(REPO, 'packages'))) {
      for (const file of sourceFiles(path.join(REPO, 'packages', pkg, 'src'))) {
        if (path.basename(file) === 'errors.ts') continue;
        if (readFileSync(file, 'utf8').includes('new PackError(')) byHand.push(path.relative(REPO, file));
      }
    }
    expect(byHand).toEqual([]);
  });

  it('lint-rules.md matches the rule catalogue', () => {
    expect(() =>
      execFileSync('node', ['scripts/gen-lint-docs.mjs', '--check'], { cwd: REPO, stdio: 'pipe' }),
    ).not.toThrow();
  });
});

describe('docs/examples (running behind TLS and a reverse proxy)', () => {
  const examples = path.join(REPO, 'docs', 'examples');
  const example = (name: string) => readFileSync(path.join(examples, name), 'utf8');
  /** The values of `key=` lines of a systemd unit. */
  const unitValues = (unit: string, key: string) =>
    unit
      .split('\n')
      .filter((line) => line.startsWith(`${key}=`))
      .map((line) => line.slice(key.length + 1).trim());
  /** What the unit and docs/registry.md install the sample configuration as. */
  const installedConfig = '/etc/packyard/registry.yaml';

  it("registry.yaml loads through the server's own loader, with no secret in it", async () => {
    // No environment: PACKYARD_* variables of the machine running the tests must not mask the file.
    const config = await loadConfig({ config: path.join(examples, 'registry.yaml') }, {}, REPO);
    expect(config.server).toEqual({
      host: '127.0.0.1',
      port: 5080,
      trustProxy: true,
      maxConnections: 4096,
      // The example sits behind a proxy: no cap per address unless asked.
      maxConnectionsPerAddress: 0,
      shutdownTimeoutSeconds: 30,
      publicUrl: 'https://packs.example.com',
    });
    expect(config.dataDir).toBe('/var/lib/packyard');
    expect(config.storage.driver).toBe('fs');
    expect(config.storage.fs.root).toBe('/var/lib/packyard/store');
    expect(config.limits.maxUploadBytes).toBe(2 * 1024 ** 3);
    expect(config.auth.adminToken).toBeUndefined();
    expect(config.auth.superAdmin.password).toBeUndefined();
    expect(config.metrics.token).toBeUndefined();
  });

  it('pack-registry.service runs the built server with the sample configuration, and stops gracefully', async () => {
    const unit = example('pack-registry.service');
    const config = await loadConfig({ config: path.join(examples, 'registry.yaml') }, {}, REPO);
    const [execStart, ...more] = unitValues(unit, 'ExecStart');
    expect(more).toEqual([]);
    expect(execStart).toMatch(/^\/opt\/packyard\/packages\/registry-server\/bin\/pack-registry /);
    expect(execStart?.endsWith(`--config ${installedConfig}`)).toBe(true);
    // The file the unit runs is the server package's `pack-registry` command.
    const server = JSON.parse(readFileSync(path.join(REPO, 'packages', 'registry-server', 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(server.bin['pack-registry']).toBe('./bin/pack-registry');
    expect(unitValues(unit, 'User')).toEqual(['packyard']);
    expect(unitValues(unit, 'EnvironmentFile')).toEqual(['-/etc/packyard/registry.env']);
    expect(unitValues(unit, 'ReadWritePaths')).toEqual([config.dataDir]);
    expect(unitValues(unit, 'ProtectSystem')).toEqual(['strict']);
    expect(unitValues(unit, 'NoNewPrivileges')).toEqual(['yes']);
    expect(unitValues(unit, 'Restart')).toEqual(['on-failure']);
    // systemd must not SIGKILL the registry while it is still draining its requests.
    expect(Number(unitValues(unit, 'TimeoutStopSec')[0])).toBeGreaterThan(config.server.shutdownTimeoutSeconds);
    expect(readFileSync(path.join(REPO, 'docs', 'registry.md'), 'utf8')).toContain(
      `sudo install -D -m 0644 docs/examples/registry.yaml ${installedConfig}`,
    );
  });

  it('nginx.conf and the Caddyfile proxy to where registry.yaml listens, streaming bodies', async () => {
    const config = await loadConfig({ config: path.join(examples, 'registry.yaml') }, {}, REPO);
    const upstream = `${config.server.host}:${config.server.port}`;
    const host = new URL(config.server.publicUrl ?? '').host;
    const nginx = example('nginx.conf');
    for (const line of [
      `server ${upstream};`,
      `server_name ${host};`,
      'client_max_body_size 0;',
      'proxy_request_buffering off;',
      'proxy_buffering off;',
      'proxy_http_version 1.1;',
      'proxy_set_header Host $host;',
      // Replaced, never appended to: trustProxy takes the left-most address as the client's.
      'proxy_set_header X-Forwarded-For $remote_addr;',
      'proxy_set_header X-Forwarded-Proto $scheme;',
    ]) {
      expect(nginx).toContain(line);
    }
    expect(nginx).not.toContain('$proxy_add_x_forwarded_for;');
    const caddy = example('Caddyfile');
    expect(caddy).toMatch(new RegExp(`^${host.replaceAll('.', '\\.')} \\{$`, 'm'));
    expect(caddy).toContain(`reverse_proxy ${upstream}`);
  });

  it('docs/registry.md links every example', () => {
    const doc = readFileSync(path.join(REPO, 'docs', 'registry.md'), 'utf8');
    const linked = [...doc.matchAll(/\]\(examples\/([^)]+)\)/g)].map((m) => m[1]);
    expect([...new Set(linked)].sort()).toEqual(readdirSync(examples).sort());
  });
});
