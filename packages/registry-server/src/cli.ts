/**
 * The `pack-registry` command: `serve` (the default) runs the registry; `gc` removes unreferenced
 * archives; `rotate-signing-key` replaces the key access tokens are signed with. Configuration comes from --config / PACKYARD_CONFIG, PACKYARD_* variables and flags.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { dropOutputWhenClosed, isPackError } from '@packyard/pack-core';
import { loadConfig, type ConfigFlags } from './config/config.js';
import { registryError } from './errors.js';
import { collectGarbage } from './gc.js';
import { applyV8Policy } from './v8-policy.js';
import { rotateSigningKey } from './identity/signing-keys.js';
import { EXIT_CODE, installLastResort } from './last-resort.js';
import { createLogger } from './logger.js';
import { startRegistry } from './server.js';
import { createStore } from './storage/create-store.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** The options of every command that reads the configuration: where it is, and the data directory. */
function configOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', 'configuration file (YAML or JSON); also PACKYARD_CONFIG')
    .option('-d, --data-dir <dir>', 'data directory (PACKYARD_DATA_DIR, default ./data)');
}

/** configOptions, and where to listen: for `serve` only (gc and key rotation listen nowhere). */
function serveOptions(command: Command): Command {
  return configOptions(command)
    .option('-p, --port <port>', 'port to listen on (PACKYARD_PORT, default 5080)')
    .option('-H, --host <host>', 'address to listen on (PACKYARD_HOST, default 127.0.0.1)');
}

async function serve(flags: ConfigFlags): Promise<void> {
  applyV8Policy();
  const config = await loadConfig(flags);
  const registry = await startRegistry(config);
  const { logger } = registry.services;
  // One request's unhandled error must not stop the others (last-resort.ts); repeated ones do.
  installLastResort({
    logger,
    onRepeatedFailures: () => {
      registry.close().then(
        () => process.exit(EXIT_CODE),
        () => process.exit(EXIT_CODE),
      );
    },
  });
  let signals = 0;
  const stop = (signal: string) => {
    signals++;
    if (signals > 1) {
      registry.services.logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    registry.close().then(
      () => process.exit(0),
      (err: unknown) => {
        registry.services.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => {
    stop('SIGTERM');
  });
  process.on('SIGINT', () => {
    stop('SIGINT');
  });
}

async function gc(flags: ConfigFlags & { dryRun?: boolean; graceMinutes: string }): Promise<void> {
  const config = await loadConfig(flags);
  const logger = createLogger(config.logging.level === 'info' ? 'warn' : config.logging.level);
  const store = await createStore(config.storage, { logger });
  // The first SIGINT or SIGTERM stops the run between two blobs, letting go of the store; a second one ends it at once.
  const stopping = new AbortController();
  const stop = () => {
    stopping.abort();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const report = await collectGarbage(store, {
      dryRun: flags.dryRun === true,
      graceMs: Number(flags.graceMinutes) * 60_000,
      logger,
      signal: stopping.signal,
    });
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    if (report.stopped) {
      throw registryError('GC_STOPPED', 'gc stopped before the end: what it removed is gone, the rest is left');
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await store.close();
  }
}

/** Puts a new token signing key in storage; the key it replaces verifies until its tokens expire. */
async function rotateKey(flags: ConfigFlags): Promise<void> {
  const config = await loadConfig(flags);
  const logger = createLogger(config.logging.level === 'info' ? 'warn' : config.logging.level);
  const store = await createStore(config.storage, { logger });
  try {
    const [current, ...previous] = await rotateSigningKey(store);
    process.stdout.write(
      `${JSON.stringify({ signing: current?.kid, verifying: previous.map((k) => k.kid) }, null, 2)}\n`,
    );
  } finally {
    await store.close();
  }
}

/** Runs the command line; resolves with the exit code for failures, or never for `serve`. */
export async function run(argv: string[]): Promise<number> {
  // `pack-registry --help | head -3`: output to a closed pipe is dropped, the exit code kept.
  dropOutputWhenClosed(process.stdout);
  dropOutputWhenClosed(process.stderr);
  const program = new Command('pack-registry')
    .description('The Packyard pack registry server.')
    .version(version, '-V, --version')
    .exitOverride()
    .showHelpAfterError('(run pack-registry --help for usage)');

  serveOptions(
    program
      .command('serve', { isDefault: true })
      .description('run the registry (the default command)')
      .addHelpText(
        'after',
        `
Examples:
  pack-registry                                   # ./data, filesystem store, http://127.0.0.1:5080
  PACKYARD_HOST=0.0.0.0 pack-registry --data-dir /var/lib/packyard
  PACKYARD_STORAGE=s3 PACKYARD_S3_ENDPOINT=http://minio:9000 PACKYARD_S3_BUCKET=packs pack-registry`,
      ),
  ).action(async (options: ConfigFlags) => {
    await serve(options);
  });

  configOptions(
    program
      .command('gc')
      .description('remove archives no live version points at')
      .option('--dry-run', 'report what would be removed, remove nothing')
      .option('--grace-minutes <minutes>', 'keep unreferenced archives younger than this', '60'),
  ).action(async (options: ConfigFlags & { dryRun?: boolean; graceMinutes: string }) => {
    if (!/^\d+$/.test(options.graceMinutes)) throw new CommanderError(2, 'usage', '--grace-minutes must be a number');
    await gc(options);
  });

  configOptions(
    program
      .command('rotate-signing-key')
      .description('sign new access tokens with a new key; tokens of the one it replaces work until they expire'),
  ).action(async (options: ConfigFlags) => {
    await rotateKey(options);
  });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode !== 0 && err.code === 'usage') process.stderr.write(`error: ${err.message}\n`);
      return err.exitCode === 0 ? 0 : 2;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`error: ${message}\n`);
    if (isPackError(err) && err.hint) process.stderr.write(`hint: ${err.hint}\n`);
    return 1;
  }
}
