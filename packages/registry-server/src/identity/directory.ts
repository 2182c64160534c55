/**
 * Every process's in-memory copy of the identity documents (see ./records.ts). Authorization reads
 * only this copy, so no request waits on storage to learn who may do what.
 *
 * Writes go to storage first, by compare-and-swap, and the result replaces the local copy at once
 * (a process sees its own writes). Other processes pick a change up by polling: each poll lists
 * `identity/` (one LIST per thousand documents) and re-reads only the documents whose ETag moved,
 * so a role change made through one process applies in the others within one poll interval.
 */
import type { Logger } from 'pino';
import { readJson, updateJson, type Updater } from '../storage/json-documents.js';
import type { ObjectStore } from '../storage/object-store.js';
import {
  emptyTenantDirectory,
  IDENTITY_KEYS,
  type SystemDirectory,
  type TenantDirectory,
  type TenantRef,
} from './records.js';

interface Cached<T> {
  value: T;
  etag: string;
}

const EMPTY_SYSTEM: SystemDirectory = { tenants: [], operators: [], revision: 0 };

export class IdentityDirectory {
  private system: Cached<SystemDirectory> | null = null;
  private readonly tenants = new Map<string, Cached<TenantDirectory>>();
  private timer: NodeJS.Timeout | null = null;
  /** Which tenant holds each username and API key id; rebuilt after any tenant changes. */
  private index: { users: Map<string, string>; apiKeys: Map<string, string> } | null = null;
  private polling: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly options: { logger: Logger; pollIntervalMs: number },
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.polling = this.refresh()
        .catch((err: unknown) => {
          this.options.logger.warn({ err }, 'could not refresh identity from storage');
        })
        .finally(() => {
          this.polling = null;
          this.schedule();
        });
    }, this.options.pollIntervalMs);
    this.timer.unref();
  }

  /** Re-reads every identity document whose ETag changed since the last look. */
  async refresh(): Promise<void> {
    const seen = new Map<string, string>();
    for await (const object of this.store.list(IDENTITY_KEYS.tenantsPrefix)) {
      const name = object.key.slice(IDENTITY_KEYS.tenantsPrefix.length).replace(/\.json$/, '');
      seen.set(name, object.etag);
    }
    const systemHead = await this.store.head(IDENTITY_KEYS.system);
    if (systemHead && systemHead.etag !== this.system?.etag) {
      const read = await readJson<SystemDirectory>(this.store, IDENTITY_KEYS.system);
      if (read) this.keepSystem(read);
    }
    for (const [name, etag] of seen) {
      if (this.tenants.get(name)?.etag === etag) continue;
      const read = await readJson<TenantDirectory>(this.store, IDENTITY_KEYS.tenant(name));
      if (read) this.keepTenant(name, read);
    }
    // A tenant document written after the listing above is kept; one deleted is dropped.
    for (const name of [...this.tenants.keys()]) {
      if (!seen.has(name) && !this.tenantRef(name)) this.dropTenant(name);
    }
  }

  systemDirectory(): SystemDirectory {
    return this.system?.value ?? EMPTY_SYSTEM;
  }

  tenantRef(name: string): TenantRef | undefined {
    return this.systemDirectory().tenants.find((t) => t.name === name);
  }

  /** A tenant's directory; a tenant listed whose document is not written yet is empty. */
  tenant(name: string): TenantDirectory | undefined {
    const ref = this.tenantRef(name);
    if (!ref) return undefined;
    return this.tenants.get(name)?.value ?? emptyTenantDirectory(ref);
  }

  private lookup(): { users: Map<string, string>; apiKeys: Map<string, string> } {
    if (this.index) return this.index;
    const users = new Map<string, string>();
    const apiKeys = new Map<string, string>();
    for (const ref of this.systemDirectory().tenants) {
      const directory = this.tenants.get(ref.name)?.value;
      for (const user of directory?.users ?? []) users.set(user.username, ref.name);
      for (const key of directory?.apiKeys ?? []) apiKeys.set(key.id, ref.name);
    }
    this.index = { users, apiKeys };
    return this.index;
  }

  /** The tenant of a username, if any tenant has it. */
  tenantOfUser(username: string): string | undefined {
    return this.lookup().users.get(username);
  }

  /** The tenant holding the API key `id`, if any. */
  tenantOfApiKey(id: string): string | undefined {
    return this.lookup().apiKeys.get(id);
  }

  async updateSystem(update: Updater<SystemDirectory>): Promise<SystemDirectory> {
    const result = await updateJson(this.store, IDENTITY_KEYS.system, update, () => structuredClone(EMPTY_SYSTEM));
    if (!result) return this.systemDirectory();
    this.keepSystem(result);
    return result.value;
  }

  /** Changes a listed tenant's directory by compare-and-swap; `update` gets a fresh copy to change. */
  async updateTenant(ref: TenantRef, update: Updater<TenantDirectory>): Promise<TenantDirectory> {
    const result = await updateJson(this.store, IDENTITY_KEYS.tenant(ref.name), update, () =>
      emptyTenantDirectory(ref),
    );
    if (!result) return this.tenant(ref.name) ?? emptyTenantDirectory(ref);
    this.keepTenant(ref.name, result);
    return result.value;
  }

  async deleteTenant(name: string): Promise<void> {
    await this.store.delete(IDENTITY_KEYS.tenant(name));
    this.dropTenant(name);
  }

  // Every change to the cached documents goes through these three, which also drop the lookup
  // index. A document read before this process's own write must not undo that write: revisions
  // only grow, so an older one is ignored.
  private keepSystem(read: Cached<SystemDirectory>): void {
    if (read.value.revision < (this.system?.value.revision ?? -1)) return;
    this.system = { value: read.value, etag: read.etag };
    this.index = null;
  }

  private keepTenant(name: string, read: Cached<TenantDirectory>): void {
    if (read.value.revision < (this.tenants.get(name)?.value.revision ?? -1)) return;
    this.tenants.set(name, { value: read.value, etag: read.etag });
    this.index = null;
  }

  private dropTenant(name: string): void {
    this.tenants.delete(name);
    this.index = null;
  }
}
