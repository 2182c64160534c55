import { createHash, randomBytes } from 'node:crypto';
import { access, readdir } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../test-support/test-registry.js';
import { bodyCollections } from '../v8-policy.js';
import { UploadSessions } from './upload-sessions.js';

const at = { registry: 'public', repository: 'app' };
const OWNER = 'alice';
const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

describe('OCI upload sessions', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let sessions: UploadSessions;

  beforeEach(async () => {
    work = await tempDir();
    sessions = new UploadSessions({
      dir: path.join(work.dir, 'uploads'),
      maxBytes: 1000,
      idleMs: 60_000,
      logger: pino({ level: 'silent' }),
    });
  });
  /** Sessions in their own directory, with the given limits. */
  const limited = (dir: string, limits: { maxSessions?: number; maxSessionsPerOwner?: number }) =>
    new UploadSessions({
      dir: path.join(work.dir, dir),
      maxBytes: 1000,
      idleMs: 60_000,
      ...limits,
      logger: pino({ level: 'silent' }),
    });

  afterEach(async () => {
    await sessions.close();
    await work.cleanup();
  });

  it('removes sessions idle for longer than the configured time, with their files', async () => {
    const idle = await sessions.start(at, OWNER);
    const active = await sessions.start(at, OWNER);
    idle.lastActive -= 61_000;
    expect(await sessions.sweep()).toBe(1);
    expect(() => sessions.get(idle.id, at, OWNER)).toThrow(expect.objectContaining({ code: 'BLOB_UPLOAD_UNKNOWN' }));
    await expect(access(idle.file)).rejects.toThrow();
    expect(sessions.get(active.id, at, OWNER)).toBe(active);
    // A session is only found from its own repository.
    expect(() => sessions.get(active.id, { registry: 'public', repository: 'other' }, OWNER)).toThrow(
      expect.objectContaining({ code: 'BLOB_UPLOAD_UNKNOWN' }),
    );
    await sessions.close();
    expect(await readdir(path.join(work.dir, 'uploads'))).toEqual([]);
  });

  it('leaves a session as it was when a chunk fails (over the size limit), so the client can resend', async () => {
    const session = await sessions.start(at, OWNER);
    const first = randomBytes(600);
    await sessions.append(session, Readable.from([first]));
    await expect(sessions.append(session, Readable.from([randomBytes(300), randomBytes(300)]))).rejects.toThrow(
      expect.objectContaining({ code: 'BODY_TOO_LARGE' }),
    );
    expect(session.size).toBe(600);
    const second = randomBytes(400);
    await sessions.append(session, Readable.from([second]));
    const done = await sessions.finish(session, sha256(Buffer.concat([first, second])));
    expect(done.size).toBe(1000);
    await done.discard();
  });

  it("counts a chunk's bytes toward the young-generation collections of received bodies", async () => {
    const session = await sessions.start(at, OWNER);
    const before = bodyCollections.total;
    await sessions.append(session, Readable.from([randomBytes(300), randomBytes(200)]));
    expect(bodyCollections.total - before).toBe(500);
  });

  it('refuses new sessions beyond the limit with TOOMANYREQUESTS', async () => {
    const few = limited('few', { maxSessions: 2 });
    try {
      const first = await few.start(at, OWNER);
      await few.start(at, OWNER);
      await expect(few.start(at, OWNER)).rejects.toThrow(
        expect.objectContaining({ code: 'TOOMANYREQUESTS', status: 429 }),
      );
      await few.cancel(first);
      await few.start(at, OWNER);
    } finally {
      await few.close();
    }
  });

  it('counts uploads sent whole (no session) against the same caps while they last', async () => {
    const capped = limited('counted', { maxSessions: 3, maxSessionsPerOwner: 2 });
    try {
      let release = (): void => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      const first = capped.counted('alice', () => held);
      await capped.start(at, 'alice');
      // Alice's two places are taken, one by a transfer that holds no session.
      await expect(capped.counted('alice', () => Promise.resolve())).rejects.toThrow(
        expect.objectContaining({ code: 'TOOMANYREQUESTS', status: 429 }),
      );
      await expect(capped.start(at, 'alice')).rejects.toThrow(expect.objectContaining({ code: 'TOOMANYREQUESTS' }));
      // The process's three places: two of alice's and one of bob's.
      await capped.start(at, 'bob');
      await expect(capped.counted('carol', () => Promise.resolve())).rejects.toThrow(
        expect.objectContaining({ code: 'TOOMANYREQUESTS' }),
      );
      release();
      await first;
      await capped.counted('alice', () => Promise.resolve());
      await capped.start(at, 'alice');
    } finally {
      await capped.close();
    }
  });

  it('keeps a session to the caller who started it, and caps the sessions one caller holds', async () => {
    const capped = limited('capped', { maxSessionsPerOwner: 2 });
    try {
      const first = await capped.start(at, 'alice');
      await capped.start(at, 'alice');
      await expect(capped.start(at, 'alice')).rejects.toThrow(
        expect.objectContaining({ code: 'TOOMANYREQUESTS', status: 429 }),
      );
      // Someone else is not held back by alice's sessions, and cannot touch them.
      await capped.start(at, 'bob');
      expect(() => capped.get(first.id, at, 'bob')).toThrow(expect.objectContaining({ code: 'BLOB_UPLOAD_UNKNOWN' }));
      // A session ended (finished, cancelled, swept) frees its place.
      await capped.cancel(capped.get(first.id, at, 'alice'));
      await capped.start(at, 'alice');
      const done = await capped.finish(await capped.start(at, 'bob'), sha256(Buffer.alloc(0)));
      await done.discard();
      await capped.start(at, 'bob');
    } finally {
      await capped.close();
    }
  });

  it('refuses to cancel a session while a chunk is being written, and does not finish a cancelled one', async () => {
    const session = await sessions.start(at, OWNER);
    const chunk = new PassThrough();
    const writing = sessions.append(session, chunk);
    chunk.write(randomBytes(100));
    await expect(sessions.cancel(session)).rejects.toThrow(expect.objectContaining({ code: 'BLOB_UPLOAD_INVALID' }));
    chunk.end(randomBytes(100));
    await writing;
    expect(session.size).toBe(200);
    await sessions.cancel(session);
    await expect(sessions.finish(session, sha256(Buffer.alloc(200)))).rejects.toThrow(
      expect.objectContaining({ code: 'BLOB_UPLOAD_UNKNOWN' }),
    );
  });
});
