/** The catalog: search across registries, one registry's packs, and one pack's versions and tags. */
import type { PackDetail } from '@packyard/registry-api';
import type { Request, Router } from 'express';
import { principalOf } from '../access/authenticate.js';
import { MAX_LIMIT, type CatalogQuery, type CatalogSort } from '../catalog/catalog-index.js';
import { InvalidQueryError } from '../catalog/query-engine.js';
import { pathParam, queryBoolean, queryChoice, queryInteger, queryString } from '../http/params.js';
import { packNotFound } from '../packs/version-service.js';
import type { RegistryServices } from '../services.js';
import { registryFor } from './route-helpers.js';
import { registryError } from '../errors.js';

const SORTS: readonly CatalogSort[] = ['relevance', 'name', '-name', 'published', '-published'];

function catalogQuery(req: Request): CatalogQuery {
  const query: CatalogQuery = {};
  for (const key of ['name', 'q', 'layer', 'addonType', 'cloudType', 'version', 'registry', 'cursor'] as const) {
    const value = queryString(req, key);
    if (value !== undefined) query[key] = value;
  }
  const deprecated = queryBoolean(req, 'deprecated');
  if (deprecated !== undefined) query.deprecated = deprecated;
  if (queryBoolean(req, 'facets') === true) query.facets = true;
  const sort = queryChoice(req, 'sort', SORTS);
  if (sort !== undefined) query.sort = sort;
  const limit = queryInteger(req, 'limit', 1, MAX_LIMIT);
  if (limit !== undefined) query.limit = limit;
  return query;
}

function runQuery(services: RegistryServices, req: Request, query: CatalogQuery) {
  const principal = principalOf(req);
  const index = services.catalog.index;
  try {
    return index.queryJson(query, (name) => {
      const registry = index.registry(name);
      return registry !== undefined && services.access.canOnRegistry(principal, 'pack.list', registry);
    });
  } catch (err) {
    if (err instanceof InvalidQueryError) throw registryError('INVALID_PARAMETER', err.message);
    throw err;
  }
}

export function registerCatalogRoutes(router: Router, services: RegistryServices): void {
  router.get('/v1/packs', (req, res) => {
    res.type('json').send(runQuery(services, req, catalogQuery(req)));
  });

  router.get('/v1/registries/:registry/packs', (req, res) => {
    const registry = registryFor(services, req, 'pack.list');
    res.type('json').send(runQuery(services, req, { ...catalogQuery(req), registry: registry.name }));
  });

  router.get('/v1/registries/:registry/packs/:name', (req, res) => {
    const registry = registryFor(services, req, 'pack.get');
    const name = pathParam(req, 'name');
    const detail = services.catalog.index.pack(registry.name, name);
    if (!detail) throw packNotFound(registry.name, name);
    const view: PackDetail = {
      ...detail,
      versions: detail.versions.map((v) => ({
        version: v.version,
        digest: v.digest,
        size: v.size,
        publishedAt: v.publishedAt,
        publisher: v.publisher,
        deprecated: v.deprecated,
        cloudTypes: v.cloudTypes,
      })),
    };
    res.json(view);
  });
}
