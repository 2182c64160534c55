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
  type PackError,
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
  };
}
