// @ts-check
/**
 * Benchmark (issue 15): the web catalog's search as a visitor types, in a real browser (Debian's
 * chromium through playwright-core) against a registry holding a large synthetic catalog (10,000
 * packs by default, seeded as a snapshot the way the catalog bench seeds one).
 *
 * Measured with the browser's own clock, for every keystroke of a few search words: from the
 * input event to the first frame after the results show that query's answer (the results region
 * is no longer busy). Baseline in the same run, the same queries: the API answer alone, fetched
 * from the page (fetch and JSON parse, no rendering). Also printed: the first page's JavaScript
 * and CSS, gzipped, as the browser downloaded them.
 *
 * Targets: search results render within 100 ms of a keystroke (p95); the first page's JavaScript
 * is under 150 KB gzipped.
 *
 *   node bench/run.mjs web [--packs N] [--versions N] [--words a,b,c]
 */
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { URLSearchParams } from 'node:url';
import { chromium } from 'playwright-core';
import { seedSnapshot } from './_catalog-data.mjs';
import { repoRoot, SERVER_OPTIONS, SERVER_USAGE, serverFromOptions, startRegistry } from './_registry.mjs';
import { checkRow, log, median, optionsOrExit, round, table, withScope } from './_util.mjs';

export const description = 'the web catalog: keystroke to rendered results in chromium, 10,000 packs';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const TARGET_MS = 100;
const TARGET_JS_KB = 150;

/** @type {Record<string, import('./_util.mjs').OptionSpec>} */
const OPTIONS = {
  packs: { kind: 'integer', default: 10_000 },
  versions: { kind: 'integer', default: 2 },
  words: { kind: 'string', default: 'prometheus,nginx,cert,vsphere,ai' },
  ...SERVER_OPTIONS,
};

const USAGE = `Usage: node bench/run.mjs web [options]

The web catalog's search in chromium: keystroke to rendered results, against the API alone.

Options:
  --packs N      packs in the seeded catalog (default 10000)
  --versions N   versions per pack (default 2)
  --words LIST   words to type, comma-separated (default prometheus,nginx,cert,vsphere,ai)
${SERVER_USAGE}`;

/** The value at the given fraction of the sorted values. */
function percentile(/** @type {number[]} */ values, /** @type {number} */ fraction) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? NaN;
}

