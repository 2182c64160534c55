/**
 * The one error type of Packyard, and pack-core's catalogue of error codes. Every error carries a
 * stable string code, a message, an optional hint telling the user how to fix it, and the HTTP
 * status the registry answers with; packctl maps statuses to exit codes, the server writes
 * `{ error: { code, message, hint } }`.
 *
 * Codes live in catalogues, one per package (this one, registry-server's `src/errors.ts`): a code,
 * its status, what it means and its default hint. Errors are raised through a catalogue's factory
 * ({@link packError} here), so a code that is not catalogued does not compile, and one code always
 * has one status. docs/error-codes.md is generated from the catalogues
 * (`node scripts/gen-error-docs.mjs`).
 *
 * @example
 * throw packError('ARCHIVE_UNSAFE_PATH', `entry "${name}" leaves the archive root`);
 */

export interface ErrorSpec {
  /** The HTTP status of the answer; null for an error that is no answer (start-up, say). */
  status: number | null;
  /** What the code means, for docs/error-codes.md. */
  meaning: string;
  /** The hint given when the code raising it gives none. */
  hint?: string;
}

export interface PackErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Structured detail for machines (the lint findings that stopped a publish, say). */
  details?: unknown;
}

export class PackError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly status: number;
  /** Structured detail for machines (the lint findings that stopped a publish, say). */
  readonly details: unknown;

  /** Use a catalogue's factory ({@link packError}, registryError): it knows the status. */
  constructor(code: string, message: string, options: PackErrorOptions & { status: number }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PackError';
    this.code = code;
    this.hint = options.hint;
    this.status = options.status;
    this.details = options.details;
  }
}

export function isPackError(value: unknown): value is PackError {
  return value instanceof PackError;
}

/**
 * An error of `catalogue`'s `code`: its status, and its default hint unless `options` has one.
 * Each package's factory is this, bound to its catalogue.
 */
export function cataloguedError<C extends string>(
  catalogue: Readonly<Record<C, ErrorSpec>>,
  code: C,
  message: string,
  options: PackErrorOptions = {},
): PackError {
  const spec = catalogue[code];
  const hint = options.hint ?? spec.hint;
  return new PackError(code, message, {
    ...options,
    status: spec.status ?? 500,
    ...(hint === undefined ? {} : { hint }),
  });
}

/** Errors of pack archives: when the registry reads an upload and when packctl extracts. */
export const ARCHIVE_ERRORS = {
  ARCHIVE_INVALID: {
    status: 422,
    meaning: 'The bytes are not a readable zip (not a zip at all, empty, or truncated).',
    hint: 'upload the .zip written by `packctl build`',
  },
  ARCHIVE_TOO_MANY_ENTRIES: {
    status: 422,
    meaning:
      'More entries than the limit (10,000 by default), entry names that take more than 2 MiB in all, or that lie in more folders than the entry limit.',
  },
  ARCHIVE_UNSAFE_PATH: {
    status: 422,
    meaning:
      'An entry name is absolute, has a `..`, `.` or empty segment, a backslash, a NUL byte or a drive letter, is not UTF-8, longer than 4,096 bytes (a segment 255), or more than 64 folders deep.',
    hint: 'rebuild the pack with packctl build',
  },
  ARCHIVE_DUPLICATE_ENTRY: {
    status: 422,
    meaning:
      'Two entries have the same name on disk (case-folded, Unicode-normalised), or a file lies inside another file.',
  },
  ARCHIVE_SPECIAL_ENTRY: {
    status: 422,
    meaning: 'An entry is a symlink, hard link, FIFO, device or socket.',
  },
  ARCHIVE_ENCRYPTED: {
    status: 422,
    meaning: 'An entry is encrypted.',
  },
  ARCHIVE_UNSUPPORTED: {
    status: 422,
    meaning: 'An entry uses a compression method other than store or deflate.',
  },
  ARCHIVE_ENTRY_TOO_LARGE: {
    status: 422,
    meaning: 'One entry inflates past the per-entry limit.',
  },
  ARCHIVE_TOO_LARGE: {
    status: 422,
    meaning: 'All entries together inflate past the total limit.',
  },
  ARCHIVE_RATIO: {
    status: 422,
    meaning: 'An entry of 1 MiB or more is compressed more than the ratio limit (200:1 by default): a zip bomb.',
  },
  ARCHIVE_TOTAL_RATIO: {
    status: 422,
    meaning: 'All entries together inflate to more than 50 times the archive (over 8 MiB in all): a zip bomb.',
  },
  ARCHIVE_CORRUPT: {
    status: 422,
    meaning: 'An entry inflates past what it declares, declares sizes no zip can hold, or its CRC-32 does not match.',
    hint: 'build the pack with `packctl build`, which writes safe archives',
  },
  ARCHIVE_HEADER_MISMATCH: {
    status: 422,
    meaning: 'A local header disagrees with the central directory (name, method, CRC, sizes), or entries overlap.',
  },
  ARCHIVE_FORMAT_UNKNOWN: {
    status: 422,
    meaning: 'A pack layer is neither a zip, a tar nor a gzip-compressed tar (told by its first bytes).',
    hint: 'push the pack as `tar -czf NAME-VERSION.tar.gz <pack dir>` or as the .zip written by `packctl build`',
  },
  TAR_INVALID: {
    status: 422,
    meaning: 'A tar pack layer does not read: a bad header checksum, a truncated tar or gzip stream, or no files.',
    hint: 'make the layer with `tar -czf NAME-VERSION.tar.gz <pack dir>`',
  },
  LAYER_FILES_LEFT_OUT: {
    status: 422,
    meaning:
      'A tar pack layer holds files a pack leaves out (`.packignore`, `.git/`, `node_modules/`, `.packctl/`): OCI clients are served the layer as pushed, so those files would reach them unchecked.',
    hint: 'leave them out of the layer (`tar --exclude=...`), or push the .zip written by `packctl build`',
  },
  ARCHIVE_ENTRY_MISSING: {
    status: 404,
    meaning: 'A file asked for is not in the archive.',
  },
  EXTRACT_TARGET_NOT_EMPTY: {
    status: 400,
    meaning: 'Extraction was asked to write into a directory that already holds files.',
    hint: 'extract into a new or empty directory',
  },
} as const satisfies Record<string, ErrorSpec>;

