/**
 * Registries: named collections of packs with a scope. The `public` system registry exists from
 * the first start; others are created by administrators.
 */
import type { NewRegistry, RegistryChanges } from '@packyard/registry-api';
import { PackError } from '@packyard/pack-core';
import type { Target } from '../identity/principals.js';
import type { CatalogSync } from '../catalog/catalog-sync.js';
import type { RegistryRecord } from '../catalog/records.js';
import { registryKey } from '../storage/layout.js';
import { createJson, readJson, updateJson } from '../storage/json-documents.js';
import type { ObjectStore } from '../storage/object-store.js';
import { registryError } from '../errors.js';
import { KeyedLock } from '../storage/keyed-lock.js';

/** Most registries a tenant holds, its projects' included (replicas creating at once may pass it by a few). */
export const MAX_REGISTRIES_PER_TENANT = 1_000;

export const PUBLIC_REGISTRY = 'public';

/** What creating and changing a registry take: the contract's request bodies. */
export type { NewRegistry, RegistryChanges };

/** The scope a new registry goes into; REGISTRY_INVALID when its tenant or project is missing. */
export function newRegistryTarget(input: NewRegistry): Target {
  if (input.scope === 'system') return { scope: 'system' };
  if (!input.tenant) {
    throw registryError('REGISTRY_INVALID', `a ${input.scope} registry needs a tenant`);
  }
  if (input.scope === 'tenant') return { scope: 'tenant', tenant: input.tenant };
  if (!input.project) {
    throw registryError('REGISTRY_INVALID', 'a project registry needs a project', { hint: 'pass "project"' });
  }
  return { scope: 'project', tenant: input.tenant, project: input.project };
}

export function registryNotFound(name: string): PackError {
  return registryError('REGISTRY_NOT_FOUND', `registry "${name}" does not exist`);
}

export class RegistryService {
  private readonly scopes = new KeyedLock();

  constructor(
    private readonly store: ObjectStore,
    private readonly catalog: CatalogSync,
  ) {}

  /**
   * Runs `change` with the registries and projects of `tenant` held still in this process. A
   * registry created while its tenant or project was being deleted survived it as an orphan, which
   * a tenant or project made again under the same name inherited (a registry names its scope by
   * name): creating a registry, and deleting a tenant or project, each check the other's state
   * inside this, in turn. A project and a registry of its tenant are both second segments of the
   * OCI names (../oci/namespaces.ts): each is claimed and created inside this too, so that two
   * racing for one name do not both win. (Two replicas can still meet there; registries keyed by
   * id would close that too.)
   */
  inTenant<T>(tenant: string, change: () => Promise<T>): Promise<T> {
    return this.scopes.run(`tenant:${tenant}`, change);
  }

  /**
   * Runs `change` with the first segments of the OCI names held still in this process: tenants and
   * system registries, each claimed and created inside this (see {@link inTenant}).
   */
  inSystem<T>(change: () => Promise<T>): Promise<T> {
    return this.scopes.run('system', change);
  }

  /** The registry from the catalog index, or a 404. */
  get(name: string): RegistryRecord {
    const record = this.catalog.index.registry(name);
    if (!record) throw registryNotFound(name);
    return record;
  }

  list(): RegistryRecord[] {
    return this.catalog.index.listRegistries();
  }

  /** Creates the `public` system registry unless it exists (idempotent, safe across replicas). */
  async ensurePublic(): Promise<void> {
    if (this.catalog.index.registry(PUBLIC_REGISTRY)) return;
    const existing = await readJson<RegistryRecord>(this.store, registryKey(PUBLIC_REGISTRY));
    if (existing) {
      this.catalog.index.applyRegistry(existing.value);
      return;
    }
    await this.create(
      {
        name: PUBLIC_REGISTRY,
        scope: 'system',
        description: 'The public system registry: packs every user can read.',
        public: true,
      },
      'system',
    ).catch((err: unknown) => {
      if (!(err instanceof PackError && err.code === 'REGISTRY_EXISTS')) throw err;
    });
  }

  async create(input: NewRegistry, by: string): Promise<RegistryRecord> {
    const target = newRegistryTarget(input);
    if (target.scope !== 'system') {
      // Every process holds every registry in memory, and lists them to anonymous callers.
      const held = this.list().filter((registry) => registry.tenant === target.tenant).length;
      if (held >= MAX_REGISTRIES_PER_TENANT) {
        throw registryError(
          'REGISTRY_LIMIT_REACHED',
          `tenant ${target.tenant} holds ${String(MAX_REGISTRIES_PER_TENANT)} registries already`,
          { details: { limit: MAX_REGISTRIES_PER_TENANT } },
        );
      }
    }
    const record: RegistryRecord = {
      name: input.name,
      scope: input.scope,
      tenant: target.scope === 'system' ? null : target.tenant,
      project: target.scope === 'project' ? target.project : null,
      description: input.description ?? '',
      public: input.public ?? false,
      allowOverwrite: input.allowOverwrite ?? false,
      createdAt: new Date().toISOString(),
      createdBy: by,
      revision: 1,
    };
    const etag = await createJson(this.store, registryKey(record.name), record);
    if (etag === null) {
      throw registryError('REGISTRY_EXISTS', `registry "${record.name}" already exists`);
    }
    await this.catalog.record({ kind: 'registry', registry: record });
    return record;
  }

  async update(name: string, changes: RegistryChanges): Promise<RegistryRecord> {
    // Absent and null fields leave the setting as it is.
    const set = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== null));
    const updated = await updateJson<RegistryRecord>(this.store, registryKey(name), (current) => ({
      ...current,
      ...set,
      revision: current.revision + 1,
    }));
    if (!updated) throw registryNotFound(name);
    await this.catalog.record({ kind: 'registry', registry: updated.value });
    return updated.value;
  }
}
