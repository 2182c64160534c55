/**
 * The registry's configuration: defaults, then the YAML/JSON file (validated against
 * schemas/registry-config.schema.json), then PACKYARD_* environment variables, then flags. Every
 * problem is reported at once, naming where the bad value came from, before anything starts.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ErrorObject } from 'ajv/dist/2020.js';
import { DEFAULT_ARCHIVE_LIMITS, type PackError, type ArchiveLimits } from '@packyard/pack-core';
import { parseDocument } from 'yaml';
import type { RegistryConfigFile } from '../generated/registry-config.js';
import { validateRegistryConfigFile } from '../generated/registry-config-validator.js';
import { HASH_QUEUE_DEFAULTS } from '../identity/login-limits.js';
import { DEFAULT_INSPECTION } from '../publish/pack-inspector.js';
import type { StorageConfig } from '../storage/create-store.js';
import { registryError } from '../errors.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface RegistryConfig {
  server: {
    host: string;
    port: number;
    trustProxy: boolean;
    maxConnections: number;
    /** Connections one client address holds at once; 0: no cap. */
    maxConnectionsPerAddress: number;
    shutdownTimeoutSeconds: number;
    /** Where clients reach the registry, without a trailing slash; undefined: from each request. */
    publicUrl: string | undefined;
  };
  /** Absolute. */
  dataDir: string;
  storage: StorageConfig;
  auth: {
    adminToken: string | undefined;
    anonymousRead: boolean;
    superAdmin: { username: string; password: string | undefined };
    tokenTtlSeconds: number;
    /** The OCI registry tokens of GET /v2/token: their lifetime, and the service they are for. */
    registryTokenTtlSeconds: number;
    registryService: string;
    passwordHashCost: number;
    maxFailedLogins: number;
    loginWindowMs: number;
    /** Longest life of a password sign-in, refreshes included. */
    sessionMaxSeconds: number;
    /** Bounds on this process's password hashes: at once, waiting, waiting per client address. */
    passwordHashes: { concurrency: number; maxWaiting: number; maxPerClient: number };
  };
  limits: {
    maxUploadBytes: number;
    archive: ArchiveLimits;
    /** The worker pool that checks uploads (publish/pack-inspector.ts). */
    inspection: { threads: number; timeBudgetMs: number; maxMemoryMb: number };
  };
  catalog: { pollIntervalMs: number; snapshotEveryChanges: number; queryCacheSize: number };
  /** The OCI distribution API: size bounds, and how long an idle upload session lives. */
  oci: { maxBlobBytes: number; maxManifestBytes: number; uploadIdleMs: number; bodyIdleMs: number };
  audit: {
    unauthenticatedPerMinute: number;
    unauthenticatedPerAddressPerMinute: number;
    unauthenticatedRetentionDays: number;
    /** Null: signed-in callers' entries are kept for good. */
    retentionDays: number | null;
  };
  /** `token`: what a scraper sends to GET /metrics; without one, only operators read it. */
  metrics: { token: string | undefined };
  /** Null when off (the fs driver, or maxBytes 0). */
  blobCache: { dir: string; maxBytes: number } | null;
  logging: { level: LogLevel };
}

/** Command-line flags that override the file and the environment. */
export interface ConfigFlags {
  config?: string;
  port?: string;
  host?: string;
  dataDir?: string;
}

export const DEFAULT_PORT = 5080;
/** Client connections held at once (`server.maxConnections`). */
export const DEFAULT_MAX_CONNECTIONS = 4096;
/** Connections one client address holds at once (`server.maxConnectionsPerAddress`), without a proxy. */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 256;
const GIB = 1024 * 1024 * 1024;

function configError(message: string, hint: string): PackError {
  return registryError('CONFIG_INVALID', message, { hint });
}

type Env = Record<string, string | undefined>;

function envInteger(env: Env, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw.trim())) throw configError(`${name}=${raw} is not a whole number`, `set ${name} to a number`);
  return Number(raw);
}

function envBoolean(env: Env, name: string): boolean | undefined {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return undefined;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw configError(`${name}=${env[name] ?? ''} is not a boolean`, `set ${name} to true or false`);
}

function envString(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

/** Sets `value` at `keys` inside `target` when it is defined, creating objects on the way. */
function assign(target: Record<string, unknown>, keys: string[], value: unknown): void {
  if (value === undefined) return;
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1) as string] = value;
}

function describe(error: ErrorObject): string {
  const where = error.instancePath === '' ? 'the configuration' : error.instancePath;
  if (error.keyword === 'additionalProperties') {
    return `${where} has an unknown setting "${String(error.params['additionalProperty'])}"`;
  }
  if (error.keyword === 'enum') {
    return `${where} must be one of: ${(error.params['allowedValues'] as unknown[]).join(', ')}`;
  }
  return `${where} ${error.message ?? 'is invalid'}`;
}

