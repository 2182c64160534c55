// @ts-check
/**
 * Generates a synthetic pack directory for benchmarks: pack.json, values.yaml, README.md, then data
 * files under data/dNN/. File sizes, names and text come from a seeded PRNG, so the tree has the same
 * shape on every run and timings stay comparable between runs and machines. About half of the bytes
 * are YAML- or log-like text (compresses roughly like real manifests), half random bytes
 * (incompressible, like images or already compressed archives); the random bytes differ per run.
 *
 * Files are written in chunks of at most CHUNK_BYTES, so generating 200 MB does not need 200 MB of memory.
 */
import { randomFillSync } from 'node:crypto';
import { mkdir, open, writeFile } from 'node:fs/promises';
import path from 'node:path';

const KB = 1024;
const MB = 1024 * KB;
const CHUNK_BYTES = 1 * MB;
/** Data files per directory: large enough to look like a real chart/manifests tree, small enough to nest. */
const FILES_PER_DIR = 50;

const TEXT_EXTENSIONS = ['yaml', 'yaml', 'yaml', 'log', 'log'];
const BINARY_EXTENSIONS = ['bin', 'png', 'jpg', 'dat'];

const WORDS = (
  'alpha beta gamma delta api server node pod cluster control plane worker etcd ingress service ' +
  'deployment replica volume claim secret config map namespace label selector taint toleration ' +
  'affinity probe liveness readiness startup container image registry mirror proxy gateway route ' +
  'policy network calico metallb prometheus grafana alert rule scrape target metric histogram ' +
  'bucket quantile latency request response timeout retry backoff leader election lease watch cache ' +
  'informer queue sync reconcile update patch create delete event warning normal ready pending ' +
  'running failed succeeded kubelet containerd runc cgroup memory cpu limit quota storage class ' +
  'snapshot backup restore upgrade rollout canary blue green shard tenant profile layer addon pack'
).split(' ');
const LOG_LEVELS = ['INFO', 'INFO', 'INFO', 'INFO', 'DEBUG', 'DEBUG', 'WARN', 'ERROR'];

/**
 * mulberry32: a tiny, fast 32-bit PRNG. Not cryptographic; only here so that a seed always yields
 * the same sequence (Math.random cannot be seeded).
 * @param {number} seed
 * @returns {() => number} uniform in [0, 1)
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** @param {() => number} rand @param {number} n @returns {number} integer in [0, n) */
const int = (rand, n) => Math.floor(rand() * n);
/** @template T @param {() => number} rand @param {readonly T[]} list @returns {T} */
const pick = (rand, list) => list[int(rand, list.length)];
/** @param {() => number} rand @param {number} count */
const words = (rand, count) => Array.from({ length: count }, () => pick(rand, WORDS)).join(' ');
/** Log-uniform draw: as many files between 1 and 2 KB as between 8 and 16 KB, like real trees. */
const logUniform = (/** @type {() => number} */ rand, /** @type {number} */ lo, /** @type {number} */ hi) =>
  lo * Math.pow(hi / lo, rand());

/**
 * @typedef {{ path: string, size: number, kind: 'text' | 'binary', seed: number }} PlannedFile
 * @typedef {{ files: number, bytes: number, textBytes: number, binaryBytes: number }} TreeStats
 */

/**
 * Decides every data file's path, size and kind, without writing anything.
 * @param {{ files: number, bytes: number, seed: number }} options
 * @returns {PlannedFile[]}
 */
export function planPackTree({ files, bytes, seed }) {
  const rand = mulberry32(seed);

  // Raw sizes with the shape of a real pack: mostly small manifests and templates, some mid-size
  // files, and a few multi-MB blobs (images, vendored archives). Scaled to the requested total below.
  const raw = Array.from({ length: files }, () => {
    const r = rand();
    if (r < 0.8) return logUniform(rand, 1 * KB, 16 * KB);
    if (r < 0.98) return logUniform(rand, 16 * KB, 1 * MB);
    return logUniform(rand, 2 * MB, 8 * MB);
  });
  const scale = bytes / raw.reduce((sum, size) => sum + size, 0);
  const sizes = raw.map((size) => Math.max(1, Math.round(size * scale)));

  // Rounding leaves the total a few bytes off; the largest file absorbs the difference.
  const bySizeDesc = sizes.map((_, i) => i).sort((a, b) => sizes[b] - sizes[a] || a - b);
  const drift = bytes - sizes.reduce((sum, size) => sum + size, 0);
  sizes[bySizeDesc[0]] = Math.max(1, sizes[bySizeDesc[0]] + drift);

  // Half of the bytes text, half binary: hand out files largest first to whichever kind has fewer bytes
  // so far. Both kinds end up with big and small files, and the split is within a small file of 50/50.
  /** @type {('text' | 'binary')[]} */
  const kinds = new Array(files);
  let textBytes = 0;
  let binaryBytes = 0;
  for (const i of bySizeDesc) {
    if (textBytes <= binaryBytes) {
      kinds[i] = 'text';
      textBytes += sizes[i];
    } else {
      kinds[i] = 'binary';
      binaryBytes += sizes[i];
    }
  }

  const dirCount = Math.ceil(files / FILES_PER_DIR);
  const dirWidth = Math.max(2, String(dirCount - 1).length);
  const fileWidth = Math.max(4, String(files - 1).length);
  return sizes.map((size, i) => {
    const ext = pick(rand, kinds[i] === 'text' ? TEXT_EXTENSIONS : BINARY_EXTENSIONS);
    // Round-robin over directories, so each directory gets a mix of sizes and kinds.
    const dir = `d${String(i % dirCount).padStart(dirWidth, '0')}`;
    const name = `file${String(i).padStart(fileWidth, '0')}.${ext}`;
    return {
      path: `data/${dir}/${name}`,
      size,
      kind: kinds[i],
      seed: (seed + Math.imul(i + 1, 0x9e3779b9)) >>> 0,
    };
  });
}

