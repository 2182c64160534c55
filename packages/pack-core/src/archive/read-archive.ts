/**
 * Reading pack archives that may be hostile. Opening an archive reads only its central
 * directory and refuses, before any byte is inflated: too many entries, oversized or too highly
 * compressed entries, an archive whose entries together inflate too far for its size (an
 * aggregate zip bomb), sizes no deflate or stored entry can have, unsafe names (absolute, `..`,
 * backslashes, NUL, drive letters, not UTF-8, too long), duplicates and names that collide on disk,
 * symlinks and other special entries, encryption, and local headers that disagree with the
 * directory or overlap. Reading an entry then checks its CRC-32 and stops the moment it inflates
 * past its declared size (a lying zip bomb).
 *
 * Every stream opened for a read is owned by the stream handed out: an error of any of them ends
 * it as ARCHIVE_CORRUPT, and a consumer that destroys it (an aborted download) closes them all.
 * An opened archive keeps no state between reads but the checked bytes of the small entries of an
 * archive held in memory (which never change), so one can serve any number of them at once.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { constants, createReadStream } from 'node:fs';
import path from 'node:path';
import { Readable, Transform, type Duplex } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { crc32, createInflateRaw, inflateRawSync } from 'node:zlib';
import type unzipper from 'unzipper';
import { loadUnzipper } from '../lazy-deps.js';
import { makeDir, removeEmptyDirs } from '../make-dir.js';
import { isPackError, packError, type PackCoreErrorCode, type PackError } from '../errors.js';
import { fileTooLarge, type PackFiles } from '../lint/pack-files.js';
import { crc32OfRange, type BlockChecksums } from './crc32-blocks.js';
import {
  archiveInflationCap,
  DEFLATE_MAX_RATIO,
  ENTRY_RATIO_EXEMPT_BYTES,
  resolveLimits,
  setEntryStreamContext,
  type ArchiveLimits,
} from './limits.js';

export { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './limits.js';

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
  /** The archive's own size, in bytes. */
  size: number;
  /** The limits it was checked against, defaults filled in. */
  limits: Readonly<Required<ArchiveLimits>>;
  get(path: string): ArchiveEntry | undefined;
  /**
   * Streams an entry's bytes, verifying size and CRC-32 as they pass: bytes that do not decode or
   * match end it with ARCHIVE_CORRUPT. Destroying it closes everything it reads from.
   */
  stream(path: string): Readable;
  read(path: string, maxBytes?: number): Promise<Buffer>;
  /**
   * Checks every entry's size and CRC-32 (what an extraction would find); throws ARCHIVE_CORRUPT
   * for the first entry that does not match the directory. With the archive file's block
   * checksums, stored entries of an archive read in place are checked from those, and only the
   * partial blocks at their ends are read.
   */
  verify(options?: { blocks?: BlockChecksums }): Promise<void>;
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const PLATFORM_UNIX = 3;
/** Reads of {@link PackArchive.verify}: large enough that a read costs little per byte. */
const VERIFY_READ_BYTES = 1024 * 1024;
/** Archives up to this size are read into memory whole to be checked and read (`inMemoryBytes`). */
const IN_MEMORY_BYTES = 4 * 1024 * 1024;
/**
 * Entries of an archive held in memory of up to this size are inflated in one synchronous call
 * (bounded at their declared size; well under a millisecond) instead of through a stream and the
 * thread pool, and kept once checked: lint, the manifest, the CRC pass and the README excerpt of a
 * publish then inflate each one once.
 */
const WHOLE_ENTRY_BYTES = 256 * 1024;
/** The most inflated bytes an archive held in memory keeps for further reads. */
const KEPT_ENTRY_BYTES = 4 * 1024 * 1024;
const LOCAL_HEADER_BYTES = 30;
const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const DESCRIPTOR_SIGNATURE = 0x08074b50;
const ZIP64_MARKER = 0xffffffff;
/** The most a local header's extra field can hold (its length is 16 bits). */
const MAX_EXTRA_BYTES = 0xffff;

function unsafe(code: PackCoreErrorCode, message: string): PackError {
  return packError(code, message, { hint: 'build the pack with `packctl build`, which writes safe archives' });
}

