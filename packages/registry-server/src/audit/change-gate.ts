/**
 * Changes wait for their audit record. A signed-in caller's mutating request begins its work at
 * once (reading the body, checking a pack) and starts writing its pending audit record as soon as
 * its authorization has found its scope; every change the request then makes to storage (a put, a
 * delete, a local file stored, a staged object's commit) first waits until that record is durable
 * (starting it, if nothing did yet), and fails if it could not be written. So no change is ever
 * made without its record, and the record costs a request no time of its own.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ObjectStore, StagedObject } from '../storage/object-store.js';

const gate = new AsyncLocalStorage<() => Promise<unknown>>();

/** Runs `fn` (and all it starts) with its storage changes waiting for `record()`, started once. */
export function runGated<T>(record: () => Promise<unknown>, fn: () => T): T {
  return gate.run(record, fn);
}

async function recorded(): Promise<void> {
  await gate.getStore()?.();
}

/** `store`, whose changes wait for the audit record of the request making them (if any). */
export function gatedStore(store: ObjectStore): ObjectStore {
  const append = store.append?.bind(store);
  return {
    ...store,
    // Read through: a store still checking its backend learns this after start-up began.
    get conditionalWrites() {
      return store.conditionalWrites;
    },
    put: async (key, body, options) => {
      await recorded();
      return store.put(key, body, options);
    },
    ...(append
      ? {
          append: async (key: string, body: Buffer, options: { ifMatch: string }) => {
            await recorded();
            return append(key, body, options);
          },
        }
      : {}),
    delete: async (key) => {
      await recorded();
      return store.delete(key);
    },
    putFile: async (key, file, options) => {
      await recorded();
      return store.putFile(key, file, options);
    },
    stage: (key, options): StagedObject => {
      // The bytes may go up meanwhile: a staged object is invisible until committed.
      const staged = store.stage(key, options);
      return {
        stream: staged.stream,
        commit: async () => {
          await recorded();
          return staged.commit();
        },
        abort: () => staged.abort(),
      };
    },
  };
}
