/**
 * Operations: liveness, readiness (storage reachable, catalog loaded), metrics, the OpenAPI document.
 *
 * The probes tell anyone only "ready" or not; operators also get the checks and catalog counts.
 * /metrics is for the scraper holding `metrics.token`, and for operators: it is mounted ahead of
 * authentication (app.ts), because a scraper's token is no user credential.
 */
import type { RequestHandler, Router } from 'express';
import { secretMatcher } from '../access/admin-token.js';
import { bearerCredential, principalOf } from '../access/authenticate.js';
import type { RegistryServices } from '../services.js';
import { openApiDocument } from '../http/openapi.js';
import { registryError } from '../errors.js';

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

  router.get('/readyz', async (req, res) => {
    const checks: Record<string, string> = {};
    try {
      await withTimeout(services.store.ping(), READY_TIMEOUT_MS);
      checks['storage'] = 'ok';
    } catch (err) {
      req.log.warn({ err }, 'readiness: storage unavailable');
      checks['storage'] = 'unavailable';
    }
    checks['catalog'] = services.catalog.ready ? 'ok' : 'loading';
    const ok = Object.values(checks).every((value) => value === 'ok');
    const status = ok ? 'ready' : 'unavailable';
    res.status(ok ? 200 : 503).set('Cache-Control', 'no-store');
    if (principalOf(req).kind === 'operator') res.json({ status, checks, catalog: services.catalog.index.stats() });
    else res.json({ status });
  });

  router.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });
}

/** GET /metrics: the configured scraper token, or an operator's credential. */
export function metricsRoute(services: RegistryServices): RequestHandler {
  const token = services.config.metrics.token;
  const isScraper = token === undefined ? () => false : secretMatcher(token);
  return async (req, res, next) => {
    const credential = bearerCredential(req.headers.authorization ?? '');
    const allowed =
      credential !== null &&
      (isScraper(credential) ||
        services.adminToken.matches(credential) ||
        (await services.sessions.principalFor(credential))?.kind === 'operator');
    if (!allowed) {
      res.set('WWW-Authenticate', 'Bearer realm="packyard-metrics"');
      next(
        registryError('AUTH_REQUIRED', 'GET /metrics needs the metrics token or an operator credential', {
          hint: 'configure metrics.token (PACKYARD_METRICS_TOKEN) and give it to the scraper as a bearer token',
        }),
      );
      return;
    }
    services.metrics.registry.metrics().then(
      (text) => res.type(services.metrics.registry.contentType).send(text),
      (err: unknown) => {
        next(err);
      },
    );
  };
}
