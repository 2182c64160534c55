/**
 * `packctl pull NAME[@VERSION|@RANGE|@TAG]`: resolves the selector on the server, downloads the
 * archive, and keeps it only if its sha256 is the digest of the version record (a server that sends
 * other bytes is refused); `--extract` unpacks it with pack-core's checks, which refuse paths
 * leaving the directory, symlinks, zip bombs and other special entries even from a hostile server.
 *
 * The server's record is checked before a path is built from it (./../registry/answers.ts): the
 * pack asked for, a version of the pack-core grammar that satisfies the selector, a well-formed
 * digest and size. The download stops at the first byte past that size.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { lstat, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { makeDir } from '@packyard/pack-core/make-dir';
import { Readable, Transform } from 'node:stream';
import {
  digestingStream,
  extractPackArchive,
  isPackError,
  isPackName,
  isVersionSelector,
  pipelineUntilClosed,
} from '@packyard/pack-core';
import { CliError, EXIT, type ExitCode } from '../errors.js';
import type { CliIo } from '../io.js';
import { fileInside, placeDirectory, placeFiles, stage } from '../files.js';
import { safe } from '../output/sanitise.js';
import { NO_PROGRESS, transferProgress } from '../output/progress.js';
import { formatSize, printJson, type OutputFormat } from '../output/terminal.js';
import { checkArchiveRecord, checkVersion, type ArchiveRecord, type Wanted } from '../registry/answers.js';
import { rateFloor, SLOWEST, transferDeadlineMs } from '../registry/bounded-body.js';
import { RegistryClient } from '../registry/client.js';

export interface PullOptions {
  registry: string;
  output: string;
  extract?: boolean;
  server?: string;
  config?: string;
  format: OutputFormat;
}

/** NAME or NAME@SELECTOR, each checked against pack-core's grammar (a usage error otherwise). */
export function parsePackRef(ref: string): { name: string; selector: string | null } {
  const at = ref.indexOf('@');
  if (at === 0 || at === ref.length - 1) {
    throw new CliError(`${ref} is not NAME or NAME@VERSION`, { exitCode: EXIT.usage, hint: 'e.g. cni-calico@3.27.x' });
  }
  const name = at < 0 ? ref : ref.slice(0, at);
  const selector = at < 0 ? null : ref.slice(at + 1);
  if (!isPackName(name)) {
    throw new CliError(`"${name}" is not a pack name`, {
      exitCode: EXIT.usage,
      hint: 'pack names are lowercase letters, digits and inner hyphens, e.g. cni-calico',
    });
  }
  if (selector !== null && !isVersionSelector(selector)) {
    throw new CliError(`"${selector}" is not a version, a line tag or a range`, {
      exitCode: EXIT.usage,
      hint: 'e.g. cni-calico@3.27.2, cni-calico@3.27.x or cni-calico@">=3.26 <3.28"',
    });
  }
  return { name, selector };
}

/** Passes at most `max` bytes; the first byte past them fails the stream with `tooMany()`. */
function atMost(max: number, tooMany: () => Error): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > max) callback(tooMany());
      else callback(null, chunk);
    },
  });
}

/**
 * Downloads `record`'s archive into `dir` as `<name>-<version>.zip`, keeping it only if its bytes
 * are the record's size and hash to its digest; returns the file. Nothing past the record's size
 * is read or written: the request is aborted and the partial file deleted. The partial file is
 * this run's own (a random name, created exclusively): a concurrent pull into `dir` has its own,
 * and neither removes the other's.
 */
export async function downloadVerified(
  client: RegistryClient,
  registry: string,
  record: ArchiveRecord,
  dir: string,
  /** Where a progress bar may go: a large archive to a person at a terminal. */
  shown?: { io: CliIo; quiet?: boolean; format: 'text' | 'json' },
): Promise<string> {
  const label = `${record.name}@${record.version}`;
  const target = fileInside(dir, `${record.name}-${record.version}.zip`);
  const partial = path.join(dir, `.${path.basename(target)}.${randomBytes(6).toString('hex')}.partial`);
  const tooMany = () =>
    new CliError(
      `${client.server} sent more than the ${record.size} bytes (${formatSize(record.size)}) the record of ${label} says: stopped and refused`,
      { hint: 'pull again; if it persists, the registry or something between you and it is damaging archives' },
    );
  await makeDir(dir);
  const partialMade = { yes: false };
  const aborting = new AbortController();
  const res = await client.send('GET', client.api.archivePath(registry, record.name, record.version), {
    otherOrigins: true,
    signal: aborting.signal,
  });
  try {
    await client.check(res, `downloading ${label}`);
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (res.headers.get('content-encoding') === null && declared > record.size) throw tooMany();
    if (!res.body) throw new CliError(`${client.server} sent no body for ${label}`);
    const hashing = digestingStream();
    const progress = shown
      ? transferProgress(shown.io, `pulling ${record.name}-${record.version}.zip`, record.size, shown)
      : NO_PROGRESS;
    const counting = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        progress.add(chunk.length);
        rate.add(chunk.length);
        callback(null, chunk);
      },
    });
    const rate = rateFloor(
      `downloading ${label}`,
      (error) => {
        counting.destroy(error);
      },
      { ...SLOWEST, deadlineMs: transferDeadlineMs(record.size) },
    );
    try {
      // Removed below on failure: only once its file is closed (its open may still be queued).
      await pipelineUntilClosed([
        Readable.fromWeb(res.body),
        atMost(record.size, tooMany),
        counting,
        hashing.stream,
        createWriteStream(partial, { flags: 'wx' }).once('open', () => {
          partialMade.yes = true;
        }),
      ]);
    } finally {
      progress.stop();
      rate.stop();
    }
    const { digest, size: received } = hashing.result();
    if (digest !== record.digest || received !== record.size) {
      throw new CliError(
        `${client.server} sent ${received} bytes hashing to ${digest} for ${label}, whose record says ${record.digest} (${record.size} bytes): refused`,
        { hint: 'pull again; if it persists, the registry or something between you and it is damaging archives' },
      );
    }
    await rename(partial, target);
  } catch (err) {
    aborting.abort();
    throw err;
  } finally {
    if (partialMade.yes) await rm(partial, { force: true });
  }
  return target;
}