/**
 * The longest file name (one path segment) and the longest path, in UTF-8 bytes, that an entry may
 * have: NAME_MAX and PATH_MAX of Linux (and more than macOS and Windows allow). A longer one could
 * not be extracted anywhere; the file system would refuse it half-way (ENAMETOOLONG).
 */
export const MAX_ENTRY_SEGMENT_BYTES = 255;
export const MAX_ENTRY_NAME_BYTES = 4096;
/**
 * The most bytes all entry names of an archive may take together: a published version's record
 * lists every file, and is read for every request on the version. 10,000 names of 4 KiB made a
 * 40 MB record; a real pack's names are a few KB (2 MiB is 10,000 names of 200 bytes).
 */
export const MAX_TOTAL_NAME_BYTES = 2 * 1024 * 1024;
/**
 * The most folders an entry may lie in, one inside the other. A real pack's files lie a few folders
 * deep (a chart's templates: four or five); 4 KiB names of one-letter folders lie 2,000 deep, and
 * every folder above every file is a directory entry to make when the pack is unpacked or turned
 * into an OCI layer.
 */
export const MAX_ENTRY_DEPTH = 64;

/**
 * The folders that entries' names imply (each name's path up to a slash), at most `max` of them
 * (no bound without one: names already checked): a name is walked from its deepest folder up,
 * stopping at one already found (the folders above it are found too), so the walks cost what the
 * folders do, not names times depth.
 */
export class ImpliedFolders {
  readonly found = new Set<string>();

  constructor(
    private readonly max = Number.POSITIVE_INFINITY,
    private readonly tooMany: (message: string) => Error = (message) => new RangeError(message),
  ) {}

  /** Adds the folders `name` lies in (a directory entry's `a/b/`: `a/b` and `a`). */
  add(name: string): void {
    for (let slash = name.lastIndexOf('/'); slash > 0; slash = name.lastIndexOf('/', slash - 1)) {
      const folder = name.slice(0, slash);
      if (this.found.has(folder)) return;
      this.found.add(folder);
      if (this.found.size > this.max) {
        throw this.tooMany(`the entries' names lie in more than ${String(this.max)} folders`);
      }
    }
  }
}

/** What a refusal for {@link MAX_TOTAL_NAME_BYTES} says (zip and tar alike). */
export const TOO_MANY_NAME_BYTES = `the entries' names take more than ${String(MAX_TOTAL_NAME_BYTES)} bytes in all`;
/** How much of an entry name a message shows: a refused name may be thousands of bytes long. */
const SHOWN_NAME_CHARS = 80;

