/**
 * Cluster profiles at the three scopes, under one set of handlers:
 *
 *   /v1/cluster-profiles                                          system (the operator writes)
 *   /v1/tenants/:tenant/cluster-profiles                          tenant
 *   /v1/tenants/:tenant/projects/:project/cluster-profiles        project
 *
 * Reading needs clusterProfile.get/list in the scope (system profiles: any signed-in caller);
 * writing clusterProfile.create/update/delete/publish there. A scope lists its own profiles and,
 * read-only, those inherited from the scopes above it (project <- tenant <- system).
 */
import { isDeepStrictEqual } from 'node:util';
import type { ProfileView } from '@packyard/registry-api';
import type { Request, RequestHandler, Router } from 'express';
import type { PackError } from '@packyard/pack-core';
import { authRequired, forbidden } from '../access/authorize.js';
import { SYSTEM, type Target } from '../identity/principals.js';
import { principalOf } from '../access/authenticate.js';
import { invalidCursor, pathParam, queryBoolean, queryInteger, queryString } from '../http/params.js';
import { checkProfile, profileNotFound, visibleScopes, type ProfileRecord } from '../profiles/profile-service.js';
import type { RegistryServices } from '../services.js';
import { tenantFor } from './identity-helpers.js';
import { callerName, jsonBodyOf } from './route-helpers.js';
import { registryError } from '../errors.js';

type ScopeKind = Target['scope'];

const BASES: Record<ScopeKind, string> = {
  system: '/v1/cluster-profiles',
  tenant: '/v1/tenants/:tenant/cluster-profiles',
  project: '/v1/tenants/:tenant/projects/:project/cluster-profiles',
};

/** Profiles may carry values files: a larger body limit than the other management routes. */
const profileBody = jsonBodyOf('2mb');

const READS = new Set(['clusterProfile.get', 'clusterProfile.list']);

/** The scope a request names, once `permission` there is authorized (404 for other tenants). */
function authorizedTarget(services: RegistryServices, req: Request, kind: ScopeKind, permission: string): Target {
  const principal = principalOf(req);
  if (principal.kind === 'anonymous') throw authRequired(permission);
  if (kind === 'system') {
    // The system's profiles are the platform's catalogue: every signed-in caller reads them.
    if (!READS.has(permission) && !services.access.can(principal, permission, SYSTEM)) {
      throw forbidden(permission, SYSTEM);
    }
    return SYSTEM;
  }
  const tenant = pathParam(req, 'tenant');
  if (kind === 'tenant') {
    tenantFor(services, req, permission);
    return { scope: 'tenant', tenant };
  }
  const project = pathParam(req, 'project');
  tenantFor(services, req, permission, { project });
  return { scope: 'project', tenant, project };
}

function view(record: ProfileRecord, inherited: boolean): ProfileView {
  return {
    name: record.profile.name,
    version: record.profile.version,
    scope: record.scope,
    tenant: record.tenant,
    project: record.project,
    inherited,
    published: record.published,
    profile: record.profile,
    createdAt: record.createdAt,
    createdBy: record.createdBy,
    updatedAt: record.updatedAt,
    updatedBy: record.updatedBy,
    revision: record.revision,
  };
}

function inheritedProfile(name: string, from: Target): PackError {
  return registryError('PROFILE_INHERITED', `${name} belongs to the ${from.scope} scope: it is read-only here`, {
    hint: `change it in its own scope (${from.scope}), with clusterProfile permissions there`,
  });
}

/** Most profiles a page of a list holds (`limit`), and how many unless it says. */
const MAX_PAGE_PROFILES = 500;
const DEFAULT_PAGE_PROFILES = 100;
/**
 * Most bytes of profiles a page holds, whatever its `limit`: a profile may be 2 MB, and a list
 * answered whole once ran past what one JSON string can hold (500 INTERNAL_ERROR, seconds of work).
 * A page holds at least one profile.
 */
export const MAX_PAGE_BYTES = 8 * 1024 * 1024;

/** A list's cursor: the index of a scope among those listed, and the profile name it follows there. */
const CURSOR = /^([0-2]):([a-z0-9-]{0,64})$/;

interface PageAsked {
  limit: number;
  from?: { scope: number; after: string };
}

function pageAsked(req: Request): PageAsked {
  const limit = queryInteger(req, 'limit', 1, MAX_PAGE_PROFILES) ?? DEFAULT_PAGE_PROFILES;
  const cursor = queryString(req, 'cursor');
  if (cursor === undefined) return { limit };
  const match = CURSOR.exec(cursor);
  if (!match) {
    throw invalidCursor(cursor);
  }
  return { limit, from: { scope: Number(match[1]), after: match[2] ?? '' } };
}

/**
 * One page of the profiles of `scopes` (own scope first, then those inherited from), as JSON items:
 * at most `limit` of them and MAX_PAGE_BYTES (at least one), and the cursor of the next page, or
 * null at the end. Records are read one at a time and only until the page is full (one more at
 * most, when the bytes end it).
 */
