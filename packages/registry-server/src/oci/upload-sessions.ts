/**
 * OCI blob upload sessions: `POST .../blobs/uploads/` starts one, PATCHes append chunks, `PUT
 * ?digest=` finishes it, DELETE cancels it. A session's bytes go to a temporary file in the
 * server's upload directory, hashed (sha256) as they arrive; on finish the digest is checked and
 * the file is staged into the store (an S3 multipart upload, so chunks smaller than S3's 5 MiB part
 * minimum do not matter), and nothing is visible before that.
 *
 * Session state is in this process's memory: the chunks of one upload must reach the same replica
 * (sticky sessions), while a monolithic push (one request) works on any. Sessions idle longer than
 * the configured time are removed by a timer, and all of them on shutdown.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { pipelineUntilClosed, type PackError } from '@packyard/pack-core';
import { makePrivateDir } from '../storage/file-modes.js';
import { removeFile } from '../storage/fs-files.js';
import { diskFullAsStorageFull } from '../storage/object-store.js';
import { tempName } from '../storage/temp-files.js';
import { registryError } from '../errors.js';
import { bodyReceived } from '../v8-policy.js';
import { DEFAULT_BODY_IDLE_MS, idleGuard } from './body-idle.js';
import { algorithmOf } from './oci-names.js';
import type { RepositoryRef } from './repository-store.js';

/**
 * Open sessions a process keeps at most: each holds a file and a little memory until it ends or
 * idles out, so a client starting sessions in a loop must not exhaust either.
 */
export const MAX_SESSIONS = 10_000;

/**
 * Open sessions one caller keeps at most: without it one client (of any tenant) could take every
 * session of the process and stop everyone else's pushes. Clients push a few layers at a time.
 */
export const MAX_SESSIONS_PER_OWNER = 200;

export interface UploadSession {
  readonly id: string;
  readonly at: RepositoryRef;
  /** Who started it: only they may continue, finish or cancel it. */
  readonly owner: string;
  /** Bytes received so far. */
  size: number;
  readonly file: string;
  /** Whether the file was made (by the first chunk): a monolithic push never makes one. */
  hasFile: boolean;
  /** sha256 of the bytes received so far. */
  hash: Hash;
  lastActive: number;
  /** A request is writing to it: a second one at the same time is refused. */
  busy: boolean;
}

export interface UploadSessionOptions {
  dir: string;
  /** Largest blob accepted. */
  maxBytes: number;
  /** A session with no request for this long is removed. */
  idleMs: number;
  /** A chunk that sends nothing for this long fails (default {@link DEFAULT_BODY_IDLE_MS}). */
  bodyIdleMs?: number;
  /** Sessions open at once in this process (default {@link MAX_SESSIONS}). */
  maxSessions?: number;
  /** Sessions one owner keeps open at once (default {@link MAX_SESSIONS_PER_OWNER}). */
  maxSessionsPerOwner?: number;
  logger: Logger;
}

export function uploadUnknown(): PackError {
  return registryError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', {
    hint: 'start a new upload with POST /v2/<name>/blobs/uploads/ (chunked uploads need every request on one replica)',
  });
}

function busy(): PackError {
  return registryError('BLOB_UPLOAD_INVALID', 'another request is writing to this upload', {
    hint: 'send the chunks of one upload one after the other',
  });
}

export function tooLarge(maxBytes: number): PackError {
  return registryError('BODY_TOO_LARGE', `the blob is larger than the limit of ${maxBytes} bytes`);
}

/** Counts and hashes what passes through, and refuses to pass more than `limit` bytes in all. */
function meter(session: UploadSession, limit: number): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (session.size + chunk.length > limit) {
        done(tooLarge(limit));
        return;
      }
      session.size += chunk.length;
      session.hash.update(chunk);
      bodyReceived(chunk);
      done(null, chunk);
    },
  });
}

/** The digest of a whole file, for an algorithm the session did not follow (sha512). */
async function digestOfFile(file: string, algorithm: 'sha256' | 'sha512'): Promise<string> {
  const hash = createHash(algorithm);
  await pipeline(createReadStream(file), hash);
  return `${algorithm}:${hash.digest('hex')}`;
}

export class UploadSessions {
  private readonly sessions = new Map<string, UploadSession>();
  /** Open sessions and counted transfers per owner. */
  private readonly owned = new Map<string, number>();
  /** Uploads without a session under way (see {@link counted}). */
  private transfers = 0;
  private readonly timer: NodeJS.Timeout;
  private dirReady: Promise<void> | null = null;

  constructor(readonly options: UploadSessionOptions) {
    this.timer = setInterval(() => void this.sweep(), Math.max(1000, Math.min(options.idleMs, 60_000)));
    this.timer.unref();
  }

  get maxBytes(): number {
    return this.options.maxBytes;
  }

  get count(): number {
    return this.sessions.size;
  }

  /** Refuses one more upload of `owner` past the process's or the owner's cap. */
  private admit(owner: string): void {
    if (this.sessions.size + this.transfers >= (this.options.maxSessions ?? MAX_SESSIONS)) {
      throw registryError('TOOMANYREQUESTS', 'too many uploads are open; retry later', {
        details: { retryAfterSeconds: 60 },
      });
    }
    const perOwner = this.options.maxSessionsPerOwner ?? MAX_SESSIONS_PER_OWNER;
    if ((this.owned.get(owner) ?? 0) >= perOwner) {
      throw registryError('TOOMANYREQUESTS', `you have ${perOwner} uploads open; finish or cancel some`, {
        details: { retryAfterSeconds: 60 },
      });
    }
  }

