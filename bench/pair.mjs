// @ts-check
/**
 * Benchmark: two pack-registry builds, or one build with two settings, side by side on the fs
 * store, taking turns at batches of small publishes (each batch a new set of ~53 KB packs, both
 * sides the same bytes, which side goes first alternating). On this shared two-core machine the
 * rate of one build moves by a third between runs minutes apart, which hides a change of 5-10%
 * when its before and after run one after the other; batches of a few seconds each, alternating,
 * see the same drift on both sides, and the ratio of their totals keeps what the change made.
 *
 *   node bench/run.mjs pair --a-server OLD/bin.js [--b-server NEW/bin.js] [--b-env K=V,K=V] ...
 *
 * Prints each side's publishes per second and server CPU (user + system of all its threads, from
 * /proc) per publish over all its batches, and B/A; the per-pair ratios' median and range show
 * how steady that was. A probe for a change's author, with no target: what the change buys is
 * then shown in `peers`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { smallPackBuilder } from './_packs.mjs';
import { startPackyard } from './_peers-servers.mjs';
import { cpuSeconds } from './_proc.mjs';
import { defaultServerBin } from './_registry.mjs';
import { inParallel, log, median, optionsOrExit, round, table, withScope } from './_util.mjs';

export const description =
  'Two registry builds (or settings) side by side, small publishes in alternating batches (A/B)';

const USAGE = `Usage: node bench/run.mjs pair [options]

${description}.

Options:
  --a-server PATH      side A's pack-registry entry point (default packages/registry-server/bundle/bin.js)
  --b-server PATH      side B's (default: the same)
  --a-env K=V,K=V      environment variables of side A's process (default none)
  --b-env K=V,K=V      side B's
  --batches N          timed batches of each side, after one untimed batch each (default 16)
  --batch N            publishes per batch (default 24)
  --clients N          concurrent publishing clients (default 8; 1: sequential)
  --small-kb N         random payload of a pack, in KiB (default 50: a ~53 KB archive)
  -h, --help           show this help`;

/** @type {Record<string, import('./_util.mjs').OptionSpec>} */
const SPECS = {
  'a-server': { kind: 'string', default: defaultServerBin },
  'b-server': { kind: 'string', default: defaultServerBin },
  'a-env': { kind: 'string' },
  'b-env': { kind: 'string' },
  batches: { kind: 'integer', default: 16 },
  batch: { kind: 'integer', default: 24 },
  clients: { kind: 'integer', default: 8 },
  'small-kb': { kind: 'number', default: 50 },
};

/**
 * `K=V,K=V` as an object; throws on an entry without `=`.
 * @param {unknown} list
 * @returns {Record<string, string>}
 */
function envOf(list) {
  if (typeof list !== 'string') return {};
  return Object.fromEntries(
    list.split(',').map((entry) => {
      const at = entry.indexOf('=');
      if (at <= 0) throw new Error(`not K=V: ${entry}`);
      return [entry.slice(0, at), entry.slice(at + 1)];
    }),
  );
}

/** @param {string[]} args */
export async function main(args) {
  const parsed = optionsOrExit('pair', args, SPECS, USAGE);
  if ('code' in parsed) return parsed.code;
  const { options } = parsed;
  const clients = Number(options.clients);
  const batch = Number(options.batch);
  const work = await mkdtemp(path.join(os.tmpdir(), 'packyard-pair-'));
  try {
    return await withScope(async (scope) => {
      const sides = /** @type {const} */ (['a', 'b']);
      const peers = {
        a: await startPackyard(
          { bin: String(options['a-server']), nodeArgs: [], dir: path.join(work, 'a'), env: envOf(options['a-env']) },
          scope,
        ),
        b: await startPackyard(
          { bin: String(options['b-server']), nodeArgs: [], dir: path.join(work, 'b'), env: envOf(options['b-env']) },
          scope,
        ),
      };
      const build = smallPackBuilder(path.join(work, 'packs'), Math.round(Number(options['small-kb']) * 1024));
      const totals = { a: { seconds: 0, cpu: 0, count: 0 }, b: { seconds: 0, cpu: 0, count: 0 } };
      /** @type {number[]} */
      const rateRatios = [];
      for (let index = 0; index <= Number(options.batches); index++) {
        const packs = [];
        for (let i = 0; i < batch; i++) packs.push(await build(`pair-${index}-${i}`));
        /** @type {Record<string, number>} */
        const rates = {};
        for (const side of index % 2 === 0 ? sides : [...sides].reverse()) {
          const peer = peers[side];
          // The same packs on both sides: each registry has its own store.
          const cpuBefore = cpuSeconds(peer.pid) ?? NaN;
          const started = performance.now();
          await inParallel(packs, clients, (pack) => peer.publish(pack));
          const seconds = (performance.now() - started) / 1000;
          const cpu = (cpuSeconds(peer.pid) ?? NaN) - cpuBefore;
          rates[side] = batch / seconds;
          if (index === 0) continue; // warm-up
          totals[side].seconds += seconds;
          totals[side].cpu += cpu;
          totals[side].count += batch;
        }
        if (index > 0) rateRatios.push(rates['b'] / rates['a']);
        log(
          `  batch ${index === 0 ? 'warm-up' : `${index}/${options.batches}`}: A ${rates['a'].toFixed(1)}/s, B ${rates['b'].toFixed(1)}/s`,
        );
      }
      const figure = (/** @type {'a' | 'b'} */ side) => ({
        rate: totals[side].count / totals[side].seconds,
        cpuMs: (totals[side].cpu * 1000) / totals[side].count,
      });
      const a = figure('a');
      const b = figure('b');
      console.log(
        `\nA: ${options['a-server']}${options['a-env'] ? ` with ${options['a-env']}` : ''}\n` +
          `B: ${options['b-server']}${options['b-env'] ? ` with ${options['b-env']}` : ''}\n` +
          `${options.batches} batches of ${batch} small publishes each, ${clients} client(s)\n`,
      );
      console.log(
        table([
          ['measure', 'A', 'B', 'B/A', 'B/A per batch pair: median [min-max]'],
          [
            'publishes/s',
            a.rate.toFixed(1),
            b.rate.toFixed(1),
            `${(b.rate / a.rate).toFixed(3)}x`,
            `${median(rateRatios).toFixed(3)} [${Math.min(...rateRatios).toFixed(2)}-${Math.max(...rateRatios).toFixed(2)}]`,
          ],
          [
            'server CPU per publish (ms)',
            a.cpuMs.toFixed(2),
            b.cpuMs.toFixed(2),
            `${(b.cpuMs / a.cpuMs).toFixed(3)}x`,
            '',
          ],
        ]),
      );
      const result = {
        bench: 'pair',
        clients,
        batch,
        batches: options.batches,
        a: { server: options['a-server'], env: options['a-env'] ?? null, rate: round(a.rate), cpuMs: round(a.cpuMs) },
        b: { server: options['b-server'], env: options['b-env'] ?? null, rate: round(b.rate), cpuMs: round(b.cpuMs) },
        rateRatio: round(b.rate / a.rate),
        cpuRatio: round(b.cpuMs / a.cpuMs),
        batchRatioMedian: round(median(rateRatios)),
      };
      console.log(`\nBENCH_RESULT ${JSON.stringify(result)}`);
      await peers.a.stop();
      await peers.b.stop();
      return 0;
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
