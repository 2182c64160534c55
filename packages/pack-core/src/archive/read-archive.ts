/**
 * Reading pack archives that may be hostile. Opening an archive reads only its central
 * directory and refuses, before any byte is inflated: too many entries, oversized or too highly
 * compressed entries, unsafe names (absolute, `..`, backslashes, NUL, drive letters, not UTF-8),
 * duplicates, symlinks and other special entries, encryption, and local headers that disagree with
 * the directory or overlap. Reading an entry then checks its CRC-32 and stops the moment it
 * inflates past its declared size (a lying zip bomb).
 */
import { mkdir, open, readdir, type FileHandle } from 'node:fs/promises';
import { constants, createReadStream } from 'node:fs';
import path from 'node:path';
import { pipeline as pipelineCallback, Readable, Transform } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { crc32, createInflateRaw } from 'node:zlib';
import unzipper from 'unzipper';
import { PackError } from '../errors.js';
import { fileTooLarge, type PackFiles } from '../lint/pack-files.js';
import { crc32OfRange, type BlockChecksums } from './crc32-blocks.js';

export interface ArchiveLimits {
  maxEntries: number;
  /** Largest uncompressed size of one entry, in bytes. */
  maxEntrySize: number;
  /** Largest uncompressed size of all entries together, in bytes. */
  maxTotalSize: number;
  /** Largest uncompressed/compressed ratio of one entry (entries under 1 MiB are exempt). */
  maxCompressionRatio: number;
}

export const DEFAULT_ARCHIVE_LIMITS: Readonly<ArchiveLimits> = {
  maxEntries: 10_000,
  maxEntrySize: 1024 * 1024 * 1024,
  maxTotalSize: 4 * 1024 * 1024 * 1024,
  maxCompressionRatio: 200,
};

export interface ArchiveEntry {
  /** Path inside the pack, forward slashes. */
  path: string;
  size: number;
  compressedSize: number;
  crc32: number;
  /** Permissions recorded for the entry (0o644 when the zip records none). */
  mode: number;
}

export interface PackArchive {
  entries: ArchiveEntry[];
  get(path: string): ArchiveEntry | undefined;
  /** Streams an entry's bytes, verifying size and CRC-32 as they pass. */
  stream(path: string): Readable;
  read(path: string, maxBytes?: number): Promise<Buffer>;
  /**
   * Checks every entry's size and CRC-32 (what an extraction would find) without keeping any
   * bytes; throws ARCHIVE_CORRUPT for the first entry that does not match the directory. With the
   * archive file's block checksums, stored entries are checked from those and only the partial
   * blocks at their ends are read.
   */
  verify(options?: { blocks?: BlockChecksums }): Promise<void>;
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const PLATFORM_UNIX = 3;
const RATIO_EXEMPT_BYTES = 1024 * 1024;
/** Reads of {@link PackArchive.verify}: large enough that a read costs little per byte. */
const VERIFY_READ_BYTES = 1024 * 1024;

function unsafe(code: string, message: string): PackError {
  return new PackError(code, message, {
    status: 422,
    hint: 'build the pack with `packctl build`, which writes safe archives',
  });
}

/**
 * Why an entry name is unsafe to extract, or null when it is fine.
 *
 * @example
 * unsafeEntryName('../etc/passwd'); // 'contains a ".." segment'
 */
export function unsafeEntryName(name: string): string | null {
  if (name === '') return 'is empty';
  if (name.includes('\0')) return 'contains a NUL byte';
  if (name.includes('\\')) return 'contains a backslash';
  if (name.startsWith('/')) return 'is an absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'starts with a drive letter';
  const segments = name.replace(/\/$/, '').split('/');
  if (segments.includes('..')) return 'contains a ".." segment';
  if (segments.some((s) => s === '' || s === '.')) return 'contains an empty or "." segment';
  return null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function entryKind(file: unzipper.File): 'file' | 'directory' | 'special' {
  const platform = file.versionMadeBy >> 8;
  const unixMode = file.externalFileAttributes >>> 16;
  if (platform === PLATFORM_UNIX && unixMode !== 0) {
    const type = unixMode & S_IFMT;
    if (type === S_IFDIR) return 'directory';
    if (type !== S_IFREG && type !== 0) return 'special';
  }
  return file.path.endsWith('/') ? 'directory' : 'file';
}

function corruptEntry(entry: ArchiveEntry, cause: Error): PackError {
  if (cause instanceof PackError) return cause;
  return new PackError('ARCHIVE_CORRUPT', `${entry.path} is corrupt (${cause.message})`, {
    status: 422,
    hint: 'build the pack with `packctl build`, which writes safe archives',
    cause,
  });
}

/**
 * The CRC-32 of `length` bytes of a file from `offset`, read into `buffer` (reused) piece by
 * piece; null when the file ends first.
 */
async function crc32OfFile(handle: FileHandle, buffer: Buffer, offset: number, length: number): Promise<number | null> {
  let crc = 0;
  for (let done = 0; done < length;) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, length - done), offset + done);
    if (bytesRead === 0) return null;
    crc = crc32(buffer.subarray(0, bytesRead), crc);
    done += bytesRead;
  }
  return crc;
}

