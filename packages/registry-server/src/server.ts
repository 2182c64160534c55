/**
 * Running the registry: storage, services and app wired from the configuration, an HTTP server
 * listening, and a graceful shutdown that stops accepting connections, lets in-flight requests
 * (uploads included) finish within `shutdownTimeoutSeconds`, then releases storage.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createApp } from './app.js';
import { registryError } from './errors.js';
import type { RegistryConfig } from './config/config.js';
import { createLogger } from './logger.js';
import { closeServices, createServices, type RegistryServices } from './services.js';
import { createStore } from './storage/create-store.js';
import { secureDataDir } from './storage/file-modes.js';
import { limitConnectionsPerAddress } from './http/connection-limits.js';

export interface RunningRegistry {
  url: string;
  port: number;
  server: Server;
  services: RegistryServices;
  /** Graceful shutdown; resolves when everything is released. */
  close(): Promise<void>;
}

/** The failure to listen on `host:port` as the error a person can act on. */
function listenFailure(err: Error, host: string, port: number): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return registryError('PORT_IN_USE', `port ${port} on ${host} is in use by another program`, {
      hint: `pick another port with --port N (or PACKYARD_PORT), e.g. --port ${port === 65535 ? port - 1 : port + 1}, or stop what listens there`,
    });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL') {
    return registryError('CONFIG_INVALID', `cannot listen on ${host}: no such address or host name here (${code})`, {
      hint: 'set --host (PACKYARD_HOST) to an address of this machine: 127.0.0.1, ::1, or 0.0.0.0 for every one',
    });
  }
  if (code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    return registryError('CONFIG_INVALID', `cannot listen on ${host}:${port} (${code})`, {
      hint:
        code === 'EACCES'
          ? 'ports below 1024 need privileges: use a higher port behind a reverse proxy'
          : `${host} is not an address of this machine: set --host (PACKYARD_HOST)`,
    });
  }
  return err;
}

/** Listens on the configured address, or fails with what to do about it. */
function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const failed = (err: Error) => {
      reject(listenFailure(err, host, port));
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

/** The data directory cannot be made or entered (a file is there, or a directory of another user). */
function unusableDataDir(dataDir: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const why: Record<string, string> = {
    EEXIST: 'a file is there',
    ENOTDIR: 'a file is on its path',
    ENOENT: 'it cannot be made there (below a symbolic link to nothing, or under /proc)',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'the filesystem is read-only',
  };
  if (code === undefined || !(code in why)) return err;
  return registryError('CONFIG_INVALID', `cannot use the data directory ${dataDir}: ${why[code]} (${code})`, {
    hint: "set --data-dir (PACKYARD_DATA_DIR) to a directory the registry's user can write",
  });
}

/**
 * Fails at once when the configured port cannot be listened on: before the data directory, the
 * first-start secrets or the store are touched, so a second registry started on a busy port
 * leaves nothing behind.
 */
async function checkListenable(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await listen(probe, host, port);
  await new Promise<void>((resolve) => {
    probe.close(() => {
      resolve();
    });
  });
}

export async function startRegistry(
  config: RegistryConfig,
  options: { logger?: Logger } = {},
): Promise<RunningRegistry> {
  await checkListenable(config.server.host, config.server.port);
  const logger = options.logger ?? createLogger(config.logging.level);
  // Owner-only before anything is written there: the store, uploads and secrets (file-modes.ts).
  await secureDataDir(config.dataDir, logger).catch((err: unknown) => {
    throw unusableDataDir(config.dataDir, err);
  });
  // An S3 backend's conditional-write probe runs while the services load (writes wait for it).
  const store = await createStore(config.storage, { logger, checkInBackground: true });
  let services: RegistryServices;
  try {
    services = await createServices({ config, store, logger });
  } catch (err) {
    await store.close();
    throw err;
  }
  try {
    await store.ready?.();
  } catch (err) {
    await closeServices(services);
    throw err;
  }
  const server = createServer(createApp(services));
  // Large uploads on slow links take long: no overall request deadline, but headers must come quickly.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 65_000;
  // Past it a new connection is closed at once: descriptors stay for the store and its files.
  server.maxConnections = config.server.maxConnections;
  // And one client cannot take them all from the others.
  limitConnectionsPerAddress(server, config.server.maxConnectionsPerAddress, logger);
  try {
    await listen(server, config.server.host, config.server.port);
  } catch (err) {
    await closeServices(services);
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  const url = `http://${host}:${port}`;
  logger.info({ url, storage: store.description }, `pack-registry listening on ${url}`);

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      logger.info('shutting down: finishing in-flight requests');
      const closed = new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
      server.closeIdleConnections();
      const deadline = setTimeout(() => {
        logger.warn('shutdown timeout: closing the remaining connections');
        server.closeAllConnections();
      }, config.server.shutdownTimeoutSeconds * 1000);
      await closed;
      clearTimeout(deadline);
      await closeServices(services);
      logger.info('stopped');
    })();
    return closing;
  };
  return { url, port, server, services, close };
}