/** `name` for a message, clipped to about {@link SHOWN_NAME_CHARS} characters. */
export function shownName(name: string): string {
  if (name.length <= SHOWN_NAME_CHARS) return name;
  // Not between the two halves of a surrogate pair.
  const high = /[\uD800-\uDBFF]/.test(name.charAt(SHOWN_NAME_CHARS - 1));
  return `${name.slice(0, high ? SHOWN_NAME_CHARS - 1 : SHOWN_NAME_CHARS)}…`;
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
  const bytes = Buffer.byteLength(name);
  if (bytes > MAX_ENTRY_NAME_BYTES) return `is ${bytes} bytes long; the limit is ${MAX_ENTRY_NAME_BYTES}`;
  const segments = name.replace(/\/$/, '').split('/');
  if (segments.length > MAX_ENTRY_DEPTH + 1) {
    return `lies ${String(segments.length - 1)} folders deep; the limit is ${String(MAX_ENTRY_DEPTH)}`;
  }
  if (segments.includes('..')) return 'contains a ".." segment';
  if (segments.some((s) => s === '' || s === '.')) return 'contains an empty or "." segment';
  const long = segments.find((s) => Buffer.byteLength(s) > MAX_ENTRY_SEGMENT_BYTES);
  if (long !== undefined) {
    return `has a name of ${Buffer.byteLength(long)} bytes in its path; the limit is ${MAX_ENTRY_SEGMENT_BYTES}`;
  }
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

/**
 * The name two entries would share on a case-insensitive or normalising disk (macOS, Windows):
 * one could overwrite the other there.
 */
function diskKey(name: string): string {
  return name.replace(/\/$/, '').normalize('NFC').toLowerCase();
}

function corruptEntry(entry: ArchiveEntry, cause: Error): PackError {
  if (isPackError(cause)) return cause;
  return packError('ARCHIVE_CORRUPT', `${entry.path} is corrupt (${cause.message})`, {
    cause,
  });
}

/**
 * The CRC-32 of `length` bytes of a file from `offset`, read into `buffer` (reused) piece by
 * piece; null when the file ends first.
 */
/** Positional reads of an archive's bytes: a FileHandle, or an archive held in memory. */
type PositionalReader = Pick<FileHandle, 'read' | 'close'>;

/** Reads of an archive held in memory, shaped like a FileHandle's (which the checks use). */
function memoryReader(bytes: Buffer): PositionalReader {
  return {
    read: ((target: Buffer, offset: number, length: number, position: number) => {
      const start = Math.min(position, bytes.length);
      const bytesRead = bytes.copy(target, offset, start, Math.min(start + length, bytes.length));
      return Promise.resolve({ bytesRead, buffer: target });
    }) as PositionalReader['read'],
    close: () => Promise.resolve(),
  };
}

async function crc32OfFile(
  handle: PositionalReader,
  buffer: Buffer,
  offset: number,
  length: number,
): Promise<number | null> {
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

function inflatesPast(entry: ArchiveEntry): PackError {
  return unsafe('ARCHIVE_CORRUPT', `${entry.path} inflates past its declared size of ${entry.size} bytes`);
}

/**
 * An entry's bytes out of its compressed `data`, inflated in one call that stops at the declared
 * size, then checked like {@link verifyEntry} checks a stream.
 */
function wholeEntry(file: unzipper.File, entry: ArchiveEntry, data: Buffer): Buffer {
  let bytes = data;
  if (file.compressionMethod === 8 && data.length > 0) {
    try {
      bytes = inflateRawSync(data, { maxOutputLength: Math.max(entry.size, 1) });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw inflatesPast(entry);
      throw corruptEntry(entry, err as Error);
    }
  }
  if (bytes.length !== entry.size || crc32(bytes) !== entry.crc32) throw entryMismatch(entry);
  return bytes;
}

/** A stream of `bytes`, in one chunk. */
function streamOf(bytes: Buffer): Readable {
  return new Readable({
    read() {
      if (bytes.length > 0) this.push(bytes);
      this.push(null);
    },
  });
}

function verifyEntry(entry: ArchiveEntry): Transform {
  let seen = 0;
  let crc = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > entry.size) {
        callback(inflatesPast(entry));
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

/**
 * Pipes `upstream` into `downstream` and ties their lives together: an error of `upstream`
 * destroys `downstream` with it (through `mapError`), and `downstream` closing for any reason
 * (ended, failed, destroyed by its consumer) destroys `upstream`, so that no file descriptor or
 * connection outlives the stream handed out.
 */
function chain<T extends Duplex>(upstream: Readable, downstream: T, mapError = (err: Error): Error => err): T {
  upstream.on('error', (err: Error) => downstream.destroy(mapError(err)));
  downstream.once('close', () => upstream.destroy());
  upstream.pipe(downstream);
  return downstream;
}

/**
 * The data of one entry out of a stream that starts at its local header: the header is checked
 * (signature and name) and skipped, exactly `compressedSize` bytes pass, and whatever follows
 * (the next entries, read because the local extra field's length was not known) is dropped.
 */
function localRecordData(file: unzipper.File, compressedSize: number): Transform {
  let header: Buffer | null = Buffer.alloc(0);
  let left = compressedSize;
  const pass = (stream: Transform, chunk: Buffer): void => {
    const take = Math.min(left, chunk.length);
    left -= take;
    if (take > 0) stream.push(chunk.subarray(0, take));
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (header === null) {
        pass(this, chunk);
        callback();
        return;
      }
      header = Buffer.concat([header, chunk]);
      if (header.length < LOCAL_HEADER_BYTES) {
        callback();
        return;
      }
      if (header.readUInt32LE(0) !== LOCAL_HEADER_SIGNATURE) {
        callback(new Error('no local header where the directory points'));
        return;
      }
      const nameEnd = LOCAL_HEADER_BYTES + header.readUInt16LE(26);
      const dataStart = nameEnd + header.readUInt16LE(28);
      if (header.length < dataStart) {
        callback();
        return;
      }
      if (!header.subarray(LOCAL_HEADER_BYTES, nameEnd).equals(file.pathBuffer)) {
        callback(new Error('its local header names another entry'));
        return;
      }
      const rest = header.subarray(dataStart);
      header = null;
      pass(this, rest);
      callback();
    },
    flush(callback) {
      callback(left > 0 ? new Error('the archive ends before the entry does') : null);
    },
  });
}

/**
 * Checks every local header against the central directory: same name, compression method, CRC
 * and sizes (in the header, or in the data descriptor that follows the data), and entries that do
 * not overlap one another nor the directory. Readers that trust local headers (most streaming
 * extractors) would otherwise see other files than the ones validated here.
 */
async function checkLocalHeaders(
  handle: PositionalReader,
  directory: unzipper.CentralDirectory,
): Promise<Map<unzipper.File, number>> {
  const dataOffsets = new Map<unzipper.File, number>();
  const mismatch = (name: string, what: string): PackError =>
    unsafe('ARCHIVE_HEADER_MISMATCH', `entry "${name}": ${what} differs between its local header and the directory`);
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
}

/**
 * Opens a zip and checks its central directory against `limits` and the name rules, then its
 * local headers. Throws PackError with an `ARCHIVE_*` code on the first violation, before any
 * entry is inflated. An archive of up to `options.inMemoryBytes` (4 MiB) is read whole, once;
 * a larger one is read where its entries are.
 *
 * @example
 * const archive = await openPackArchive('cni-calico-3.27.2.zip');
 * const manifest = JSON.parse((await archive.read('pack.json')).toString('utf8'));
 */
export async function openPackArchive(
  file: string,
  limits: Partial<ArchiveLimits> = {},
  options: { inMemoryBytes?: number } = {},
): Promise<PackArchive> {
  const max = resolveLimits(limits);
  const { size } = await stat(file);
  if (size <= (options.inMemoryBytes ?? IN_MEMORY_BYTES)) return openArchiveBytes(await readFile(file), max);
  const { Open } = loadUnzipper();
  const directory = await readDirectory(() => Open.file(file));
  const checked = checkDirectory(directory, max, size);
  const handle = await open(file, 'r');
  const dataOffsets = await checkLocalHeaders(handle, directory).finally(() => handle.close());
  // Entries are then read straight from the file at their checked offsets: faster than going
  // through unzipper's parser, which matters for the registry's CRC pass over every entry.
  return packArchive(checked, max, size, {
    local: { open: () => open(file, 'r'), dataOffsets },
    open(record, entry) {
      const offset = dataOffsets.get(record) ?? 0;
      return createReadStream(file, {
        start: offset,
        end: offset + entry.compressedSize - 1,
        // Large reads: an archive check streams every entry, and 64 KiB reads are latency-bound.
        highWaterMark: 1024 * 1024,
      });
    },
  });
}

/**
 * {@link openPackArchive} of an archive read into memory whole (a small one: one read instead of
 * a descriptor per entry, which is most of what checking a small pack costs).
 */
async function openArchiveBytes(bytes: Buffer, max: Required<ArchiveLimits>): Promise<PackArchive> {
  const { Open } = loadUnzipper();
  const directory = await readDirectory(() => Open.buffer(bytes));
  const checked = checkDirectory(directory, max, bytes.length);
  const reader = memoryReader(bytes);
  const dataOffsets = await checkLocalHeaders(reader, directory);
  const dataOf = (record: unzipper.File, entry: ArchiveEntry): Buffer => {
    const offset = dataOffsets.get(record) ?? 0;
    return bytes.subarray(offset, offset + entry.compressedSize);
  };
  return packArchive(checked, max, bytes.length, {
    open: (record, entry) => streamOf(dataOf(record, entry)),
    data: dataOf,
  });
}

/** Random access to an archive's bytes that is not a local file (an object in S3, say). */
export interface ArchiveSource {
  size(): Promise<number>;
  /**
   * `length` bytes from `offset`, or to the end when `length` is undefined. The stream is
   * destroyed when its reader stops early, and must then release what it holds.
   */
  stream(offset: number, length?: number): Readable;
}

/**
 * Opens an archive that was already checked by {@link openPackArchive} when it was stored (a
 * published pack): the directory is checked again, which costs nothing, but local headers are
 * not, since that would read the whole archive. Entries are still size- and CRC-checked as read,
 * each with one ranged read of `source` from its local header. The archive keeps no state
 * between reads: one opened archive can serve many concurrent ones.
 */
export async function openStoredPackArchive(
  source: ArchiveSource,
  limits: Partial<ArchiveLimits> = {},
): Promise<PackArchive> {
  const max = resolveLimits(limits);
  const { Open } = loadUnzipper();
  const directory = await readDirectory(() => Open.custom(source));
  const size = await source.size();
  const checked = checkDirectory(directory, max, size);
  const directoryStart = directory.offsetToStartOfCentralDirectory;
  return packArchive(checked, max, size, {
    open(file, entry) {
      const offset = file.offsetToLocalFileHeader;
      // The local extra field may be longer than the directory's: read as far as it could reach,
      // never into the central directory, where no entry's data can be.
      const room = directoryStart - offset;
      if (room < LOCAL_HEADER_BYTES + file.pathBuffer.length + entry.compressedSize) {
        throw unsafe('ARCHIVE_CORRUPT', `${entry.path} is corrupt (its data would overlap the central directory)`);
      }
      const reach = LOCAL_HEADER_BYTES + file.pathBuffer.length + MAX_EXTRA_BYTES + entry.compressedSize;
      return source.stream(offset, Math.min(reach, room));
    },
    unwrap: (file, entry) => localRecordData(file, entry.compressedSize),
  });
}

async function readDirectory(open: () => Promise<unzipper.CentralDirectory>): Promise<unzipper.CentralDirectory> {
  try {
    return await open();
  } catch (err) {
    throw packError('ARCHIVE_INVALID', `not a readable zip archive (${(err as Error).message})`, {
      cause: err,
    });
  }
}

interface CheckedEntry {
  entry: ArchiveEntry;
  file: unzipper.File;
}

/**
 * Checks the central directory entry by entry (names, kinds, sizes and ratios), then as a whole
 * (total size, overall ratio, names that would collide on disk); returns the file entries.
 */
function checkDirectory(
  directory: unzipper.CentralDirectory,
  max: Required<ArchiveLimits>,
  archiveBytes: number,
): Map<string, CheckedEntry> {
  if (directory.files.length > max.maxEntries) {
    throw unsafe(
      'ARCHIVE_TOO_MANY_ENTRIES',
      `the archive has ${directory.files.length} entries; the limit is ${max.maxEntries}`,
    );
  }
  const checked = new Map<string, CheckedEntry>();
  const seen = new Set<string>();
  // Folded as names are: a file whose path another's goes through is refused below.
  const folders = new ImpliedFolders(max.maxEntries, (message) => unsafe('ARCHIVE_TOO_MANY_ENTRIES', message));
  let total = 0;
  let nameBytes = 0;
  for (const file of directory.files) {
    nameBytes += file.pathBuffer.length;
    if (nameBytes > MAX_TOTAL_NAME_BYTES) throw unsafe('ARCHIVE_TOO_MANY_ENTRIES', TOO_MANY_NAME_BYTES);
    let name: string;
    try {
      name = utf8.decode(file.pathBuffer);
    } catch {
      throw unsafe('ARCHIVE_UNSAFE_PATH', `an entry name is not valid UTF-8`);
    }
    const problem = unsafeEntryName(name);
    if (problem) throw unsafe('ARCHIVE_UNSAFE_PATH', `entry "${shownName(name)}" ${problem}`);
    // Folded so that extraction on a case-insensitive disk cannot overwrite one with another.
    const key = diskKey(name);
    if (seen.has(key)) throw unsafe('ARCHIVE_DUPLICATE_ENTRY', `entry "${name}" appears more than once`);
    seen.add(key);
    folders.add(name.endsWith('/') ? `${key}/` : key);
    const kind = entryKind(file);
    if (kind === 'special') throw unsafe('ARCHIVE_SPECIAL_ENTRY', `entry "${name}" is a symlink or special file`);
    if (file.flags & 0x1) throw unsafe('ARCHIVE_ENCRYPTED', `entry "${name}" is encrypted`);
    if (kind === 'directory') continue;
    checkEntrySize(name, file, max);
    total += file.uncompressedSize;
    if (total > max.maxTotalSize) {
      throw unsafe('ARCHIVE_TOO_LARGE', `the archive inflates to more than ${max.maxTotalSize} bytes`);
    }
    const unixMode = file.externalFileAttributes >>> 16;
    const mode = file.versionMadeBy >> 8 === PLATFORM_UNIX && unixMode & 0o111 ? 0o755 : 0o644;
    const { uncompressedSize: size, compressedSize, crc32 } = file;
    checked.set(name, { entry: { path: name, size, compressedSize, crc32, mode }, file });
  }
  // Many entries, each small enough to be exempt from the ratio cap, can still add up to a bomb.
  if (total > archiveInflationCap(archiveBytes, max)) {
    throw unsafe(
      'ARCHIVE_TOTAL_RATIO',
      `the archive's ${archiveBytes} bytes inflate to ${total}, more than ${max.maxArchiveRatio} times its size (a zip bomb?)`,
    );
  }
  checkPathConflicts([...checked.keys()], folders.found);
  return checked;
}

/** An entry's declared sizes: within the limits, and possible at all for its compression method. */
function checkEntrySize(name: string, file: unzipper.File, max: Required<ArchiveLimits>): void {
  const { compressionMethod: method, compressedSize: compressed, uncompressedSize: size } = file;
  if (method !== 0 && method !== 8) {
    throw unsafe(
      'ARCHIVE_UNSUPPORTED',
      `entry "${name}" uses compression method ${method}; only store and deflate are read`,
    );
  }
  if (size > max.maxEntrySize) {
    throw unsafe(
      'ARCHIVE_ENTRY_TOO_LARGE',
      `entry "${name}" inflates to ${size} bytes; the limit is ${max.maxEntrySize}`,
    );
  }
  if (size >= ENTRY_RATIO_EXEMPT_BYTES && size / Math.max(compressed, 1) > max.maxCompressionRatio) {
    throw unsafe('ARCHIVE_RATIO', `entry "${name}" is compressed more than ${max.maxCompressionRatio}:1 (a zip bomb?)`);
  }
  // Sizes no real entry can have: refused here, even for entries too small for the ratio cap.
  if (method === 0 ? size !== compressed : size > compressed * DEFLATE_MAX_RATIO) {
    throw unsafe(
      'ARCHIVE_CORRUPT',
      `entry "${name}" declares ${size} bytes from ${compressed} ${method === 0 ? 'stored' : 'deflated'} ones, which no zip can hold`,
    );
  }
}

/**
 * Refuses a file that another entry's path goes through ("a" and "a/b"): both cannot be extracted.
 * `folders`: the folders every entry lies in, folded as diskKey folds names.
 */
function checkPathConflicts(names: string[], folders: ReadonlySet<string>): void {
  const file = names.find((name) => folders.has(diskKey(name)));
  if (file !== undefined) {
    throw unsafe('ARCHIVE_DUPLICATE_ENTRY', `entry "${shownName(file)}" is a file, and other entries lie inside it`);
  }
}

interface EntryReader {
  /** The compressed bytes of an entry, or a range of the archive that holds them (see `unwrap`). */
  open(file: unzipper.File, entry: ArchiveEntry): Readable;
  /** Finds the entry's compressed bytes in what `open` returns (from its local header on). */
  unwrap?: (file: unzipper.File, entry: ArchiveEntry) => Transform;
  /** The archive as a local file, with every entry's checked data offset: verify() reads it in place. */
  local?: { open(): Promise<PositionalReader>; dataOffsets: Map<unzipper.File, number> };
  /** An archive held in memory: the compressed bytes of an entry (its data, checked offsets). */
  data?: (file: unzipper.File, entry: ArchiveEntry) => Buffer;
}

/**
 * An entry's bytes, inflated and checked. Errors of decoding and checking end it as
 * ARCHIVE_CORRUPT; errors of the source itself (a failed read, a dropped connection) are passed
 * on as they are, since they say nothing about the archive.
 */
function entryStream(reader: EntryReader, file: unzipper.File, entry: ArchiveEntry): Readable {
  const checked = verifyEntry(entry);
  const fromSource = new WeakSet<Error>();
  const toChecked = (err: Error): Error => (fromSource.has(err) ? err : corruptEntry(entry, err));
  if (entry.compressedSize === 0) return chain(Readable.from([]), checked, toChecked);
  let stream: Readable;
  try {
    stream = reader.open(file, entry);
  } catch (err) {
    // A range that cannot hold the entry (PackError), or a source that failed at once.
    return checked.destroy(err as Error);
  }
  stream.on('error', (err: Error) => fromSource.add(err));
  if (reader.unwrap) stream = chain(stream, reader.unwrap(file, entry));
  if (file.compressionMethod === 8) stream = chain(stream, createInflateRaw());
  return chain(stream, checked, toChecked);
}

function packArchive(
  checked: Map<string, CheckedEntry>,
  limits: Required<ArchiveLimits>,
  size: number,
  reader: EntryReader,
): PackArchive {
  const entries = new Map([...checked].map(([name, { entry }]) => [name, entry]));
  // Entries of an archive held in memory, inflated and checked once (immutable from then on).
  const kept = new Map<string, Buffer>();
  let keptBytes = 0;

  function find(name: string): CheckedEntry {
    const found = checked.get(name);
    if (!found) throw packError('ARCHIVE_ENTRY_MISSING', `${name} is not in the archive`);
    return found;
  }

  /** The checked bytes of a small entry of an archive held in memory; null for any other. */
  function whole({ file, entry }: CheckedEntry): Buffer | null {
    if (!reader.data || entry.size > WHOLE_ENTRY_BYTES) return null;
    const known = kept.get(entry.path);
    if (known) return known;
    const bytes = wholeEntry(file, entry, reader.data(file, entry));
    if (keptBytes + bytes.length <= KEPT_ENTRY_BYTES) {
      kept.set(entry.path, bytes);
      keptBytes += bytes.length;
    }
    return bytes;
  }

  const archive: PackArchive = {
    entries: [...entries.values()],
    size,
    limits,
    get: (name) => entries.get(name),
    stream(name) {
      const found = find(name);
      let bytes: Buffer | null;
      try {
        bytes = whole(found);
      } catch (err) {
        return new Readable({ read() {} }).destroy(err as Error);
      }
      return bytes ? streamOf(bytes) : entryStream(reader, found.file, found.entry);
    },
    async read(name, maxBytes = Number.MAX_SAFE_INTEGER) {
      const entry = entries.get(name);
      if (entry && entry.size > maxBytes) throw fileTooLarge(name, maxBytes);
      const bytes = whole(find(name));
      // A copy: the kept bytes serve every later read.
      if (bytes) return Buffer.from(bytes);
      const chunks: Buffer[] = [];
      for await (const chunk of archive.stream(name)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
    async verify(options = {}) {
      const { local, data } = reader;
      if (data) {
        // Held in memory: stored entries are checked where they lie, small ones as they are read.
        for (const found of checked.values()) {
          const { file, entry } = found;
          if (file.compressionMethod === 0) {
            if (crc32(data(file, entry)) !== entry.crc32) throw entryMismatch(entry);
          } else if (!whole(found)) {
            await finished(archive.stream(entry.path).resume());
          }
        }
        return;
      }
      // Stored entries (most of a large pack: chart archives, images) are checked in place, one
      // reused buffer at a time; a stream per entry would allocate a fresh buffer per read.
      const handle = local ? await local.open() : null;
      const buffer = handle ? Buffer.allocUnsafe(VERIFY_READ_BYTES) : Buffer.alloc(0);
      const readRange = async (start: number, end: number): Promise<Buffer> => {
        const bytes = Buffer.allocUnsafe(end - start);
        const { bytesRead } = await (handle as PositionalReader).read(bytes, 0, bytes.length, start);
        return bytes.subarray(0, bytesRead);
      };
      try {
        for (const { file, entry } of checked.values()) {
          const offset = local?.dataOffsets.get(file);
          if (handle && offset !== undefined && file.compressionMethod === 0) {
            // The directory check made sure that a stored entry's two sizes agree.
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

/**
 * {@link PackFiles} over an opened archive, so lint can run on an upload without extracting it.
 * Streams it hands out carry the archive's limits and one inflation budget shared by all of them,
 * which bound what reading a chart's .tgz may gunzip (see readChartMetadata).
 */
export function archivePackFiles(archive: PackArchive): PackFiles {
  const budget = { remaining: archiveInflationCap(archive.size, archive.limits) };
  return {
    check(name) {
      const problem = unsafeEntryName(name);
      if (problem)
        return Promise.resolve(name.startsWith('/') ? 'absolute' : problem.includes('..') ? 'escapes' : 'invalid');
      return Promise.resolve(archive.get(name) ? 'ok' : 'missing');
    },
    read: (name, maxBytes) => archive.read(name, maxBytes),
    stream(name) {
      const stream = archive.stream(name);
      const size = archive.get(name)?.size ?? 0;
      setEntryStreamContext(stream, { size, limits: archive.limits, budget });
      return Promise.resolve(stream);
    },
    paths: archive.entries.map((entry) => entry.path),
  };
}

/**
 * Extracts an archive into `dest`, which must not exist yet or be an empty directory. Nothing is
 * written through `dest` itself: the archive is extracted into a fresh staging directory this call
 * creates beside it (`.<name>.<random>.extracting`, made exclusively), every file created fresh
 * (O_EXCL, never through a symlink), and the staging directory is then renamed to `dest`. A rename
 * replaces an empty directory, and fails on anything else there (files put there meanwhile, a
 * symbolic link planted since `dest` was checked: it is never followed), so nothing outside `dest`
 * can be touched and nothing another process put there is removed. The archive is checked as a
 * whole before the first byte is written; on any failure only what this call created goes (its
 * staging directory, and the parents of `dest` it made if they are still empty).
 */
export async function extractPackArchive(
  file: string,
  dest: string,
  limits: Partial<ArchiveLimits> = {},
): Promise<ArchiveEntry[]> {
  const archive = await openPackArchive(file, limits);
  const target = path.resolve(dest);
  const parent = path.dirname(target);
  const notEmpty = () => packError('EXTRACT_TARGET_NOT_EMPTY', `${dest} is not empty`);
  // Checked first for a clear answer before any work; the rename below is what decides.
  const found = await lstat(target).catch(() => null);
  if (found !== null && (!found.isDirectory() || (await readdir(target)).length > 0)) throw notEmpty();
  const madeParent = await makeDir(parent);
  const staging = path.join(parent, `.${path.basename(target)}.${randomBytes(6).toString('hex')}.extracting`);
  let made = false;
  try {
    // Not recursive: fails if anything is there, so the directory is this call's own.
    await mkdir(staging);
    made = true;
    for (const entry of archive.entries) await extractEntry(archive, entry, staging);
    try {
      await rename(staging, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') throw notEmpty();
      throw err;
    }
  } catch (err) {
    if (made) await rm(staging, { recursive: true, force: true });
    if (madeParent !== undefined) await removeEmptyDirs(parent, madeParent);
    throw err;
  }
  return archive.entries;
}

async function extractEntry(archive: PackArchive, entry: ArchiveEntry, root: string): Promise<void> {
  const target = path.resolve(root, entry.path);
  // Names were checked when the archive was opened; this guards the guarantee once more.
  if (!target.startsWith(root + path.sep)) throw unsafe('ARCHIVE_UNSAFE_PATH', `entry "${entry.path}" leaves ${root}`);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  let handle: FileHandle;
  try {
    await makeDir(path.dirname(target));
    handle = await open(target, flags, entry.mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENAMETOOLONG') {
      // Within the limits of unsafeEntryName, but too long below `root` on this file system.
      throw unsafe('ARCHIVE_UNSAFE_PATH', `entry "${shownName(entry.path)}" is too long a path to extract here`);
    }
    if (code !== 'EEXIST' && code !== 'ENOTDIR' && code !== 'ELOOP') throw err;
    // Names that differ in the archive but not on this disk (a file system folding other characters).
    throw unsafe('ARCHIVE_DUPLICATE_ENTRY', `entry "${entry.path}" collides with another one on this file system`);
  }
  // The write stream owns the handle from here and closes it when done or failed.
  await pipeline(archive.stream(entry.path), handle.createWriteStream());
}
