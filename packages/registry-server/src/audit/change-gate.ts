/**
 * Changes wait for their audit record. A signed-in caller's mutating request begins its work at
 * once (reading the body, checking a pack) and starts writing its pending audit record as soon as
 * its authorization has found its scope; every change the request then makes to storage (a put, a
 * delete, a local file stored, a staged object's commit) first waits until that record is durable
 * (starting it, if nothing did yet), and fails if it could not be written. So no change is ever
 * made without its record, and the record costs a request no time of its own.
 *
 * The other way round, a request may leave work running that its answer waits for alongside its
 * final audit entry ({@link holdAnswerFor}): the change-log entry that tells other replicas of a
 * change, say, whose outcome does not decide the answer.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ObjectStore, StagedObject } from '../storage/object-store.js';

interface Gate {
  /** Writes the request's pending audit record (once), resolving when it is durable. */
  record: () => Promise<unknown>;
  /** Work the answer waits for, besides the final entry. */
  holds: Promise<unknown>[];
}

const gate = new AsyncLocalStorage<Gate>();

/**
 * Runs `fn` (and all it starts) with its storage changes waiting for `record()`, started once;
 * `holds` collects what {@link holdAnswerFor} is given meanwhile.
 */
export function runGated<T>(record: () => Promise<unknown>, holds: Promise<unknown>[], fn: () => T): T {
  return gate.run({ record, holds }, fn);
}

/**
 * Has the answer of the request running this wait for `work` too (alongside its final audit
 * entry, not after it). `work` must not reject: its outcome is not the answer's. False outside a
 * request whose answer waits for its audit entry: the caller then awaits `work` itself.
 */
export function holdAnswerFor(work: Promise<void>): boolean {
  const current = gate.getStore();
  if (!current) return false;
  current.holds.push(work);
  return true;
}

async function recorded(): Promise<void> {
  await gate.getStore()?.record();
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
    delete: async (key, options) => {
      await recorded();
      return store.delete(key, options);
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
