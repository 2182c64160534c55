/**
 * The scope a request's authorization found, handed to whoever watches the request (the audit log
 * records its entry there, instead of reading the scope from the path again). A request context
 * carries the watcher, so every decision made while the request runs reaches it without being
 * passed through the routes.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Target } from '../identity/principals.js';

type DecisionListener = (target: Target) => void;

const watchers = new AsyncLocalStorage<DecisionListener>();

/** Runs `fn` (and all it starts: the request's handlers) telling `listener` each scope authorized. */
export function watchDecisions<T>(listener: DecisionListener, fn: () => T): T {
  return watchers.run(listener, fn);
}

/** Says that the running request was authorized in `target`. */
export function decided(target: Target): void {
  watchers.getStore()?.(target);
}