/** @param {string[]} args */
export async function main(args) {
  const parsed = optionsOrExit('web', args, OPTIONS, USAGE);
  if (!parsed.options) return parsed.code ?? 2;
  const options = /** @type {{ packs: number, versions: number, words: string, server: string }} */ (parsed.options);
  if (!existsSync(CHROMIUM)) {
    log(`web: no browser at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
    return 1;
  }
  const server = serverFromOptions('web', options);
  if (!server) return 2;
  const words = options.words.split(',').filter((word) => word !== '');
  return withScope(async (scope) => {
    const work = await scope.tempDir('packyard-bench-web-');
    const dataDir = path.join(work, 'data');
    log(`seeding ${options.packs} packs x ${options.versions} versions ...`);
    const seeded = await seedSnapshot(dataDir, { packs: options.packs, versions: options.versions });
    const registry = await startRegistry(
      {
        bin: server.bin,
        nodeArgs: server.nodeArgs,
        dataDir,
        logFile: path.join(work, 'registry.log'),
        env: { PACKYARD_LOG_LEVEL: 'warn' },
      },
      scope,
    );
    await registry.waitReady();
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    scope.defer(() => browser.close());
    // Playwright's waits evaluate strings in the page, which the catalog's CSP refuses (as it
    // should): this bench's context alone bypasses it.
    const page = await (await browser.newContext({ bypassCSP: true })).newPage();
    /** @type {Map<string, number>} */
    const transferred = new Map();
    page.on('response', (response) => {
      const url = new URL(response.url());
      if (url.pathname.startsWith('/assets/')) transferred.set(url.pathname, 0);
    });
    await page.goto(`${registry.url}/`);
    await page.waitForSelector('[data-testid="result-count"]');
    // The page's own measurements: the input event's time, and the first frame after the results
    // region stops being busy.
    await page.evaluate(`(() => {
      window.__marks = [];
      let typed = 0;
      document.getElementById('q').addEventListener('input', (event) => { typed = event.timeStamp; });
      const results = document.querySelector('.results');
      new MutationObserver(() => {
        if (results.getAttribute('aria-busy') === 'false' && typed !== 0) {
          const at = typed;
          typed = 0;
          requestAnimationFrame(() => window.__marks.push(performance.now() - at));
        }
      }).observe(results, { attributes: true, attributeFilter: ['aria-busy'] });
    })()`);

    /** @type {number[]} */
    const render = [];
    /** @type {number[]} */
    const api = [];
    for (const word of words) {
      await page.fill('#q', '');
      await page.waitForSelector('.results[aria-busy="false"]');
      await page.evaluate('window.__marks.length = 0');
      for (let i = 1; i <= word.length; i++) {
        const before = /** @type {number} */ (await page.evaluate('window.__marks.length'));
        await page.type('#q', word[i - 1] ?? '');
        await page.waitForFunction(`window.__marks.length > ${before}`);
        render.push(/** @type {number} */ (await page.evaluate('window.__marks.at(-1)')));
        const query = new URLSearchParams({ q: word.slice(0, i), facets: 'true', limit: '30' }).toString();
        api.push(
          /** @type {number} */ (
            await page.evaluate(
              `(async () => { const t = performance.now(); await (await fetch('/v1/packs?${query}')).json(); return performance.now() - t; })()`,
            )
          ),
        );
      }
      log(
        `  "${word}": ${render
          .slice(-word.length)
          .map((ms) => ms.toFixed(0))
          .join(' ')} ms`,
      );
    }

    const distDir = path.join(repoRoot, 'packages/web/dist');
    const html = await readFile(path.join(distDir, 'index.html'), 'utf8');
    const firstPage = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1] ?? '');
    const gzipKB = async (/** @type {string[]} */ files) => {
      let bytes = 0;
      for (const file of files) bytes += gzipSync(await readFile(path.join(distDir, file))).length;
      return bytes / 1024;
    };
    const firstJs = await gzipKB(firstPage.filter((file) => file.endsWith('.js')));
    const firstCss = await gzipKB(firstPage.filter((file) => file.endsWith('.css')));
    const allJs = await gzipKB(
      (await readdir(path.join(distDir, 'assets'))).filter((f) => f.endsWith('.js')).map((f) => `assets/${f}`),
    );

    const ratios = render.map((ms, i) => ms / (api[i] ?? NaN));
    const p95 = percentile(render, 0.95);
    console.log(
      `\nweb catalog search: ${seeded.packs} packs (${seeded.versions} versions), ${render.length} keystrokes of ${words.join(', ')}\n`,
    );
    console.log(
      table([
        ['measure', 'median ms', 'p95 ms', 'max ms'],
        ['keystroke to rendered results', median(render).toFixed(1), p95.toFixed(1), Math.max(...render).toFixed(1)],
        [
          'API answer alone (fetch + JSON)',
          median(api).toFixed(1),
          percentile(api, 0.95).toFixed(1),
          Math.max(...api).toFixed(1),
        ],
      ]),
    );
    console.log(`\nrendered / API alone, median over keystrokes: ${median(ratios).toFixed(2)}x`);
    console.log(
      `first page: JavaScript ${firstJs.toFixed(1)} KB gzipped, CSS ${firstCss.toFixed(1)} KB; all JavaScript (README renderer loaded on a pack page) ${allJs.toFixed(1)} KB\n`,
    );
    const checks = [
      checkRow('p95 keystroke to rendered results (ms)', p95.toFixed(1), `<= ${TARGET_MS}`, p95 <= TARGET_MS),
      checkRow('first page JavaScript, gzipped (KB)', firstJs.toFixed(1), `< ${TARGET_JS_KB}`, firstJs < TARGET_JS_KB),
    ];
    console.log(table([['check', 'value', 'target', 'result'], ...checks]));
    const summary = {
      bench: 'web',
      packs: seeded.packs,
      versions: seeded.versions,
      keystrokes: render.length,
      renderMs: { median: round(median(render), 1), p95: round(p95, 1) },
      apiMs: { median: round(median(api), 1), p95: round(percentile(api, 0.95), 1) },
      renderOverApi: round(median(ratios), 2),
      firstPageJsKB: round(firstJs, 1),
      transferredAssets: transferred.size,
    };
    console.log(`\nBENCH_RESULT ${JSON.stringify(summary)}`);
    return 0;
  });
}
