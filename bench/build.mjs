// @ts-check
/**
 * Benchmark: `packctl build` against `zip -r -X` on the same generated pack (about 2,000 files,
 * 200 MB, half compressible text and half random bytes). zip is the baseline because it is what a
 * pack author would otherwise use by hand: packctl may cost a little more (it lints, hashes and
 * normalises), but not much. Targets: median time packctl/zip <= 1.3, packctl peak RSS < 200 MB,
 * i.e. the build streams files instead of buffering the pack.
 *
 * Prints a table, then one `BENCH_RESULT {...}` line for machines. Exits 0 when a target is missed
 * (a benchmark reports, it does not gate), non-zero when a run itself fails.
 *
 *   node bench/run.mjs build [--files N] [--mb N] [--runs N] [--packctl <bin.js>]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { generatePackTree } from './_pack-tree.mjs';

export const description = 'Time `packctl build` against `zip -r` on a generated ~2,000 file / 200 MB pack';

const MB = 1024 * 1024;
const RATIO_TARGET = 1.3;
const RSS_TARGET_MB = 200;
const RSS_MARKER = /^PACKYARD_BENCH_MAXRSS_KB=(\d+)$/m;

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const defaultPackctl = path.join(repoRoot, 'packages/pack-cli/dist/bin.js');
const reportRssUrl = new URL('./_report-rss.mjs', import.meta.url).href;

const USAGE = `Usage: node bench/run.mjs build [options]

${description}.

Options:
  --files N        data files to generate (default 2000)
  --mb N           total size of the generated pack in MB (default 200)
  --runs N         timed runs of each tool, after one untimed warm-up each (default 3)
  --packctl PATH   packctl entry point to run with node (default packages/pack-cli/dist/bin.js)
  -h, --help       show this help`;

class UsageError extends Error {}

/**
 * @typedef {{ files: number, mb: number, runs: number, packctl: string, help: boolean }} Options
 * @param {string[]} args
 * @returns {Options}
 */
function parseOptions(args) {
  /** @type {Options} */
  const options = { files: 2000, mb: 200, runs: 3, packctl: defaultPackctl, help: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '-h' || arg === '--help') {
      options.help = true;
      continue;
    }
    const match = /^--(files|mb|runs|packctl)(?:=(.*))?$/.exec(arg);
    if (!match) throw new UsageError(`unknown argument: ${arg}`);
    const [, name, inline] = match;
    const value = inline ?? args[++i];
    if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
    if (name === 'packctl') {
      options.packctl = path.resolve(value);
      continue;
    }
    const number = Number(value);
    const valid = name === 'mb' ? number > 0 : Number.isInteger(number) && number >= 1;
    if (!valid) throw new UsageError(`--${name} must be a positive ${name === 'mb' ? 'number' : 'integer'}`);
    if (name === 'mb') options.mb = number;
    else options[/** @type {'files' | 'runs'} */ (name)] = number;
  }
  if (options.mb * MB < options.files) throw new UsageError('--mb is too small for that many --files');
  return options;
}

/** @type {import('node:child_process').ChildProcess | undefined} */
let currentChild;

/**
 * Runs a command to completion and times it, from spawn to exit. Rejects when it fails.
 * @param {string} label
 * @param {string} command
 * @param {string[]} args
 * @param {string} cwd
 * @returns {Promise<{ seconds: number, stdout: string, stderr: string }>}
 */
function timed(label, command, args, cwd) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    currentChild = child;
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (data) => (stdout += data));
    child.stderr.setEncoding('utf8').on('data', (data) => (stderr += data));
    child.on('error', (err) => reject(new Error(`${label}: ${err.message}`)));
    child.on('close', (code, signal) => {
      const seconds = (performance.now() - start) / 1000;
      currentChild = undefined;
      if (code === 0) return resolve({ seconds, stdout, stderr });
      const why = signal ? `killed by ${signal}` : `exit code ${code}`;
      const output = `${stderr.replace(RSS_MARKER, '').trim()}\n${stdout.trim()}`.trim().slice(-2000);
      reject(new Error(`${label} failed (${why})${output ? `:\n${output}` : ''}`));
    });
  });
}

/**
 * The build's JSON result: the whole of stdout, or else its last line that parses (in case the tool
 * prints something before it).
 * @param {string} stdout
 */
