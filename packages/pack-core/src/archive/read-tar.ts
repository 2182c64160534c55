/**
 * Reading pack layers that arrive as tar or gzip-compressed tar (a pack pushed through OCI:
 * `tar -czf NAME-VERSION.tar.gz <pack dir>`). The layer is untrusted, so the rules are the zip
 * rules of read-archive.ts: names that are absolute, hold `..`, `.` or empty segments, backslashes,
 * NUL bytes or drive letters are refused, and so are symlinks, hard links (a zip cannot hold them
 * either, and the zip path refuses every symlink), devices, FIFOs, duplicate names (case-folded)
 * and a file inside another file. Sizes are held to the archive limits: entry count, per-entry and
 * total uncompressed size, and the overall ratio to the layer's size; gunzip is bounded by
 * counting what it inflates and stopping at the cap, whatever the headers claim (a gzip bomb).
 *
 * Entries are extracted into a fresh directory with O_EXCL and O_NOFOLLOW (never through
 * anything that was there), and a failure removes the directory: nothing half-written stays.
 * Tar parsing is tar-stream's, which applies pax and GNU long names before an entry is seen, so
 * the checks see the name a tar tool would extract to.
 */
import { constants, createReadStream } from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { makeDir } from '../make-dir.js';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type tar from 'tar-stream';
import { loadTarStream } from '../lazy-deps.js';
import { isPackError, packError, type PackCoreErrorCode, type PackError } from '../errors.js';
import { archiveInflationCap, resolveLimits, type ArchiveLimits } from './limits.js';
import {
  ImpliedFolders,
  MAX_TOTAL_NAME_BYTES,
  shownName,
  TOO_MANY_NAME_BYTES,
  unsafeEntryName,
} from './read-archive.js';

export interface TarExtraction {
  /**
   * The pack's directory: the extraction directory, or the one folder every entry sat under
   * (`tar -czf x.tar.gz <pack dir>`), which is stripped.
   */
  root: string;
  /** Regular files extracted, paths relative to `root`. */
  files: number;
}

export interface TarExtractOptions {
  /** The layer is gzip-compressed (told by its magic bytes, see detectLayerFormat). */
  gzip: boolean;
  limits?: Partial<ArchiveLimits>;
}

function refused(code: PackCoreErrorCode, message: string): PackError {
  return packError(code, message, {
    hint: 'make the layer with `tar -czf NAME-VERSION.tar.gz <pack dir>` from a pack directory that `packctl lint` accepts',
  });
}

/** See read-archive.ts: the name two entries would share on a case-folding disk. */
function diskKey(name: string): string {
  return name.replace(/\/$/, '').normalize('NFC').toLowerCase();
}

/**
 * The entry's name as extracted: tar tools write `./pack.json` when archiving `.`, so one leading
 * `./` is dropped (the `./` entry itself is the root); anything else unusual is left for
 * unsafeEntryName to refuse.
 */
function entryName(raw: string): string {
  return raw.startsWith('./') ? raw.slice(2) : raw;
}

/**
 * What macOS's tar adds beside each file (AppleDouble `._<name>`, and `__MACOSX/` from its
 * archiver): Finder metadata, never pack content. `tar -czf` of a pack folder on a Mac, Palette's
 * own recipe for OCI packs, writes one beside the folder itself.
 */
function isMacMetadata(name: string): boolean {
  const segments = name.replace(/\/$/, '').split('/');
  return segments.includes('__MACOSX') || (segments.at(-1) ?? '').startsWith('._');
}

/** Counts what leaves gunzip and fails the stream the moment it passes `cap`. */
function inflationMeter(cap: number, limits: Required<ArchiveLimits>): Transform {
  let inflated = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      inflated += chunk.length;
      if (inflated > cap) {
        const problem =
          cap === limits.maxTotalSize
            ? refused('ARCHIVE_TOO_LARGE', `the layer inflates to more than ${cap} bytes`)
            : refused(
                'ARCHIVE_TOTAL_RATIO',
                `the layer inflates past ${cap} bytes, too far for its size (a gzip bomb?)`,
              );
        callback(problem);
        return;
      }
      callback(null, chunk);
    },
  });
}

