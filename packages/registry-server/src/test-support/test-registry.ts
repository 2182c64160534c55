/**
 * Test helpers: a registry (services + express app) over a fresh store of a chosen driver, and
 * real pack archives built with pack-core exactly as `packctl build` builds them.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import { pino } from 'pino';
import request from 'supertest';
import { inject } from 'vitest';
import { buildPack, scaffoldPack, type PackLayer } from '@packyard/pack-core';
import { createApp } from '../app.js';
import { blobCacheConfig, resolveConfig, type RegistryConfig } from '../config/config.js';
import type { RegistryConfigFile } from '../generated/registry-config.js';
import { closeServices, createServices, type RegistryServices } from '../services.js';
import { createStore } from '../storage/create-store.js';
import { checkedApp } from './contract-checker.js';
import { storageUnavailable, type ObjectStore } from '../storage/object-store.js';

export type Driver = 'fs' | 's3rver' | 'ceph';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The drivers the suites of this vitest project run on (vitest.config.ts). */
    storageDrivers: Driver[];
  }
}

/**
 * fs in the `unit` project; s3rver, and a real Ceph RGW too when S3_TEST_ENDPOINT points at one,
 * in the `e2e` project (vitest.config.ts): together, every driver once.
 */
export const DRIVERS: Driver[] = inject('storageDrivers');

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
export const AUTH = { Authorization: `Bearer ${ADMIN_TOKEN}` };
/** The SuperAdmin every test registry starts with. */
export const SUPER_ADMIN = { username: 'root', password: 'test-superadmin-password' };
/** A cheap scrypt cost: tests create many users; production defaults to 17. */
export const TEST_PASSWORD_HASH_COST = 10;

export async function tempDir(prefix = 'packyard-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Storage settings for a driver: a new bucket (S3) or directory (fs) each call. */
export function storageFile(driver: Driver, dataDir: string): NonNullable<RegistryConfigFile['storage']> {
  if (driver === 'fs') return { driver: 'fs', fs: { root: path.join(dataDir, 'store') } };
  const bucket = `packyard-${randomBytes(6).toString('hex')}`;
  const ceph = driver === 'ceph';
  return {
    driver: 's3',
    s3: {
      endpoint: ceph ? (process.env['S3_TEST_ENDPOINT'] ?? '') : inject('s3rverEndpoint'),
      bucket,
      forcePathStyle: true,
      createBucket: true,
      accessKeyId: ceph ? (process.env['S3_TEST_ACCESS_KEY'] ?? 'AKTEST') : 'S3RVER',
      secretAccessKey: ceph ? (process.env['S3_TEST_SECRET_KEY'] ?? 'SKTEST') : 'S3RVER',
      partSizeMiB: 5,
    },
  };
}

export interface TestRegistry {
  app: Express;
  services: RegistryServices;
  config: RegistryConfig;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * A registry over a fresh store. `share` reuses another test registry's storage (a second
 * replica); `config` overrides settings; `identity` the identity settings not in the configuration
 * file; `wrapStore` wraps the store the services use (to inject faults, say).
 */
export async function startTestRegistry(
  driver: Driver,
  options: {
    config?: RegistryConfigFile;
    share?: TestRegistry;
    identity?: Parameters<typeof createServices>[0]['identity'];
    wrapStore?: (store: ObjectStore) => ObjectStore;
  } = {},
): Promise<TestRegistry> {
  const { dir, cleanup } = await tempDir();
  const storage = options.share ? undefined : storageFile(driver, dir);
  const config = resolveConfig({
    dataDir: dir,
    logging: { level: 'silent' },
    catalog: { pollIntervalMs: 100 },
    ...(storage ? { storage } : {}),
    ...options.config,
    auth: {
      adminToken: ADMIN_TOKEN,
      superAdmin: SUPER_ADMIN,
      passwordHashCost: TEST_PASSWORD_HASH_COST,
      ...options.config?.auth,
    },
  });
  if (options.share) {
    config.storage = options.share.config.storage;
    config.blobCache = blobCacheConfig(options.config?.blobCache, config.storage.driver, dir);
  }
  const logger = pino({ level: 'silent' });
  const opened = await createStore(config.storage, { logger });
  const store = options.wrapStore ? options.wrapStore(opened) : opened;
  const services = await createServices({ config, store, logger, identity: options.identity });
  return {
    // Every JSON answer of every test is checked against the contract (./contract-checker.ts).
    app: checkedApp(createApp(services)),
    services,
    config,
    dataDir: dir,
    close: async () => {
      await closeServices(services);
      await cleanup();
    },
  };
}

/** Which calls of a store fail: `fail(operation, key)` is asked before each put, delete or list. */
export type FaultPlan = (operation: 'put' | 'delete' | 'list', key: string) => boolean;

/**
 * A store whose chosen calls fail (as a backend that is down would, with STORAGE_UNAVAILABLE):
 * for tests of what a half-done change leaves behind. `plan` may be replaced at any time.
 */
export function faultyStore(store: ObjectStore, faults: { plan: FaultPlan }): ObjectStore {
  const refuse = (operation: 'put' | 'delete' | 'list', key: string) => {
    if (faults.plan(operation, key)) {
      throw storageUnavailable(store.description, new Error(`injected fault: ${operation} ${key}`));
    }
  };
  return {
    description: store.description,
    conditionalWrites: store.conditionalWrites,
    put: async (key, body, putOptions) => {
      refuse('put', key);
      return store.put(key, body, putOptions);
    },
    stage: (key, stageOptions) => store.stage(key, stageOptions),
    putFile: async (key, file, stageOptions) => {
      refuse('put', key);
      return store.putFile(key, file, stageOptions);
    },
    get: (key, getOptions) => store.get(key, getOptions),
    getBuffer: (key) => store.getBuffer(key),
    head: (key) => store.head(key),
    delete: async (key, deleteOptions) => {
      refuse('delete', key);
      return store.delete(key, deleteOptions);
    },
    list: (prefix, listOptions) => {
      refuse('list', prefix);
      return store.list(prefix, listOptions);
    },
    ping: () => store.ping(),
    close: () => store.close(),
  };
}

/** GETs a binary body (supertest only buffers text and JSON by itself). */
export async function getBytes(app: Express, url: string, headers: Record<string, string> = {}) {
  const res = await request(app)
    .get(url)
    .set(headers)
    .buffer(true)
    .parse((response, done) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        done(null, Buffer.concat(chunks));
      });
    });
  return { status: res.status, headers: res.headers as Record<string, string>, bytes: res.body as Buffer };
}