  /**
   * Runs an upload that needs no session (a monolithic blob, a manifest) counted against the same
   * caps as the sessions while it lasts: one caller cannot hold more bodies, descriptors and staged
   * files by sending them whole than by sessions.
   */
  async counted<T>(owner: string, work: () => Promise<T>): Promise<T> {
    this.admit(owner);
    this.transfers++;
    this.owned.set(owner, (this.owned.get(owner) ?? 0) + 1);
    try {
      return await work();
    } finally {
      this.transfers--;
      this.release(owner);
    }
  }

  private release(owner: string): void {
    const left = (this.owned.get(owner) ?? 1) - 1;
    if (left > 0) this.owned.set(owner, left);
    else this.owned.delete(owner);
  }

  /** Starts a session of `owner` (who may continue it) in a repository. */
  async start(at: RepositoryRef, owner: string): Promise<UploadSession> {
    this.admit(owner);
    this.dirReady ??= makePrivateDir(this.options.dir);
    await this.dirReady;
    const id = randomUUID();
    // The file is created by the first chunk (or by a finish without any: an empty blob), so that
    // a monolithic push (POST, then PUT with the body, which streams into the store) costs no file.
    const file = path.join(this.options.dir, tempName('.oci'));
    const session: UploadSession = {
      id,
      at,
      owner,
      size: 0,
      file,
      hasFile: false,
      hash: createHash('sha256'),
      lastActive: Date.now(),
      busy: false,
    };
    this.sessions.set(id, session);
    this.owned.set(owner, (this.owned.get(owner) ?? 0) + 1);
    return session;
  }

  /** Forgets a session (its file is the caller's to remove). */
  private remove(session: UploadSession): void {
    if (!this.sessions.delete(session.id)) return;
    this.release(session.owner);
  }

  /**
   * The session `id` of the repository, started by `owner`, or BLOB_UPLOAD_UNKNOWN: another
   * caller, even one who may push there, cannot append to or end someone else's upload.
   */
  get(id: string, at: RepositoryRef, owner: string): UploadSession {
    const session = this.sessions.get(id);
    if (
      !session ||
      session.owner !== owner ||
      session.at.registry !== at.registry ||
      session.at.repository !== at.repository
    ) {
      throw uploadUnknown();
    }
    session.lastActive = Date.now();
    return session;
  }

  /**
   * Appends a chunk. On any failure (a torn request, the size limit, a full disk) the session is
   * left as it was before the chunk, so that the client can send it again.
   */
  async append(
    session: UploadSession,
    body: Readable,
    /** Refuses the chunk once received (its size, say): the error, or null to keep it. */
    refuse: (received: number) => PackError | null = () => null,
  ): Promise<void> {
    if (session.busy) throw busy();
    session.busy = true;
    const before = { size: session.size, hash: session.hash.copy() };
    session.hasFile = true;
    try {
      // Truncated below on failure: only once no write of this chunk can land after that.
      await pipelineUntilClosed([
        body,
        idleGuard(this.options.bodyIdleMs ?? DEFAULT_BODY_IDLE_MS),
        meter(session, this.options.maxBytes),
        createWriteStream(session.file, { flags: 'a', mode: 0o600 }),
      ]);
      const refused = refuse(session.size - before.size);
      if (refused) throw refused;
    } catch (err) {
      session.size = before.size;
      session.hash = before.hash;
      await truncate(session.file, before.size).catch(() => undefined);
      throw diskFullAsStorageFull(err);
    } finally {
      session.busy = false;
      session.lastActive = Date.now();
    }
  }

  /**
   * Checks the session's content against `digest` and ends the session (whatever the outcome, as
   * the spec has a failed PUT end the upload): the file to store, removed by `discard`.
   */
  async finish(
    session: UploadSession,
    digest: string,
  ): Promise<{ file: string; size: number; discard: () => Promise<void> }> {
    if (session.busy) throw busy();
    // Cancelled, swept or finished by another request meanwhile (while this one sent its last chunk).
    if (this.sessions.get(session.id) !== session) throw uploadUnknown();
    this.remove(session);
    const discard = () => removeFile(session.file);
    if (!session.hasFile) {
      session.hasFile = true;
      await writeFile(session.file, '', { flag: 'a', mode: 0o600 });
    }
    const algorithm = algorithmOf(digest);
    const actual =
      algorithm === 'sha256' ? `sha256:${session.hash.digest('hex')}` : await digestOfFile(session.file, algorithm);
    if (actual !== digest) {
      await discard();
      throw registryError('DIGEST_INVALID', 'provided digest did not match uploaded content', {
        details: { expected: digest, actual },
      });
    }
    return { file: session.file, size: session.size, discard };
  }

  /**
   * Cancels a session. Not while a request writes to it: its file would go from under the
   * request, which would then store a blob from a file that is gone.
   */
  async cancel(session: UploadSession): Promise<void> {
    if (session.busy) throw busy();
    await this.drop(session);
  }

  private async drop(session: UploadSession): Promise<void> {
    this.remove(session);
    if (session.hasFile) await removeFile(session.file);
  }

  /** Removes the sessions idle for longer than the configured time. */
  async sweep(now = Date.now()): Promise<number> {
    const idle = [...this.sessions.values()].filter((s) => !s.busy && now - s.lastActive > this.options.idleMs);
    // A session that became busy since is in use again: it stays.
    for (const session of idle) if (!session.busy) await this.drop(session);
    if (idle.length > 0) this.options.logger.info({ removed: idle.length }, 'removed abandoned OCI upload sessions');
    return idle.length;
  }

  /** Stops the timer and removes every session's file. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    const all = [...this.sessions.values()];
    this.sessions.clear();
    this.owned.clear();
    await Promise.all(all.filter((session) => session.hasFile).map((session) => removeFile(session.file)));
  }
}
