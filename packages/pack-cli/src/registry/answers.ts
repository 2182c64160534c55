/**
 * Checks on the server answers packctl acts on. A version record names the file a pull writes and
 * the directory it extracts into, and says how many bytes to accept; a token goes into a header
 * and the credentials file. None of it is trusted as sent: names and versions must follow
 * pack-core's grammar (./../../../pack-core/src/names.ts), the record must be the one asked for,
 * and sizes and digests must be well-formed, or the answer is refused before anything is written.
 */
import {
  DEFAULT_ARCHIVE_LIMITS,
  isJsonObject,
  isPackName,
  isPackVersion,
  LAYERS,
  resolveVersion,
  type PackDependency,
  type PackLayer,
} from '@packyard/pack-core';
import { MAX_MANIFEST_CLOUD_TYPES, MAX_MANIFEST_DEPENDENCIES, type VersionRecord } from '@packyard/registry-api';
import { CliError } from '../errors.js';

/**
 * The largest archive packctl downloads: every entry stored uncompressed up to the extraction
 * limit, plus room for zip headers. A record claiming more is refused before the download starts.
 */
export const MAX_ARCHIVE_BYTES = DEFAULT_ARCHIVE_LIMITS.maxTotalSize + 64 * 1024 * 1024;

const DIGEST = /^sha256:[0-9a-f]{64}$/;
/** What an access token or API key may hold: visible ASCII, as in an Authorization header. */
const TOKEN = /^[\x21-\x7e]{1,4096}$/;

/** Whether a token or API key can go in an Authorization header: 1-4096 visible ASCII characters. */
export function isSendableToken(value: string): boolean {
  return TOKEN.test(value);
}
const MAX_USERNAME_LENGTH = 256;

/** A server's value for a message: quoted, and cut short (it may be megabytes). */
function excerpt(value: unknown): string {
  const text = value === undefined ? 'nothing' : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}

/** The refusal of a server answer that packctl will not act on. */
export function refusedAnswer(what: string, problem: string): CliError {
  return new CliError(`${what}: the server's answer ${problem}: refused`, {
    hint: 'check that --server names a Packyard registry you trust; nothing was written',
  });
}

/** `value` as an object, or a refusal naming `what`. */
function answerObject(value: unknown, what: string): Record<string, unknown> {
  if (!isJsonObject(value)) throw refusedAnswer(what, 'is not a JSON object');
  return value;
}

/** `value[key]` as a string, or a refusal. */
function answerString(value: Record<string, unknown>, key: string, what: string): string {
  const field = value[key];
  if (typeof field !== 'string') throw refusedAnswer(what, `has no text "${key}"`);
  return field;
}

/** What was asked for: a selector from the command line, or exactly one version (the latest the server named, one the resolver chose). */
export type Wanted = { selector: string } | { exactly: string };

/** The part of a version record that names a file and says what its bytes must be. */
export type ArchiveRecord = Pick<VersionRecord, 'name' | 'version' | 'digest' | 'size'>;

/** True when `version` is what `wanted` asks for (an exact version, a tag, a range, or the latest). */
function answers(version: string, wanted: Wanted): boolean {
  if ('exactly' in wanted) return version === wanted.exactly;
  return resolveVersion([version], wanted.selector) === version;
}

/**
 * Checks a version record before anything is built from it: the name asked for, a version of the
 * pack-core grammar that satisfies what was asked, a sha256 digest and a size packctl accepts.
 */
export function checkArchiveRecord(value: unknown, name: string, wanted: Wanted, what: string): ArchiveRecord {
  const record = answerObject(value, what);
  const recordName = answerString(record, 'name', what);
  const version = answerString(record, 'version', what);
  if (recordName !== name || !isPackName(recordName)) {
    throw refusedAnswer(what, `is for the pack ${excerpt(recordName)}, not ${name}`);
  }
  if (!isPackVersion(version)) throw refusedAnswer(what, `names ${excerpt(version)}, which is not a pack version`);
  if (!answers(version, wanted)) {
    const asked = 'exactly' in wanted ? wanted.exactly : wanted.selector;
    throw refusedAnswer(what, `is for version ${version}, which is not ${asked}`);
  }
  const digest = answerString(record, 'digest', what);
  if (!DIGEST.test(digest))
    throw refusedAnswer(what, `has ${excerpt(digest)} as the digest, not sha256:<64 hex digits>`);
  const size = record['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || size > MAX_ARCHIVE_BYTES) {
    throw refusedAnswer(what, `has ${excerpt(size)} as the archive size`);
  }
  return { name: recordName, version, digest, size };
}

/** A version named by the server (a pack's latest, an entry of its version list), checked. */
export function checkVersion(value: unknown, what: string): string {
  if (typeof value !== 'string' || !isPackVersion(value)) {
    throw refusedAnswer(what, `names ${excerpt(value)} as a version`);
  }
  return value;
}

