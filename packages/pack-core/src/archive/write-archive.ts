/**
 * Writing pack archives, reproducibly: the same files give the same bytes on every run and
 * machine. Entries are sorted by path, carry one fixed timestamp (SOURCE_DATE_EPOCH or
 * 1980-01-01, stored as UTC), normalised permissions (0644, or 0755 when executable), no
 * directory entries and no extra fields. Archives are streamed file by file, so memory stays flat
 * whatever the pack's size, and written to a temporary file renamed into place at the end, so a
 * failed build never leaves a partial zip behind.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { constants, createWriteStream } from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import type { ZipEntryData } from 'archiver';
import { isPackError, packError, type PackCoreErrorCode, type PackError } from '../errors.js';
import { loadArchiver } from '../lazy-deps.js';
import type { PackFile } from '../pack-dir.js';
import { pipelineUntilClosed } from '../streams.js';
import { digestingStream } from './digest.js';
import type { ArchiveLimits } from './limits.js';
import { openPackArchive, shownName, unsafeEntryName } from './read-archive.js';

/** The earliest time a zip (MS-DOS) timestamp can hold. */
export const ZIP_EPOCH = new Date(Date.UTC(1980, 0, 1, 0, 0, 0));
const ZIP_LAST = new Date(Date.UTC(2107, 11, 31, 23, 59, 58));

/** Already-compressed formats are stored as they are: deflating them again only costs time. */
const STORED_EXTENSIONS = new Set([
  '.tgz',
  '.gz',
  '.zip',
  '.png',
  '.jpg',
  '.jpeg',
  '.gif',
  '.webp',
  '.xz',
  '.bz2',
  '.zst',
  '.7z',
]);

/**
 * The timestamp for every entry: SOURCE_DATE_EPOCH (seconds, https://reproducible-builds.org/specs/source-date-epoch/)
 * when set and valid, else 1980-01-01; clamped to what a zip timestamp can hold.
 */
export function archiveTimestamp(sourceDateEpoch: string | undefined = process.env['SOURCE_DATE_EPOCH']): Date {
  const seconds = sourceDateEpoch !== undefined && /^\d+$/.test(sourceDateEpoch.trim()) ? Number(sourceDateEpoch) : NaN;
  if (!Number.isFinite(seconds)) return ZIP_EPOCH;
  const time = Math.min(Math.max(seconds * 1000, ZIP_EPOCH.getTime()), ZIP_LAST.getTime());
  return new Date(time);
}

export interface WrittenArchive {
  path: string;
  size: number;
  /** "sha256:<hex>" of the archive bytes. */
  digest: string;
}