/** Validates a configuration object; every problem in one error. */
export function validateConfigFile(value: unknown, source: string): RegistryConfigFile {
  if (!validateRegistryConfigFile(value)) {
    const problems = (validateRegistryConfigFile.errors ?? []).map(describe);
    throw configError(
      `invalid configuration (${source}):\n  - ${problems.join('\n  - ')}`,
      'see schemas/registry-config.schema.json for every setting',
    );
  }
  return value;
}

async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw configError(
      `cannot read the configuration file ${file} (${(err as Error).message})`,
      'check the path given to --config or PACKYARD_CONFIG',
    );
  }
  const parsed = parseDocument(text, { prettyErrors: true });
  const problem = parsed.errors[0];
  if (problem) {
    const at = problem.linePos?.[0];
    const where = at ? `${file}:${at.line}:${at.col}` : file;
    throw configError(`${where}: ${problem.message.split('\n')[0] ?? ''}`, 'fix the YAML syntax');
  }
  let document: unknown;
  try {
    document = parsed.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (err) {
    // The yaml library's guard against an alias bomb (a few lines that expand to millions of nodes).
    throw configError(
      `${file}: its aliases expand too far (${(err as Error).message})`,
      'write the settings out: a configuration needs no YAML aliases',
    );
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw configError(`${file} must hold a mapping of settings`, 'see schemas/registry-config.schema.json');
  }
  return document as Record<string, unknown>;
}

function overlayEnvironment(file: Record<string, unknown>, env: Env): void {
  assign(file, ['server', 'port'], envInteger(env, 'PACKYARD_PORT'));
  assign(file, ['server', 'host'], envString(env, 'PACKYARD_HOST'));
  assign(file, ['server', 'publicUrl'], envString(env, 'PACKYARD_PUBLIC_URL'));
  assign(file, ['server', 'maxConnections'], envInteger(env, 'PACKYARD_MAX_CONNECTIONS'));
  assign(file, ['server', 'maxConnectionsPerAddress'], envInteger(env, 'PACKYARD_MAX_CONNECTIONS_PER_ADDRESS'));
  assign(file, ['dataDir'], envString(env, 'PACKYARD_DATA_DIR'));
  assign(file, ['auth', 'adminToken'], envString(env, 'PACKYARD_ADMIN_TOKEN'));
  assign(file, ['auth', 'anonymousRead'], envBoolean(env, 'PACKYARD_ANONYMOUS_READ'));
  assign(file, ['auth', 'superAdmin', 'username'], envString(env, 'PACKYARD_SUPERADMIN_USERNAME'));
  assign(file, ['auth', 'superAdmin', 'password'], envString(env, 'PACKYARD_SUPERADMIN_PASSWORD'));
  assign(file, ['auth', 'passwordHashCost'], envInteger(env, 'PACKYARD_PASSWORD_HASH_COST'));
  assign(file, ['storage', 'driver'], envString(env, 'PACKYARD_STORAGE'));
  assign(file, ['storage', 's3', 'endpoint'], envString(env, 'PACKYARD_S3_ENDPOINT'));
  assign(file, ['storage', 's3', 'bucket'], envString(env, 'PACKYARD_S3_BUCKET'));
  assign(file, ['storage', 's3', 'prefix'], envString(env, 'PACKYARD_S3_PREFIX'));
  assign(file, ['storage', 's3', 'region'], envString(env, 'PACKYARD_S3_REGION'));
  assign(file, ['storage', 's3', 'forcePathStyle'], envBoolean(env, 'PACKYARD_S3_FORCE_PATH_STYLE'));
  assign(file, ['storage', 's3', 'createBucket'], envBoolean(env, 'PACKYARD_S3_CREATE_BUCKET'));
  assign(file, ['storage', 's3', 'redirectDownloads'], envBoolean(env, 'PACKYARD_S3_REDIRECT_DOWNLOADS'));
  assign(file, ['storage', 's3', 'deadlineSeconds'], envInteger(env, 'PACKYARD_S3_DEADLINE_SECONDS'));
  assign(file, ['storage', 's3', 'idleSeconds'], envInteger(env, 'PACKYARD_S3_IDLE_SECONDS'));
  assign(file, ['limits', 'maxUploadBytes'], envInteger(env, 'PACKYARD_MAX_UPLOAD_BYTES'));
  assign(file, ['catalog', 'queryCacheSize'], envInteger(env, 'PACKYARD_QUERY_CACHE_SIZE'));
  assign(file, ['blobCache', 'maxBytes'], envInteger(env, 'PACKYARD_BLOB_CACHE_MAX_BYTES'));
  assign(file, ['logging', 'level'], envString(env, 'PACKYARD_LOG_LEVEL'));
  assign(file, ['metrics', 'token'], envString(env, 'PACKYARD_METRICS_TOKEN'));
  assign(file, ['audit', 'retentionDays'], envInteger(env, 'PACKYARD_AUDIT_RETENTION_DAYS'));
}

