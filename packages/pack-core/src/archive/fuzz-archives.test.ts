/**
 * Fuzzing every archive kind pack-core reads from untrusted bytes: the pack zip (opened from a
 * file and from a stored source, every entry read, verified, extracted, linted), a chart .tgz,
 * and the tar inside it. Truncated and byte-flipped copies (seeded: a failure replays) must each
 * end in success or a PackError: never another error, a hang, an 'error' event nobody listens to
 * (which would take the registry down), or a stream left open.
 */
import { existsSync, readdirSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readChartMetadata, readChartMetadataFromBuffer } from '../chart-archive.js';
import { isPackError } from '../errors.js';
import { lintPackFiles } from '../lint/lint-pack.js';
import { listPackFiles } from '../pack-dir.js';
import { countingSource } from '../test-support/counting-source.js';
import { chartYaml, craftTar } from '../test-support/craft-tar.js';
import {
  flipBytes,
  guardProcess,
  runCase,
  seededRandom,
  truncations,
  type ProcessGuard,
} from '../test-support/fuzz.js';
import { tempDir, writeValidPack } from '../test-support/valid-pack.js';
import { archivePackFiles, extractPackArchive, openPackArchive, openStoredPackArchive } from './read-archive.js';
import { writePackArchive } from './write-archive.js';

/** Generous: a case takes a few milliseconds, but the machine may be busy. */
const CASE_TIMEOUT_MS = 5000;
const SEED = 0x5eed;

let guard: ProcessGuard;
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(() => {
  guard = guardProcess();
});
afterAll(() => {
  guard.restore();
});
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

/** Runs `run` on every case; returns the cases that did not end in success or a PackError. */
async function fuzz(cases: Array<[string, Buffer]>, run: (bytes: Buffer) => Promise<unknown>): Promise<string[]> {
  const failures: string[] = [];
  for (const [label, bytes] of cases) {
    const problem = await runCase(guard, () => run(bytes), CASE_TIMEOUT_MS);
    if (problem) failures.push(`${label}: ${problem}`);
  }
  return failures;
}

function damaged(bytes: Buffer, flips: number, step: number, tail: number): Array<[string, Buffer]> {
  const random = seededRandom(SEED);
  const cases: Array<[string, Buffer]> = truncations(bytes.length, step, tail).map((length) => [
    `cut at ${length}`,
    bytes.subarray(0, length),
  ]);
  for (let i = 0; i < flips; i++) cases.push([`flip #${i}`, flipBytes(bytes, random)]);
  return cases;
}

/** Open file descriptors of this process, where the platform shows them. */
function openFds(): number | null {
  return existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : null;
}

/** Awaits `step`, letting a PackError through: the next steps still run. */
async function tolerate(step: Promise<unknown>): Promise<void> {
  try {
    await step;
  } catch (err) {
    if (!isPackError(err)) throw err;
  }
}

describe('fuzzing the pack zip', () => {
  let zip: Buffer;
  beforeEach(async () => {
    await writeValidPack(path.join(dir, 'pack'));
    const { files } = await listPackFiles(path.join(dir, 'pack'));
    zip = await readFile((await writePackArchive(files, path.join(dir, 'valid.zip'))).path);
  });

  it.each([
    ['read whole', {}],
    ['read in place', { inMemoryBytes: 0 }],
  ])('every damaged copy, opened from a file (%s): read, verified, linted, extracted', async (_how, reading) => {
    const file = path.join(dir, 'case.zip');
    const fdsBefore = openFds();
    let extracted = 0;
    const failures = await fuzz(damaged(zip, 150, 13, 60), async (bytes) => {
      await writeFile(file, bytes);
      const archive = await openPackArchive(file, {}, reading);
      for (const entry of archive.entries) await tolerate(archive.read(entry.path));
      await tolerate(lintPackFiles(archivePackFiles(archive)));
      await tolerate(archive.verify());
      const out = path.join(dir, `out-${extracted++}`);
      await extractPackArchive(file, out).finally(() => rm(out, { recursive: true, force: true }));
    });
    expect(failures).toEqual([]);
    const fdsAfter = openFds();
    if (fdsBefore !== null) expect(fdsAfter).toBe(fdsBefore);
  });

  it('every damaged copy, opened from a stored source: every stream it opens is closed', async () => {
    const leaks: string[] = [];
    const failures = await fuzz(damaged(zip, 150, 17, 0), async (bytes) => {
      const counting = countingSource(bytes);
      try {
        const archive = await openStoredPackArchive(counting.source);
        for (const entry of archive.entries) await tolerate(archive.read(entry.path));
        // Abandoned half-way, like an aborted download.
        for (const entry of archive.entries)
          archive
            .stream(entry.path)
            .once('data', function (this: Readable) {
              this.destroy();
            })
            .on('error', () => undefined);
        await archive.verify();
      } finally {
        await sleep(5);
        if (counting.open() > 0) leaks.push(`${counting.open()} of ${counting.opened()} streams left open`);
      }
    });
    expect(failures).toEqual([]);
    expect(leaks).toEqual([]);
  });
});

describe('fuzzing chart archives', () => {
  // Chart.yaml last, so that a reader goes through every entry to find it.
  const tar = craftTar([
    { name: 'demo/', type: '5' },
    { name: 'demo/values.yaml', data: 'replicaCount: 1\nimage: {repository: demo, tag: "1.0"}\n'.repeat(40) },
    { name: 'demo/templates/deployment.yaml', data: 'kind: Deployment\nreplicas: {{ .Values.replicaCount }}\n' },
    { name: 'demo/charts/sub/Chart.yaml', data: chartYaml('sub', '0.1.0') },
    { name: './demo-link', data: '', type: '2' },
    { name: 'demo/Chart.yaml', data: `${chartYaml('demo', '1.4.2')}appVersion: "1.4.2"\n` },
  ]);
  const tgz = gzipSync(tar);

  it('the .tgz itself, read whole and as a stream of small chunks', async () => {
    const failures = await fuzz(damaged(tgz, 500, 2, 0), async (bytes) => {
      await tolerate(readChartMetadataFromBuffer(bytes));
      const chunks = Array.from({ length: Math.ceil(bytes.length / 97) }, (_, i) =>
        bytes.subarray(i * 97, i * 97 + 97),
      );
      await readChartMetadata(Readable.from(chunks));
    });
    expect(failures).toEqual([]);
  });

  it('the tar inside it, gzipped again after the damage', async () => {
    expect(gunzipSync(tgz).equals(tar)).toBe(true);
    const failures = await fuzz(damaged(tar, 500, 5, 0), (bytes) => readChartMetadataFromBuffer(gzipSync(bytes)));
    expect(failures).toEqual([]);
  });
});
