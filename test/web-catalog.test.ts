/**
 * The web catalog in a real browser (Debian's chromium, driven by playwright-core) against a real
 * pack-registry holding the sample packs, a second version of one of them, a pack in a private
 * registry, a tenant with a registry, a project and a user, cluster profiles at the three scopes,
 * and a hostile pack: search by text and by facet, open a pack, switch versions, read its README
 * and values, see who uses it and its downloads, copy a snippet, sign in and see the private
 * registry, sign in as a tenant user and see the tenant's registry and profiles, a profile's layers
 * with the resolver's problems, sign out; and a README built to run script, load remote content or
 * leave the page does none of it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPackctl, SAMPLE_PACKS } from './helpers.js';
import { ADMIN_TOKEN, AUTH, startRegistryProcess, type RegistryProcess } from './registry-process.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const HAVE_CHROMIUM = existsSync(CHROMIUM);
// In CI a missing browser fails the suite (.ci/run installs it); elsewhere the suite is skipped.
const RUN = HAVE_CHROMIUM || process.env['CI'] === 'true';

const OPERATOR = { username: 'catalog-operator', password: 'catalog operator password 1' };
const TENANT_USER = { username: 'alice', password: 'alice tenant password 1' };

/** Calls the registry's API as the operator (set-up only). */
async function api(method: string, route: string, body?: unknown): Promise<void> {
  const res = await fetch(`${registry.url}${route}`, {
    method,
    headers: { ...AUTH, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
}

/** Signs in through the form; the catalog then goes to `next` (the token lives in the page's memory). */
async function signInAs(page: Page, user: { username: string; password: string }, next: string): Promise<void> {
  await page.goto(`${registry.url}/signin?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect.poll(() => page.getByTestId('who').textContent()).toContain(user.username);
}

let work: string;
let registry: RegistryProcess;
let browser: Browser | undefined;

async function push(dir: string, registryName = 'public'): Promise<void> {
  const result = await runPackctl(['push', dir, '--registry', registryName], {
    env: { PACKCTL_SERVER: registry.url, PACKCTL_TOKEN: ADMIN_TOKEN, PACKCTL_CONFIG: path.join(work, 'packctl.json') },
  });
  if (result.status !== 0) throw new Error(`packctl push ${dir}: ${result.stderr}`);
}

/** A copy of a sample pack with other pack.json fields (a new version, another name). */
async function variant(sample: string, changes: Record<string, unknown>, files: Record<string, string> = {}) {
  const dir = path.join(work, `${sample}-${String(changes['version'] ?? changes['name'])}`);
  await cp(path.join(SAMPLE_PACKS, sample), dir, { recursive: true });
  const manifest = JSON.parse(await readFile(path.join(dir, 'pack.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(path.join(dir, 'pack.json'), JSON.stringify({ ...manifest, ...changes }, null, 2));
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(dir, file), text);
  return dir;
}

const HOSTILE_README = `# Hostile pack

<script>alert('script ran')</script>

<img src="x" onerror="alert('onerror ran')">

<style>@import url("https://evil.example/exfil.css"); body { background: url("https://evil.example/bg"); }</style>

[a javascript link](javascript:alert('link ran'))

[a data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)

![tracking pixel](https://evil.example/pixel.png)

![svg with script](evil.svg)

<svg onload="alert('svg ran')"><script>alert('svg script ran')</script></svg>
`;

/** Fails the test on any dialog, page error, or request to another origin. */
function watch(page: Page, origin: string): { problems: string[] } {
  const problems: string[] = [];
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(origin) && !url.startsWith('blob:') && !url.startsWith('data:')) {
      problems.push(`request to another origin: ${url}`);
    }
  });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  return { problems };
}

describe.skipIf(!RUN)('the web catalog in a browser', () => {
  let context: BrowserContext;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'packyard-web-'));
    registry = await startRegistryProcess({
      dataDir: path.join(work, 'data'),
      env: {
        PACKYARD_STORAGE: 'fs',
        PACKYARD_SUPERADMIN_USERNAME: OPERATOR.username,
        PACKYARD_SUPERADMIN_PASSWORD: OPERATOR.password,
      },
    });
    for (const sample of ['ubuntu-aws', 'kubernetes', 'cni-calico', 'csi-aws-ebs', 'cert-manager', 'lb-metallb']) {
      await push(path.join(SAMPLE_PACKS, sample));
    }
    await push(await variant('cni-calico', { version: '3.27.3' }));
    await push(
      await variant(
        'lb-metallb',
        { name: 'hostile-readme', displayName: 'Hostile README' },
        {
          'README.md': HOSTILE_README,
          'evil.svg': '<svg xmlns="http://www.w3.org/2000/svg"><script>alert("svg file ran")</script></svg>',
        },
      ),
    );
    const created = await fetch(`${registry.url}/v1/registries`, {
      method: 'POST',
      headers: { ...AUTH, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        name: 'private-packs',
        scope: 'system',
        public: false,
        description: 'not for anonymous eyes',
      }),
    });
    if (!created.ok) throw new Error(`creating a private registry: ${created.status} ${await created.text()}`);
    await push(
      await variant('kubernetes', { name: 'private-kubernetes', displayName: 'Private Kubernetes' }),
      'private-packs',
    );
    // A tenant with its own registry and a project; a user of it; profiles at the three scopes.
    await api('POST', '/v1/tenants', { name: 'acme' });
    await api('POST', '/v1/tenants/acme/projects', { name: 'web' });
    await api('POST', '/v1/registries', { name: 'acme-packs', scope: 'tenant', tenant: 'acme' });
    await push(await variant('lb-metallb', { name: 'acme-ingress', displayName: 'Acme Ingress' }), 'acme-packs');
    await api('POST', '/v1/tenants/acme/users', TENANT_USER);
    await api('POST', '/v1/tenants/acme/bindings', {
      role: 'Tenant Admin',
      subject: { kind: 'user', name: TENANT_USER.username },
    });
    await api('POST', '/v1/cluster-profiles', {
      name: 'aws-base',
      version: '1.0.0',
      cloudType: 'aws',
      packs: [
        { name: 'ubuntu-aws', version: '22.4.x' },
        { name: 'kubernetes', version: '1.29.x' },
        { name: 'cni-calico', version: '3.27.2' },
        { name: 'csi-aws-ebs', version: '>=1.20' },
        { name: 'cert-manager', version: '1.14.x' },
      ],
    });
    await api('POST', '/v1/tenants/acme/cluster-profiles', {
      name: 'acme-edge',
      version: '0.3.0',
      registries: ['acme-packs', 'public'],
      packs: [
        { name: 'ubuntu-aws', version: '22.4.5' },
        { name: 'kubernetes', version: '1.28.x' },
        { name: 'cni-calico', version: '3.27.x' },
        { name: 'csi-aws-ebs', version: '1.28.0' },
        { name: 'acme-ingress', version: '0.14.x' },
      ],
    });
    await api('POST', '/v1/tenants/acme/projects/web/cluster-profiles', {
      name: 'web-addons',
      version: '1.0.0',
      type: 'add-on',
      registries: ['acme-packs', 'public'],
      packs: [{ name: 'acme-ingress', version: '0.14.5' }],
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
    context.setDefaultTimeout(15_000);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    // Unset when the set-up failed before starting it.
    await (registry as RegistryProcess | undefined)?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('serves the catalog at / with a strict Content-Security-Policy, and JSON 404s to API clients', async () => {
    const page = await fetch(`${registry.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const script = await fetch(`${registry.url}${asset}`);
    expect(script.status).toBe(200);
    expect(script.headers.get('cache-control')).toContain('immutable');
    const browserMiss = await fetch(`${registry.url}/no/such/page`, { headers: { Accept: 'text/html' } });
    expect(browserMiss.status).toBe(404);
    expect(await browserMiss.text()).toContain('<div id="app">');
    const apiMiss = await fetch(`${registry.url}/no/such/page`, { headers: { Accept: 'application/json' } });
    expect(apiMiss.status).toBe(404);
    expect(((await apiMiss.json()) as { error: { code: string } }).error.code).toBe('ROUTE_NOT_FOUND');
  });

  it('searches as you type and by facet, with the search in the URL', async () => {
    const page = await context.newPage();
    const { problems } = watch(page, registry.url);
    await page.goto(`${registry.url}/`);
    await expect.poll(() => page.getByTestId('result-count').textContent()).toMatch(/^7 packs/);
    await page.getByLabel('Search packs').fill('calico');
    await expect.poll(() => page.getByTestId('result-count').textContent()).toMatch(/^1 pack/);
    expect(page.url()).toContain('q=calico');
    await expect.poll(() => page.locator('.card-title').first().textContent()).toContain('Calico');
    // The card's description is the README's first paragraph, as plain text.
    await expect
      .poll(() => page.locator('.card-desc').first().textContent())
      .toMatch(/^Calico provides pod networking/);

    await page.getByLabel('Search packs').fill('');
    await page.getByRole('button', { name: /^csi\s*1$/ }).click();
    await expect.poll(() => page.getByTestId('result-count').textContent()).toMatch(/^1 pack/);
    expect(page.url()).toContain('layer=csi');
    // The link is the search: a new page opened on it shows the same results.
    const again = await context.newPage();
    await again.goto(page.url());
    await expect.poll(() => again.locator('.card-title').first().textContent()).toContain('Amazon EBS CSI');
    await again.close();
    // Private registries are not shown to anonymous visitors.
    await page.goto(`${registry.url}/?q=private-kubernetes`);
    await expect.poll(() => page.locator('.empty h2').textContent()).toContain('No packs match');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('opens a pack, switches versions, reads the README and values, and copies a snippet', async () => {
    const page = await context.newPage();
    const { problems } = watch(page, registry.url);
    await page.goto(`${registry.url}/?q=calico`);
    await page.locator('.card a').first().click();
    await expect.poll(() => page.locator('h1#pack-title').textContent()).toContain('3.27.3');
    expect(new URL(page.url()).pathname).toBe('/packs/public/cni-calico');
    await expect.poll(() => page.locator('.readme h1, .readme h2').first().textContent()).toBeTruthy();
    const digest3 = await page.getByTestId('digest').textContent();

    await page.getByRole('combobox', { name: 'Version', exact: true }).selectOption('3.27.2');
    await expect.poll(() => page.locator('h1#pack-title').textContent()).toContain('3.27.2');
    expect(page.url()).toContain('version=3.27.2');
    await expect.poll(() => page.getByTestId('digest').textContent()).not.toBe(digest3);

    await page.getByRole('tab', { name: 'values.yaml' }).click();
    await expect.poll(() => page.locator('pre.code .y-key').count()).toBeGreaterThan(0);
    await page.getByRole('tab', { name: /Files/ }).click();
    await expect.poll(() => page.locator('table.files').textContent()).toContain('pack.json');
    await page.getByRole('tab', { name: 'Constraints' }).click();
    await expect.poll(() => page.locator('.constraints a').first().textContent()).toBe('kubernetes');

    await page.getByRole('button', { name: 'Copy packctl pull' }).click();
    await expect
      .poll(() => page.evaluate<string>('navigator.clipboard.readText()'))
      .toBe('packctl pull cni-calico@3.27.2');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('runs nothing from a hostile README and loads nothing from another origin', async () => {
    const page = await context.newPage();
    const { problems } = watch(page, registry.url);
    await page.goto(`${registry.url}/packs/public/hostile-readme`);
    await expect.poll(() => page.locator('.readme h1').textContent()).toBe('Hostile pack');
    // Raw HTML is shown as text, not made into elements.
    expect(await page.locator('.readme script, .readme style, .readme svg, .readme [onerror]').count()).toBe(0);
    expect(await page.locator('.readme').textContent()).toContain("<script>alert('script ran')</script>");
    // Unsafe links are not links; the remote image is a link, never loaded.
    expect(await page.locator('.readme a[href^="javascript:"], .readme a[href^="data:"]').count()).toBe(0);
    expect(await page.locator('.readme a.remote-image').getAttribute('href')).toBe('https://evil.example/pixel.png');
    // The pack's own SVG is not shown (an SVG's script would run in this origin if opened).
    await expect.poll(() => page.locator('.readme img[data-pack-src="evil.svg"]').getAttribute('src')).toBeNull();
    await page.waitForTimeout(500);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('signs in, shows the private registry, and signs out', async () => {
    const page = await context.newPage();
    const { problems } = watch(page, registry.url);
    await page.goto(`${registry.url}/?q=private-kubernetes`);
    await expect.poll(() => page.locator('.empty h2').textContent()).toContain('No packs match');
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByLabel('Username').fill(OPERATOR.username);
    await page.getByLabel('Password').fill(OPERATOR.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByTestId('who').textContent()).toContain(OPERATOR.username);
    // Back on the search it came from, which now finds the private registry's pack.
    expect(page.url()).toContain('q=private');
    await expect
      .poll(() => page.locator('.card-name').first().textContent())
      .toContain('private-packs/private-kubernetes');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.getByRole('link', { name: 'Sign in' }).count()).toBe(1);
    await page.goto(`${registry.url}/?q=private-kubernetes`);
    await expect.poll(() => page.locator('.empty h2').textContent()).toContain('No packs match');
    // A wrong password is a message on the form, not a crash.
    await page.goto(`${registry.url}/signin`);
    await page.getByLabel('Username').fill(OPERATOR.username);
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBeTruthy();
    expect(problems.filter((p) => !p.includes('401'))).toEqual([]);
    await page.close();
  });

  it("shows who uses a version and every version's downloads", async () => {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${registry.url}/v1/registries/public/packs/kubernetes/1.29.4/archive`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const page = await context.newPage();
    const { problems } = watch(page, registry.url);
    await signInAs(page, OPERATOR, '/packs/public/kubernetes');
    await expect.poll(() => page.getByTestId('downloads').textContent()).toBe('3');
    await page.getByRole('tab', { name: 'Used by' }).click();
    // aws-base selects 1.29.x (resolving to 1.29.4); acme-edge asks for 1.28.x, which nothing satisfies.
    await expect.poll(() => page.getByTestId('using-profiles').textContent()).toContain('aws-base');
    expect(await page.getByTestId('using-profiles').textContent()).not.toContain('acme-edge');
    const dependents = page.getByTestId('dependents');
    await expect.poll(() => dependents.textContent()).toContain('Calico 3.27.3');
    expect(await dependents.textContent()).toContain('Acme Ingress');
    // A profile listed there is a link to its page.
    await page.getByTestId('using-profiles').getByRole('link', { name: 'aws-base' }).click();
    await expect.poll(() => page.locator('h1#profile-title').textContent()).toContain('aws-base');
    await page.goBack();
    await page.getByRole('tab', { name: /^Versions/ }).click();
    await expect.poll(() => page.locator('table.files tbody tr').first().textContent()).toMatch(/1\.29\.4.*latest/);
    expect(await page.locator('table.files tbody tr').first().locator('td').nth(3).textContent()).toBe('3');
    expect(problems).toEqual([]);
    await page.close();
  });

  it("signs in as a tenant user: the tenant's registry, the profiles of the three scopes, a profile's layers", async () => {
    const page = await context.newPage();
    const { problems } = watch(page, registry.url);
    await page.goto(`${registry.url}/profiles`);
    await expect.poll(() => page.locator('.empty').textContent()).toContain('sign in');
    await signInAs(page, TENANT_USER, '/?q=acme-ingress');
    expect(await page.getByTestId('who').textContent()).toContain('(acme)');
    await expect.poll(() => page.locator('.card-name').first().textContent()).toContain('acme-packs/acme-ingress');

    await page.getByRole('link', { name: 'Cluster profiles' }).click();
    await expect
      .poll(() => page.locator('.profiles h2').allTextContents())
      .toEqual(['System', 'Tenant acme', 'Project acme/web']);
    await page.getByRole('link', { name: /acme-edge/ }).click();
    await expect.poll(() => page.getByTestId('resolution-status').textContent()).toMatch(/problems? resolving/);
    // The stack, top down: add-on, csi, cni, the k8s layer that did not resolve, then the OS.
    const layers = page.getByTestId('layer');
    await expect.poll(() => layers.count()).toBe(5);
    const texts = await layers.allTextContents();
    expect(texts[0]).toContain('acme-ingress');
    expect(texts[0]).toContain('acme-packs');
    expect(texts[3]).toContain('kubernetes');
    expect(texts[3]).toContain('unresolved');
    expect(texts[3]).toContain('no version of kubernetes in public satisfies 1.28.x');
    expect(texts[4]).toContain('ubuntu-aws');
    // The resolver's problem sits on the layer that caused it, not just on the page.
    await expect.poll(() => page.locator('.layer.layer-cni .problems').textContent()).toContain('requires kubernetes');

    await page.getByRole('link', { name: 'Cluster profiles' }).click();
    await page.getByRole('link', { name: /aws-base/ }).click();
    await expect
      .poll(() => page.getByTestId('resolution-status').textContent())
      .toBe('Resolves: 5 layers, every constraint met.');
    expect(await page.locator('[data-testid="layer"] > .layer-head > .badge:first-child').allTextContents()).toEqual([
      'addon',
      'csi',
      'cni',
      'k8s',
      'os',
    ]);
    await page.getByRole('link', { name: /kubernetes 1\.29\.4/ }).click();
    await expect.poll(() => page.locator('h1#pack-title').textContent()).toContain('1.29.4');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.goto(`${registry.url}/?q=acme-ingress`);
    await expect.poll(() => page.locator('.empty h2').textContent()).toContain('No packs match');
    // The resolver asks each registry of the profile in turn: a registry without the pack answers 404.
    expect(problems.filter((p) => !p.includes('404'))).toEqual([]);
    await page.close();
  });

  it('has no serious or critical accessibility violations (axe-core), in light and dark', async () => {
    // axe is injected as a script of its own, which the catalog's CSP rightly refuses: this
    // context alone bypasses it.
    for (const colorScheme of ['light', 'dark'] as const) {
      const checked = await browser?.newContext({ bypassCSP: true, colorScheme });
      if (!checked) throw new Error('no browser');
      const page = await checked.newPage();
      const check = async (address: string) => {
        await page.waitForLoadState('networkidle');
        await page.addScriptTag({ path: AXE });
        const violations = await page.evaluate<Array<{ id: string; impact: string | null; help: string }>>(
          `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help })))`,
        );
        const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
        expect(serious, `${colorScheme} ${address}`).toEqual([]);
      };
      for (const address of ['/', '/?q=cert', '/packs/public/cert-manager', '/profiles', '/signin', '/no/such/page']) {
        await page.goto(`${registry.url}${address}`);
        await check(address);
      }
      // Signed in (the token lives in the page: links, not reloads, from here on).
      await signInAs(page, TENANT_USER, '/profiles');
      await expect.poll(() => page.locator('.profiles h2').count()).toBe(3);
      await check('/profiles, signed in');
      await page.getByRole('link', { name: /acme-edge/ }).click();
      await expect.poll(() => page.getByTestId('layer').count()).toBe(5);
      await check('/profiles/tenant/acme/acme-edge');
      await page.getByRole('link', { name: /csi-aws-ebs/ }).click();
      await page.getByRole('tab', { name: 'Used by' }).click();
      await expect.poll(() => page.locator('.usage').count()).toBe(1);
      await check('/packs/public/csi-aws-ebs, used by');
      await checked.close();
    }
  });

  it('shows a not-found page for an unknown address and an unknown pack', async () => {
    const page = await context.newPage();
    await page.goto(`${registry.url}/no/such/page`);
    await expect.poll(() => page.locator('h1').textContent()).toBe('Page not found');
    await page.goto(`${registry.url}/packs/public/no-such-pack`);
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('404');
    await page.close();
  });

  it("shows a scope's profiles a page at a time, the rest on Show more", async () => {
    // Last: the project it adds would change the scopes the tests above expect.
    await api('POST', '/v1/tenants/acme/projects', { name: 'many' });
    const names = Array.from({ length: 53 }, (_, i) => `many-${String(i).padStart(2, '0')}`);
    for (const name of names) {
      await api('POST', '/v1/tenants/acme/projects/many/cluster-profiles', {
        name,
        version: '1.0.0',
        packs: [{ name: 'kubernetes', version: '1.29.x' }],
      });
    }
    const page = await context.newPage();
    const { problems } = watch(page, registry.url);
    await signInAs(page, TENANT_USER, '/profiles');
    const group = page.locator('section', { has: page.getByRole('heading', { name: 'Project acme/many' }) });
    await expect.poll(() => group.locator('.card').count()).toBe(50);
    // The inherited profiles are not listed again in the project's group.
    expect(await group.locator('.card-title').allTextContents()).not.toContain('aws-base 1.0.0');
    await group.getByRole('button', { name: 'Show more' }).click();
    await expect.poll(() => group.locator('.card').count()).toBe(53);
    expect(await group.getByRole('button', { name: 'Show more' }).count()).toBe(0);
    expect((await group.locator('.card-title').allTextContents()).map((t) => t.split(' ')[0])).toEqual(names);
    // The other scopes' groups are whole, without a button.
    expect(await page.getByRole('button', { name: 'Show more' }).count()).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  });
});
