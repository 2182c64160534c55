/**
 * JSON documents over an {@link ObjectStore}: create-once, and read-modify-write with
 * compare-and-swap (`If-Match` on the ETag) and retries, so that several server processes can
 * update one document without losing each other's writes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createOnce, isPreconditionFailed, type ObjectStore, type PutOptions } from './object-store.js';

export interface JsonDocument<T> {
  value: T;
  etag: string;
}

export async function readJson<T>(store: ObjectStore, key: string): Promise<JsonDocument<T> | null> {
  const found = await store.getBuffer(key);
  if (!found) return null;
  return { value: JSON.parse(found.body.toString('utf8')) as T, etag: found.etag };
}

/** A document's bytes as every writer here stores them. */
export function encodeJson(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 1)}\n`);
}

/** Writes `value` only when `key` does not exist: its ETag, or null when the key already existed. */
export function createJson(
  store: ObjectStore,
  key: string,
  value: unknown,
  options: Pick<PutOptions, 'after'> = {},
): Promise<string | null> {
  return createOnce(store, key, encodeJson(value), { contentType: 'application/json', ...options });
}

/** What an update function returns: the new value, or `undefined` to leave the document as it is. */
export type Updater<T> = (current: T) => T | undefined;

const MAX_ATTEMPTS = 20;

/**
 * Reads `key`, applies `update` and writes the result if the document did not change in
 * between; retries with a fresh read when it did. Returns the document as stored at the end (the
 * unchanged one when `update` returned undefined), or null when the key does not exist and no
 * `initial` value is given; with `initial`, a missing document is created from it (create-once).
 * `update` may throw to abort (a PackError for a conflict, say); it may run more than once.
 */
export async function updateJson<T>(
  store: ObjectStore,
  key: string,
  update: Updater<T>,
  initial?: () => T,
): Promise<(JsonDocument<T> & { changed: boolean }) | null> {
  for (let attempt = 1; ; attempt++) {
    const current = await readJson<T>(store, key);
    if (!current && !initial) return null;
    const base = current ? current.value : (initial as () => T)();
    const next = update(base);
    if (next === undefined) return current ? { ...current, changed: false } : null;
    try {
      const condition = current ? { ifMatch: current.etag } : { ifNoneMatch: '*' as const };
      const { etag } = await store.put(key, encodeJson(next), { ...condition, contentType: 'application/json' });
      return { value: next, etag, changed: true };
    } catch (err) {
      if (!isPreconditionFailed(err) || attempt >= MAX_ATTEMPTS) throw err;
      // Another writer won this round: back off a little, with jitter, and read again.
      await sleep(Math.random() * Math.min(200, 5 * 2 ** attempt));
    }
  }
}
