/**
 * Downloads: a version's archive, and single files out of it. The routes authorize and find the
 * version record; the download pipeline (blobs/pack-downloads.ts) answers.
 */
import type { Router } from 'express';
import { unsafeEntryName } from '@packyard/pack-core';
import { PackDownloads } from '../blobs/pack-downloads.js';
import { pathParam } from '../http/params.js';
import type { RegistryServices } from '../services.js';
import { registryFor } from './route-helpers.js';
import { registryError } from '../errors.js';

const BASE = '/v1/registries/:registry/packs/:name/:version';

export function registerDownloadRoutes(router: Router, services: RegistryServices): void {
  const downloads = new PackDownloads(services);

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
