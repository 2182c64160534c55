/**
 * Every process's in-memory copy of the identity documents (see ./records.ts). Authorization reads
 * only this copy, so no request waits on storage to learn who may do what.
 *
 * Writes go to storage first, by compare-and-swap, and the result replaces the local copy at once
 * (a process sees its own writes). Other processes pick a change up by polling: each poll lists
 * `identity/tenants/` (one LIST per thousand documents) and re-reads only the documents whose ETag
 * moved, so a role change made through one process applies in the others within one poll interval.
 *
 * Tenants are found by name only while they are live: one being deleted is reachable by its id
 * alone (to finish the deletion), so a new tenant of the same name sees nothing of it.
 */
import type { Logger } from 'pino';
import { readJson, updateJson, type Updater } from '../storage/json-documents.js';
import { identitySystemKey, identityTenantKey, identityTenantsPrefix, tenantIdOfKey } from '../storage/layout.js';
import type { ObjectStore } from '../storage/object-store.js';
import {
  emptyTenantDirectory,
  normaliseSystem,
  normaliseTenant,
  type SystemDirectory,
  type SystemUser,
  type TenantDirectory,
  type TenantRef,
} from './records.js';
import { tenantIndex } from './tenant-index.js';

interface Cached<T> {
  value: T;
  etag: string;
}

/** Lookups across tenants, rebuilt after any identity document changes (never per request). */
interface DirectoryIndex {
  /** Live tenants. */
  byName: Map<string, TenantRef>;
  byId: Map<string, TenantRef>;
  /** Username and API key id to the id of the live tenant holding it. */
  users: Map<string, string>;
  apiKeys: Map<string, string>;
  operatorsById: Map<string, SystemUser>;
  operatorsByName: Map<string, SystemUser>;
}

const EMPTY_SYSTEM: SystemDirectory = { tenants: [], operators: [], revision: 0 };