/** A layer named by the server. */
export function checkLayer(value: unknown, what: string): PackLayer {
  const layer = LAYERS.find((l) => l === value);
  if (layer === undefined) throw refusedAnswer(what, `names ${excerpt(value)} as the layer`);
  return layer;
}

/** A token the server issued (login, refresh), checked before it is stored and sent in headers. */
export function checkIssuedToken(value: unknown, what: string): { token: string; expiresAt: string } {
  const issued = answerObject(value, what);
  const token = answerString(issued, 'token', what);
  const expiresAt = answerString(issued, 'expiresAt', what);
  if (!TOKEN.test(token))
    throw refusedAnswer(what, 'holds a token packctl cannot send (not 1-4096 visible ASCII characters)');
  if (expiresAt.length > 64 || !Number.isFinite(Date.parse(expiresAt)))
    throw refusedAnswer(what, 'has no valid expiry');
  return { token, expiresAt };
}

/**
 * The secret of an API key the server just created: printed bare on stdout for `$(...)` and put in
 * Authorization headers later, so it must be what a token is (1-4096 visible ASCII characters,
 * {@link isSendableToken}); anything else (terminal escapes, line breaks) is refused, never shown.
 */
export function checkIssuedKey(key: string, id: string, what: string): string {
  if (TOKEN.test(key)) return key;
  throw new CliError(
    `${what}: the server's answer holds a key packctl cannot use (not 1-4096 visible ASCII characters): refused, not shown`,
    { hint: `the server may have created it all the same: revoke it (packctl apikey rm ${id}) and check the server` },
  );
}

/** Who the server says the caller is (GET /v1/auth/me). */
export function checkIdentity(value: unknown, what: string): { kind: string; username: string; tenant: string | null } {
  const me = answerObject(value, what);
  const username = answerString(me, 'username', what);
  if (username.length === 0 || username.length > MAX_USERNAME_LENGTH)
    throw refusedAnswer(what, 'has no valid username');
  const tenant = me['tenant'] ?? null;
  if (tenant !== null && (typeof tenant !== 'string' || tenant.length > MAX_USERNAME_LENGTH)) {
    throw refusedAnswer(what, 'has no valid tenant');
  }
  const kind = typeof me['kind'] === 'string' ? me['kind'] : 'user';
  return { kind, username, tenant };
}

const DEPENDENCY_TYPES = ['required', 'optional', 'notSupported', 'upgrade'] as const;

function optionalBound(value: unknown): value is string | null | undefined {
  return value === undefined || value === null || typeof value === 'string';
}

/** What the profile resolver reads of a version record's manifest, checked for shape. */
export function checkResolverDetails(
  record: Record<string, unknown>,
  what: string,
): { cloudTypes: string[]; dependencies: PackDependency[] } {
  const manifest = record['manifest'] ?? {};
  if (!isJsonObject(manifest)) throw refusedAnswer(what, 'has no manifest object');
  const cloudTypes = manifest['cloudTypes'] ?? [];
  if (!Array.isArray(cloudTypes) || !cloudTypes.every((c) => typeof c === 'string')) {
    throw refusedAnswer(what, 'has cloudTypes that are not a list of names');
  }
  // More than a pack.json the registry takes can hold (the contract's schema says so too).
  if (cloudTypes.length > MAX_MANIFEST_CLOUD_TYPES) {
    throw refusedAnswer(what, `lists more than ${MAX_MANIFEST_CLOUD_TYPES} cloud types`);
  }
  const constraints = manifest['constraints'] ?? {};
  const dependencies = isJsonObject(constraints) ? (constraints['dependencies'] ?? []) : null;
  if (!Array.isArray(dependencies)) throw refusedAnswer(what, 'has constraints.dependencies that are not a list');
  if (dependencies.length > MAX_MANIFEST_DEPENDENCIES) {
    throw refusedAnswer(what, `lists more than ${MAX_MANIFEST_DEPENDENCIES} dependencies`);
  }
  const checked = dependencies.map((d): PackDependency => {
    const type = isJsonObject(d) ? DEPENDENCY_TYPES.find((t) => t === d['type']) : undefined;
    if (
      !isJsonObject(d) ||
      type === undefined ||
      typeof d['packName'] !== 'string' ||
      typeof d['layer'] !== 'string' ||
      !optionalBound(d['minVersion']) ||
      !optionalBound(d['maxVersion'])
    ) {
      throw refusedAnswer(what, `has a dependency ${excerpt(d)} packctl cannot read`);
    }
    return {
      packName: d['packName'],
      layer: d['layer'],
      type,
      ...(d['minVersion'] === undefined ? {} : { minVersion: d['minVersion'] }),
      ...(d['maxVersion'] === undefined ? {} : { maxVersion: d['maxVersion'] }),
    };
  });
  return { cloudTypes, dependencies: checked };
}