function overlayFlags(file: Record<string, unknown>, flags: ConfigFlags): void {
  if (flags.port !== undefined) {
    if (!/^\d+$/.test(flags.port)) throw configError(`--port ${flags.port} is not a number`, 'pass --port 5080');
    assign(file, ['server', 'port'], Number(flags.port));
  }
  assign(file, ['server', 'host'], flags.host);
  assign(file, ['dataDir'], flags.dataDir);
}

function withoutTrailingSlashes(url: string | undefined): string | undefined {
  let end = url?.length ?? 0;
  while (end > 0 && url?.[end - 1] === '/') end -= 1;
  return url?.slice(0, end);
}

/** The blob cache's settings; null (off) for the fs driver, whose blobs are local already, or maxBytes 0. */
export function blobCacheConfig(
  settings: { maxBytes?: number; dir?: string } | undefined,
  driver: StorageConfig['driver'],
  dataDir: string,
): RegistryConfig['blobCache'] {
  if (driver === 'fs' || settings?.maxBytes === 0) return null;
  return { dir: path.resolve(dataDir, settings?.dir ?? 'blob-cache'), maxBytes: settings?.maxBytes ?? 10 * GIB };
}

/**
 * Loads the configuration from `flags.config` (or PACKYARD_CONFIG), the environment and flags.
 *
 * @example
 * const config = await loadConfig({ port: '0' }, { PACKYARD_DATA_DIR: '/var/lib/packyard' });
 */
export async function loadConfig(
  flags: ConfigFlags = {},
  env: Env = process.env,
  cwd: string = process.cwd(),
): Promise<RegistryConfig> {
  const configFile = flags.config ?? envString(env, 'PACKYARD_CONFIG');
  const raw = configFile ? await readConfigFile(path.resolve(cwd, configFile)) : {};
  overlayEnvironment(raw, env);
  overlayFlags(raw, flags);
  const file = validateConfigFile(raw, configFile ? `${configFile}, environment and flags` : 'environment and flags');
  return resolveConfig(file, { env, cwd, baseDir: configFile ? path.dirname(path.resolve(cwd, configFile)) : cwd });
}

