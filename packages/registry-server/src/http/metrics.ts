/**
 * Prometheus metrics (prom-client), one registry per app so that tests can run several apps in
 * one process: request durations by route, publishes by outcome, downloads and bytes moved. No
 * label carries tenant data (a registry, tenant or pack name): routes are labelled by their
 * pattern, downloads by the scope of their registry.
 */
import type { RequestHandler } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  publishes: Counter<'outcome'>;
  downloads: Counter<'scope'>;
  uploadBytes: Counter;
  downloadBytes: Counter;
  blobCache: Counter<'result'>;
  /** Times every request, labelled with its route pattern rather than its URL. */
  middleware: RequestHandler;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: 'packyard_http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const metrics: Metrics = {
    registry,
    publishes: new Counter({
      name: 'packyard_publishes_total',
      help: 'Publish requests by outcome (created, unchanged, overwritten, restored, rejected)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    downloads: new Counter({
      name: 'packyard_downloads_total',
      help: 'Archive downloads by the scope of their registry (system, tenant, project)',
      labelNames: ['scope'] as const,
      registers: [registry],
    }),
    uploadBytes: new Counter({
      name: 'packyard_upload_bytes_total',
      help: 'Bytes of pack archives received',
      registers: [registry],
    }),
    downloadBytes: new Counter({
      name: 'packyard_download_bytes_total',
      help: 'Bytes of pack archives sent',
      registers: [registry],
    }),
    blobCache: new Counter({
      name: 'packyard_blob_cache_reads_total',
      help: 'Archive reads from the local blob cache (hit) or from storage (miss)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    middleware: (req, res, next) => {
      const end = duration.startTimer();
      res.once('finish', () => {
        // The route pattern, not the URL: one series per route however many packs there are.
        const route = (req.route as { path?: unknown } | undefined)?.path;
        end({ method: req.method, route: typeof route === 'string' ? route : 'unmatched', status: res.statusCode });
      });
      next();
    },
  };
  return metrics;
}
