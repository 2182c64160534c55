/** Registries: list, read, create and change them. */
import type { Router } from 'express';
import { authorize, can } from '../access/authorize.js';
import { principalOf } from '../access/authenticate.js';
import { newRegistrySchema, registryChangesSchema } from '../http/api-schemas.js';
import { bodyValidator } from '../http/params.js';
import type { RegistryServices } from '../services.js';
import { callerName, jsonBody, registryFor } from './route-helpers.js';

const readNewRegistry = bodyValidator(newRegistrySchema);
const readRegistryChanges = bodyValidator(registryChangesSchema);

export function registerRegistryRoutes(router: Router, services: RegistryServices): void {
  router.get('/v1/registries', (req, res) => {
    const principal = principalOf(req);
    const items = services.registries
      .list()
      .filter((registry) => can(services.policy, principal, 'registry.get', { type: 'registry', registry }));
    res.json({ items });
  });

  router.post('/v1/registries', jsonBody, async (req, res) => {
    authorize(services.policy, principalOf(req), 'registry.create', { type: 'system' });
    const input = readNewRegistry(req.body);
    const record = await services.registries.create(input, callerName(req));
    res.status(201).location(`/v1/registries/${record.name}`).json(record);
  });

  router.get('/v1/registries/:registry', (req, res) => {
    res.json(registryFor(services, req, 'registry.get'));
  });

  router.patch('/v1/registries/:registry', jsonBody, async (req, res) => {
    const registry = registryFor(services, req, 'registry.update');
    const changes = readRegistryChanges(req.body);
    res.json(await services.registries.update(registry.name, changes));
  });
}
