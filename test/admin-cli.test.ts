/**
 * Administering a registry server with packctl alone, as an operator and a tenant admin would:
 * tenants, projects, users, teams, custom roles, role bindings and API keys, against the real
 * pack-registry process of globalSetup, and reading the audit log. The first test is the README's set-up of a CI pipeline
 * that pushes into a tenant registry: six packctl commands, no curl.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { tempDir } from '../packages/registry-server/src/test-support/test-registry.js';
import { runPackctl, SAMPLE_PACKS } from './helpers.js';

const registry = { url: inject('registryUrl') };
let work: Awaited<ReturnType<typeof tempDir>>;
/** The system operator, by the admin token (as `PACKCTL_TOKEN` in an operator's shell). */
let operator: NodeJS.ProcessEnv;

beforeAll(async () => {
  work = await tempDir('packyard-admin-e2e-');
  operator = {
    PACKCTL_SERVER: registry.url,
    PACKCTL_TOKEN: inject('registryAdminToken'),
    PACKCTL_CONFIG: path.join(work.dir, 'operator.json'),
  };
});
afterAll(async () => {
  await work.cleanup();
});

const as = (env: NodeJS.ProcessEnv) => (args: string[], input?: string) =>
  runPackctl(args, { env, ...(input === undefined ? {} : { input }) });