/** Errors of a pack's contents. Lint findings are not errors of this kind: see lint/rules.ts. */
export const PACK_CONTENT_ERRORS = {
  CHART_NOT_TGZ: {
    status: 400,
    meaning: 'A file listed in `charts` is not a gzip-compressed tar (lint rule `chart-not-tgz`).',
    hint: 'package the chart with `helm package` and reference the resulting .tgz',
  },
  CHART_TOO_LARGE: {
    status: 400,
    meaning: 'A chart archive inflates past 200 times its size (or 1 GiB, or what the pack allows): a gzip bomb.',
    hint: 'a chart archive may inflate to at most 200 times its size (and 1 GiB); package the chart with `helm package`',
  },
  CHART_UNSAFE_PATH: {
    status: 400,
    meaning: "A chart archive has an entry Helm's loader refuses (absolute, `..`, outside the chart's directory).",
    hint: 'Helm refuses to load such an archive; package the chart with `helm package`',
  },
  CHART_YAML_INVALID: {
    status: 400,
    meaning: 'A chart archive has no `<chart>/Chart.yaml` with a name and a version (lint rule `chart-yaml-invalid`).',
    hint: 'a Helm chart archive holds one directory with a Chart.yaml; package it with `helm package`',
  },
  FILE_TOO_LARGE: {
    status: 400,
    meaning:
      'A text file (pack.json, a manifest, values.yaml) is larger than lint reads (pack.json 1 MiB, any YAML file 8 MiB).',
    hint: 'keep manifests and values small; large data belongs in images or charts',
  },
  PATH_NOT_IN_PACK: {
    status: 400,
    meaning: 'A path resolves outside the pack directory.',
  },
  NOT_A_REGULAR_FILE: {
    status: 400,
    meaning: 'A file the pack needs is a directory, FIFO, socket or device.',
    hint: 'make it a regular file, or remove it',
  },
  PACKIGNORE_TOO_LARGE: {
    status: 422,
    meaning:
      "A `.packignore` of more than 64 KiB or 1,000 patterns, or whose patterns cost more than 50 million steps to match against the pack's paths (about half a second).",
    hint: 'keep .packignore to the few patterns the pack needs; prefer plain names and folders (node_modules/, *.tmp) to many wildcards',
  },
} as const satisfies Record<string, ErrorSpec>;

export const PACK_CORE_ERRORS = { ...ARCHIVE_ERRORS, ...PACK_CONTENT_ERRORS };

export type PackCoreErrorCode = keyof typeof PACK_CORE_ERRORS;

/**
 * pack-core's way to raise an error: a catalogued code, with the catalogue's status and hint.
 *
 * @example
 * throw packError('FILE_TOO_LARGE', `${path} is larger than 1024 KiB`);
 */
export function packError(code: PackCoreErrorCode, message: string, options: PackErrorOptions = {}): PackError {
  return cataloguedError(PACK_CORE_ERRORS, code, message, options);
}

/** A PackError sent across a worker thread (structured clone keeps no class), made whole again. */
export function revivePackError(error: {
  code: string;
  message: string;
  status: number;
  hint?: string | undefined;
  details?: unknown;
}): PackError {
  return new PackError(error.code, error.message, {
    status: error.status,
    details: error.details,
    ...(error.hint === undefined ? {} : { hint: error.hint }),
  });
}