function parseBuildResult(stdout) {
  const candidates = [stdout, ...stdout.trim().split('\n').reverse()];
  for (const text of candidates) {
    try {
      const value = JSON.parse(text);
      if (value && typeof value === 'object') return value;
    } catch {
      // try the next candidate
    }
  }
  throw new Error(`packctl build did not print a JSON result; stdout was:\n${stdout.slice(-2000)}`);
}

/**
 * @typedef {{ seconds: number, outputBytes: number, maxRssKB?: number }} RunResult
 * @typedef {{ workDir: string, packDir: string, zipPath: string, packctlOut: string, packctl: string }} Context
 */

/** @param {Context} ctx @returns {Promise<RunResult>} */
async function runZip(ctx) {
  // zip -r adds to an existing archive instead of replacing it, so every run starts without one.
  await rm(ctx.zipPath, { force: true });
  const { seconds } = await timed('zip', 'zip', ['-r', '-X', '-q', ctx.zipPath, '.'], ctx.packDir);
  return { seconds, outputBytes: (await stat(ctx.zipPath)).size };
}

/** @param {Context} ctx @returns {Promise<RunResult>} */
async function runPackctl(ctx) {
  // A fresh, empty output directory each run, so no run finds the previous archive in its way.
  await rm(ctx.packctlOut, { recursive: true, force: true });
  await mkdir(ctx.packctlOut);
  const args = ['--import', reportRssUrl, ctx.packctl, 'build', ctx.packDir, '-o', ctx.packctlOut, '--format', 'json'];
  const { seconds, stdout, stderr } = await timed('packctl build', process.execPath, args, ctx.workDir);

  const rss = RSS_MARKER.exec(stderr);
  if (!rss) {
    throw new Error('packctl build exited without reporting its peak RSS (see bench/_report-rss.mjs)');
  }
  const result = parseBuildResult(stdout);
  const missing = ['name', 'version', 'path', 'size', 'digest'].filter((key) => result[key] === undefined);
  if (missing.length) {
    throw new Error(`packctl build JSON lacks ${missing.join(', ')}: ${JSON.stringify(result)}`);
  }
  // Measure the archive on disk rather than trusting the reported size; a missing file fails the run.
  const outputBytes = (await stat(path.resolve(ctx.workDir, String(result.path)))).size;
  return { seconds, outputBytes, maxRssKB: Number(rss[1]) };
}

/** @param {number[]} values */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** @param {string[][]} rows @returns {string} rows with columns padded to a common width */
function table(rows) {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => row[col].length)));
  const line = (/** @type {string[]} */ row) => row.map((cell, col) => cell.padEnd(widths[col])).join('   ');
  return rows.map((row) => line(row).trimEnd()).join('\n');
}

const log = (/** @type {string} */ message) => process.stderr.write(`${message}\n`);

/**
 * @param {string[]} args
 * @returns {Promise<number>} exit code
 */
