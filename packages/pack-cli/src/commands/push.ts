/**
 * `packctl push DIR|ZIP`: a directory is built first (lint errors stop it); the archive is streamed
 * with its sha256 announced (Content-Digest), so the registry checks the bytes it received and
 * stores them as they arrive.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { buildPack, fileDigest } from '@packyard/pack-core';
import { Published } from '@packyard/registry-api';
import { CliError, EXIT, type ExitCode } from '../errors.js';
import type { CliIo } from '../io.js';
import { formatLintReport } from '../output/lint-report.js';
import { safe } from '../output/sanitise.js';
import { transferProgress } from '../output/progress.js';
import { colorsFor, formatSize, printJson, type OutputFormat } from '../output/terminal.js';
import { rateFloor, SLOWEST, transferDeadlineMs } from '../registry/bounded-body.js';
import { DEADLINES, RegistryClient } from '../registry/client.js';

export interface PushOptions {
  registry: string;
  force?: boolean;
  message?: string;
  quiet?: boolean;
  server?: string;
  config?: string;
  format: OutputFormat;
}

const OUTCOMES = new Map([
  ['created', 'pushed'],
  ['unchanged', 'already there with the same bytes:'],
  ['overwritten', 'overwritten'],
  ['restored', 'restored'],
]);

/** The server's warnings about a published pack, as lines (malformed entries shown as JSON). */
function warningLines(warnings: unknown): string[] {
  if (!Array.isArray(warnings)) return [];
  return warnings.map((w: unknown) => {
    const { file, message } = (typeof w === 'object' && w !== null ? w : {}) as { file?: unknown; message?: unknown };
    return typeof file === 'string' && typeof message === 'string'
      ? safe`warning: ${file}: ${message}\n`
      : safe`warning: ${JSON.stringify(w)}\n`;
  });
}

interface PushedArchive {
  file: string;
  size: number;
  digest: string;
}

/** A zip's first bytes: a local file header (every archive packctl build writes starts so). */
const ZIP_SIGNATURE = Buffer.from('PK\x03\x04', 'latin1');

/** Refuses, before any byte is sent, a file that is not a zip (a tarball, a chart, a typo). */
async function checkZip(file: string, regular: boolean): Promise<void> {
  const hint = 'pass a pack directory, or the zip `packctl build` wrote';
  if (!regular) throw new CliError(`${file} is neither a directory nor a regular file`, { hint });
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(ZIP_SIGNATURE.length);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    if (bytesRead < head.length || !head.equals(ZIP_SIGNATURE)) {
      throw new CliError(`${file} is not a zip archive`, { hint });
    }
  } finally {
    await handle.close();
  }
}

/**
 * The archive to push, with its size and sha256: the zip given, hashed here (it is the user's
 * file, so its digest is taken as it is now), or one built from the directory given into
 * `scratch`, whose digest build computed as it wrote the bytes (nothing else writes there).
 */
async function archiveFor(target: string, scratch: () => Promise<string>, io: CliIo): Promise<PushedArchive> {
  const info = await stat(target).catch(() => null);
  if (!info) throw new CliError(`${target}: no such file or directory`, { hint: 'pass a pack directory or a zip' });
  if (!info.isDirectory()) {
    await checkZip(target, info.isFile());
    return { file: target, size: info.size, digest: await fileDigest(target) };
  }
  const { lint, archive } = await buildPack(target, { outDir: await scratch() });
  if (!archive) {
    io.stderr.write(formatLintReport(lint, target, colorsFor(io.stderr, io.env)));
    throw new CliError(`${target} has lint errors: nothing was pushed`, { hint: `packctl lint ${target}` });
  }
  return { file: archive.path, size: archive.size, digest: archive.digest };
}

export async function pushCommand(target: string, options: PushOptions, io: CliIo): Promise<ExitCode> {
  if (options.force && !options.message) {
    throw new CliError('--force needs -m MESSAGE saying why the published bytes change', { exitCode: EXIT.usage });
  }
  const client = await RegistryClient.open({ ...options, env: io.env });
  const scratch: string[] = [];
  try {
    const { file, size, digest } = await archiveFor(
      target,
      async () => {
        const dir = await mkdtemp(path.join(tmpdir(), 'packctl-push-'));
        scratch.push(dir);
        return dir;
      },
      io,
    );
    const hex = digest.slice('sha256:'.length);
    const progress = transferProgress(io, `pushing ${path.basename(file)}`, size, options);
    // The upload keeps to the rate floor downloads keep to; the whole exchange, answer included,
    // to the transfer's deadline (client.send).
    const aborting = new AbortController();
    const state: { slow: CliError | null } = { slow: null };
    const rate = rateFloor(
      `pushing ${path.basename(file)} to ${client.server}`,
      (error) => {
        state.slow = error;
        aborting.abort();
      },
      SLOWEST,
    );
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        progress.add(chunk.length);
        rate.add(chunk.length);
        callback(null, chunk);
      },
      flush(callback) {
        // All sent: what is left is the server's answer, bounded by the deadline.
        rate.stop();
        callback();
      },
    });
    if (!options.quiet && options.format === 'text') {
      io.stderr.write(safe`pushing ${path.basename(file)} (${formatSize(size)}) to ${client.server} ...\n`);
    }
    const url = client.api.publishPath(options.registry, {
      ...(options.force ? { force: true } : {}),
      ...(options.message ? { message: options.message } : {}),
    });
    let res: Awaited<ReturnType<RegistryClient['send']>>;
    try {
      res = await client.send('POST', url, {
        body: createReadStream(file).pipe(counter),
        headers: {
          'Content-Type': 'application/zip',
          'Content-Length': String(size),
          'Content-Digest': `sha-256=:${Buffer.from(hex, 'hex').toString('base64')}:`,
        },
        signal: aborting.signal,
        deadlineMs: transferDeadlineMs(size) + DEADLINES.answerMs,
      });
    } catch (err) {
      throw state.slow ?? err;
    } finally {
      progress.stop();
      rate.stop();
    }
    const what = `pushing ${path.basename(file)} to ${options.registry} at ${client.server}`;
    const published: Record<string, unknown> = client.api.check(Published, await client.answer(res, what), what);
    if (options.format === 'json')
      printJson(io.stdout, { server: client.server, registry: options.registry, ...published });
    else if (!options.quiet) {
      const field = (key: string) => (typeof published[key] === 'string' ? published[key] : '?');
      const outcome = OUTCOMES.get(field('outcome')) ?? field('outcome');
      for (const line of warningLines(published['warnings'])) io.stderr.write(line);
      io.stdout.write(safe`${outcome} ${field('name')}@${field('version')} ${field('digest')}\n`);
    }
    return EXIT.ok;
  } finally {
    for (const dir of scratch) await rm(dir, { recursive: true, force: true });
  }
}
