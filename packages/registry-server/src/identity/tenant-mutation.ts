/**
 * The one way identity records change. Each change is one revision of the tenant (or one
 * compare-and-swap of the system document), see ./directory.ts, so concurrent changes through
 * several processes never lose each other; checks run against the revision being changed,
 * including the route's Guard (no escalation, see ../access/guards.ts). Which permission a route
 * needs is the routes' business.
 *
 * The operations of each kind of record (./tenants.ts, ./projects.ts, ./users.ts, ./teams.ts,
 * ./roles.ts, ./bindings.ts, ./api-keys.ts) share an IdentityContext and write through
 * mutateTenant; ./identity.ts puts them together.
 */
import type { Logger } from 'pino';
import type { ObjectStore } from '../storage/object-store.js';
import type { IdentityDirectory } from './directory.js';
import { checkTenantBounds } from './bounds.js';
import { tenantNotFound } from './identity-errors.js';
import type { HashQueue } from './login-limits.js';
import type { TenantRef } from './records.js';
import { hashPassword } from './secrets.js';
import type { TenantDirectory, TenantDraft } from './tenant-state.js';

/** A check run against the tenant revision about to be changed; throws to refuse the change. */
export type Guard = (draft: TenantDirectory) => void;

/** What a tenant or project owns outside the identity documents (cluster profiles, audit entries). */
export interface OwnedData {
  /** Removes everything of the tenant `tenantId`, its projects' included. */
  removeTenant(tenantId: string): Promise<void>;
  removeProject(tenantId: string, projectId: string): Promise<void>;
}

/** What every identity operation works with. */
export interface IdentityContext {
  store: ObjectStore;
  directory: IdentityDirectory;
  passwordHashCost: number;
  /** Bounds the password hashes of this process; shared with the sign-in checks (Sessions). */
  hashQueue: HashQueue;
  /** Removed with their tenant or project. */
  owners: readonly OwnedData[];
  logger: Logger | undefined;
}

export function now(): string {
  return new Date().toISOString();
}

/** A password's hash, made in this process's bounded hash queue. */
export function hashFor(context: IdentityContext, password: string): Promise<string> {
  return context.hashQueue.run(() => hashPassword(password, context.passwordHashCost));
}

/** The live tenant `name`, or TENANT_NOT_FOUND. */
export function liveTenantRef(context: IdentityContext, name: string): TenantRef {
  const ref = context.directory.tenantRef(name);
  if (!ref) throw tenantNotFound(name);
  return ref;
}

/** The live tenant `name`'s directory, or TENANT_NOT_FOUND. */
export function tenantDirectory(context: IdentityContext, name: string): TenantDirectory {
  const found = context.directory.tenant(name);
  if (!found) throw tenantNotFound(name);
  return found;
}

/**
 * Changes the live tenant `tenant`: `guard`, then `change`, run against a draft of its newest
 * revision (again when another process changed it first); resolves with what `change` returned.
 * `change` writes through the draft (put, remove) and never changes a record in place. A change
 * that makes a kind of record outgrow its bound (./bounds.ts) is refused: IDENTITY_LIMIT_REACHED.
 */
export function mutateTenant<T>(
  context: IdentityContext,
  tenant: string,
  change: (draft: TenantDraft) => T,
  guard?: Guard,
): Promise<T> {
  const ref = liveTenantRef(context, tenant);
  return context.directory.changeTenant(ref, (draft) => {
    guard?.(draft);
    const result = change(draft);
    checkTenantBounds(draft);
    return result;
  });
}
