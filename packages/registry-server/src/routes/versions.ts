/** One version: read its record and who uses it, deprecate or un-deprecate it, delete it (a tombstone). */
import { VersionChanges, type DeletedVersion } from '@packyard/registry-api';
import type { Router } from 'express';
import { bodyValidator, pathParam, queryString } from '../http/params.js';
import type { RegistryServices } from '../services.js';
import { callerName, jsonBody, registryFor, versionView } from './route-helpers.js';
import { principalOf } from '../access/authenticate.js';
import { packUsage } from '../packs/pack-usage.js';
import { registryError } from '../errors.js';
import type { VersionRecord } from '../catalog/records.js';

const readVersionChanges = bodyValidator(VersionChanges);

/**
 * The JSON of a version's view, by record. A record the version service keeps in memory is the
 * same object from read to read until it changes (a change is a new record), so a read of a kept
 * version sends the text made the first time instead of copying and serializing it again.
 */
const viewsSent = new WeakMap<VersionRecord, string>();

function versionJson(record: VersionRecord): string {
  let json = viewsSent.get(record);
  if (json === undefined) {
    json = JSON.stringify(versionView(record));
    viewsSent.set(record, json);
  }
  return json;
}

const VERSION_ROUTE = '/v1/registries/:registry/packs/:name/:version';

export function registerVersionRoutes(router: Router, services: RegistryServices): void {
  router.get(VERSION_ROUTE, async (req, res) => {
    const registry = registryFor(services, req, 'pack.get');
    const record = await services.versions.get(registry.name, pathParam(req, 'name'), pathParam(req, 'version'));
    res.type('json').send(versionJson(record));
  });

  router.get(`${VERSION_ROUTE}/usage`, async (req, res) => {
    const registry = registryFor(services, req, 'pack.get');
    const record = await services.versions.get(registry.name, pathParam(req, 'name'), pathParam(req, 'version'));
    res.json(await packUsage(services, principalOf(req), record));
  });

  router.patch(VERSION_ROUTE, jsonBody, async (req, res) => {
    const registry = registryFor(services, req, 'pack.deprecate');
    const changes = readVersionChanges(req.body);
    if (changes.deprecated && !changes.message) {
      throw registryError('MESSAGE_REQUIRED', 'deprecating a version needs a message for its users', {
        hint: 'send {"deprecated": true, "message": "use 1.2.4: fixes CVE-..."}',
      });
    }
    const record = await services.versions.deprecate(registry.name, pathParam(req, 'name'), pathParam(req, 'version'), {
      message: changes.deprecated ? (changes.message ?? null) : null,
      by: callerName(req),
    });
    res.json(versionView(record));
  });

  router.delete(VERSION_ROUTE, async (req, res) => {
    const registry = registryFor(services, req, 'pack.delete');
    const record = await services.versions.remove(registry.name, pathParam(req, 'name'), pathParam(req, 'version'), {
      message: queryString(req, 'message') ?? null,
      by: callerName(req),
    });
    const view: DeletedVersion = {
      registry: record.registry,
      name: record.name,
      version: record.version,
      deleted: record.deleted,
    };
    res.json(view);
  });
}
