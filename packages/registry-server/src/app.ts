/**
 * The HTTP application: middleware (request ids and logs, metrics, authentication), the route
 * modules, and the one error envelope. No business logic here: routes delegate to services.
 */
import express, { type Express } from 'express';
import { authenticate } from './access/authenticate.js';
import { auditRequests } from './audit/audit-requests.js';
import { registerAuditRoutes } from './routes/audit.js';
import { accessLog } from './http/access-log.js';
import { idleTransferLimits } from './http/idle-transfers.js';
import { errorHandler, notFoundHandler } from './http/errors.js';
import { changesNothingStored, storesBlob } from './oci/oci-access.js';
import { isOciPath, ociErrorHandler, ociNotFound } from './oci/oci-errors.js';
import { checkPathParameters } from './http/path-params.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerOciTokenRoutes } from './routes/oci-token.js';
import { registerOciRoutes } from './routes/oci.js';
import { registerCatalogRoutes } from './routes/catalog.js';
import { registerClusterProfileRoutes } from './routes/cluster-profiles.js';
import { registerDownloadRoutes } from './routes/downloads.js';
import { metricsRoute, registerOperationsRoutes } from './routes/operations.js';
import { registerPublishRoutes } from './routes/publish.js';
import { registerRegistryRoutes } from './routes/registries.js';
import { registerRoleRoutes } from './routes/roles.js';
import { registerTeamRoutes } from './routes/teams.js';
import { registerTenantRoutes } from './routes/tenants.js';
import { registerUserRoutes } from './routes/users.js';
import { registerVersionRoutes } from './routes/versions.js';
import type { RegistryServices } from './services.js';
import { webCatalog, webCatalogDir } from './web/web-catalog.js';

/** The route modules, in the order they are mounted. */
export function createRouter(services: RegistryServices): express.Router {
  // Case-sensitive: /V1/TENANTS/acme must not reach a route that /v1/tenants/acme reaches under
  // another spelling (what a request names is decided once, by its exact path).
  const router = express.Router({ caseSensitive: true });
  checkPathParameters(router);
  // The routes every request is matched against in this order: the hot read paths first.
  registerOperationsRoutes(router, services);
  registerCatalogRoutes(router, services);
  registerDownloadRoutes(router, services);
  registerVersionRoutes(router, services);
  registerPublishRoutes(router, services);
  registerRegistryRoutes(router, services);
  registerAuthRoutes(router, services);
  registerOciTokenRoutes(router, services);
  registerTenantRoutes(router, services);
  registerUserRoutes(router, services);
  registerTeamRoutes(router, services);
  registerRoleRoutes(router, services);
  registerClusterProfileRoutes(router, services);
  registerAuditRoutes(router, services);
  registerOciRoutes(router, services);
  return router;
}

export function createApp(services: RegistryServices): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('case sensitive routing', true);
  // Archive responses carry their digest as ETag; hashing every JSON body for a weak one is waste.
  app.set('etag', false);
  app.set('trust proxy', services.config.server.trustProxy);
  app.use(accessLog(services.logger));
  app.use(services.metrics.middleware);
  // A body that stops coming (oci.bodyIdleSeconds; /v2 answers 408 itself), or an answer the
  // client stops taking (twice that), closes its connection.
  app.use(
    idleTransferLimits({
      bodyIdleMs: () => services.config.oci.bodyIdleMs,
      answerIdleMs: () => 2 * services.config.oci.bodyIdleMs,
    }),
  );
  // Before authentication: the scraper's token is not a user credential (see operations.ts).
  app.get('/metrics', metricsRoute(services));
  // The web catalog's files are public and hold no data: served before authentication.
  const catalog = webCatalog(webCatalogDir(), services.logger);
  if (catalog) app.use(catalog);
  // /v2 speaks to registry clients (Basic, registry tokens); /v1 keeps its own rules.
  const v1 = authenticate(services.adminToken, services.sessions);
  const v2 = services.ociAuthenticator.middleware();
  const audit = auditRequests({
    audit: services.audit,
    directory: services.directory,
    logger: services.logger,
    anonymousPerMinute: services.config.audit.unauthenticatedPerMinute,
    anonymousPerAddressPerMinute: services.config.audit.unauthenticatedPerAddressPerMinute,
    unrecorded: changesNothingStored,
    recordedAtAnswer: storesBlob,
  });
  app.use(async (req, res, next) => {
    // Refused credentials (a revoked key, a forged token, a wrong password on /v2, too many
    // attempts): the request is recorded as an unauthenticated caller's failure, as one without
    // credentials would be, then refused.
    const refused = (err: unknown) => {
      audit(req, res, () => {
        next(err);
      });
    };
    try {
      await (isOciPath(req.path) ? v2 : v1)(req, res, (err?: unknown) => {
        if (err === undefined) next();
        else refused(err);
      });
    } catch (err) {
      refused(err);
    }
  });
  app.use(audit);
  app.use(createRouter(services));
  // /v2 answers its errors in the OCI envelope; every other path in the registry's own.
  app.use(ociNotFound);
  app.use(notFoundHandler);
  app.use(ociErrorHandler);
  app.use(errorHandler);
  return app;
}
