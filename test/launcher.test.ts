/**
 * The `pack-registry` command (packages/registry-server/bin/pack-registry): the server module run
 * by node with the process settings it ships with (a 2 MiB young generation, two malloc arenas, a
 * fixed mmap threshold), each left as the operator set it, the arguments passed on untouched, found
 * through npm's symlink as through its own path.
 */
import { spawnSync } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../packages/registry-server/src/test-support/test-registry.js';
import { intoClosedPipe } from './helpers.js';

const REPO = path.resolve(import.meta.dirname, '..');
const LAUNCHER = path.join(REPO, 'packages/registry-server/bin/pack-registry');

let work: Awaited<ReturnType<typeof tempDir>>;
let entry: string;
beforeAll(async () => {
  work = await tempDir('packyard-launcher-');
  // Stands in for the server module: says how it was started.
  entry = path.join(work.dir, 'entry.mjs');
  writeFileSync(
    entry,
    'console.log(JSON.stringify({ execArgv: process.execArgv, arenas: process.env.MALLOC_ARENA_MAX ?? null, mmapThreshold: process.env.MALLOC_MMAP_THRESHOLD_ ?? null, args: process.argv.slice(2) }));\n',
  );
});
afterAll(() => work.cleanup());

interface Started {
  execArgv: string[];
  arenas: string | null;
  mmapThreshold: string | null;
  args: string[];
}

/** Runs `command` with this test's node first on the PATH, without the caller's own node settings. */
function run(command: string, args: string[], env: Record<string, string> = {}) {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !['MALLOC_ARENA_MAX', 'MALLOC_MMAP_THRESHOLD_', 'GLIBC_TUNABLES', 'NODE_OPTIONS'].includes(key),
    ),
  );
  return spawnSync(command, args, {
    env: { ...base, PATH: `${path.dirname(process.execPath)}:${process.env['PATH'] ?? ''}`, ...env },
    encoding: 'utf8',
  });
}

function launch(command: string, args: string[], env: Record<string, string>): Started {
  const started = run(command, args, env);
  expect(started.stderr).toBe('');
  expect(started.status).toBe(0);
  return JSON.parse(started.stdout) as Started;
}

describe('pack-registry launcher', () => {
  it('runs the server with a 2 MiB young generation, two malloc arenas and a 4 MiB mmap threshold, arguments as given', () => {
    const started = launch(LAUNCHER, ['--config', 'a file with spaces.yaml', '--port', '0'], {
      PACKYARD_SERVER_ENTRY: entry,
    });
    expect(started).toEqual({
      execArgv: ['--max-semi-space-size=2'],
      arenas: '2',
      mmapThreshold: '4194304',
      args: ['--config', 'a file with spaces.yaml', '--port', '0'],
    });
  });

  it("keeps the operator's own MALLOC_ARENA_MAX, mmap threshold and young generation (NODE_OPTIONS)", () => {
    const started = launch(LAUNCHER, [], {
      PACKYARD_SERVER_ENTRY: entry,
      MALLOC_ARENA_MAX: '4',
      MALLOC_MMAP_THRESHOLD_: '131072',
      NODE_OPTIONS: '--max-semi-space-size=16',
    });
    expect(started.execArgv).toEqual([]);
    expect(started.arenas).toBe('4');
    expect(started.mmapThreshold).toBe('131072');
    // Set through glibc's tunables instead: the launcher adds no variable that would compete, and
    // sets the one the tunables leave out.
    const tuned = launch(LAUNCHER, [], {
      PACKYARD_SERVER_ENTRY: entry,
      GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=262144',
    });
    expect(tuned.mmapThreshold).toBeNull();
    expect(tuned.arenas).toBe('2');
    const arenas = launch(LAUNCHER, [], {
      PACKYARD_SERVER_ENTRY: entry,
      GLIBC_TUNABLES: 'glibc.malloc.arena_max=1',
    });
    expect(arenas.arenas).toBeNull();
    expect(arenas.mmapThreshold).toBe('4194304');
    const both = launch(LAUNCHER, [], {
      PACKYARD_SERVER_ENTRY: entry,
      GLIBC_TUNABLES: 'glibc.malloc.arena_max=4:glibc.malloc.mmap_threshold=131072',
    });
    expect([both.arenas, both.mmapThreshold]).toEqual([null, null]);
  });

  it('passes node arguments of the operator’s own (PACKYARD_NODE_ARGS), their young generation too', () => {
    const started = launch(LAUNCHER, ['--port', '0'], {
      PACKYARD_SERVER_ENTRY: entry,
      // --cpu-prof is one NODE_OPTIONS does not take; the profile goes to the working directory.
      PACKYARD_NODE_ARGS: '--no-warnings --max-semi-space-size=8 --stack-size=2000',
    });
    expect(started.execArgv).toEqual(['--no-warnings', '--max-semi-space-size=8', '--stack-size=2000']);
    expect(started.args).toEqual(['--port', '0']);
    const profiled = launch(LAUNCHER, [], {
      PACKYARD_SERVER_ENTRY: entry,
      PACKYARD_NODE_ARGS: `--cpu-prof --cpu-prof-dir=${work.dir}/prof`,
    });
    expect(profiled.execArgv).toEqual(['--max-semi-space-size=2', '--cpu-prof', `--cpu-prof-dir=${work.dir}/prof`]);
  });

  it('finds the server beside itself when run through a symlink (npm links its bin so)', () => {
    const link = path.join(work.dir, 'pack-registry');
    symlinkSync(LAUNCHER, link);
    const version = run(link, ['--version']);
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('prints its help and version into a closed pipe without a stack trace', async () => {
    for (const args of [['--help'], ['--version'], ['gc', '--help']]) {
      const result = await intoClosedPipe(LAUNCHER, args);
      expect({ args, status: result.status }).toEqual({ args, status: 0 });
      expect(result.stderr).not.toMatch(/EPIPE|node:events|\n {4}at /);
    }
  });

  it('is the server package’s pack-registry command', async () => {
    const { default: pkg } = (await import('../packages/registry-server/package.json', { with: { type: 'json' } })) as {
      default: { bin: Record<string, string>; files: string[] };
    };
    expect(pkg.bin['pack-registry']).toBe('./bin/pack-registry');
    expect(pkg.files).toContain('bin');
  });
});
