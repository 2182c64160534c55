/**
 * Checking an uploaded archive before anything is stored: archive safety (pack-core reads only the
 * central directory and refuses hostile archives), then pack.json against the schema and every
 * lint rule that can run inside a zip, exactly as `packctl lint` runs them, then every entry's
 * size and CRC-32, so that a stored pack always extracts.
 */
import {
  archivePackFiles,
  lintPackFiles,
  MAX_MANIFEST_BYTES,
  openPackArchive,
  type PackArchive,
  type PackError,
  README_EXCERPT_SCAN_CHARS,
  readmeExcerpt,
  parseManifestText,
  validateManifest,
  type ArchiveLimits,
  type BlockChecksums,
  type Finding,
  type PackManifest,
} from '@packyard/pack-core';
import { registryError } from '../errors.js';
import type { ArchiveFile } from '../catalog/records.js';

export interface InspectedPack {
  manifest: PackManifest;
  files: ArchiveFile[];
  /** Lint warnings: they do not stop a publish, and are returned to the publisher. */
  warnings: Finding[];
  /** The README's first paragraph as plain text (what catalog cards show), null when none. */
  description: string | null;
}

function invalid(findings: Finding[]): PackError {
  const errors = findings.filter((f) => f.severity === 'error');
  const first = errors[0];
  const summary = first ? `${first.file}: ${first.message}` : 'the pack is invalid';
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return registryError('PACK_INVALID', `the pack failed validation: ${summary}${more}`, {
    details: { findings: errors },
  });
}

/**
 * Opens and validates an uploaded pack archive; throws PackError (4xx) for any problem. `blocks`,
 * the file's block checksums taken while it was received, spare a second read of stored entries.
 */
export async function inspectPack(
  file: string,
  limits: ArchiveLimits,
  blocks?: BlockChecksums,
): Promise<InspectedPack> {
  const archive = await openPackArchive(file, limits);
  const lint = await lintPackFiles(archivePackFiles(archive));
  if (lint.errors > 0) throw invalid(lint.findings);
  // Lint has read pack.json already; read it once more for the typed manifest.
  const text = (await archive.read('pack.json', MAX_MANIFEST_BYTES)).toString('utf8');
  const parsed = parseManifestText(text);
  const { manifest } = validateManifest(parsed.value);
  if (!manifest) throw invalid(lint.findings);
  await archive.verify(blocks ? { blocks } : {});
  return {
    manifest,
    files: archive.entries.map((entry) => ({ path: entry.path, size: entry.size })),
    warnings: lint.findings.filter((f) => f.severity === 'warning'),
    description: await describe(archive),
  };
}

/** The README's first paragraph, read from at most the first bytes of README.md that hold it. */
async function describe(archive: PackArchive): Promise<string | null> {
  if (!archive.entries.some((entry) => entry.path === 'README.md')) return null;
  const chunks: Buffer[] = [];
  let bytes = 0;
  // UTF-8 takes at most 4 bytes a character: this many bytes hold the characters looked at.
  const wanted = README_EXCERPT_SCAN_CHARS * 4;
  for await (const chunk of archive.stream('README.md')) {
    chunks.push(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    if (bytes >= wanted) break;
  }
  return readmeExcerpt(Buffer.concat(chunks).subarray(0, wanted).toString('utf8'));
}
