/**
 * Records every mutating request (POST, PUT, PATCH, DELETE) in the audit log.
 *
 * - A signed-in caller's request is recorded as pending before any change it makes (the request's
 *   changes to storage wait for that record, see ./change-gate.ts, and fail with its error if it
 *   cannot be written), and its entry is written to its scope's streams before the answer goes
 *   out, so that no change, acknowledged or not, is ever missing.
 * - The scope is what the request acted on, as its authorization found it (a tenant, a project, a
 *   registry's own scope, or the system: see ../access/decisions.ts), but only within the caller's
 *   reach: a request never authorized (refused, or answered 404 first) is recorded in the caller's
 *   own tenant, or the system's for an operator; another tenant's log never shows a user; and a
 *   tenant or project that does not exist has no log to write into.
 * - Unauthenticated callers change nothing; their failures go to the system log only, rate-limited
 *   per address and overall (see {@link AnonymousLimiter}), and are pruned after a retention
 *   period. A successful login is recorded in the tenant of the user who signed in.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { principalOf } from '../access/authenticate.js';
import { watchDecisions } from '../access/decisions.js';
import type { IdentityDirectory } from '../identity/directory.js';
import { SYSTEM, type Principal, type Target } from '../identity/principals.js';
import { AuditLog, outcomeOf, type AuditEntry, type PendingEntry } from './audit-log.js';
import { runGated } from './change-gate.js';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const LOGIN = '/v1/auth/login';

export interface AuditSources {
  audit: AuditLog;
  directory: IdentityDirectory;
  logger: Logger;
  /** Unauthenticated failures recorded per minute, overall and per client address. */
  anonymousPerMinute: number;
  /**
   * Signed-in requests that change nothing in storage, recorded only when they fail: an OCI upload
   * session's start, chunks and cancel write only a local temporary file (the PUT that stores the
   * blob is recorded like every change).
   */
  unrecorded?: (req: Request) => boolean;
  /**
   * Signed-in requests recorded once, by their final entry before the answer, without a pending
   * entry first: an OCI blob push (content-addressed, readable only by whoever knows its digest).
   * One durable write instead of two; a process that dies after storing the blob and before
   * answering leaves it unrecorded, but the client was never told it was stored, and pushes again.
   */
  recordedAtAnswer?: (req: Request) => boolean;
  anonymousPerAddressPerMinute: number;
}

function stringField(body: unknown, field: string): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const value = (body as Record<string, unknown>)[field];
  return typeof value === 'string' && value.length <= 128 ? value : undefined;
}

/**
 * The scope an entry is recorded in: what the request's authorization found (the system's when it
 * found none), kept within the caller's reach (a user's own tenant), and only scopes that exist.
 */
function recordedScope(decided: Target | null, principal: Principal, directory: IdentityDirectory): Target {
  let scope = decided ?? SYSTEM;
  if (principal.kind === 'user' && (scope.scope === 'system' || scope.tenant !== principal.tenant)) {
    scope = { scope: 'tenant', tenant: principal.tenant };
  }
  // Existence as the audit log's own keys see it: live tenants and projects, by id.
  if (scope.scope === 'system') return scope;
  if (directory.tenantId(scope.tenant) === undefined) return SYSTEM;
  if (scope.scope === 'project' && directory.projectId(scope.tenant, scope.project) === undefined) {
    return { scope: 'tenant', tenant: scope.tenant };
  }
  return scope;
}

function actorOf(principal: Principal): AuditEntry['actor'] {
  return {
    kind: principal.kind,
    name: principal.kind === 'operator' ? principal.name : principal.kind === 'user' ? principal.username : '',
    tenant: principal.kind === 'user' ? principal.tenant : null,
  };
}

/**
 * Counts unauthenticated failures per minute, overall and per address; what passes the limits is
 * recorded, the rest only counted (and reported with the address's next recorded entry).
 */
export class AnonymousLimiter {
  private minute = 0;
  private total = 0;
  private readonly perAddress = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();

  constructor(
    private readonly perMinute: number,
    private readonly perAddressPerMinute: number,
    /** Bounds the memory of a spray of addresses. */
    private readonly maxAddresses = 10_000,
  ) {}

  /** Null when the entry is not to be written; else how many were suppressed before it. */
  admit(client: string, now = Date.now()): number | null {
    const minute = Math.floor(now / 60_000);
    if (minute !== this.minute) {
      this.minute = minute;
      this.total = 0;
      this.perAddress.clear();
    }
    const mine = this.perAddress.get(client) ?? 0;
    if (this.total >= this.perMinute || mine >= this.perAddressPerMinute) {
      if (this.suppressed.size < this.maxAddresses || this.suppressed.has(client)) {
        this.suppressed.set(client, (this.suppressed.get(client) ?? 0) + 1);
      }
      return null;
    }
    this.total++;
    if (this.perAddress.size < this.maxAddresses) this.perAddress.set(client, mine + 1);
    const before = this.suppressed.get(client) ?? 0;
    this.suppressed.delete(client);
    return before;
  }
}

