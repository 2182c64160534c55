/**
 * The keys access tokens are signed with, kept in storage (identity/signing-key.json, owner-only
 * like every stored object) so that every replica signs and accepts the same tokens. The first key
 * of the document signs; the one after it, the key it replaced, still verifies, so that rotating
 * the key signs nobody out: a token signed with the old key keeps working until it expires (at
 * most `auth.tokenTtlSeconds`), and a refresh re-signs it with the new one. A token names its key
 * by `kid` in its JWT header.
 *
 * Replicas pick a rotation up on their own: they re-read the document once their copy is older than
 * the poll interval, and a token whose key they do not know makes them re-read it at once (at most
 * once a second).
 */
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { createJson, readJson, updateJson } from '../storage/json-documents.js';
import type { ObjectStore } from '../storage/object-store.js';
import { signingKeyKey } from '../storage/layout.js';
import type { TokenKey, TokenSecret } from './secrets.js';

export interface StoredSigningKey {
  /** Names the key in the header of the tokens it signs. */
  kid: string;
  /** 32 random bytes, base64. */
  key: string;
  createdAt: string;
}

/** The document: `keys[0]` signs, the rest only verify. */
interface SigningKeyDocument {
  keys: StoredSigningKey[];
}

/** The document as written before keys rotated: one key, no kid. */
interface LegacySigningKeyDocument {
  key: string;
  createdAt: string;
}

/** How many keys besides the current one still verify: the one it replaced. */
const PREVIOUS_KEPT = 1;

function freshKey(): StoredSigningKey {
  const key = randomBytes(32);
  return { kid: kidOf(key), key: key.toString('base64'), createdAt: new Date().toISOString() };
}

/** A key's id: derived from the key, so that every replica names a legacy key alike. */
function kidOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 16);
}

function normalise(stored: SigningKeyDocument | LegacySigningKeyDocument): SigningKeyDocument {
  if ('keys' in stored) return stored;
  return { keys: [{ kid: kidOf(Buffer.from(stored.key, 'base64')), key: stored.key, createdAt: stored.createdAt }] };
}

/** The signing keys, newest first; created once, for every replica to share, when there are none. */
export async function loadSigningKeys(store: ObjectStore): Promise<StoredSigningKey[]> {
  const existing = await readJson<SigningKeyDocument | LegacySigningKeyDocument>(store, signingKeyKey());
  if (existing) return normalise(existing.value).keys;
  await createJson(store, signingKeyKey(), { keys: [freshKey()] } satisfies SigningKeyDocument);
  const stored = await readJson<SigningKeyDocument | LegacySigningKeyDocument>(store, signingKeyKey());
  if (!stored) throw new Error('the token signing key vanished while starting');
  return normalise(stored.value).keys;
}

/**
 * Puts a new signing key first and keeps the one it replaces for verification (older ones go:
 * tokens they signed stop working). Returns the keys as stored.
 */
export async function rotateSigningKey(store: ObjectStore): Promise<StoredSigningKey[]> {
  const fresh = freshKey();
  const updated = await updateJson<SigningKeyDocument | LegacySigningKeyDocument>(
    store,
    signingKeyKey(),
    (current) => ({ keys: [fresh, ...normalise(current).keys.slice(0, PREVIOUS_KEPT)] }),
    () => ({ keys: [] }),
  );
  if (!updated) throw new Error('the token signing key document could not be written');
  return normalise(updated.value).keys;
}

/** How often at most a token naming an unknown key makes this process re-read the keys. */
const UNKNOWN_KEY_RELOAD_MS = 1000;

/** This process's copy of the signing keys, re-read as the module comment says. */
export class SigningKeyring {
  private signing: TokenKey;
  private verifying: Map<string, TokenSecret>;
  private loadedAt = Date.now();
  /** When a token naming an unknown key last made this process re-read the keys. */
  private missedAt = 0;
  private loading: Promise<void> | null = null;

  private constructor(
    private readonly store: ObjectStore,
    keys: [TokenKey, Map<string, TokenSecret>],
    /** How old the copy may get before signing re-reads it. */
    private readonly maxAgeMs: number,
  ) {
    [this.signing, this.verifying] = keys;
  }

  static async open(store: ObjectStore, maxAgeMs: number): Promise<SigningKeyring> {
    return new SigningKeyring(store, await ring(await loadSigningKeys(store)), maxAgeMs);
  }

  /** The key new tokens are signed with. */
  async current(): Promise<TokenKey> {
    await this.fresh();
    return this.signing;
  }

  /** The key named `kid`, if it still verifies. */
  async verifier(kid: string): Promise<TokenSecret | undefined> {
    await this.fresh();
    const known = this.verifying.get(kid);
    if (known || Date.now() - this.missedAt < UNKNOWN_KEY_RELOAD_MS) return known;
    this.missedAt = Date.now();
    await this.reload().catch(() => undefined);
    return this.verifying.get(kid);
  }

  /**
   * Re-reads the keys once the copy is older than `maxAgeMs` (one read per interval, shared by
   * the requests that arrive meanwhile), so a key rotated out stops verifying here too. With
   * storage out of reach, the keys known are kept.
   */
  private async fresh(): Promise<void> {
    if (Date.now() - this.loadedAt >= this.maxAgeMs) await this.reload().catch(() => undefined);
  }

  private reload(): Promise<void> {
    this.loading ??= loadSigningKeys(this.store)
      .then(ring)
      .then((keys) => {
        [this.signing, this.verifying] = keys;
      })
      .finally(() => {
        // A failed read is tried again no sooner than a successful one would be.
        this.loadedAt = Date.now();
        this.loading = null;
      });
    return this.loading;
  }
}

/** The signing key and the verifying keys by kid, as WebCrypto HMAC keys (see {@link TokenSecret}). */
async function ring(keys: StoredSigningKey[]): Promise<[TokenKey, Map<string, TokenSecret>]> {
  const hmac = { name: 'HMAC', hash: 'SHA-256' };
  const imported = await Promise.all(
    keys.map(
      async (k) =>
        [
          k.kid,
          await webcrypto.subtle.importKey('raw', Buffer.from(k.key, 'base64'), hmac, false, ['sign', 'verify']),
        ] as const,
    ),
  );
  const verifying = new Map<string, TokenSecret>(imported);
  const first = keys[0];
  const secret = first && verifying.get(first.kid);
  if (!first || !secret) throw new Error('the token signing key document holds no key');
  return [{ kid: first.kid, secret }, verifying];
}