/** Fills in every default; relative paths are resolved against the config file's directory. */
export function resolveConfig(
  file: RegistryConfigFile,
  options: { env?: Env; cwd?: string; baseDir?: string } = {},
): RegistryConfig {
  const env = options.env ?? {};
  const baseDir = options.baseDir ?? options.cwd ?? process.cwd();
  const dataDir = path.resolve(baseDir, file.dataDir ?? 'data');
  const s3 = file.storage?.s3 ?? {};
  const driver = file.storage?.driver ?? 'fs';
  if (driver === 's3' && !s3.bucket) {
    throw configError(
      'storage.driver is s3 but no bucket is configured',
      'set PACKYARD_S3_BUCKET (or storage.s3.bucket in the configuration file)',
    );
  }
  if ((s3.accessKeyId === undefined) !== (s3.secretAccessKey === undefined)) {
    throw configError(
      'storage.s3 needs both accessKeyId and secretAccessKey, or neither',
      'or leave both out and use the AWS credential chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)',
    );
  }
  const storage: StorageConfig = {
    driver,
    fs: { root: path.resolve(baseDir, file.storage?.fs?.root ?? path.join(dataDir, 'store')) },
    s3: {
      region: s3.region ?? envString(env, 'AWS_REGION') ?? envString(env, 'AWS_DEFAULT_REGION') ?? 'us-east-1',
      bucket: s3.bucket ?? '',
      prefix: s3.prefix ?? '',
      forcePathStyle: s3.forcePathStyle ?? s3.endpoint !== undefined,
      createBucket: s3.createBucket ?? false,
      presignDownloads: s3.redirectDownloads ?? false,
      // A stalled bucket fails a request in seconds (503), not minutes: see storage/s3/transfer.ts.
      deadlineMs: (s3.deadlineSeconds ?? 10) * 1000,
      idleTimeoutMs: (s3.idleSeconds ?? 15) * 1000,
      ...(s3.endpoint === undefined ? {} : { endpoint: s3.endpoint }),
      ...(s3.accessKeyId === undefined ? {} : { accessKeyId: s3.accessKeyId }),
      ...(s3.secretAccessKey === undefined ? {} : { secretAccessKey: s3.secretAccessKey }),
      ...(s3.partSizeMiB === undefined ? {} : { partSizeBytes: s3.partSizeMiB * 1024 * 1024 }),
    },
  };
  const limits = file.limits ?? {};
  return {
    server: {
      host: file.server?.host ?? '127.0.0.1',
      port: file.server?.port ?? DEFAULT_PORT,
      trustProxy: file.server?.trustProxy ?? false,
      maxConnections: file.server?.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      // Behind a proxy every connection comes from the proxy: no cap per address unless asked.
      maxConnectionsPerAddress:
        file.server?.maxConnectionsPerAddress ??
        (file.server?.trustProxy === true ? 0 : DEFAULT_MAX_CONNECTIONS_PER_ADDRESS),
      shutdownTimeoutSeconds: file.server?.shutdownTimeoutSeconds ?? 30,
      publicUrl: withoutTrailingSlashes(file.server?.publicUrl),
    },
    dataDir,
    storage,
    auth: {
      adminToken: file.auth?.adminToken,
      anonymousRead: file.auth?.anonymousRead ?? true,
      superAdmin: {
        username: file.auth?.superAdmin?.username ?? 'admin',
        password: file.auth?.superAdmin?.password,
      },
      tokenTtlSeconds: file.auth?.tokenTtlSeconds ?? 900,
      registryTokenTtlSeconds: file.auth?.registryTokenTtlSeconds ?? 300,
      registryService: file.auth?.registryService ?? 'packyard',
      passwordHashCost: file.auth?.passwordHashCost ?? 17,
      maxFailedLogins: file.auth?.maxFailedLogins ?? 10,
      loginWindowMs: (file.auth?.loginWindowSeconds ?? 300) * 1000,
      sessionMaxSeconds: file.auth?.sessionMaxSeconds ?? 12 * 60 * 60,
      passwordHashes: {
        concurrency: file.auth?.passwordHashConcurrency ?? HASH_QUEUE_DEFAULTS.concurrency,
        maxWaiting: file.auth?.passwordHashQueue ?? HASH_QUEUE_DEFAULTS.maxWaiting,
        maxPerClient: file.auth?.passwordHashQueuePerClient ?? HASH_QUEUE_DEFAULTS.maxPerClient,
      },
    },
    limits: {
      maxUploadBytes: limits.maxUploadBytes ?? 2 * GIB,
      archive: {
        maxEntries: limits.maxEntries ?? DEFAULT_ARCHIVE_LIMITS.maxEntries,
        maxEntrySize: limits.maxEntryBytes ?? DEFAULT_ARCHIVE_LIMITS.maxEntrySize,
        maxTotalSize: limits.maxTotalBytes ?? DEFAULT_ARCHIVE_LIMITS.maxTotalSize,
        maxCompressionRatio: limits.maxCompressionRatio ?? DEFAULT_ARCHIVE_LIMITS.maxCompressionRatio,
        maxArchiveRatio: limits.maxArchiveRatio ?? DEFAULT_ARCHIVE_LIMITS.maxArchiveRatio,
      },
      inspection: {
        threads: limits.inspectionThreads ?? DEFAULT_INSPECTION.threads,
        timeBudgetMs: (limits.inspectionTimeBudgetSeconds ?? DEFAULT_INSPECTION.timeBudgetMs / 1000) * 1000,
        maxMemoryMb: limits.inspectionMaxMemoryMiB ?? DEFAULT_INSPECTION.maxMemoryMb,
      },
    },
    oci: {
      maxBlobBytes: file.oci?.maxBlobBytes ?? 10 * GIB,
      maxManifestBytes: file.oci?.maxManifestBytes ?? 4 * 1024 * 1024,
      uploadIdleMs: (file.oci?.uploadIdleSeconds ?? 3600) * 1000,
      bodyIdleMs: (file.oci?.bodyIdleSeconds ?? 60) * 1000,
    },
    catalog: {
      pollIntervalMs: file.catalog?.pollIntervalMs ?? 500,
      snapshotEveryChanges: file.catalog?.snapshotEveryChanges ?? 500,
      queryCacheSize: file.catalog?.queryCacheSize ?? 256,
    },
    audit: {
      unauthenticatedPerMinute: file.audit?.unauthenticatedPerMinute ?? 60,
      unauthenticatedPerAddressPerMinute: file.audit?.unauthenticatedPerAddressPerMinute ?? 10,
      unauthenticatedRetentionDays: file.audit?.unauthenticatedRetentionDays ?? 30,
      retentionDays: file.audit?.retentionDays ?? null,
    },
    metrics: { token: file.metrics?.token },
    blobCache: blobCacheConfig(file.blobCache, storage.driver, dataDir),
    logging: { level: file.logging?.level ?? 'info' },
  };
}