/** Characters a terminal acts on, or that reorder text (C0, DEL, C1, bidi controls, line separators). */
const CONTROL = /[\p{Cc}\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;

/**
 * Why a file's pack path cannot be written as an archive entry of the same name, or null: every
 * name the reader refuses ({@link unsafeEntryName}), and names zip tools rewrite or show as
 * something else: archiver turns backslashes into folders and drops a leading "name:" (a drive
 * letter, to it), so `..\\values.yaml` would become a second `values.yaml`; control characters
 * would reach the terminal of whoever lists the archive.
 *
 * @example
 * unwritableEntryName('..\\values.yaml'); // 'contains a backslash'
 * unwritableEntryName('charts/x-1.0.0.tgz'); // null
 */
export function unwritableEntryName(name: string): string | null {
  const unsafe = unsafeEntryName(name);
  if (unsafe !== null) return unsafe;
  if (CONTROL.test(name)) return 'contains a control character';
  if (/^\w+:/.test(name)) return 'starts with a "name:" prefix, which zip tools drop as a drive';
  return null;
}

/** Limits no archive reaches: the written archive is reopened to check its names, not its sizes. */
const NAMES_ONLY: Required<ArchiveLimits> = {
  maxEntries: Number.MAX_SAFE_INTEGER,
  maxEntrySize: Number.MAX_SAFE_INTEGER,
  maxTotalSize: Number.MAX_SAFE_INTEGER,
  maxCompressionRatio: Number.MAX_SAFE_INTEGER,
  maxArchiveRatio: Number.MAX_SAFE_INTEGER,
};

/**
 * Opens a listed file for reading, and only the one listed: not through a link (O_NOFOLLOW), never
 * waiting on a FIFO (O_NONBLOCK), and refused unless the opened file is a regular file with the
 * device and inode the listing recorded. A folder on its path swapped for a link since the listing
 * (to make the build pack a file from elsewhere) opens another file: its inode tells.
 */
async function openListed(file: PackFile): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(file.source, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOOP') throw err;
    throw changedSince(file, 'a symbolic link now');
  }
  try {
    const opened = await handle.stat({ bigint: true });
    if (!opened.isFile()) throw changedSince(file, 'not a regular file now');
    if (opened.dev !== file.dev || opened.ino !== file.ino) throw changedSince(file, 'another file now');
    return handle;
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/**
 * The bytes of a listed file, exactly the size its listing recorded: read through the descriptor
 * {@link openListed} checked, never past that size (a file growing during the build cannot make
 * the archive endless), and the stream fails with {@link changedSince} when the file's size is not
 * the listed one at open or once read (it grew, or was cut short). The stream owns the descriptor:
 * it is closed when the stream ends or is destroyed.
 */
async function listedContent(file: PackFile): Promise<Readable> {
  const handle = await openListed(file);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close().catch(() => undefined);
  };
  let source: Readable;
  try {
    const opened = await handle.stat();
    if (opened.size !== file.size) throw changedSince(file, `${opened.size} bytes now, ${file.size} when listed`);
    source =
      file.size === 0 ? Readable.from([]) : handle.createReadStream({ start: 0, end: file.size - 1, autoClose: false });
  } catch (err) {
    await close();
    throw err;
  }
  let read = 0;
  const exact = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      read += chunk.length;
      callback(null, chunk);
    },
    flush(callback) {
      const check = async (): Promise<PackError | null> => {
        const now = await handle.stat();
        return read !== file.size || now.size !== file.size
          ? changedSince(file, `${now.size} bytes now, ${file.size} when listed`)
          : null;
      };
      check().then(
        (problem) => {
          callback(problem);
        },
        (err: unknown) => {
          callback(err instanceof Error ? err : new Error(String(err)));
        },
      );
    },
    destroy(err, callback) {
      source.destroy();
      void close().finally(() => {
        callback(err);
      });
    },
  });
  source.on('error', (err) => exact.destroy(err));
  source.pipe(exact);
  return exact;
}

function changedSince(file: PackFile, what: string): PackError {
  return packError(
    'PATH_NOT_IN_PACK',
    `${file.path} changed after the pack directory was listed (${what}): not packed`,
    {
      hint: 'the pack directory changed during the build; build again once nothing else is changing it',
    },
  );
}

/**
 * Checks that the archive at `file` holds exactly the entries `names`, in that order, and that
 * Packyard's reader takes it (names, duplicates, names that collide on a case-insensitive disk):
 * what was written is what was listed and linted, whatever a zip library did to a name.
 */
async function checkWrittenNames(file: string, names: readonly string[]): Promise<void> {
  let entries: string[];
  try {
    entries = (await openPackArchive(file, NAMES_ONLY)).entries.map((entry) => entry.path);
  } catch (err) {
    if (!isPackError(err)) throw err;
    throw packError(err.code as PackCoreErrorCode, `the archive written would be refused: ${err.message}`, {
      hint: 'rename the files it names (or list them in .packignore), then build again',
    });
  }
  const differs = names.findIndex((name, i) => entries[i] !== name);
  if (differs >= 0 || entries.length !== names.length) {
    const listed = names[differs] ?? '(none)';
    const written = entries[differs < 0 ? names.length : differs] ?? '(none)';
    throw packError(
      'ARCHIVE_UNSAFE_PATH',
      `the archive written holds "${shownName(written)}" where the pack has "${shownName(listed)}": not written`,
      { hint: 'rename the file (plain names: letters, digits, ".", "-", "_"), or list it in .packignore' },
    );
  }
}