function entryMismatch(entry: ArchiveEntry): PackError {
  return unsafe('ARCHIVE_CORRUPT', `${entry.path} is corrupt (size or CRC-32 does not match the directory)`);
}

function verifyEntry(entry: ArchiveEntry): Transform {
  let seen = 0;
  let crc = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > entry.size) {
        callback(unsafe('ARCHIVE_CORRUPT', `${entry.path} inflates past its declared size of ${entry.size} bytes`));
        return;
      }
      crc = crc32(chunk, crc);
      callback(null, chunk);
    },
    flush(callback) {
      if (seen !== entry.size || crc !== entry.crc32) {
        callback(entryMismatch(entry));
        return;
      }
      callback();
    },
  });
}

const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const DESCRIPTOR_SIGNATURE = 0x08074b50;
const ZIP64_MARKER = 0xffffffff;

/**
 * Checks every local header against the central directory: same name, compression method, CRC
 * and sizes (in the header, or in the data descriptor that follows the data), and entries that do
 * not overlap one another nor the directory. Readers that trust local headers (most streaming
 * extractors) would otherwise see other files than the ones validated here.
 */
async function checkLocalHeaders(
  file: string,
  directory: unzipper.CentralDirectory,
): Promise<Map<unzipper.File, number>> {
  const dataOffsets = new Map<unzipper.File, number>();
  const mismatch = (name: string, what: string): PackError =>
    unsafe('ARCHIVE_HEADER_MISMATCH', `entry "${name}": ${what} differs between its local header and the directory`);
  const handle = await open(file, 'r');
  try {
    const ordered = [...directory.files].sort((a, b) => a.offsetToLocalFileHeader - b.offsetToLocalFileHeader);
    let previousEnd = 0;
    const header = Buffer.alloc(30);
    for (const entry of ordered) {
      const name = entry.path;
      const offset = entry.offsetToLocalFileHeader;
      if (offset < previousEnd) throw unsafe('ARCHIVE_HEADER_MISMATCH', `entry "${name}" overlaps another entry`);
      const { bytesRead } = await handle.read(header, 0, 30, offset);
      if (bytesRead < 30 || header.readUInt32LE(0) !== LOCAL_HEADER_SIGNATURE) {
        throw unsafe('ARCHIVE_HEADER_MISMATCH', `entry "${name}" has no local header where the directory points`);
      }
      const flags = header.readUInt16LE(6);
      const nameLength = header.readUInt16LE(26);
      const extraLength = header.readUInt16LE(28);
      const localName = Buffer.alloc(nameLength);
      await handle.read(localName, 0, nameLength, offset + 30);
      if (!localName.equals(entry.pathBuffer)) throw mismatch(name, 'the name');
      if (header.readUInt16LE(8) !== entry.compressionMethod) throw mismatch(name, 'the compression method');
      dataOffsets.set(entry, offset + 30 + nameLength + extraLength);
      const dataEnd = offset + 30 + nameLength + extraLength + entry.compressedSize;
      let end = dataEnd;
      const declared = {
        crc: header.readUInt32LE(14),
        compressed: header.readUInt32LE(18),
        size: header.readUInt32LE(22),
      };
      const zip64 = declared.compressed === ZIP64_MARKER || declared.size === ZIP64_MARKER;
      if (flags & 0x8) {
        // Sizes follow the data in a descriptor (streaming writers such as archiver).
        const descriptor = Buffer.alloc(16);
        const read = await handle.read(descriptor, 0, 16, dataEnd);
        const signed = read.bytesRead >= 4 && descriptor.readUInt32LE(0) === DESCRIPTOR_SIGNATURE;
        const at = signed ? 4 : 0;
        if (!zip64 && read.bytesRead >= at + 12) {
          declared.crc = descriptor.readUInt32LE(at);
          declared.compressed = descriptor.readUInt32LE(at + 4);
          declared.size = descriptor.readUInt32LE(at + 8);
          end = dataEnd + at + 12;
        } else {
          end = dataEnd + at + (zip64 ? 20 : 12);
        }
      }
      if (!zip64) {
        if (declared.crc !== entry.crc32) throw mismatch(name, 'the CRC-32');
        if (declared.compressed !== entry.compressedSize || declared.size !== entry.uncompressedSize) {
          throw mismatch(name, 'the size');
        }
      }
      previousEnd = end;
    }
    if (previousEnd > directory.offsetToStartOfCentralDirectory) {
      throw unsafe('ARCHIVE_HEADER_MISMATCH', 'entry data overlaps the central directory');
    }
    return dataOffsets;
  } finally {
    await handle.close();
  }
}

