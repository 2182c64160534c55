/** Operations: liveness, readiness (storage reachable, catalog loaded), metrics, the OpenAPI document. */
import type { Router } from 'express';
import type { RegistryServices } from '../services.js';
import { openApiDocument } from '../http/openapi.js';

const READY_TIMEOUT_MS = 3000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no answer within ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => {
    clearTimeout(timer);
  });
}

export function registerOperationsRoutes(router: Router, services: RegistryServices): void {
  router.get('/livez', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    try {
      await withTimeout(services.store.ping(), READY_TIMEOUT_MS);
      checks['storage'] = 'ok';
    } catch (err) {
      checks['storage'] = `unavailable: ${(err as Error).message}`;
    }
    checks['catalog'] = services.catalog.ready ? 'ok' : 'loading';
    const ok = Object.values(checks).every((value) => value === 'ok');
    res
      .status(ok ? 200 : 503)
      .json({ status: ok ? 'ready' : 'unavailable', checks, catalog: services.catalog.index.stats() });
  });

  router.get('/metrics', async (_req, res) => {
    res.type(services.metrics.registry.contentType).send(await services.metrics.registry.metrics());
  });

  router.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });
}
