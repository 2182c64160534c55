/**
 * For backends that ignore `If-None-Match` / `If-Match` (s3rver, some appliances): conditional
 * writes are checked and done under an in-process mutex per key. That is only correct while a
 * single process writes to the backend, which is why `conditionalWrites` stays false and
 * ./create-store.ts warns about it.
 */
import {
  PreconditionFailedError,
  type ObjectStore,
  type PutOptions,
  type StageOptions,
  type StagedObject,
} from './object-store.js';
import { KeyedLock } from './keyed-lock.js';

export function serialiseConditionalWrites(store: ObjectStore): ObjectStore {
  const append = store.append?.bind(store);
  const locks = new KeyedLock();
  const exclusive = <T>(key: string, fn: () => Promise<T>): Promise<T> => locks.run(key, fn);

  async function put(key: string, body: Buffer | string, options: PutOptions = {}): Promise<{ etag: string }> {
    const { ifNoneMatch, ifMatch, after, ...rest } = options;
    // Waited for before the key's turn: reads of the key queue behind its writes.
    await after;
    // Unconditional puts queue too: one landing between a check and its write would be lost.
    return exclusive(key, async () => {
      if (ifNoneMatch !== undefined || ifMatch !== undefined) {
        const current = await store.head(key);
        if (ifNoneMatch === '*' && current) throw new PreconditionFailedError(key);
        if (ifMatch !== undefined && current?.etag !== ifMatch) throw new PreconditionFailedError(key);
      }
      // The conditions are not passed on: the backend would ignore them, or refuse them (501).
      return store.put(key, body, rest);
    });
  }

  function stage(key: string, options?: StageOptions): StagedObject {
    const staged = store.stage(key, options);
    // The bytes go up in parallel; only making the object visible waits its turn on the key.
    return { stream: staged.stream, commit: () => exclusive(key, () => staged.commit()), abort: () => staged.abort() };
  }

  return {
    description: store.description,
    conditionalWrites: false,
    put,
    stage,
    putFile: (key, file, options) => exclusive(key, () => store.putFile(key, file, options)),
    ...(append ? { append: (key, body, options) => exclusive(key, () => append(key, body, options)) } : {}),
    get: (key, options) => store.get(key, options),
    // Reads of a key wait for its queued writes: s3rver rewrites files in place, and a read racing
    // a write can see a truncated document.
    getBuffer: (key) => exclusive(key, () => store.getBuffer(key)),
    head: (key) => exclusive(key, () => store.head(key)),
    delete: (key, options) => exclusive(key, () => store.delete(key, options)),
    list: (prefix, options) => store.list(prefix, options),
    ping: () => store.ping(),
    ...(store.downloadUrl
      ? {
          downloadUrl: (key, options) =>
            store.downloadUrl?.(key, options) ?? Promise.reject(new Error('no download URLs')),
        }
      : {}),
    close: () => store.close(),
  };
}