/**
 * Writes the files into a zip at `outFile`, entries at the zip root. Every name must be one an
 * entry can carry unchanged ({@link unwritableEntryName}); every file is read from a descriptor
 * checked against its listing ({@link openListed}); the archive is reopened before it is put in
 * place, and must hold exactly the names listed.
 *
 * @example
 * const { files } = await listPackFiles('sample-packs/cni-calico');
 * const zip = await writePackArchive(files, 'dist/cni-calico-3.27.2.zip');
 * zip.digest; // 'sha256:…', the same on every run
 */
export async function writePackArchive(
  files: readonly PackFile[],
  outFile: string,
  options: { mtime?: Date } = {},
): Promise<WrittenArchive> {
  const date = options.mtime ?? archiveTimestamp();
  const sorted = [...files].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  for (const file of sorted) {
    const problem = unwritableEntryName(file.path);
    if (problem) {
      throw packError('ARCHIVE_UNSAFE_PATH', `"${shownName(file.path)}" ${problem}: it cannot be an entry name`, {
        hint: 'rename the file (plain names: letters, digits, ".", "-", "_"), or list it in .packignore',
      });
    }
  }
  const temporary = path.join(
    path.dirname(outFile),
    `.${path.basename(outFile)}.${randomBytes(6).toString('hex')}.partial`,
  );
  const measure = digestingStream();
  // Any failure ends the build: a file that cannot be read, or archiver's "warning" (how it
  // reports skipping an entry), since an archive silently lacking a file is worse than none.
  let fail: (err: Error) => void = () => undefined;
  const failed = new Promise<never>((_resolve, reject) => {
    fail = reject;
  });
  failed.catch(() => undefined);

  // Level 6 is zlib's (and Info-ZIP's) default: most of level 9's ratio at a fraction of its time.
  const { ZipArchive } = loadArchiver();
  const archive = new ZipArchive({ zlib: { level: 6 } });
  archive.on('warning', fail);
  const done = pipelineUntilClosed([archive, measure.stream, createWriteStream(temporary, { flags: 'wx' })]);
  /** The file being read: destroyed (its descriptor closed) when the build fails. */
  let reading: Readable | null = null;
  // One entry in flight at a time: the next file is opened only when archiver has written the
  // previous one. Appending every file up front would start all their streams at once (each
  // buffering a chunk or two: hundreds of MB for a large pack) and hold a descriptor per file.
  const written = new Promise<void>((resolve, reject) => {
    let index = 0;
    const appendNext = async (): Promise<void> => {
      const file = sorted[index++];
      if (file === undefined) {
        await archive.finalize();
        resolve();
        return;
      }
      // The stream owns the descriptor from here: it closes it when it ends or is destroyed.
      const source = await listedContent(file);
      reading = source;
      // zip-stream does not pass a source's error on (the archive would wait forever).
      source.on('error', fail);
      const entry: ZipEntryData = {
        name: file.path,
        date,
        mode: file.mode,
        store: STORED_EXTENSIONS.has(path.extname(file.path).toLowerCase()),
      };
      archive.append(source, entry);
    };
    const next = (): void => {
      appendNext().catch(reject);
    };
    archive.on('entry', next);
    next();
  });
  try {
    await Promise.race([Promise.all([written, done]), failed]);
    await checkWrittenNames(
      temporary,
      sorted.map((file) => file.path),
    );
    await rename(temporary, outFile);
  } catch (err) {
    // abort() alone stops archiver without ending its stream; destroy() settles the pipeline too.
    archive.abort();
    archive.destroy(err instanceof Error ? err : undefined);
    (reading as Readable | null)?.destroy();
    await done.catch(() => undefined);
    await rm(temporary, { force: true });
    throw err;
  }
  return { path: outFile, ...measure.result() };
}