const SPECIAL_KINDS: Readonly<Record<string, string>> = {
  symlink: 'a symlink',
  link: 'a hard link',
  'character-device': 'a character device',
  'block-device': 'a block device',
  fifo: 'a FIFO',
};

/**
 * Extracts a tar (or tar+gzip) pack layer from `file` into `dest`, which must not exist yet.
 * Throws PackError (ARCHIVE_*, TAR_INVALID) for a hostile or broken layer, with `dest` removed.
 *
 * @example
 * const { root } = await extractTarLayer('cni-calico-3.27.2.tar.gz', '/tmp/x/pack', { gzip: true });
 * // root: '/tmp/x/pack/cni-calico' when the tar was made of the pack's folder
 */
export async function extractTarLayer(file: string, dest: string, options: TarExtractOptions): Promise<TarExtraction> {
  const limits = resolveLimits(options.limits);
  const source = createReadStream(file);
  let layerBytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      layerBytes += chunk.length;
      callback(null, chunk);
    },
  });
  await mkdir(dest);
  const state = {
    entries: 0,
    nameBytes: 0,
    total: 0,
    files: [] as string[],
    failure: null as PackError | null,
    // The entry being written: a failure waits for it before removing `dest`.
    writing: Promise.resolve(),
  };
  const seen = new Set<string>();
  // Every folder is made on disk as the layer is extracted: bounded before it is made.
  const folders = new ImpliedFolders(limits.maxEntries, (message) => refused('ARCHIVE_TOO_MANY_ENTRIES', message));
  const extract = loadTarStream().extract();
  const fail = (err: PackError): void => {
    state.failure ??= err;
    extract.destroy(err);
  };
  extract.on('entry', (header, stream, next) => {
    stream.on('error', () => undefined);
    try {
      const entry = checkEntry(header, dest);
      state.writing = (entry === null ? skip(stream) : writeEntry(stream, entry, header.mode)).then(
        () => {
          next();
        },
        (err: unknown) => {
          fail(writeFailure(err, header.name));
        },
      );
    } catch (err) {
      fail(err as PackError);
    }
  });

  /** Checks one header; returns where it goes, or null for the root's own entry and macOS metadata. */
  function checkEntry(header: tar.Header, root: string): Target | null {
    state.entries++;
    if (state.entries > limits.maxEntries) {
      throw refused('ARCHIVE_TOO_MANY_ENTRIES', `the layer has more than ${limits.maxEntries} entries`);
    }
    state.nameBytes += Buffer.byteLength(header.name);
    if (state.nameBytes > MAX_TOTAL_NAME_BYTES) {
      throw refused('ARCHIVE_TOO_MANY_ENTRIES', TOO_MANY_NAME_BYTES);
    }
    // Typed as always set; tar-stream gives null for a type flag it does not know, refused below.
    const kind: string = header.type;
    const name = entryName(header.name);
    if (kind === 'directory' && (name === '' || name === '.' || name === './')) return null;
    if (name.includes('\uFFFD')) throw refused('ARCHIVE_UNSAFE_PATH', 'an entry name is not valid UTF-8');
    const problem = unsafeEntryName(name);
    if (problem) throw refused('ARCHIVE_UNSAFE_PATH', `entry "${shownName(header.name)}" ${problem}`);
    const special = SPECIAL_KINDS[kind];
    if (special !== undefined) {
      throw refused(
        'ARCHIVE_SPECIAL_ENTRY',
        `entry "${shownName(header.name)}" is ${special}; a pack holds regular files only`,
      );
    }
    if (kind !== 'file' && kind !== 'contiguous-file' && kind !== 'directory') {
      throw refused('ARCHIVE_SPECIAL_ENTRY', `entry "${shownName(header.name)}" is of an unsupported kind (${kind})`);
    }
    // Left out, as packctl build leaves out .DS_Store: the pack is what is beside them.
    if (isMacMetadata(name)) return null;
    const key = diskKey(name);
    if (seen.has(key)) throw refused('ARCHIVE_DUPLICATE_ENTRY', `entry "${name}" appears more than once`);
    seen.add(key);
    folders.add(kind === 'directory' ? `${key}/` : key);
    const target = path.join(root, ...name.replace(/\/$/, '').split('/'));
    if (kind === 'directory') return { directory: target };
    const size = header.size;
    if (size > limits.maxEntrySize) {
      throw refused('ARCHIVE_ENTRY_TOO_LARGE', `entry "${name}" is ${size} bytes; the limit is ${limits.maxEntrySize}`);
    }
    state.total += size;
    if (state.total > limits.maxTotalSize) {
      throw refused('ARCHIVE_TOO_LARGE', `the layer's files come to more than ${limits.maxTotalSize} bytes`);
    }
    state.files.push(name);
    return { file: target };
  }

  try {
    if (options.gzip) {
      const cap = archiveInflationCap((await stat(file)).size, limits);
      await pipeline(source, counter, createGunzip(), inflationMeter(cap, limits), extract);
    } else {
      await pipeline(source, counter, extract);
    }
    if (state.files.length === 0) throw refused('TAR_INVALID', 'the layer holds no files');
    // A plain tar's files come to at most its own size; a gzipped one was held to the cap already.
    if (state.total > archiveInflationCap(layerBytes, limits)) {
      throw refused('ARCHIVE_TOTAL_RATIO', `the layer's files come to ${state.total} bytes, too many for its size`);
    }
  } catch (err) {
    await state.writing.catch(() => undefined);
    await rm(dest, { recursive: true, force: true });
    if (state.failure) throw state.failure;
    if (isPackError(err)) throw err;
    throw refused('TAR_INVALID', `the layer is not a readable tar (${(err as Error).message})`);
  }
  return { root: packRoot(dest, state.files), files: state.files.length };
}

