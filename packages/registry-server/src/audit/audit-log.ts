/**
 * The audit log: one immutable object per mutating request (who, from where, what, in which scope,
 * with which outcome), written create-once so that nothing rewrites history:
 *
 *   audit/system/<inverted ms>-<id>.json                       system-scope requests
 *   audit/tenants/<tenant>/<inverted ms>-<id>.json             everything in a tenant, projects included
 *   audit/projects/<tenant>/<project>/<inverted ms>-<id>.json  a project's requests (written twice)
 *
 * Keys start with 9999999999999 minus the time in ms, so that a listing, which S3 returns in key
 * order, comes newest first. Request bodies are never recorded: they may hold passwords.
 */
import { randomBytes } from 'node:crypto';
import type { Target } from '../access/authorize.js';
import { createJson, readJson } from '../storage/json-documents.js';
import type { ObjectStore } from '../storage/object-store.js';

export type AuditOutcome = 'success' | 'denied' | 'failed';

export interface AuditEntry {
  id: string;
  at: string;
  actor: { kind: 'anonymous' | 'operator' | 'user'; name: string; tenant: string | null };
  /** The client address as the server saw it (behind a proxy: configure trust proxy). */
  client: string;
  method: string;
  path: string;
  /** What was acted on, from the path (tenant, project, registry, user...). */
  scope: Target;
  status: number;
  outcome: AuditOutcome;
  requestId: string;
  /** For a login attempt: the username tried. */
  username?: string;
}

const LATEST = 9_999_999_999_999;

/** An entry id: inverted time and a random part. */
export const AUDIT_ID = /^\d{13}-[0-9a-f]{12}$/;

function streamsOf(scope: Target): string[] {
  if (scope.scope === 'system') return ['audit/system/'];
  const tenant = `audit/tenants/${scope.tenant}/`;
  if (scope.scope === 'tenant') return [tenant];
  return [tenant, `audit/projects/${scope.tenant}/${scope.project}/`];
}

/** The stream a scope's entries are read from: its own (the last it is written to). */
function streamOf(scope: Target): string {
  const streams = streamsOf(scope);
  return streams[streams.length - 1] ?? 'audit/system/';
}

export function outcomeOf(status: number): AuditOutcome {
  if (status < 400) return 'success';
  if (status === 401 || status === 403 || status === 404) return 'denied';
  return 'failed';
}

export class AuditLog {
  private readonly writing = new Set<Promise<unknown>>();

  constructor(private readonly store: ObjectStore) {}

  record(entry: Omit<AuditEntry, 'id'>): Promise<AuditEntry> {
    const ms = Date.parse(entry.at);
    // The id is the entry's object name: entries are found by id, and pages start after one.
    const id = `${String(LATEST - ms).padStart(13, '0')}-${randomBytes(6).toString('hex')}`;
    const name = `${id}.json`;
    const full: AuditEntry = { id, ...entry };
    const written = Promise.all(
      streamsOf(entry.scope).map((prefix) => createJson(this.store, `${prefix}${name}`, full)),
    ).then(() => full);
    this.writing.add(written);
    void written.catch(() => undefined).finally(() => this.writing.delete(written));
    return written;
  }

  /** Waits for the entries being written (at shutdown, before storage closes). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.writing]);
  }

  /** One entry of a scope's stream by id, or null. */
  async get(scope: Target, id: string): Promise<AuditEntry | null> {
    if (!AUDIT_ID.test(id)) return null;
    return (await readJson<AuditEntry>(this.store, `${streamOf(scope)}${id}.json`))?.value ?? null;
  }

  /** The newest entries of a scope's stream, `limit` at most, after the `cursor` of a previous page. */
  async list(
    scope: Target,
    options: { limit: number; cursor?: string },
  ): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
    const prefix = streamOf(scope);
    const items: AuditEntry[] = [];
    let last: string | null = null;
    const startAfter = options.cursor === undefined ? undefined : `${prefix}${options.cursor}.json`;
    for await (const object of this.store.list(prefix, {
      limit: options.limit,
      ...(startAfter ? { startAfter } : {}),
    })) {
      const read = await readJson<AuditEntry>(this.store, object.key);
      if (read) items.push(read.value);
      last = object.key;
      if (items.length >= options.limit) break;
    }
    const nextCursor =
      items.length >= options.limit && last !== null ? last.slice(prefix.length).replace(/\.json$/, '') : null;
    return { items, nextCursor };
  }
}