/**
 * Opens a zip and checks its central directory against `limits` and the name rules.
 * Throws PackError with an `ARCHIVE_*` code on the first violation.
 *
 * @example
 * const archive = await openPackArchive('cni-calico-3.27.2.zip');
 * const manifest = JSON.parse((await archive.read('pack.json')).toString('utf8'));
 */
export async function openPackArchive(file: string, limits: Partial<ArchiveLimits> = {}): Promise<PackArchive> {
  const directory = await readDirectory(() => unzipper.Open.file(file));
  checkDirectory(directory, limits);
  const dataOffsets = await checkLocalHeaders(file, directory);
  // Entries are then read straight from the file at their checked offsets: faster than going
  // through unzipper's parser, which matters for the registry's CRC pass over every entry.
  return checkDirectory(directory, limits, { file, dataOffsets });
}

/** Random access to an archive's bytes that is not a local file (an object in S3, say). */
export interface ArchiveSource {
  size(): Promise<number>;
  /** `length` bytes from `offset`, or to the end when `length` is undefined. */
  stream(offset: number, length?: number): Readable;
}

/**
 * Opens an archive that was already checked by {@link openPackArchive} when it was stored (a
 * published pack): the directory is checked again, which costs nothing, but local headers are
 * not, since that would read the whole archive. Entries are still size- and CRC-checked as read.
 */
export async function openStoredPackArchive(
  source: ArchiveSource,
  limits: Partial<ArchiveLimits> = {},
): Promise<PackArchive> {
  const directory = await readDirectory(() => unzipper.Open.custom(source));
  return checkDirectory(directory, limits);
}

async function readDirectory(open: () => Promise<unzipper.CentralDirectory>): Promise<unzipper.CentralDirectory> {
  try {
    return await open();
  } catch (err) {
    throw new PackError('ARCHIVE_INVALID', `not a readable zip archive (${(err as Error).message})`, {
      status: 422,
      hint: 'upload the .zip written by `packctl build`',
      cause: err,
    });
  }
}

