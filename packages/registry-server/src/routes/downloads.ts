/**
 * Downloads: a version's archive, and single files out of it. The routes authorize and find the
 * version record; the download pipeline (blobs/pack-downloads.ts) answers, and counts archive
 * downloads. Also how many times each version of a pack was downloaded (blobs/download-counts.ts).
 *
 * `.../packs/:name/downloads` is registered here, ahead of the version routes
 * (`.../packs/:name/:version`, routes/versions.ts), so that it is never read as a version; no
 * version can be named "downloads" either (a version starts with a digit, or "v" and a digit:
 * pack-core's isPackVersion, checked at publish and on every `:version` parameter).
 */
import type { Router } from 'express';
import { unsafeEntryName } from '@packyard/pack-core';
import type { PackDownloads as PackDownloadsView } from '@packyard/registry-api';
import { PackDownloads } from '../blobs/pack-downloads.js';
import { pathParam } from '../http/params.js';
import { packNotFound } from '../packs/version-service.js';
import type { RegistryServices } from '../services.js';
import { registryFor } from './route-helpers.js';
import { registryError } from '../errors.js';

const PACK = '/v1/registries/:registry/packs/:name';
const BASE = `${PACK}/:version`;

export function registerDownloadRoutes(router: Router, services: RegistryServices): void {
  const downloads = new PackDownloads(services);

  router.get(`${PACK}/downloads`, async (req, res) => {
    // Whoever may read the pack may read its counts; an unknown pack is a 404 as for its page.
    const registry = registryFor(services, req, 'pack.get');
    const name = pathParam(req, 'name');
    if (!services.catalog.index.hasPack(registry.name, name)) throw packNotFound(registry.name, name);
    const view: PackDownloadsView = { versions: await services.downloads.read(registry.name, name) };
    res.json(view);
  });

  router.get(`${BASE}/archive`, async (req, res) => {
    const registry = registryFor(services, req, 'pack.get');
    const record = await services.versions.get(registry.name, pathParam(req, 'name'), pathParam(req, 'version'));
    await downloads.archive(req, res, { registry, record });
  });

  router.get(`${BASE}/files/*path`, async (req, res) => {
    const registry = registryFor(services, req, 'pack.get');
    const file = pathParam(req, 'path');
    const problem = unsafeEntryName(file);
    if (problem) {
      throw registryError('INVALID_PATH', `the file path "${file}" ${problem}`);
    }
    const record = await services.versions.get(registry.name, pathParam(req, 'name'), pathParam(req, 'version'));
    await downloads.file(req, res, { registry, record, file });
  });
}