export async function main(args) {
  /** @type {Options} */
  let options;
  try {
    options = parseOptions(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`build: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }

  // Check the tools before spending time generating 200 MB.
  if (spawnSync('zip', ['-v'], { stdio: 'ignore' }).error) {
    console.error('build: `zip` is not on PATH; the benchmark compares against it. Install it (apt-get install zip).');
    return 1;
  }
  if (!existsSync(options.packctl)) {
    const hint = options.packctl === defaultPackctl ? ' Run `npm run build` first (or `npm run bench -- build`).' : '';
    console.error(`build: ${path.relative(process.cwd(), options.packctl)} does not exist.${hint}`);
    return 1;
  }

  const workDir = await mkdtemp(path.join(os.tmpdir(), 'packyard-bench-build-'));
  /** @type {Context} */
  const ctx = {
    workDir,
    packDir: path.join(workDir, 'pack'),
    // Outputs live beside the pack, never inside it, or a run would archive the previous one.
    zipPath: path.join(workDir, 'zip-out.zip'),
    packctlOut: path.join(workDir, 'packctl-out'),
    packctl: options.packctl,
  };
  // finally {} does not run on Ctrl-C; remove the (large) temp dir then as well.
  const onSignal = (/** @type {NodeJS.Signals} */ signal) => {
    currentChild?.kill();
    rmSync(workDir, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    log(`generating ${options.files} files / ${options.mb} MB in ${ctx.packDir} ...`);
    const genStart = performance.now();
    const tree = await generatePackTree(ctx.packDir, {
      files: options.files,
      bytes: Math.round(options.mb * MB),
    });
    log(`  done in ${((performance.now() - genStart) / 1000).toFixed(1)} s`);

    // Untimed warm-up of each: fills the page cache with the tree (both sides then read from memory)
    // and loads node, packctl's modules and zip from disk once.
    log('warm-up: zip, packctl build ...');
    await runZip(ctx);
    await runPackctl(ctx);

    // Alternate the two so that drift over time (thermal throttling, background writeback of the
    // previous outputs) hits both sides alike.
    /** @type {RunResult[]} */
    const zipRuns = [];
    /** @type {RunResult[]} */
    const packctlRuns = [];
    for (let run = 1; run <= options.runs; run++) {
      const zip = await runZip(ctx);
      const packctl = await runPackctl(ctx);
      zipRuns.push(zip);
      packctlRuns.push(packctl);
      log(
        `run ${run}/${options.runs}: zip ${zip.seconds.toFixed(3)} s, packctl ${packctl.seconds.toFixed(3)} s ` +
          `(peak RSS ${((packctl.maxRssKB ?? 0) / 1024).toFixed(1)} MB)`,
      );
    }

    const zipSeconds = median(zipRuns.map((r) => r.seconds));
    const packctlSeconds = median(packctlRuns.map((r) => r.seconds));
    const ratio = packctlSeconds / zipSeconds;
    // Peak over all timed runs: the worst case is what has to fit in a CI runner or a small pod.
    const peakRssMB = Math.max(...packctlRuns.map((r) => r.maxRssKB ?? 0)) / 1024;
    const ratioPass = ratio <= RATIO_TARGET;
    const rssPass = peakRssMB < RSS_TARGET_MB;
    // The output size barely varies between runs; the last run's is representative.
    const zipBytes = zipRuns[zipRuns.length - 1].outputBytes;
    const packctlBytes = packctlRuns[packctlRuns.length - 1].outputBytes;

    const mb = (/** @type {number} */ bytes) => (bytes / MB).toFixed(1);
    console.log(
      `\npackctl build vs zip -r -X: ${tree.files} files, ${mb(tree.bytes)} MB ` +
        `(${mb(tree.textBytes)} MB text, ${mb(tree.binaryBytes)} MB random)\n`,
    );
    console.log(
      table([
        ['', 'zip -r -X', 'packctl build'],
        ['runs', String(options.runs), String(options.runs)],
        ['median time (s)', zipSeconds.toFixed(3), packctlSeconds.toFixed(3)],
        ['output size (MB)', mb(zipBytes), mb(packctlBytes)],
      ]),
    );
    console.log();
    console.log(
      table([
        ['check', 'value', 'target', 'result'],
        ['time packctl/zip', ratio.toFixed(2), `<= ${RATIO_TARGET}`, ratioPass ? 'PASS' : 'MISS'],
        ['packctl peak RSS (MB)', peakRssMB.toFixed(1), `< ${RSS_TARGET_MB}`, rssPass ? 'PASS' : 'MISS'],
      ]),
    );

    const round = (/** @type {number} */ n, digits = 3) => Number(n.toFixed(digits));
    const summary = {
      bench: 'build',
      files: tree.files,
      inputBytes: tree.bytes,
      runs: options.runs,
      zip: {
        medianSeconds: round(zipSeconds),
        seconds: zipRuns.map((r) => round(r.seconds)),
        outputBytes: zipBytes,
      },
      packctl: {
        medianSeconds: round(packctlSeconds),
        seconds: packctlRuns.map((r) => round(r.seconds)),
        outputBytes: packctlBytes,
        peakRssMB: round(peakRssMB, 1),
      },
      ratio: round(ratio),
      ratioTarget: RATIO_TARGET,
      ratioPass,
      rssTargetMB: RSS_TARGET_MB,
      rssPass,
    };
    console.log(`\nBENCH_RESULT ${JSON.stringify(summary)}`);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await rm(workDir, { recursive: true, force: true });
  }
}