/**
 * Runs `work` when the response is about to be sent, and sends it once `work` is done (whatever
 * its outcome): the answer of a change never leaves before its audit entry is stored.
 */
function beforeAnswer(res: Response, work: () => Promise<void>): void {
  const end = res.end.bind(res) as (...args: unknown[]) => Response;
  let started = false;
  res.end = ((...args: unknown[]) => {
    if (started) return end(...args);
    started = true;
    void work().finally(() => {
      end(...args);
    });
    return res;
  }) as Response['end'];
}

export function auditRequests(sources: AuditSources): RequestHandler {
  const limiter = new AnonymousLimiter(sources.anonymousPerMinute, sources.anonymousPerAddressPerMinute);
  const failed = (err: unknown, entry: { method: string; path: string }) => {
    sources.logger.error({ err, method: entry.method, path: entry.path }, 'could not write an audit entry');
  };

  return (req, res, next) => {
    if (!MUTATING.has(req.method)) {
      next();
      return;
    }
    // Read now: once a connection is torn down (a body cut off, a client gone), Node drops
    // req.socket, and req.ip would throw later.
    const client = req.ip ?? '';
    const principal = principalOf(req);
    const at = new Date().toISOString();
    const base: PendingEntry = {
      id: AuditLog.newId(at),
      at,
      actor: actorOf(principal),
      client,
      method: req.method,
      path: req.path,
      scope: SYSTEM,
      requestId: String(res.getHeader('x-request-id') ?? ''),
    };
    // The last scope authorized; an entry written earlier (pending) is also written there at the end.
    let decided: Target | null = null;
    const final = (): AuditEntry => {
      const status = res.statusCode;
      const entry: AuditEntry = {
        ...base,
        scope: recordedScope(decided, principal, sources.directory),
        status,
        outcome: outcomeOf(status),
      };
      if (req.path === LOGIN) {
        const username = stringField(req.body, 'username')?.toLowerCase();
        if (username) entry.username = username;
      }
      return entry;
    };

    if (principal.kind === 'anonymous') {
      // Nothing changes without a credential: recorded after the answer, and failures sparingly.
      res.once('finish', () => {
        const entry = final();
        if (entry.outcome === 'success') {
          const tenant =
            req.path === LOGIN && entry.username ? sources.directory.tenantOfUser(entry.username) : undefined;
          const scope = tenant ? recordedScope({ scope: 'tenant', tenant }, principal, sources.directory) : SYSTEM;
          sources.audit.record({ ...entry, scope }).catch((err: unknown) => {
            failed(err, entry);
          });
          return;
        }
        const suppressed = limiter.admit(client);
        if (suppressed === null) return;
        const recorded: AuditEntry = { ...entry, scope: SYSTEM, ...(suppressed > 0 ? { suppressed } : {}) };
        sources.audit.recordAnonymous(recorded).catch((err: unknown) => {
          failed(err, recorded);
        });
      });
      next();
      return;
    }

    if (sources.unrecorded?.(req) === true) {
      // It changes nothing stored: no pending record to wait for; only a failure is worth an entry.
      res.once('finish', () => {
        const entry = final();
        if (entry.outcome === 'success') return;
        sources.audit.record(entry).catch((err: unknown) => {
          failed(err, entry);
        });
      });
      next();
      return;
    }

    if (sources.recordedAtAnswer?.(req) === true) {
      beforeAnswer(res, async () => {
        const entry = final();
        await sources.audit.record(entry).catch((err: unknown) => {
          failed(err, entry);
        });
      });
      watchDecisions(
        (target) => {
          decided = target;
        },
        () => {
          next();
        },
      );
      return;
    }

    // The pending record is written once the request's scope is known (its authorization), or
    // at its first change, whichever comes first; its changes to storage wait for that record
    // (change-gate.ts), and its answer for the final entry.
    let begun: ReturnType<AuditLog['begin']> | null = null;
    const begin = () => {
      if (begun) return begun;
      const pending: PendingEntry = { ...base, scope: recordedScope(decided, principal, sources.directory) };
      begun = sources.audit.begin(pending);
      begun.catch((err: unknown) => {
        failed(err, pending);
      });
      return begun;
    };
    // What the request left running for its answer to wait for (change-gate.ts: holdAnswerFor).
    const holds: Promise<unknown>[] = [];
    const settle = async (entry: AuditEntry): Promise<void> => {
      if (!begun) {
        // Nothing was authorized and nothing changed: the final entry alone.
        await sources.audit.record(entry).catch((err: unknown) => {
          failed(err, entry);
        });
        return;
      }
      const pending = await begun.catch(() => null);
      // No record, no change: whatever the request tried to store failed with the record's error.
      if (!pending) return;
      // A failed write leaves the pending record, which the sweep settles as interrupted.
      await pending.settle(entry).catch((err: unknown) => {
        failed(err, entry);
      });
    };
    beforeAnswer(res, async () => {
      await Promise.all([settle(final()), Promise.allSettled(holds)]);
    });
    watchDecisions(
      (target) => {
        decided = target;
        void begin().catch(() => undefined);
      },
      () => {
        runGated(begin, holds, next);
      },
    );
  };
}