/**
 * The directory the pack's files sit in: the one folder that holds every file when there is one
 * (how `tar -czf x.tar.gz <pack dir>` lays a pack out), else the extraction directory.
 */
function packRoot(dest: string, files: readonly string[]): string {
  const first = files[0]?.split('/')[0];
  if (first === undefined) return dest;
  const prefix = `${first}/`;
  return files.every((name) => name.startsWith(prefix)) ? path.join(dest, first) : dest;
}

const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

type Target = { directory: string } | { file: string };
/** An entry's bytes as tar-stream hands them out (a streamx stream). */
type EntryStream = AsyncIterable<unknown>;

async function skip(stream: EntryStream): Promise<void> {
  const iterator = stream[Symbol.asyncIterator]();
  // Drained: the next entry starts after this one's bytes.
  while (!(await iterator.next()).done);
}

async function writeEntry(stream: EntryStream, target: Target, mode: number): Promise<void> {
  if ('directory' in target) {
    await makeDir(target.directory);
    await skip(stream);
    return;
  }
  await makeDir(path.dirname(target.file));
  const handle = await open(target.file, CREATE_FLAGS, mode & 0o111 ? 0o755 : 0o644);
  // Iterated, not piped: node's pipeline never settles when a tar-stream (streamx) entry is
  // destroyed by a truncated archive, while iteration throws its error.
  try {
    for await (const chunk of stream) await handle.write(chunk as Uint8Array);
  } finally {
    await handle.close();
  }
}

function writeFailure(err: unknown, name: string): PackError {
  if (isPackError(err)) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'ELOOP') {
    return refused('ARCHIVE_DUPLICATE_ENTRY', `entry "${shownName(name)}" collides with another entry`);
  }
  // The system's message names the path it failed on: the entry's name, whole, again.
  const why = code ?? shownName((err as Error).message);
  return refused('TAR_INVALID', `entry "${shownName(name)}" could not be read (${why})`);
}
