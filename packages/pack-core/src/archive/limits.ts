/**
 * How far an archive may inflate. Every decompression of untrusted bytes in pack-core is bounded
 * twice: before it starts, from what the archive declares (an archive whose directory promises a
 * zip bomb is refused without inflating a byte), and while it runs, by counting what comes out
 * (a stream that inflates past its bound is stopped at once, whatever it declared).
 *
 * The ratio caps only matter above a few MiB: inflating that much costs nothing, and small files of
 * repeated text (a YAML file of blank values, a README of dashes) compress far better than 200:1.
 * Real packs are mostly charts and images that are already compressed, stored or lightly deflated,
 * plus YAML that deflates 5-20x; they never come near the caps.
 */
import type { Readable } from 'node:stream';

export interface ArchiveLimits {
  maxEntries: number;
  /** Largest uncompressed size of one entry, in bytes. */
  maxEntrySize: number;
  /** Largest uncompressed size of all entries together, in bytes. */
  maxTotalSize: number;
  /** Largest uncompressed/compressed ratio of one entry (entries under 1 MiB are exempt). */
  maxCompressionRatio: number;
  /**
   * Largest ratio of all entries' uncompressed size together to the archive's size (archives that
   * inflate to under 8 MiB in all are exempt). Optional so that limits written before it still
   * type-check; {@link DEFAULT_ARCHIVE_LIMITS} fills it in.
   */
  maxArchiveRatio?: number;
}

export const DEFAULT_ARCHIVE_LIMITS: Readonly<Required<ArchiveLimits>> = {
  maxEntries: 10_000,
  maxEntrySize: 1024 * 1024 * 1024,
  maxTotalSize: 4 * 1024 * 1024 * 1024,
  maxCompressionRatio: 200,
  // Ten times what an all-YAML pack reaches; with the 8 MiB exemption, a 441 KiB archive can no
  // longer make `packctl pull --extract` write 400 MiB, nor a 3 MiB upload declare 3 GiB.
  maxArchiveRatio: 50,
};

/** Entries that inflate to less than this are exempt from the per-entry ratio cap. */
export const ENTRY_RATIO_EXEMPT_BYTES = 1024 * 1024;
/** Archives that inflate to less than this in all are exempt from the overall ratio cap. */
export const ARCHIVE_RATIO_EXEMPT_BYTES = 8 * 1024 * 1024;
/**
 * Deflate cannot do better than 1032:1 (a 258-byte match in two bits); an entry that declares
 * more is lying, whatever its size.
 */
export const DEFLATE_MAX_RATIO = 1032;

/** `limits` over the defaults; fields given as undefined keep their default. */
export function resolveLimits(limits: Partial<ArchiveLimits> = {}): Required<ArchiveLimits> {
  const resolved = { ...DEFAULT_ARCHIVE_LIMITS };
  for (const key of Object.keys(resolved) as Array<keyof ArchiveLimits>) {
    const value = limits[key];
    if (value !== undefined) resolved[key] = value;
  }
  return resolved;
}

/**
 * The most `compressed` bytes may inflate to as one stream (a zip entry, a chart's .tgz): the
 * per-entry size cap, and the per-entry ratio cap above its exemption.
 *
 * @example
 * inflationCap(10 * 1024 * 1024, DEFAULT_ARCHIVE_LIMITS); // 2000 MiB capped to 1 GiB
 */
export function inflationCap(compressed: number, limits: Required<ArchiveLimits>): number {
  return Math.min(limits.maxEntrySize, Math.max(ENTRY_RATIO_EXEMPT_BYTES, compressed * limits.maxCompressionRatio));
}

/** The most an archive of `archiveBytes` may inflate to in all. */
export function archiveInflationCap(archiveBytes: number, limits: Required<ArchiveLimits>): number {
  return Math.min(limits.maxTotalSize, Math.max(ARCHIVE_RATIO_EXEMPT_BYTES, archiveBytes * limits.maxArchiveRatio));
}

/**
 * What is still allowed to come out of the decompressions made for one archive (its chart .tgz
 * files, whose contents the archive's own check cannot see), shared by all of them.
 */
export interface InflationBudget {
  remaining: number;
}

/** What a stream opened on an archive entry tells the readers of its contents. */
export interface EntryStreamContext {
  /** The entry's size: the compressed size of whatever it holds (a chart's .tgz). */
  size: number;
  limits: Required<ArchiveLimits>;
  budget: InflationBudget;
}

// Lint reads charts through the PackFiles interface, which only hands over a stream; the archive
// that opened the stream records here what bounds its contents' decompression.
const contexts = new WeakMap<Readable, EntryStreamContext>();

export function setEntryStreamContext(stream: Readable, context: EntryStreamContext): void {
  contexts.set(stream, context);
}

export function entryStreamContext(stream: Readable): EntryStreamContext | undefined {
  return contexts.get(stream);
}