export interface TestPackOptions {
  name?: string;
  version?: string;
  layer?: PackLayer;
  /** Extra pack.json fields (cloudTypes, addonType, annotations, ...). */
  manifest?: Record<string, unknown>;
  /** Changes the README, hence the archive's bytes. */
  readme?: string;
  /** Extra files (path -> content), e.g. a large blob. */
  files?: Record<string, Buffer | string>;
}

export interface TestPack {
  file: string;
  bytes: Buffer;
  digest: string;
  name: string;
  version: string;
}

/** Builds a lint-clean pack archive (scaffolded by pack-core, built reproducibly) into `dir`. */
export async function buildTestPack(dir: string, options: TestPackOptions = {}): Promise<TestPack> {
  const name = options.name ?? 'demo-addon';
  const version = options.version ?? '1.0.0';
  const layer = options.layer ?? 'addon';
  const content = layer === 'os' || layer === 'k8s' ? 'values' : 'manifest';
  const packDir = path.join(dir, `src-${name}-${version}-${randomBytes(4).toString('hex')}`);
  for (const file of await scaffoldPack({ name, layer, content, version })) {
    await mkdir(path.dirname(path.join(packDir, file.path)), { recursive: true });
    await writeFile(path.join(packDir, file.path), file.content);
  }
  if (options.manifest) {
    const manifestPath = path.join(packDir, 'pack.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Record<string, unknown>;
    await writeFile(manifestPath, JSON.stringify({ ...manifest, ...options.manifest }, null, 2));
  }
  if (options.readme !== undefined) await writeFile(path.join(packDir, 'README.md'), options.readme);
  for (const [file, data] of Object.entries(options.files ?? {})) {
    await mkdir(path.dirname(path.join(packDir, file)), { recursive: true });
    await writeFile(path.join(packDir, file), data);
  }
  const outDir = path.join(dir, `out-${randomBytes(4).toString('hex')}`);
  const { archive, lint } = await buildPack(packDir, { outDir });
  if (!archive) throw new Error(`test pack does not build: ${JSON.stringify(lint.findings)}`);
  return { file: archive.path, bytes: await readFile(archive.path), digest: archive.digest, name, version };
}
