/**
 * Writing pack archives, reproducibly: the same files give the same bytes on every run and
 * machine. Entries are sorted by path, carry one fixed timestamp (SOURCE_DATE_EPOCH or
 * 1980-01-01, stored as UTC), normalised permissions (0644, or 0755 when executable), no
 * directory entries and no extra fields. Archives are streamed file by file, so memory stays flat
 * whatever the pack's size, and written to a temporary file renamed into place at the end, so a
 * failed build never leaves a partial zip behind.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { createReadStream, createWriteStream } from 'node:fs';
import path from 'node:path';
import type { ZipEntryData } from 'archiver';
import { loadArchiver } from '../lazy-deps.js';
import type { PackFile } from '../pack-dir.js';
import { pipelineUntilClosed } from '../streams.js';
import { digestingStream } from './digest.js';

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

/**
 * Writes the files into a zip at `outFile`, entries at the zip root.
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
  const sorted = [...files].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  // One entry in flight at a time: the next file is opened only when archiver has written the
  // previous one. Appending every file up front would start all their streams at once (each
  // buffering a chunk or two: hundreds of MB for a large pack) and hold a descriptor per file.
  const written = new Promise<void>((resolve, reject) => {
    let index = 0;
    const appendNext = (): void => {
      const file = sorted[index++];
      if (file === undefined) {
        archive.finalize().then(resolve, reject);
        return;
      }
      const source = createReadStream(file.source);
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
    archive.on('entry', appendNext);
    appendNext();
  });
  try {
    await Promise.race([Promise.all([written, done]), failed]);
    await rename(temporary, outFile);
  } catch (err) {
    // abort() alone stops archiver without ending its stream; destroy() settles the pipeline too.
    archive.abort();
    archive.destroy(err instanceof Error ? err : undefined);
    await done.catch(() => undefined);
    await rm(temporary, { force: true });
    throw err;
  }
  return { path: outFile, ...measure.result() };
}