/**
 * One multi-line YAML list item, like an entry of a rendered manifest.
 * @param {() => number} rand
 * @param {number} n
 */
function yamlRecord(rand, n) {
  const w = () => pick(rand, WORDS);
  return (
    `- name: ${w()}-${w()}-${n}\n` +
    `  namespace: ${w()}\n` +
    `  replicas: ${1 + int(rand, 5)}\n` +
    `  image: registry.example/${w()}/${w()}:${int(rand, 4)}.${int(rand, 30)}.${int(rand, 12)}\n` +
    `  labels:\n    app.kubernetes.io/name: ${w()}\n    tier: ${w()}\n` +
    `  resources:\n    limits:\n      cpu: ${50 + int(rand, 1950)}m\n      memory: ${64 * (1 + int(rand, 64))}Mi\n` +
    `  message: ${words(rand, 3 + int(rand, 10))}\n`
  );
}

/**
 * Returns a function producing successive lines (or YAML records) for one text file.
 * @param {'yaml' | 'log'} style
 * @param {() => number} rand
 */
function textSource(style, rand) {
  let n = 0;
  let time = Date.UTC(2024, 0, 1) + int(rand, 86_400_000);
  if (style === 'yaml') return () => yamlRecord(rand, n++);
  return () => {
    time += int(rand, 2000);
    const component = `${pick(rand, WORDS)}-${pick(rand, WORDS)}`;
    return (
      `${new Date(time).toISOString()} ${pick(rand, LOG_LEVELS)} [${component}] ` +
      `${words(rand, 4 + int(rand, 12))} id=${int(rand, 1_000_000)} latency=${int(rand, 5000)}ms\n`
    );
  };
}

/**
 * Writes all of `buffer`: FileHandle.write may, in principle, write less than asked.
 * @param {import('node:fs/promises').FileHandle} handle
 * @param {Buffer} buffer
 * @param {number} length
 */
async function writeAll(handle, buffer, length) {
  for (let offset = 0; offset < length;) {
    const { bytesWritten } = await handle.write(buffer, offset, length - offset);
    offset += bytesWritten;
  }
}

/**
 * Writes one planned file, chunk by chunk.
 * @param {string} absolute
 * @param {PlannedFile} file
 * @param {Buffer} scratch reused for random bytes, CHUNK_BYTES long
 */
async function writeDataFile(absolute, file, scratch) {
  const handle = await open(absolute, 'w');
  try {
    if (file.kind === 'binary') {
      for (let left = file.size; left > 0;) {
        const n = Math.min(left, CHUNK_BYTES);
        // randomFillSync draws from the same CSPRNG as randomBytes, without a new buffer per chunk.
        randomFillSync(scratch, 0, n);
        await writeAll(handle, scratch, n);
        left -= n;
      }
      return;
    }
    const style = file.path.endsWith('.log') ? 'log' : 'yaml';
    const next = textSource(style, mulberry32(file.seed));
    // Text is pure ASCII, so string length equals byte length.
    for (let left = file.size; left > 0;) {
      let chunk = '';
      while (chunk.length < CHUNK_BYTES && chunk.length < left) {
        const line = next();
        const room = left - chunk.length;
        // Pad the end with a comment line rather than cutting a record in half.
        chunk += line.length <= room ? line : room === 1 ? '\n' : `${'#'.padEnd(room - 1, '.')}\n`;
      }
      const buffer = Buffer.from(chunk, 'latin1');
      await writeAll(handle, buffer, buffer.length);
      left -= buffer.length;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Writes a pack directory with `files` data files totalling about `bytes` bytes into `dir`
 * (created if needed). The three pack files (pack.json, values.yaml, README.md) come on top.
 * @param {string} dir
 * @param {{ files: number, bytes: number, seed?: number }} options
 * @returns {Promise<TreeStats>}
 */
export async function generatePackTree(dir, { files, bytes, seed = 20240601 }) {
  const plan = planPackTree({ files, bytes, seed });
  await mkdir(dir, { recursive: true });

  const manifest = {
    name: 'bench-pack',
    displayName: 'Bench pack',
    version: '1.0.0',
    layer: 'addon',
    addonType: 'system app',
    cloudTypes: ['all'],
  };
  const top = {
    'pack.json': `${JSON.stringify(manifest, null, 2)}\n`,
    'values.yaml': 'pack:\n  content:\n    images:\n      - image: registry.example/bench:1.0.0\n',
    'README.md':
      '# Bench pack\n\nGenerated by bench/_pack-tree.mjs for `npm run bench`: about half YAML- and ' +
      'log-like text, half random bytes, in files from a few KB to several MB.\n',
  };
  let total = 0;
  for (const [name, text] of Object.entries(top)) {
    await writeFile(path.join(dir, name), text);
    total += Buffer.byteLength(text);
  }

  for (const sub of new Set(plan.map((file) => path.posix.dirname(file.path)))) {
    await mkdir(path.join(dir, sub), { recursive: true });
  }
  const scratch = Buffer.allocUnsafe(CHUNK_BYTES);
  let textBytes = 0;
  let binaryBytes = 0;
  for (const file of plan) {
    await writeDataFile(path.join(dir, file.path), file, scratch);
    if (file.kind === 'text') textBytes += file.size;
    else binaryBytes += file.size;
  }
  return {
    files: plan.length + Object.keys(top).length,
    bytes: total + textBytes + binaryBytes,
    textBytes,
    binaryBytes,
  };
}
