/** Registries: list, read, create and change them. */
import type { Router } from 'express';
import { principalOf } from '../access/authenticate.js';
import { NewRegistry, RegistryChanges } from '@packyard/registry-api';
import { bodyValidator } from '../http/params.js';
import type { RegistryServices } from '../services.js';
import { tenantNotFound } from '../identity/identity-errors.js';
import { newRegistryTarget } from '../registries/registry-service.js';
import { callerName, claimNamespace, jsonBody, registryFor, registryView } from './route-helpers.js';
import { registryError } from '../errors.js';

const readNewRegistry = bodyValidator(NewRegistry);
const readRegistryChanges = bodyValidator(RegistryChanges);

export function registerRegistryRoutes(router: Router, services: RegistryServices): void {
  router.get('/v1/registries', (req, res) => {
    const principal = principalOf(req);
    const items = services.registries
      .list()
      .filter((registry) => services.access.canOnRegistry(principal, 'registry.get', registry))
      .map(registryView);
    res.json({ items });
  });

  router.post('/v1/registries', jsonBody, async (req, res) => {
    const input = readNewRegistry(req.body);
    const target = newRegistryTarget(input);
    services.access.authorize(principalOf(req), 'packRegistry.create', target, () =>
      tenantNotFound(input.tenant ?? ''),
    );
    if (input.public && input.scope !== 'system') {
      throw registryError('REGISTRY_INVALID', 'only system registries can be public', {
        hint: 'leave "public" out: a tenant or project registry is readable only inside its tenant',
      });
    }
    const create = async () => {
      // The tenant and project must exist (checked after authorization: no probing other tenants).
      if (target.scope !== 'system') services.identity.tenant(target.tenant);
      if (target.scope === 'project') services.identity.project(target.tenant, target.project);
      claimNamespace(services, { kind: 'registry', name: input.name, target });
      return services.registries.create(input, callerName(req));
    };
    const record =
      target.scope === 'system'
        ? await services.registries.inSystem(create)
        : await services.registries.inTenant(target.tenant, create);
    res.status(201).location(`/v1/registries/${record.name}`).json(registryView(record));
  });

  router.get('/v1/registries/:registry', (req, res) => {
    res.json(registryView(registryFor(services, req, 'registry.get')));
  });

  router.patch('/v1/registries/:registry', jsonBody, async (req, res) => {
    const registry = registryFor(services, req, 'registry.update');
    const changes = readRegistryChanges(req.body);
    if (changes.public && registry.scope !== 'system') {
      throw registryError('REGISTRY_INVALID', 'only system registries can be public', {
        hint: 'a tenant or project registry is readable only inside its tenant',
      });
    }
    res.json(registryView(await services.registries.update(registry.name, changes)));
  });
}
