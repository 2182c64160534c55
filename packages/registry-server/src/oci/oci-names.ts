/**
 * The OCI Distribution Specification's grammars for what a /v2 path names: repository names, tags
 * and digests. Every check is linear in its input: a name is split on "/" and each component is
 * scanned once, never matched by a pattern that can backtrack over the whole path.
 */
import type { PackError } from '@packyard/pack-core';
import { registryError } from '../errors.js';

/** Longest repository name accepted (the spec lets registries cap it; distribution uses 255). */
export const MAX_NAME_LENGTH = 255;

// One component: [a-z0-9]+ runs joined by ".", "_", "__" or one or more "-". Linear: no group
// repeats a pattern that could match the same characters another way.
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_{1,2}|-+)[a-z0-9]+)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };
/** The spec's digest grammar: `algorithm ":" encoded`. */
const ANY_DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export function isRepositoryName(name: string): boolean {
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) return false;
  return name.split('/').every((component) => COMPONENT.test(component));
}

export function isTag(reference: string): boolean {
  return TAG.test(reference);
}

/** The name is not echoed: it may hold anything (control characters, a right-to-left override). */
export function nameInvalid(): PackError {
  return registryError('NAME_INVALID', 'invalid repository name', {
    hint: `lowercase components of letters and digits joined by . _ __ or -, separated by /, at most ${MAX_NAME_LENGTH} characters`,
  });
}

/** A repository name from the path's components, or NAME_INVALID. */
export function repositoryName(components: string[]): string {
  const name = components.join('/');
  if (!isRepositoryName(name)) throw nameInvalid();
  return name;
}

const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** An upload session id as the registry makes them (a UUID), or BLOB_UPLOAD_INVALID. */
export function parseUploadId(text: string): string {
  if (!UPLOAD_ID.test(text)) throw registryError('BLOB_UPLOAD_INVALID', 'invalid upload session id');
  return text;
}

/** A tag in the grammar's alphabet and length, whatever its first character. */
const TAG_LIKE = /^[a-zA-Z0-9._-]{1,128}$/;

/**
 * Whether a reference outside the tag grammar still looks like a tag (".hidden"): a read of it
 * answers MANIFEST_UNKNOWN (404), as distribution and the conformance suite expect; anything
 * else (slashes, control characters, overlong) is NAME_INVALID.
 */
export function isTagLike(reference: string): boolean {
  return TAG_LIKE.test(reference) && !/^\.{1,2}$/.test(reference);
}

/**
 * A sha256 or sha512 digest: the digest itself. Anything else is DIGEST_INVALID: malformed, or of
 * an algorithm this registry does not support (the spec's answer for both is the same code).
 */
export function parseDigest(text: string): string {
  const colon = text.indexOf(':');
  const algorithm = text.slice(0, colon);
  const hex = text.slice(colon + 1);
  // Own keys only: "constructor" or "__proto__" is no algorithm.
  const length = Object.hasOwn(HEX_LENGTH, algorithm) ? HEX_LENGTH[algorithm] : undefined;
  if (colon > 0 && length === hex.length && /^[0-9a-f]+$/.test(hex)) return text;
  const supported = length !== undefined;
  const known = !supported && text.length <= 1024 && ANY_DIGEST.test(text);
  const why = supported
    ? `invalid ${algorithm} digest: ${length} lowercase hex digits expected`
    : known
      ? `unsupported digest algorithm "${algorithm}"`
      : 'invalid digest';
  throw registryError('DIGEST_INVALID', why, {
    hint: 'sha256:<64 lowercase hex> or sha512:<128 lowercase hex>',
  });
}

/** Whether a manifest reference is a digest (else it must be a tag). */
export function isDigestReference(reference: string): boolean {
  return reference.includes(':');
}

/** The algorithm of a valid digest. */
export function algorithmOf(digest: string): 'sha256' | 'sha512' {
  return digest.startsWith('sha512:') ? 'sha512' : 'sha256';
}

/** A tag or digest reference, checked: a digest (parsed) or a tag. */
export function parseReference(reference: string): { digest: string } | { tag: string } {
  if (isDigestReference(reference)) return { digest: parseDigest(reference) };
  if (!isTag(reference)) {
    throw registryError('NAME_INVALID', 'invalid tag', { hint: 'a tag is [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}' });
  }
  return { tag: reference };
}

/** Where a registry's packs are, as Palette reads them: `spectro-packs/archive/<pack name>`. */
export const PACK_REPOSITORY_PREFIX = 'spectro-packs/archive/';

/** Whether a repository (inside its registry) holds packs: `spectro-packs/archive/<one segment>`. */
export function isPackRepository(repository: string): boolean {
  return (
    repository.startsWith(PACK_REPOSITORY_PREFIX) && !repository.slice(PACK_REPOSITORY_PREFIX.length).includes('/')
  );
}
