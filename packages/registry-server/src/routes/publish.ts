/** Publishing: POST a pack zip (raw body or multipart) into a registry. */
import type { Router } from 'express';
import { isPackError } from '@packyard/pack-core';
import { stageBlob } from '../blobs/blob-store.js';
import { queryBoolean, queryString } from '../http/params.js';
import { receiveUpload } from '../publish/receive-upload.js';
import type { RegistryServices } from '../services.js';
import { callerName, registryFor, versionView } from './route-helpers.js';

export function registerPublishRoutes(router: Router, services: RegistryServices): void {
  router.post('/v1/registries/:registry/packs', async (req, res) => {
    const registry = registryFor(services, req, 'pack.publish');
    const force = queryBoolean(req, 'force') ?? false;
    if (force) registryFor(services, req, 'pack.overwrite');
    const digest = queryString(req, 'digest');
    const received = performance.now();
    const upload = await receiveUpload(req, {
      dir: services.uploadDir,
      maxBytes: services.config.limits.maxUploadBytes,
      hasher: services.hasher,
      ...(digest === undefined ? {} : { query: digest }),
      // With the digest announced, the blob streams to storage while the body arrives.
      stageFor: (announced) => stageBlob(services.store, announced),
    });
    services.metrics.uploadBytes.inc(upload.size);
    const receiveMs = Math.round(performance.now() - received);
    try {
      const message = queryString(req, 'message') ?? upload.fields['message'] ?? null;
      const result = await services.publisher.publish({
        registry,
        upload,
        publisher: callerName(req),
        force,
        message,
      });
      services.metrics.publishes.inc({ outcome: result.outcome });
      const { record } = result;
      req.log.info(
        {
          registry: record.registry,
          pack: record.name,
          version: record.version,
          digest: record.digest,
          size: record.size,
          outcome: result.outcome,
          streamed: upload.staged !== null,
          ms: { receive: receiveMs, ...result.timings },
        },
        `published ${record.name}@${record.version}`,
      );
      const created = result.outcome === 'created' || result.outcome === 'restored';
      if (services.blobCache) {
        // The upload hashed to the digest on the way in: keep it for the downloads to come.
        await services.blobCache.adopt(upload.digest, upload.file, upload.size).catch((err: unknown) => {
          req.log.warn({ err }, 'could not keep the upload in the blob cache');
        });
      }
      res
        .status(created ? 201 : 200)
        .location(`/v1/registries/${record.registry}/packs/${record.name}/${encodeURIComponent(record.version)}`)
        .json({ ...versionView(record), outcome: result.outcome, warnings: result.warnings });
    } catch (err) {
      if (isPackError(err) && err.status < 500) services.metrics.publishes.inc({ outcome: 'rejected' });
      throw err;
    } finally {
      await upload.discard();
    }
  });
}