async function listPage(
  profiles: RegistryServices['profiles'],
  scopes: readonly Target[],
  asked: PageAsked,
): Promise<{ items: string[]; nextCursor: string | null }> {
  const items: string[] = [];
  let bytes = 0;
  for (let index = asked.from?.scope ?? 0; index < scopes.length; index++) {
    const scope = scopes[index] as Target;
    let after = index === asked.from?.scope && asked.from.after !== '' ? asked.from.after : undefined;
    for await (const listed of profiles.listed(scope, after)) {
      const next = `${String(index)}:${after ?? ''}`;
      if (items.length === asked.limit) return { items, nextCursor: next };
      const record = await listed.read();
      if (!record) continue;
      const json = JSON.stringify(view(record, index > 0));
      const size = Buffer.byteLength(json);
      if (items.length > 0 && bytes + size > MAX_PAGE_BYTES) return { items, nextCursor: next };
      items.push(json);
      bytes += size;
      after = listed.name;
    }
  }
  return { items, nextCursor: null };
}

export function registerClusterProfileRoutes(router: Router, services: RegistryServices): void {
  const profiles = services.profiles;

  /** The record `name` of the target's own scope; a name only inherited here is PROFILE_INHERITED. */
  async function own(target: Target, name: string): Promise<ProfileRecord> {
    const found = await profiles.find(target, name);
    if (found) return found;
    for (const scope of visibleScopes(target).slice(1)) {
      if (await profiles.find(scope, name)) throw inheritedProfile(name, scope);
    }
    throw profileNotFound(name);
  }

  for (const kind of ['system', 'tenant', 'project'] as const) {
    const base = BASES[kind];
    const item = `${base}/:profile`;

    router.get(base, async (req, res) => {
      const target = authorizedTarget(services, req, kind, 'clusterProfile.list');
      const scopes = queryBoolean(req, 'inherited') === false ? [target] : visibleScopes(target);
      const { items, nextCursor } = await listPage(profiles, scopes, pageAsked(req));
      // Each item was made JSON once, to measure it: the page is put together from those.
      res.type('json').send(`{"items":[${items.join(',')}],"nextCursor":${JSON.stringify(nextCursor)}}`);
    });

    // The caller is authorized before a body of up to 2 MB is read and parsed.
    const allowedTo =
      (permission: string): RequestHandler =>
      (req, _res, next) => {
        authorizedTarget(services, req, kind, permission);
        next();
      };

    router.post(base, allowedTo('clusterProfile.create'), profileBody, async (req, res) => {
      const target = authorizedTarget(services, req, kind, 'clusterProfile.create');
      const record = await profiles.create(target, checkProfile(req.body), callerName(req));
      res
        .status(201)
        .location(`${req.originalUrl.split('?', 1)[0] ?? ''}/${record.profile.name}`)
        .json(view(record, false));
    });

    router.get(item, async (req, res) => {
      const target = authorizedTarget(services, req, kind, 'clusterProfile.get');
      const name = pathParam(req, 'profile');
      for (const [index, scope] of visibleScopes(target).entries()) {
        const found = await profiles.find(scope, name);
        if (found) {
          res.json(view(found, index > 0));
          return;
        }
      }
      throw profileNotFound(name);
    });

    // One revision: the current one, or one kept when a change replaced it (of the scope that has the profile).
    router.get(`${item}/revisions/:revision`, async (req, res) => {
      const target = authorizedTarget(services, req, kind, 'clusterProfile.get');
      const name = pathParam(req, 'profile');
      // Its grammar (a whole number from 1) is checked with every path parameter's (path-params.ts).
      const text = pathParam(req, 'revision');
      for (const [index, scope] of visibleScopes(target).entries()) {
        const current = await profiles.find(scope, name);
        if (!current) continue;
        const record = await profiles.revision(scope, current, Number(text));
        if (!record) {
          throw registryError('PROFILE_NOT_FOUND', `cluster profile ${name} has no revision ${text} here`, {
            hint: `packctl profile show ${name} says its current revision; earlier ones are kept from their replacement on`,
          });
        }
        res.json(view(record, index > 0));
        return;
      }
      throw profileNotFound(name);
    });

    router.put(item, allowedTo('clusterProfile.update'), profileBody, async (req, res) => {
      const target = authorizedTarget(services, req, kind, 'clusterProfile.update');
      const name = pathParam(req, 'profile');
      const profile = checkProfile(req.body, name);
      await own(target, name);
      const by = callerName(req);
      // The same profile again changes nothing (as the same pack bytes again do): no new revision.
      const record = await profiles.update(target, name, (current) =>
        isDeepStrictEqual(current.profile, profile)
          ? undefined
          : { ...current, profile, updatedAt: new Date().toISOString(), updatedBy: by },
      );
      res.json(view(record, false));
    });

    router.delete(item, async (req, res) => {
      const target = authorizedTarget(services, req, kind, 'clusterProfile.delete');
      const name = pathParam(req, 'profile');
      await own(target, name);
      await profiles.remove(target, name);
      res.status(204).end();
    });

    router.post(`${item}/publish`, async (req, res) => {
      const target = authorizedTarget(services, req, kind, 'clusterProfile.publish');
      const name = pathParam(req, 'profile');
      await own(target, name);
      const by = callerName(req);
      const record = await profiles.update(target, name, (current) => ({
        ...current,
        published: { at: new Date().toISOString(), by, version: current.profile.version },
      }));
      res.json(view(record, false));
    });
  }
}