function checkDirectory(
  directory: unzipper.CentralDirectory,
  limits: Partial<ArchiveLimits>,
  local?: { file: string; dataOffsets: Map<unzipper.File, number> },
): PackArchive {
  const max = { ...DEFAULT_ARCHIVE_LIMITS, ...limits };
  if (directory.files.length > max.maxEntries) {
    throw unsafe(
      'ARCHIVE_TOO_MANY_ENTRIES',
      `the archive has ${directory.files.length} entries; the limit is ${max.maxEntries}`,
    );
  }
  const entries = new Map<string, ArchiveEntry>();
  const sources = new Map<string, unzipper.File>();
  const seen = new Set<string>();
  let total = 0;
  for (const file of directory.files) {
    let name: string;
    try {
      name = utf8.decode(file.pathBuffer);
    } catch {
      throw unsafe('ARCHIVE_UNSAFE_PATH', `an entry name is not valid UTF-8`);
    }
    const problem = unsafeEntryName(name);
    if (problem) throw unsafe('ARCHIVE_UNSAFE_PATH', `entry "${name}" ${problem}`);
    // Case-folded so that extraction on a case-insensitive disk cannot overwrite one with another.
    const key = name.replace(/\/$/, '').toLowerCase();
    if (seen.has(key)) throw unsafe('ARCHIVE_DUPLICATE_ENTRY', `entry "${name}" appears more than once`);
    seen.add(key);
    const kind = entryKind(file);
    if (kind === 'special') throw unsafe('ARCHIVE_SPECIAL_ENTRY', `entry "${name}" is a symlink or special file`);
    if (file.flags & 0x1) throw unsafe('ARCHIVE_ENCRYPTED', `entry "${name}" is encrypted`);
    if (kind === 'directory') continue;
    if (file.compressionMethod !== 0 && file.compressionMethod !== 8) {
      throw unsafe(
        'ARCHIVE_UNSUPPORTED',
        `entry "${name}" uses compression method ${file.compressionMethod}; only store and deflate are read`,
      );
    }
    const size = file.uncompressedSize;
    if (size > max.maxEntrySize) {
      throw unsafe(
        'ARCHIVE_ENTRY_TOO_LARGE',
        `entry "${name}" inflates to ${size} bytes; the limit is ${max.maxEntrySize}`,
      );
    }
    total += size;
    if (total > max.maxTotalSize) {
      throw unsafe('ARCHIVE_TOO_LARGE', `the archive inflates to more than ${max.maxTotalSize} bytes`);
    }
    if (size > RATIO_EXEMPT_BYTES && size / Math.max(file.compressedSize, 1) > max.maxCompressionRatio) {
      throw unsafe(
        'ARCHIVE_RATIO',
        `entry "${name}" is compressed more than ${max.maxCompressionRatio}:1 (a zip bomb?)`,
      );
    }
    const unixMode = file.externalFileAttributes >>> 16;
    const mode = file.versionMadeBy >> 8 === PLATFORM_UNIX && unixMode & 0o111 ? 0o755 : 0o644;
    entries.set(name, { path: name, size, compressedSize: file.compressedSize, crc32: file.crc32, mode });
    sources.set(name, file);
  }

  function source(name: string): unzipper.File {
    const file = sources.get(name);
    if (!file) throw new PackError('ARCHIVE_ENTRY_MISSING', `${name} is not in the archive`, { status: 404 });
    return file;
  }

  const archive: PackArchive = {
    entries: [...entries.values()],
    get: (name) => entries.get(name),
    stream(name) {
      const file = source(name);
      const entry = entries.get(name) as ArchiveEntry;
      const checked = verifyEntry(entry);
      const offset = local?.dataOffsets.get(file);
      if (local === undefined || offset === undefined) {
        const raw = file.stream();
        raw.on('error', (err: Error) => checked.destroy(err));
        return raw.pipe(checked);
      }
      const raw: Readable =
        entry.compressedSize === 0
          ? Readable.from([])
          : createReadStream(local.file, {
              start: offset,
              end: offset + entry.compressedSize - 1,
              // Large reads: an archive check streams every entry, and 64 KiB reads are latency-bound.
              highWaterMark: 1024 * 1024,
            });
      // Errors of any stage (a deflate stream that does not decode) end the entry as corrupt.
      const fail = (err: Error | null): void => {
        if (err) checked.destroy(corruptEntry(entry, err));
      };
      const body =
        file.compressionMethod === 8 ? pipelineCallback(raw, createInflateRaw(), fail) : raw.on('error', fail);
      // A consumer that stops early must not leave the file open.
      checked.once('close', () => raw.destroy());
      body.pipe(checked);
      return checked;
    },
    async read(name, maxBytes = Number.MAX_SAFE_INTEGER) {
      const entry = entries.get(name);
      if (entry && entry.size > maxBytes) throw fileTooLarge(name, maxBytes);
      const chunks: Buffer[] = [];
      for await (const chunk of archive.stream(name)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
    async verify(options = {}) {
      // Stored entries (most of a large pack: chart archives, images) are checked in place, one
      // reused buffer at a time; a stream per entry would allocate a fresh buffer per read.
      const handle = local ? await open(local.file, 'r') : null;
      const buffer = handle ? Buffer.allocUnsafe(VERIFY_READ_BYTES) : Buffer.alloc(0);
      const readRange = async (start: number, end: number): Promise<Buffer> => {
        const bytes = Buffer.allocUnsafe(end - start);
        const { bytesRead } = await (handle as FileHandle).read(bytes, 0, bytes.length, start);
        return bytes.subarray(0, bytesRead);
      };
      try {
        for (const entry of entries.values()) {
          const file = source(entry.path);
          const offset = local?.dataOffsets.get(file);
          if (handle && offset !== undefined && file.compressionMethod === 0) {
            if (entry.compressedSize !== entry.size) throw entryMismatch(entry);
            const crc = options.blocks
              ? await crc32OfRange(options.blocks, offset, offset + entry.size, readRange)
              : await crc32OfFile(handle, buffer, offset, entry.size);
            if (crc !== entry.crc32) throw entryMismatch(entry);
            continue;
          }
          // Deflated entries go through the checking stream; the bytes are dropped.
          await finished(archive.stream(entry.path).resume());
        }
      } finally {
        await handle?.close();
      }
    },
  };
  return archive;
}

/** {@link PackFiles} over an opened archive, so lint can run on an upload without extracting it. */
export function archivePackFiles(archive: PackArchive): PackFiles {
  return {
    check(name) {
      const problem = unsafeEntryName(name);
      if (problem)
        return Promise.resolve(name.startsWith('/') ? 'absolute' : problem.includes('..') ? 'escapes' : 'invalid');
      return Promise.resolve(archive.get(name) ? 'ok' : 'missing');
    },
    read: (name, maxBytes) => archive.read(name, maxBytes),
    stream: (name) => Promise.resolve(archive.stream(name)),
  };
}

/**
 * Extracts an archive into `dest`, which must not exist yet or be empty: every file is created
 * fresh (O_EXCL, never through a symlink), so nothing outside `dest` can be touched.
 */
export async function extractPackArchive(
  file: string,
  dest: string,
  limits: Partial<ArchiveLimits> = {},
): Promise<ArchiveEntry[]> {
  const archive = await openPackArchive(file, limits);
  await mkdir(dest, { recursive: true });
  if ((await readdir(dest)).length > 0) {
    throw new PackError('EXTRACT_TARGET_NOT_EMPTY', `${dest} is not empty`, {
      hint: 'extract into a new or empty directory',
    });
  }
  const root = path.resolve(dest);
  for (const entry of archive.entries) {
    const target = path.resolve(root, entry.path);
    // Names were checked when the archive was opened; this guards the guarantee once more.
    if (!target.startsWith(root + path.sep))
      throw unsafe('ARCHIVE_UNSAFE_PATH', `entry "${entry.path}" leaves ${dest}`);
    await mkdir(path.dirname(target), { recursive: true });
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const handle = await open(target, flags, entry.mode);
    // The write stream owns the handle from here and closes it when done or failed.
    await pipeline(archive.stream(entry.path), handle.createWriteStream());
  }
  return archive.entries;
}