export class IdentityDirectory {
  private system: Cached<SystemDirectory> | null = null;
  /** Tenant documents by tenant id. */
  private readonly tenants = new Map<string, Cached<TenantDirectory>>();
  private timer: NodeJS.Timeout | null = null;
  private index: DirectoryIndex | null = null;
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
    // The listing and the system document at once: a tenant listed but not yet in the document
    // read (or the reverse) is only taken up at the next refresh.
    const listing = (async () => {
      const seen = new Map<string, string>();
      for await (const object of this.store.list(identityTenantsPrefix()))
        seen.set(tenantIdOfKey(object.key), object.etag);
      return seen;
    })();
    const system = (async () => {
      // Nothing held yet (start-up): read the document at once; later, only when its ETag moved.
      const held = this.system;
      const head = held ? await this.store.head(identitySystemKey()) : null;
      if (!held || (head && head.etag !== held.etag)) {
        const read = await readJson<SystemDirectory>(this.store, identitySystemKey());
        if (read) this.keepSystem(read);
      }
    })();
    const [seen] = await Promise.all([listing, system]);
    const live = this.lookup().byId;
    for (const [id, etag] of seen) {
      // Only documents of live tenants: a deleted tenant's leftovers are never loaded.
      if (this.tenants.get(id)?.etag === etag || !live.has(id)) continue;
      const read = await readJson<TenantDirectory>(this.store, identityTenantKey(id));
      if (read) this.keepTenant(id, read);
    }
    // A live tenant's document is kept even when the listing missed it (written after the listing).
    for (const id of [...this.tenants.keys()]) {
      if (!this.lookup().byId.has(id)) this.dropTenant(id);
    }
  }

  systemDirectory(): SystemDirectory {
    return this.system?.value ?? EMPTY_SYSTEM;
  }

  /** A live tenant by name. */
  tenantRef(name: string): TenantRef | undefined {
    return this.lookup().byName.get(name);
  }

  /** A live tenant by id. */
  tenantRefById(id: string): TenantRef | undefined {
    return this.lookup().byId.get(id);
  }

  /** The id of the live tenant `name` (audit and storage keys are made of ids). */
  tenantId(name: string): string | undefined {
    return this.tenantRef(name)?.id;
  }

  /** The id of the live project `project` of the live tenant `tenant`. */
  projectId(tenant: string, project: string): string | undefined {
    const directory = this.tenant(tenant);
    return directory ? tenantIndex(directory).projects.get(project)?.id : undefined;
  }

  /** A live tenant's directory by name; a tenant listed whose document is not written yet is empty. */
  tenant(name: string): TenantDirectory | undefined {
    const ref = this.tenantRef(name);
    return ref ? this.documentOf(ref) : undefined;
  }

  /** A live tenant's directory by id. */
  tenantById(id: string): TenantDirectory | undefined {
    const ref = this.tenantRefById(id);
    return ref ? this.documentOf(ref) : undefined;
  }

  private documentOf(ref: TenantRef): TenantDirectory {
    return this.tenants.get(ref.id)?.value ?? emptyTenantDirectory(ref);
  }

  /** Tenants whose deletion started and has not finished. */
  deletingTenants(): TenantRef[] {
    return this.systemDirectory().tenants.filter((t) => t.deletingSince !== undefined);
  }

  private lookup(): DirectoryIndex {
    if (this.index) return this.index;
    const system = this.systemDirectory();
    const live = system.tenants.filter((t) => t.deletingSince === undefined);
    const users = new Map<string, string>();
    const apiKeys = new Map<string, string>();
    for (const ref of live) {
      const directory = this.tenants.get(ref.id)?.value;
      for (const user of directory?.users ?? []) users.set(user.username, ref.id);
      for (const key of directory?.apiKeys ?? []) apiKeys.set(key.id, ref.id);
    }
    this.index = {
      byName: new Map(live.map((t) => [t.name, t])),
      byId: new Map(live.map((t) => [t.id, t])),
      users,
      apiKeys,
      operatorsById: new Map(system.operators.map((o) => [o.id, o])),
      operatorsByName: new Map(system.operators.map((o) => [o.username, o])),
    };
    return this.index;
  }

  /** The id of the live tenant holding a username. */
  tenantIdOfUser(username: string): string | undefined {
    return this.lookup().users.get(username);
  }

  /** The name of the live tenant holding a username. */
  tenantOfUser(username: string): string | undefined {
    const id = this.tenantIdOfUser(username);
    return id === undefined ? undefined : this.tenantRefById(id)?.name;
  }

  /** The id of the live tenant holding the API key `id`. */
  tenantOfApiKey(id: string): string | undefined {
    return this.lookup().apiKeys.get(id);
  }

  operatorById(id: string): SystemUser | undefined {
    return this.lookup().operatorsById.get(id);
  }

  operatorNamed(username: string): SystemUser | undefined {
    return this.lookup().operatorsByName.get(username);
  }

  async updateSystem(update: Updater<SystemDirectory>): Promise<SystemDirectory> {
    const result = await updateJson<SystemDirectory>(
      this.store,
      identitySystemKey(),
      (current) => update(normaliseSystem(current)),
      () => structuredClone(EMPTY_SYSTEM),
    );
    if (!result) return this.systemDirectory();
    this.keepSystem(result);
    return this.systemDirectory();
  }

  /** Changes a tenant's directory by compare-and-swap; `update` gets a fresh copy to change. */
  async updateTenant(ref: TenantRef, update: Updater<TenantDirectory>): Promise<TenantDirectory> {
    const result = await updateJson<TenantDirectory>(
      this.store,
      identityTenantKey(ref.id),
      (current) => update(normaliseTenant(current)),
      () => emptyTenantDirectory(ref),
    );
    if (!result) return this.documentOf(ref);
    this.keepTenant(ref.id, result);
    return this.documentOf(ref);
  }

  /** Reads a tenant's document from storage, whether or not the tenant is live (deletions read it). */
  async readTenant(id: string): Promise<TenantDirectory | null> {
    const read = await readJson<TenantDirectory>(this.store, identityTenantKey(id));
    return read ? normaliseTenant(read.value) : null;
  }

  async deleteTenantDocument(id: string): Promise<void> {
    await this.store.delete(identityTenantKey(id));
    this.dropTenant(id);
  }

  // Every change to the cached documents goes through these three, which also drop the lookup
  // index. A document read before this process's own write must not undo that write: revisions
  // only grow, so an older one is ignored.
  private keepSystem(read: Cached<SystemDirectory>): void {
    if (read.value.revision < (this.system?.value.revision ?? -1)) return;
    this.system = { value: normaliseSystem(read.value), etag: read.etag };
    this.index = null;
  }

  private keepTenant(id: string, read: Cached<TenantDirectory>): void {
    if (read.value.revision < (this.tenants.get(id)?.value.revision ?? -1)) return;
    this.tenants.set(id, { value: normaliseTenant(read.value), etag: read.etag });
    this.index = null;
  }

  private dropTenant(id: string): void {
    this.tenants.delete(id);
    this.index = null;
  }
}
