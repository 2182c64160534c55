/**
 * The bootstrap admin token. Taken from the configuration (PACKYARD_ADMIN_TOKEN) when set;
 * otherwise generated at first start, written once to `<dataDir>/admin-token` (mode 0600) for the
 * operator to read, and only its sha256 kept in storage, so every replica sharing the storage
 * accepts it and no plaintext secret is stored there.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { makeDir } from '@packyard/pack-core';
import path from 'node:path';
import type { Logger } from 'pino';
import { adminTokenKey } from '../storage/layout.js';
import { createJson, readJson } from '../storage/json-documents.js';
import type { ObjectStore } from '../storage/object-store.js';

interface StoredTokenHash {
  sha256: string;
  createdAt: string;
}

export interface AdminTokenCheck {
  /** True when `token` is the admin token (constant-time). */
  matches(token: string): boolean;
  /**
   * Names the current admin token without revealing it (a keyed hash of its sha256), for what is
   * issued to it: a registry token carries it and ends when the admin token is changed.
   */
  fingerprint: string;
  /** Where a generated token was written, if it was generated on this host. */
  file: string | null;
}

function hashOf(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** A constant-time check of candidates against a secret known by its sha256. */
function matcher(expected: Buffer): (candidate: string) => boolean {
  return (candidate) => timingSafeEqual(hashOf(candidate), expected);
}

/** A constant-time check of candidates against `secret` (a configured token, say). */
export function secretMatcher(secret: string): (candidate: string) => boolean {
  return matcher(hashOf(secret));
}

function checker(expected: Buffer, file: string | null): AdminTokenCheck {
  const fingerprint = createHmac('sha256', 'packyard admin token holder').update(expected).digest('hex').slice(0, 32);
  return { matches: matcher(expected), fingerprint, file };
}

export async function setupAdminToken(options: {
  configured: string | undefined;
  dataDir: string;
  store: ObjectStore;
  logger: Logger;
}): Promise<AdminTokenCheck> {
  const { configured, dataDir, store, logger } = options;
  if (configured !== undefined) return checker(hashOf(configured), null);

  const stored = await readJson<StoredTokenHash>(store, adminTokenKey());
  if (stored) return checker(Buffer.from(stored.value.sha256, 'hex'), null);

  const file = path.join(dataDir, 'admin-token');
  await makeDir(dataDir, 0o700);
  // A token file left by an earlier start whose storage was since emptied is reused.
  let token = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (token === '') {
    token = `pky_${randomBytes(32).toString('base64url')}`;
    await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'w' });
    // The mode above only applies to a new file: an existing (empty) one keeps its own.
    await chmod(file, 0o600);
  }
  const created = await createJson(store, adminTokenKey(), {
    sha256: hashOf(token).toString('hex'),
    createdAt: new Date().toISOString(),
  } satisfies StoredTokenHash);
  if (created === null) {
    // Another replica generated one first: ours would never work, so do not leave it lying around.
    await rm(file, { force: true });
    const winner = await readJson<StoredTokenHash>(store, adminTokenKey());
    if (!winner) throw new Error('the admin token record vanished while starting');
    return checker(Buffer.from(winner.value.sha256, 'hex'), null);
  }
  logger.warn(
    { file },
    `generated the bootstrap admin token and wrote it to ${file} (mode 0600); set PACKYARD_ADMIN_TOKEN to choose your own`,
  );
  return checker(hashOf(token), file);
}