/**
 * Where `--extract` may unpack: nothing there, or an empty real directory. Checked before the
 * download, so that a pull that cannot extract changes nothing (an earlier pull's archive stays).
 */
async function checkExtractionTarget(dir: string): Promise<'missing' | 'empty'> {
  const existing = await lstat(dir).catch(() => null);
  if (existing === null) return 'missing';
  if (!existing.isDirectory()) {
    // A link there would carry the extraction wherever it points.
    throw new CliError(`${dir} exists and is not a directory: nothing was extracted`, {
      hint: 'remove it, or pull into another directory with -o',
    });
  }
  if ((await readdir(dir)).length > 0) {
    throw new CliError(`${dir} is not empty: nothing was pulled or extracted`, {
      hint: 'remove it (an earlier pull --extract?), or pull into another directory with -o',
    });
  }
  return 'empty';
}

/**
 * Downloads and extracts `record` as `-o`'s `<name>-<version>` (and its archive beside it), with
 * pack-core's checks (unsafe names, links, zip bombs). Both are made in a staging directory of this
 * run's own inside `out` ({@link stage}), then renamed into place: the directory first (a rename
 * that fails on anything there but an empty directory, and replaces a symbolic link planted there
 * meanwhile rather than following it), then the archive. When anything fails (a refused archive, a
 * full disk, a directory filled by a concurrent pull) only the staging directory goes: nothing
 * this run did not create is removed, and an earlier pull's archive stays.
 */
async function pullAndExtract(
  client: RegistryClient,
  record: ArchiveRecord,
  extracted: string,
  options: PullOptions,
  io: CliIo,
): Promise<string> {
  const base = `${record.name}-${record.version}`;
  const archive = fileInside(options.output, `${base}.zip`);
  await stage(
    options.output,
    `${base}.pull`,
    async (staging) => {
      const file = await downloadVerified(client, options.registry, record, staging, { io, ...options });
      try {
        await extractPackArchive(file, fileInside(staging, base));
      } catch (err) {
        if (!isPackError(err)) throw err;
        throw new CliError(`${base}.zip was refused on extraction and removed: ${err.message} (${err.code})`, {
          hint: err.hint ?? 'the pack is not a safe archive: ask its publisher to rebuild it with packctl build',
        });
      }
    },
    async (staging) => {
      try {
        await placeDirectory(fileInside(staging, base), extracted);
      } catch (err) {
        if (!(err instanceof CliError)) throw err;
        // Filled (or replaced) since it was checked: by someone else, whose files stay.
        throw new CliError(`${extracted} is not empty: nothing was pulled or extracted`, {
          hint: 'remove it (a concurrent pull --extract?), or pull into another directory with -o',
        });
      }
      await placeFiles(staging, options.output);
    },
  );
  return archive;
}

export async function pullCommand(ref: string, options: PullOptions, io: CliIo): Promise<ExitCode> {
  const { name, selector } = parsePackRef(ref);
  const client = await RegistryClient.open({ ...options, env: io.env });
  let wanted: Wanted;
  if (selector === null) {
    const what = `looking up ${name} in ${options.registry}`;
    const pack = await client.api.pack(options.registry, name, what);
    if (pack.latest === null) {
      throw new CliError(`${name} has no live version in ${options.registry}`, { exitCode: EXIT.notFound });
    }
    wanted = { exactly: checkVersion(pack.latest, what) };
  } else {
    wanted = { selector };
  }
  const version = 'exactly' in wanted ? wanted.exactly : wanted.selector;
  const what = `looking up ${name}@${version} in ${options.registry}`;
  const answer = await client.api.version(options.registry, name, version, what);
  const record = checkArchiveRecord(answer, name, wanted, what);
  const extracted = options.extract ? fileInside(options.output, `${record.name}-${record.version}`) : null;
  let target: string;
  if (extracted === null) {
    target = await downloadVerified(client, options.registry, record, options.output, { io, ...options });
  } else {
    // Checked first, so that a pull that cannot extract downloads nothing; placing decides.
    await checkExtractionTarget(extracted);
    target = await pullAndExtract(client, record, extracted, options, io);
  }
  const result = { name: record.name, version: record.version, digest: record.digest, file: target, extracted };
  if (options.format === 'json') printJson(io.stdout, result);
  else {
    if (answer.deprecated !== null) {
      io.stderr.write(safe`warning: ${record.name}@${record.version} is deprecated: ${answer.deprecated.message}\n`);
    }
    io.stdout.write(safe`pulled ${record.name}@${record.version} ${record.digest} -> ${extracted ?? target}\n`);
  }
  return EXIT.ok;
}
