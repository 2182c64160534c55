/**
 * Dependencies loaded at their first use instead of when pack-core is imported. The registry
 * imports pack-core whole at start-up, and zip and tar handling serve only some requests (and the
 * inspection workers): loading them up front was about a third of the server's import time.
 * They are CommonJS packages, required synchronously, so a caller holding a fresh stream never
 * waits (with no listener on it) for a module to load.
 */
import { createRequire } from 'node:module';
import type * as Archiver from 'archiver';
import type * as TarStream from 'tar-stream';
import type * as Unzipper from 'unzipper';

const require = createRequire(import.meta.url);

function once<T>(load: () => T): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= load());
}

/** tar-stream: OCI pack layers, chart archives. */
export const loadTarStream = once(() => require('tar-stream') as typeof TarStream);

/** unzipper: reading pack archives. */
export const loadUnzipper = once(() => require('unzipper') as typeof Unzipper);

/** archiver: writing pack archives. */
export const loadArchiver = once(() => require('archiver') as typeof Archiver);
