/** Publishing: POST a pack zip (raw body or multipart) into a registry. */
import type { Router } from 'express';
import { callerNow } from '../access/authenticate.js';
import { queryBoolean, queryString } from '../http/params.js';
import { publishUpload } from '../publish/publish-upload.js';
import type { RegistryServices } from '../services.js';
import { callerName, registryFor, versionView } from './route-helpers.js';

export function registerPublishRoutes(router: Router, services: RegistryServices): void {
  router.post('/v1/registries/:registry/packs', async (req, res) => {
    const force = queryBoolean(req, 'force') ?? false;
    const authorize = () => {
      const registry = registryFor(services, req, 'pack.publish');
      if (force) registryFor(services, req, 'pack.overwrite');
      return registry;
    };
    const registry = authorize();
    const { outcome, record, warnings } = await publishUpload(req, services, {
      registry,
      publisher: callerName(req),
      force,
      digest: queryString(req, 'digest'),
      message: queryString(req, 'message'),
      log: req.log,
      authorize: () => {
        callerNow(req);
        authorize();
      },
    });
    res
      .status(outcome === 'created' || outcome === 'restored' ? 201 : 200)
      .location(`/v1/registries/${record.registry}/packs/${record.name}/${encodeURIComponent(record.version)}`)
      .json({ ...versionView(record), outcome, warnings });
  });
}