describe('packctl administers a registry server', () => {
  it('sets up CI pushing into a tenant registry with six commands', async () => {
    const op = as(operator);
    const steps = [
      ['tenant', 'create', 'globex', '--display-name', 'Globex'],
      ['registry', 'create', 'globex-packs', '--tenant', 'globex'],
      [
        'role',
        'create',
        'Registry Publisher',
        '--tenant',
        'globex',
        '--scope',
        'tenant',
        '--permission',
        'packRegistry.list',
        '--permission',
        'packRegistry.get',
        '--permission',
        'packRegistry.update',
      ],
      ['user', 'create', 'globex-ci', '--tenant', 'globex', '--display-name', 'CI pipeline'],
      ['binding', 'create', '--tenant', 'globex', '--role', 'Registry Publisher', '--user', 'globex-ci'],
    ];
    for (const step of steps) {
      const done = await op(step);
      expect(done.status, `${step.join(' ')}: ${done.stderr}`).toBe(0);
    }
    const key = await op(['apikey', 'create', 'ci-key', '--tenant', 'globex', '--user', 'globex-ci']);
    expect(key.status, key.stderr).toBe(0);
    // The key alone on stdout, for KEY=$(...); the rest on stderr.
    expect(key.stdout).toMatch(/^\S+\n$/);
    expect(key.stderr).toContain('created API key ci-key');

    const ci = as({ PACKCTL_CONFIG: path.join(work.dir, 'ci.json') });
    expect((await ci(['login', registry.url, '--api-key', key.stdout.trim()])).status).toBe(0);
    const pushed = await ci(['push', path.join(SAMPLE_PACKS, 'cni-calico'), '--registry', 'globex-packs']);
    expect(pushed.status, pushed.stderr).toBe(0);
    expect(pushed.stdout).toMatch(/^pushed cni-calico@3\.27\.2 sha256:/m);
    // The role is what lets it push: not into the public registry.
    const elsewhere = await ci(['push', path.join(SAMPLE_PACKS, 'cni-calico'), '--registry', 'public']);
    expect(elsewhere.status).toBe(3);
  });

  it('lists, shows, updates and removes what it made', async () => {
    const op = as(operator);
    expect((await op(['tenant', 'ls'])).stdout).toMatch(/^globex +Globex /m);
    expect((await op(['tenant', 'show', 'globex'])).stdout).toMatch(/^globex\n {2}display name +Globex$/m);
    expect((await op(['user', 'ls', '--tenant', 'globex'])).stdout).toMatch(/^globex-ci +CI pipeline +enabled +none /m);
    // A page at a time: the next page's command on stderr, the page as JSON with its cursor.
    expect((await op(['user', 'create', 'globex-bot', '--tenant', 'globex'])).status).toBe(0);
    const firstUser = await op(['user', 'ls', '--tenant', 'globex', '--limit', '1']);
    expect(firstUser.stdout).toMatch(/^globex-bot /m);
    expect(firstUser.stderr).toContain('more: packctl user ls --cursor globex-bot --limit 1 --tenant globex\n');
    const nextUser = await op([
      'user',
      'ls',
      '--tenant',
      'globex',
      '--limit',
      '1',
      '--cursor',
      'globex-bot',
      '--format',
      'json',
    ]);
    expect(JSON.parse(nextUser.stdout)).toEqual({
      items: [expect.objectContaining({ username: 'globex-ci' })],
      nextCursor: null,
    });
    expect((await op(['user', 'rm', 'globex-bot', '--tenant', 'globex'])).status).toBe(0);
    const disabled = await op(['user', 'update', 'globex-ci', '--tenant', 'globex', '--disable', '--format', 'json']);
    expect(JSON.parse(disabled.stdout)).toMatchObject({ username: 'globex-ci', disabled: true });
    expect((await op(['user', 'update', 'globex-ci', '--tenant', 'globex', '--enable'])).stdout).toMatch(
      /^ {2}state +enabled$/m,
    );

    expect((await op(['project', 'create', 'edge', '--tenant', 'globex', '--description', 'edge sites'])).status).toBe(
      0,
    );
    expect(
      (await op(['project', 'update', 'edge', '--tenant', 'globex', '--description', 'edge clusters'])).stdout,
    ).toMatch(/^ {2}description +edge clusters$/m);
    expect((await op(['project', 'ls', '--tenant', 'globex'])).stdout).toMatch(/^edge +edge clusters /m);

    const team = await op([
      'team',
      'create',
      'platform',
      '--tenant',
      'globex',
      '--member',
      'globex-ci',
      '--format',
      'json',
    ]);
    expect(JSON.parse(team.stdout)).toMatchObject({ name: 'platform', members: ['globex-ci'] });
    expect((await op(['team', 'update', 'platform', '--tenant', 'globex', '--member', 'globex-ci'])).status).toBe(0);
    expect((await op(['team', 'ls', '--tenant', 'globex'])).stdout).toMatch(/^platform +1\b/m);

    // A project role for a project registry (no built-in project role holds packRegistry.*).
    const reader = await op([
      'role',
      'create',
      'Registry Reader',
      '--tenant',
      'globex',
      '--scope',
      'project',
      '--permission',
      'packRegistry.list',
      '--permission',
      'packRegistry.get',
    ]);
    expect(reader.status, reader.stderr).toBe(0);
    const bound = await op([
      'binding',
      'create',
      '--tenant',
      'globex',
      '--role',
      'Registry Reader',
      '--team',
      'platform',
      '--project',
      'edge',
      '--format',
      'json',
    ]);
    expect(bound.status, bound.stderr).toBe(0);
    const binding = JSON.parse(bound.stdout) as { id: string; project: string };
    expect(binding.project).toBe('edge');
    const roles = await op(['role', 'ls', '--tenant', 'globex']);
    expect(roles.stdout).toMatch(/^Registry Reader +project +custom +2$/m);
    expect(roles.stdout).toMatch(/^Tenant Admin +tenant +built-in /m);
    expect((await op(['role', 'show', 'Registry Reader', '--tenant', 'globex'])).stdout).toMatch(
      /^ {2}permissions +packRegistry\.get, packRegistry\.list$/m,
    );
    expect((await op(['role', 'permissions'])).stdout).toMatch(/^packRegistry\.update +\S*project/m);
    // A bound role cannot go; its binding can, then the role.
    const inUse = await op(['role', 'rm', 'Registry Reader', '--tenant', 'globex', '--format', 'json']);
    expect(inUse.status).toBe(5);
    expect(JSON.parse(inUse.stdout)).toMatchObject({ error: { code: 'ROLE_IN_USE' } });
    expect((await op(['binding', 'ls', '--tenant', 'globex'])).stdout).toContain(binding.id);
    expect((await op(['binding', 'rm', binding.id, '--tenant', 'globex'])).status).toBe(0);
    expect((await op(['role', 'rm', 'Registry Reader', '--tenant', 'globex'])).status).toBe(0);

    const keys = await op(['apikey', 'ls', '--tenant', 'globex', '--user', 'globex-ci', '--format', 'json']);
    const [key] = (JSON.parse(keys.stdout) as { items: Array<{ id: string; name: string }> }).items;
    expect(key?.name).toBe('ci-key');
    expect((await op(['apikey', 'rm', key?.id ?? '', '--tenant', 'globex', '--user', 'globex-ci'])).status).toBe(0);
    expect((await op(['apikey', 'ls', '--tenant', 'globex', '--user', 'globex-ci'])).stdout).toMatch(
      /ci-key +revoked /,
    );

    expect((await op(['project', 'show', 'edge', '--tenant', 'globex'])).stdout).toMatch(
      /^globex\/edge\n {2}description +edge clusters$/m,
    );
    expect((await op(['team', 'show', 'platform', '--tenant', 'globex'])).stdout).toMatch(/^ {2}members +globex-ci$/m);
    expect((await op(['user', 'show', 'globex-ci', '--tenant', 'globex'])).stdout).toMatch(/^ {2}state +enabled$/m);
    const publisher = await op([
      'role',
      'update',
      'Registry Publisher',
      '--tenant',
      'globex',
      '--description',
      'pushes to the tenant registries',
    ]);
    expect(publisher.stdout).toMatch(/^ {2}description +pushes to the tenant registries$/m);
    expect((await op(['team', 'rm', 'platform', '--tenant', 'globex'])).status).toBe(0);
    expect((await op(['project', 'rm', 'edge', '--tenant', 'globex'])).status).toBe(0);
    expect((await op(['user', 'show', 'nobody', '--tenant', 'globex'])).status).toBe(4);
    expect((await op(['user', 'rm', 'globex-ci', '--tenant', 'globex'])).status).toBe(0);
    expect((await op(['user', 'ls', '--tenant', 'globex'])).stdout).toContain('No users in globex.');
    // A tenant that owns nothing goes; one that owns a registry says what to do first.
    expect((await op(['tenant', 'create', 'initech'])).status).toBe(0);
    expect((await op(['tenant', 'rm', 'initech'])).stdout).toContain('deleted tenant initech');
    const owner = await op(['tenant', 'rm', 'globex']);
    expect(owner.status).toBe(5);
    expect(owner.stderr).toContain('hint:');
    // Who did all this: the tenant's audit log, a page at a time.
    const audit = await op(['audit', 'ls', '--tenant', 'globex', '--limit', '5']);
    expect(audit.status, audit.stderr).toBe(0);
    expect(audit.stdout).toMatch(/^AT +ACTOR +REQUEST +STATUS +OUTCOME +CLIENT$/m);
    expect(audit.stdout).toMatch(/ DELETE \/v1\/tenants\/globex\/projects\/edge +204 +success /);
    expect(audit.stderr).toMatch(/^more: packctl audit ls --cursor \S+ --limit 5 --tenant globex$/m);
    const next = /--cursor (\S+)/.exec(audit.stderr)?.[1] ?? '';
    const older = await op(['audit', 'ls', '--tenant', 'globex', '--limit', '5', '--cursor', next, '--format', 'json']);
    expect((JSON.parse(older.stdout) as { items: unknown[] }).items).toHaveLength(5);
    // The whole log, as JSON Lines: the same entries the pages show, newest first, each once.
    const exported = await op(['audit', 'export', '--tenant', 'globex']);
    expect(exported.status, exported.stderr).toBe(0);
    const lines = exported.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string });
    const pages = JSON.parse(older.stdout) as { items: Array<{ id: string }> };
    expect(lines.map((l) => l.id)).toEqual(expect.arrayContaining(pages.items.map((i) => i.id)));
    expect(lines.map((l) => l.id)).toEqual([...lines.map((l) => l.id)].sort());
    expect(new Set(lines.map((l) => l.id)).size).toBe(lines.length);
    expect(exported.stderr).toMatch(
      new RegExp(`^exported ${lines.length} audit entries of globex \\(the oldest: \\S+\\)$`, 'm'),
    );
    // The operator belongs to no tenant: tenant-scoped nouns ask which.
    const which = await op(['user', 'ls']);
    expect(which.status).toBe(2);
    expect(which.stderr).toContain('pass --tenant NAME');
  });
});
