/**
 * The authorization matrix: every route below, called by a holder of every built-in role, against
 * targets in each relation to the caller (their own project, another project of their tenant,
 * another tenant, the system). The expected answer is computed from the role's permissions as
 * generated from the seeds, never written per role:
 *
 * - another tenant: 404, always;
 * - a system-scope route: 403 (every built-in tenant and project role is below the system), except
 *   the reads every signed-in caller has (the public registry, system cluster profiles);
 * - a tenant-scope route: 2xx when the role is a tenant role holding the permission, else 403;
 * - a project-scope route: 2xx when the role holds the permission and applies to the project (a
 *   tenant role applies to every project, a project role only where it is bound), else 403;
 * - no escalation (issue 11): a route that gives or takes away a role (a binding, a team's
 *   members) also needs that role's permissions, and one acting on another user also needs every
 *   permission that user holds; the cases against a Tenant Admin ("strong@") show it per route.
 *
 * The OCI token endpoint (/v2/token) answers 200 whoever asks: its cases read the token it issues
 * and stand for the /v2 route it opens, 200 when the token grants the action and otherwise what
 * that route answers (404 in another tenant, 403 elsewhere), so the same rules hold for it.
 */
import { createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLES, type Role } from '../identity/roles.js';
import { openApiDocument } from '../http/openapi.js';
import { REGISTRY_TOKEN_PREFIX, type ResourceAccess } from '../oci/registry-token.js';
import { listenOnLoopback, type ListeningApp } from '../test-support/listening-app.js';
import {
  AUTH,
  buildTestPack,
  startTestRegistry,
  tempDir,
  type TestPack,
  type TestRegistry,
} from '../test-support/test-registry.js';

type Relation = 'own project' | 'other project' | 'other tenant' | 'system';
type Scope = 'system' | 'tenant' | 'project';

interface Context {
  tenant: string;
  project: string;
  n: number;
}

/** What a case's call answered: a response, or what a token endpoint's grant stands for. */
interface Answer {
  status: number;
  body: unknown;
}

interface RouteCase {
  name: string;
  scope: Scope;
  permission: string;
  /** Allowed for every signed-in caller whatever their roles (within the rules above). */
  everyone?: boolean;
  /** Allowed where the caller is associated with the project (a binding there). */
  associated?: boolean;
  /** Permissions the caller must hold in addition (a binding's role, say). */
  alsoNeeds?: readonly string[];
  call(ctx: Context, token: string): Promise<Answer>;
  /** Creates what the call acts on, as the operator. */
  prepare?(ctx: Context): Promise<void>;
  /** The relations to check when not all of the scope's. */
  relations?: readonly Relation[];
}

const PASSWORD = 'authorization matrix password';
const TENANT_A = 'tenant-a';
const TENANT_B = 'tenant-b';
const OWN = 'own';
const OTHER = 'other';

const profile = (name: string) => ({ name, version: '1.0.0', packs: [{ name: 'kubernetes', version: '1.29.x' }] });

describe('the authorization matrix (every route x every built-in role x every relation)', () => {
  let registry: TestRegistry;
  /**
   * One listening server for the whole file instead of one per request (thousands of them). The
   * cases stay apart by their own names (ctx.n), so they need no reset between them.
   */
  let listening: ListeningApp;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let pack: TestPack;
  const tokens = new Map<string, string>();
  const bindingIds = new Map<number, string>();
  const keyIds = new Map<number, string>();
  const app = () => listening.server;
  const as = (token: string) => ({ Authorization: `Bearer ${token}` });
  const permissionsOf = (name: string) => BUILT_IN_ROLES.find((r) => r.name === name)?.permissions ?? [];
  const viewerPermissions = permissionsOf('Tenant Viewer');
  const adminPermissions = permissionsOf('Tenant Admin');
  const asOperator = () => request(app());
  /** A fresh user holding Tenant Admin, for the cases that disable or delete one. */
  const tenantAdmin = async (c: Context, name: string) => {
    await asOperator().post(`/v1/tenants/${c.tenant}/users`).set(AUTH).send({ username: name }).expect(201);
    await asOperator()
      .post(`/v1/tenants/${c.tenant}/bindings`)
      .set(AUTH)
      .send({ role: 'Tenant Admin', subject: { kind: 'user', name } })
      .expect(201);
  };
  /** A fresh team holding Tenant Admin, with the given members. */
  const adminTeam = async (c: Context, name: string, members: string[]) => {
    await asOperator().post(`/v1/tenants/${c.tenant}/teams`).set(AUTH).send({ name, members }).expect(201);
    await asOperator()
      .post(`/v1/tenants/${c.tenant}/bindings`)
      .set(AUTH)
      .send({ role: 'Tenant Admin', subject: { kind: 'team', name } })
      .expect(201);
  };

  const registryOf = (ctx: Context, scope: 'tenant' | 'project') =>
    scope === 'tenant' ? `${ctx.tenant}-packs` : `${ctx.tenant}-${ctx.project}-packs`;

  /** The OCI name of a repository in the public registry, or in the context's tenant or project registry. */
  const ociRepository = (ctx: Context, scope: Scope) => {
    if (scope === 'system') return 'public/matrix-app';
    if (scope === 'tenant') return `${ctx.tenant}/${registryOf(ctx, 'tenant')}/matrix-app`;
    return `${ctx.tenant}/${ctx.project}/${registryOf(ctx, 'project')}/matrix-app`;
  };
  /**
   * The token endpoint's grants as route answers: 200 when the token grants the action, else what
   * the /v2 route itself would answer without it (404 in another tenant, 403 elsewhere), so that
   * the matrix's rules are the token's too.
   */
  const grantAnswer = (res: request.Response, ctx: Context, resource: string, action: string): Answer => {
    if (res.status !== 200) return res;
    const jwt = (res.body as { token: string }).token.slice(REGISTRY_TOKEN_PREFIX.length);
    const access = decodeJwt(jwt)['access'] as ResourceAccess[];
    const granted = access.some((a) => `${a.type}:${a.name}` === resource && a.actions.includes(action));
    if (granted) return res;
    return { status: ctx.tenant === TENANT_B ? 404 : 403, body: access };
  };
  const TOKEN_ACTIONS = [
    ['pull', 'packRegistry.list'],
    ['push', 'packRegistry.update'],
    ['delete', 'packRegistry.update'],
  ] as const;
  const tokenCases = (['system', 'tenant', 'project'] as const).flatMap((scope) =>
    TOKEN_ACTIONS.flatMap(([action, permission]) =>
      (['GET', 'POST'] as const).map((method): RouteCase => ({
        name: `${method} /v2/token (repository:{${scope} registry}:${action})`,
        scope,
        permission,
        everyone: scope === 'system' && action === 'pull',
        call: async (c, t) => {
          const scopeValue = `repository:${ociRepository(c, scope)}:${action}`;
          const res =
            method === 'GET'
              ? await request(app())
                  .get(`/v2/token?service=packyard&scope=${encodeURIComponent(scopeValue)}`)
                  .set(as(t))
              : await request(app())
                  .post('/v2/token')
                  .type('form')
                  .send({ grant_type: 'password', username: 'any', password: t, scope: scopeValue });
          return grantAnswer(res, c, `repository:${ociRepository(c, scope)}`, action);
        },
      })),
    ),
  );

  /** The OCI content every registry's `matrix-app` repository holds (pushed as the operator). */
  const OCI_CONFIG = Buffer.from('{}');
  const OCI_CONFIG_DIGEST = `sha256:${createHash('sha256').update(OCI_CONFIG).digest('hex')}`;
  const OCI_MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
  const ociManifest = (annotation: string) =>
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST_TYPE,
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: OCI_CONFIG_DIGEST, size: OCI_CONFIG.length },
        layers: [],
        annotations: { 'matrix.case': annotation },
      }),
    );
  const OCI_MANIFEST = ociManifest('kept');
  const OCI_MANIFEST_DIGEST = `sha256:${createHash('sha256').update(OCI_MANIFEST).digest('hex')}`;
  const pushBlob = (repository: string, bytes: Buffer) =>
    request(app())
      .post(`/v2/${repository}/blobs/uploads/?digest=sha256:${createHash('sha256').update(bytes).digest('hex')}`)
      .set(AUTH)
      .set('Content-Type', 'application/octet-stream')
      .send(bytes)
      .expect(201);
  const pushManifest = async (repository: string, tag: string, manifest: Buffer) => {
    const res = await request(app())
      .put(`/v2/${repository}/manifests/${tag}`)
      .set(AUTH)
      .set('Content-Type', OCI_MANIFEST_TYPE)
      // A string: superagent would serialise a Buffer under a JSON media type as JSON.
      .send(manifest.toString());
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  };
  /** Upload sessions the operator opened for a case, by case number. */
  const uploads = new Map<number, string>();
  const openUpload = async (c: Context, scope: Scope) => {
    // One operator session at a time: a caller may hold only so many (MAX_SESSIONS_PER_OWNER).
    for (const location of uploads.values()) await request(app()).delete(location).set(AUTH);
    uploads.clear();
    const res = await request(app())
      .post(`/v2/${ociRepository(c, scope)}/blobs/uploads/`)
      .set(AUTH)
      .expect(202);
    uploads.set(c.n, res.headers['location'] as string);
  };
  const ociRead = (
    scope: Scope,
    route: string,
    call: (c: Context, t: string, repository: string) => request.Test,
  ): RouteCase => ({
    name: `${route} (${scope} registry)`,
    scope,
    permission: 'packRegistry.list',
    everyone: scope === 'system',
    call: (c, t) => call(c, t, ociRepository(c, scope)),
  });
  const ociWrite = (
    scope: Scope,
    route: string,
    call: (c: Context, t: string, repository: string) => Promise<Answer>,
    prepare?: (c: Context) => Promise<void>,
  ): RouteCase => ({
    name: `${route} (${scope} registry)`,
    scope,
    permission: 'packRegistry.update',
    call: (c, t) => call(c, t, ociRepository(c, scope)),
    ...(prepare ? { prepare } : {}),
  });
  const uploadOf = (c: Context) => uploads.get(c.n) ?? '/v2/none/blobs/uploads/none';
  /**
   * The session a caller works on: their own when they may open one (a session belongs to whoever
   * opened it), else the operator's, on which authorization refuses them before anything else.
   */
  const sessionFor = async (c: Context, t: string, repository: string): Promise<string> => {
    const own = await request(app()).post(`/v2/${repository}/blobs/uploads/`).set(as(t));
    return own.status === 202 ? (own.headers['location'] as string) : uploadOf(c);
  };
  /** A route on an upload session: the caller's own when they may open one, with the operator's opened first. */
  const ociSession = (scope: Scope, route: string, call: (location: string, t: string) => request.Test): RouteCase =>
    ociWrite(
      scope,
      route,
      async (c, t, r) => call(await sessionFor(c, t, r), t),
      (c) => openUpload(c, scope),
    );
  const ociCases = (['system', 'tenant', 'project'] as const).flatMap((scope): RouteCase[] => [
    ociRead(scope, 'GET /v2/{repository}/tags/list', (_c, t, r) => request(app()).get(`/v2/${r}/tags/list`).set(as(t))),
    ociRead(scope, 'GET /v2/{repository}/manifests/{reference}', (_c, t, r) =>
      request(app()).get(`/v2/${r}/manifests/kept`).set(as(t)),
    ),
    ociRead(scope, 'GET /v2/{repository}/blobs/{digest}', (_c, t, r) =>
      request(app()).get(`/v2/${r}/blobs/${OCI_CONFIG_DIGEST}`).set(as(t)),
    ),
    ociRead(scope, 'GET /v2/{repository}/referrers/{digest}', (_c, t, r) =>
      request(app()).get(`/v2/${r}/referrers/${OCI_MANIFEST_DIGEST}`).set(as(t)),
    ),
    ociWrite(scope, 'POST /v2/{repository}/blobs/uploads', (_c, t, r) =>
      request(app()).post(`/v2/${r}/blobs/uploads/`).set(as(t)),
    ),
    ociSession(scope, 'GET /v2/{repository}/blobs/uploads/{uuid}', (location, t) =>
      request(app()).get(location).set(as(t)),
    ),
    ociSession(scope, 'PATCH /v2/{repository}/blobs/uploads/{uuid}', (location, t) =>
      request(app()).patch(location).set(as(t)).set('Content-Type', 'application/octet-stream').send(OCI_CONFIG),
    ),
    ociSession(scope, 'PUT /v2/{repository}/blobs/uploads/{uuid}', (location, t) =>
      request(app())
        .put(`${location}?digest=${OCI_CONFIG_DIGEST}`)
        .set(as(t))
        .set('Content-Type', 'application/octet-stream')
        .send(OCI_CONFIG),
    ),
    ociSession(scope, 'DELETE /v2/{repository}/blobs/uploads/{uuid}', (location, t) =>
      request(app()).delete(location).set(as(t)),
    ),
    ociWrite(scope, 'PUT /v2/{repository}/manifests/{reference}', (c, t, r) =>
      request(app())
        .put(`/v2/${r}/manifests/pushed-${c.n}`)
        .set(as(t))
        .set('Content-Type', OCI_MANIFEST_TYPE)
        .send(ociManifest(`pushed-${c.n}`).toString()),
    ),
    ociWrite(
      scope,
      'DELETE /v2/{repository}/manifests/{reference}',
      (c, t, r) => request(app()).delete(`/v2/${r}/manifests/doomed-${c.n}`).set(as(t)),
      async (c) => {
        await pushManifest(ociRepository(c, scope), `doomed-${c.n}`, ociManifest(`doomed-${c.n}`));
      },
    ),
    ociWrite(
      scope,
      'DELETE /v2/{repository}/blobs/{digest}',
      (c, t, r) =>
        request(app())
          .delete(`/v2/${r}/blobs/sha256:${createHash('sha256').update(`doomed-${c.n}`).digest('hex')}`)
          .set(as(t)),
      async (c) => {
        await pushBlob(ociRepository(c, scope), Buffer.from(`doomed-${c.n}`));
      },
    ),
  ]);

  const routes: RouteCase[] = [
    // --- system scope
    {
      name: 'GET /v1/tenants',
      scope: 'system',
      permission: 'tenant.list',
      call: (_c, t) => request(app()).get('/v1/tenants').set(as(t)),
    },
    {
      name: 'POST /v1/tenants',
      scope: 'system',
      permission: 'tenant.create',
      call: (c, t) =>
        request(app())
          .post('/v1/tenants')
          .set(as(t))
          .send({ name: `made-${c.n}` }),
    },
    {
      name: 'GET /v1/audit',
      scope: 'system',
      permission: 'audit.list',
      call: (_c, t) => request(app()).get('/v1/audit').set(as(t)),
    },
    {
      name: 'GET /v1/cluster-profiles',
      scope: 'system',
      permission: 'clusterProfile.list',
      everyone: true,
      call: (_c, t) => request(app()).get('/v1/cluster-profiles').set(as(t)),
    },
    {
      name: 'POST /v1/cluster-profiles',
      scope: 'system',
      permission: 'clusterProfile.create',
      call: (c, t) =>
        request(app())
          .post('/v1/cluster-profiles')
          .set(as(t))
          .send(profile(`sys-${c.n}`)),
    },
    {
      name: 'GET /v1/registries/public/packs',
      scope: 'system',
      permission: 'packRegistry.list',
      everyone: true,
      call: (_c, t) => request(app()).get('/v1/registries/public/packs').set(as(t)),
    },
    {
      name: 'POST /v1/registries/public/packs',
      scope: 'system',
      permission: 'packRegistry.update',
      call: (_c, t) =>
        request(app())
          .post('/v1/registries/public/packs')
          .set(as(t))
          .set('Content-Type', 'application/zip')
          .send(pack.bytes),
    },
    {
      name: 'POST /v1/registries (system)',
      scope: 'system',
      permission: 'packRegistry.create',
      call: (c, t) =>
        request(app())
          .post('/v1/registries')
          .set(as(t))
          .send({ name: `sys-${c.n}`, scope: 'system' }),
    },
    // --- tenant scope
    ...(['users', 'teams', 'roles', 'bindings'] as const).map((collection): RouteCase => ({
      name: `GET /v1/tenants/{tenant}/${collection}`,
      scope: 'tenant',
      permission: { users: 'user.list', teams: 'team.list', roles: 'role.list', bindings: 'role.list' }[collection],
      call: (c, t) => request(app()).get(`/v1/tenants/${c.tenant}/${collection}`).set(as(t)),
    })),
    {
      name: 'POST /v1/tenants/{tenant}/users',
      scope: 'tenant',
      permission: 'user.create',
      call: (c, t) =>
        request(app())
          .post(`/v1/tenants/${c.tenant}/users`)
          .set(as(t))
          .send({ username: `new-${c.n}@${c.tenant}` }),
    },
    {
      name: 'GET /v1/tenants/{tenant}/users/{user}',
      scope: 'tenant',
      permission: 'user.get',
      call: (c, t) => request(app()).get(`/v1/tenants/${c.tenant}/users/target@${c.tenant}`).set(as(t)),
    },
    {
      name: 'PATCH /v1/tenants/{tenant}/users/{user}',
      scope: 'tenant',
      permission: 'user.update',
      call: (c, t) =>
        request(app())
          .patch(`/v1/tenants/${c.tenant}/users/target@${c.tenant}`)
          .set(as(t))
          .send({ displayName: `renamed ${c.n}` }),
    },
    {
      name: 'DELETE /v1/tenants/{tenant}/users/{user}',
      scope: 'tenant',
      permission: 'user.delete',
      prepare: async (c) => {
        await request(app())
          .post(`/v1/tenants/${c.tenant}/users`)
          .set(AUTH)
          .send({ username: `doomed-${c.n}@${c.tenant}` })
          .expect(201);
      },
      call: (c, t) => request(app()).delete(`/v1/tenants/${c.tenant}/users/doomed-${c.n}@${c.tenant}`).set(as(t)),
    },
    {
      name: 'GET /v1/tenants/{tenant}/users/{user}/api-keys',
      scope: 'tenant',
      permission: 'apiKey.list',
      call: (c, t) => request(app()).get(`/v1/tenants/${c.tenant}/users/target@${c.tenant}/api-keys`).set(as(t)),
    },
    {
      name: 'POST /v1/tenants/{tenant}/users/{user}/api-keys',
      scope: 'tenant',
      permission: 'apiKey.create',
      call: (c, t) =>
        request(app())
          .post(`/v1/tenants/${c.tenant}/users/target@${c.tenant}/api-keys`)
          .set(as(t))
          .send({ name: `key-${c.n}` }),
    },
    {
      name: 'POST /v1/tenants/{tenant}/teams',
      scope: 'tenant',
      permission: 'team.create',
      call: (c, t) =>
        request(app())
          .post(`/v1/tenants/${c.tenant}/teams`)
          .set(as(t))
          .send({ name: `team-${c.n}` }),
    },
    {
      name: 'DELETE /v1/tenants/{tenant}/teams/{team}',
      scope: 'tenant',
      permission: 'team.delete',
      prepare: async (c) => {
        await request(app())
          .post(`/v1/tenants/${c.tenant}/teams`)
          .set(AUTH)
          .send({ name: `doomed-${c.n}` })
          .expect(201);
      },
      call: (c, t) => request(app()).delete(`/v1/tenants/${c.tenant}/teams/doomed-${c.n}`).set(as(t)),
    },
    {
      name: 'POST /v1/tenants/{tenant}/roles',
      scope: 'tenant',
      permission: 'role.create',
      // No escalation: the creator must hold what the role grants.
      alsoNeeds: ['packRegistry.get'],
      call: (c, t) =>
        request(app())
          .post(`/v1/tenants/${c.tenant}/roles`)
          .set(as(t))
          .send({ name: `role-${c.n}`, scope: 'tenant', permissions: ['packRegistry.get'] }),
    },
    {
      name: 'POST /v1/tenants/{tenant}/bindings (Tenant Viewer to a user)',
      scope: 'tenant',
      permission: 'user.update',
      alsoNeeds: viewerPermissions,
      call: (c, t) =>
        request(app())
          .post(`/v1/tenants/${c.tenant}/bindings`)
          .set(as(t))
          .send({ role: 'Tenant Viewer', subject: { kind: 'user', name: `bound@${c.tenant}` } }),
    },
    {
      name: 'GET /v1/tenants/{tenant}/projects',
      scope: 'tenant',
      permission: 'project.list',
      everyone: true,
      call: (c, t) => request(app()).get(`/v1/tenants/${c.tenant}/projects`).set(as(t)),
    },
    {
      name: 'POST /v1/tenants/{tenant}/projects',
      scope: 'tenant',
      permission: 'project.create',
      call: (c, t) =>
        request(app())
          .post(`/v1/tenants/${c.tenant}/projects`)
          .set(as(t))
          .send({ name: `p-${c.n}` }),
    },
    {
      name: 'GET /v1/tenants/{tenant}/audit',
      scope: 'tenant',
      permission: 'audit.list',
      call: (c, t) => request(app()).get(`/v1/tenants/${c.tenant}/audit`).set(as(t)),
    },
    {
      name: 'GET /v1/tenants/{tenant}/cluster-profiles',
      scope: 'tenant',
      permission: 'clusterProfile.list',
      call: (c, t) => request(app()).get(`/v1/tenants/${c.tenant}/cluster-profiles`).set(as(t)),
    },
    {
      name: 'POST /v1/tenants/{tenant}/cluster-profiles',
      scope: 'tenant',
      permission: 'clusterProfile.create',
      call: (c, t) =>
        request(app())
          .post(`/v1/tenants/${c.tenant}/cluster-profiles`)
          .set(as(t))
          .send(profile(`t-${c.n}`)),
    },
    {
      name: 'POST /v1/registries (tenant)',
      scope: 'tenant',
      permission: 'packRegistry.create',
      call: (c, t) =>
        request(app())
          .post('/v1/registries')
          .set(as(t))
          .send({ name: `reg-${c.n}`, scope: 'tenant', tenant: c.tenant }),
    },
    {
      name: 'GET /v1/registries/{tenant registry}/packs',
      scope: 'tenant',
      permission: 'packRegistry.list',
      call: (c, t) =>
        request(app())
          .get(`/v1/registries/${registryOf(c, 'tenant')}/packs`)
          .set(as(t)),
    },
    {
      name: 'POST /v1/registries/{tenant registry}/packs',
      scope: 'tenant',
      permission: 'packRegistry.update',
      call: (c, t) =>
        request(app())
          .post(`/v1/registries/${registryOf(c, 'tenant')}/packs`)
          .set(as(t))
          .set('Content-Type', 'application/zip')
          .send(pack.bytes),
    },
    // --- project scope
    {
      name: 'GET /v1/tenants/{tenant}/projects/{project}',
      scope: 'project',
      permission: 'project.get',
      associated: true,
      call: (c, t) => request(app()).get(`/v1/tenants/${c.tenant}/projects/${c.project}`).set(as(t)),
    },
    {
      name: 'PATCH /v1/tenants/{tenant}/projects/{project}',
      scope: 'project',
      permission: 'project.update',
      call: (c, t) =>
        request(app())
          .patch(`/v1/tenants/${c.tenant}/projects/${c.project}`)
          .set(as(t))
          .send({ description: `changed ${c.n}` }),
    },
    {
      name: 'GET /v1/tenants/{tenant}/projects/{project}/cluster-profiles',
      scope: 'project',
      permission: 'clusterProfile.list',
      call: (c, t) => request(app()).get(`/v1/tenants/${c.tenant}/projects/${c.project}/cluster-profiles`).set(as(t)),
    },
    {
      name: 'POST /v1/tenants/{tenant}/projects/{project}/cluster-profiles',
      scope: 'project',
      permission: 'clusterProfile.create',
      call: (c, t) =>
        request(app())
          .post(`/v1/tenants/${c.tenant}/projects/${c.project}/cluster-profiles`)
          .set(as(t))
          .send(profile(`p-${c.n}`)),
    },
    ...(
      [
        ['GET revision', 'clusterProfile.get'],
        ['PUT', 'clusterProfile.update'],
        ['DELETE', 'clusterProfile.delete'],
        ['POST publish', 'clusterProfile.publish'],
      ] as const
    ).map(([verb, permission]): RouteCase => ({
      name: `${verb} /v1/tenants/{tenant}/projects/{project}/cluster-profiles/{profile}`,
      scope: 'project',
      permission,
      prepare: async (c) => {
        await request(app())
          .post(`/v1/tenants/${c.tenant}/projects/${c.project}/cluster-profiles`)
          .set(AUTH)
          .send(profile(`target-${c.n}`))
          .expect(201);
      },
      call: (c, t) => {
        const url = `/v1/tenants/${c.tenant}/projects/${c.project}/cluster-profiles/target-${c.n}`;
        if (verb === 'GET revision') return request(app()).get(`${url}/revisions/1`).set(as(t));
        if (verb === 'PUT')
          return request(app())
            .put(url)
            .set(as(t))
            .send(profile(`target-${c.n}`));
        if (verb === 'DELETE') return request(app()).delete(url).set(as(t));
        return request(app()).post(`${url}/publish`).set(as(t));
      },
    })),
    {
      name: 'GET /v1/tenants/{tenant}/projects/{project}/audit',
      scope: 'project',
      permission: 'audit.list',
      call: (c, t) => request(app()).get(`/v1/tenants/${c.tenant}/projects/${c.project}/audit`).set(as(t)),
    },
    {
      name: 'POST /v1/registries (project)',
      scope: 'project',
      permission: 'packRegistry.create',
      call: (c, t) =>
        request(app())
          .post('/v1/registries')
          .set(as(t))
          .send({ name: `preg-${c.n}`, scope: 'project', tenant: c.tenant, project: c.project }),
    },
    {
      name: 'GET /v1/registries/{project registry}/packs',
      scope: 'project',
      permission: 'packRegistry.list',
      call: (c, t) =>
        request(app())
          .get(`/v1/registries/${registryOf(c, 'project')}/packs`)
          .set(as(t)),
    },
    {
      name: 'POST /v1/registries/{project registry}/packs',
      scope: 'project',
      permission: 'packRegistry.update',
      call: (c, t) =>
        request(app())
          .post(`/v1/registries/${registryOf(c, 'project')}/packs`)
          .set(as(t))
          .set('Content-Type', 'application/zip')
          .send(pack.bytes),
    },

    // --- more system-scope routes
    ...(
      [
        '/v1/roles',
        '/v1/permissions',
        '/v1/auth/me',
        '/v1/registries',
        '/v1/packs',
        '/v1/cluster-profiles/sys-target',
        '/v1/cluster-profiles/sys-target/revisions/1',
      ] as const
    ).map((url): RouteCase => ({
      name: `GET ${url}`,
      scope: 'system',
      permission: 'clusterProfile.get',
      everyone: true,
      call: (_c, t) => request(app()).get(url).set(as(t)),
    })),
    {
      name: 'POST /v1/auth/refresh',
      scope: 'system',
      permission: 'user.get',
      everyone: true,
      call: (_c, t) => request(app()).post('/v1/auth/refresh').set(as(t)),
    },
    {
      name: 'GET /v1/tenants/{own tenant}',
      scope: 'system',
      permission: 'tenant.get',
      call: (_c, t) => request(app()).get(`/v1/tenants/${TENANT_A}`).set(as(t)),
    },
    {
      name: 'DELETE /v1/tenants/{own tenant}',
      scope: 'system',
      permission: 'tenant.delete',
      call: (_c, t) => request(app()).delete(`/v1/tenants/${TENANT_A}`).set(as(t)),
    },
    {
      name: 'PATCH /v1/registries/public',
      scope: 'system',
      permission: 'packRegistry.update',
      call: (_c, t) => request(app()).patch('/v1/registries/public').set(as(t)).send({ description: 'mine now' }),
    },
    ...(
      [
        ['PUT', 'clusterProfile.update'],
        ['DELETE', 'clusterProfile.delete'],
        ['POST publish', 'clusterProfile.publish'],
      ] as const
    ).map(([verb, permission]): RouteCase => ({
      name: `${verb} /v1/cluster-profiles/{profile}`,
      scope: 'system',
      permission,
      call: (_c, t) => {
        const url = '/v1/cluster-profiles/sys-target';
        if (verb === 'PUT') return request(app()).put(url).set(as(t)).send(profile('sys-target'));
        if (verb === 'DELETE') return request(app()).delete(url).set(as(t));
        return request(app()).post(`${url}/publish`).set(as(t));
      },
    })),
    // --- more tenant-scope routes
    {
      name: 'GET /v1/tenants/{tenant}/teams/{team}',
      scope: 'tenant',
      permission: 'team.get',
      call: (c, t) => request(app()).get(`/v1/tenants/${c.tenant}/teams/kept`).set(as(t)),
    },
    {
      name: 'PATCH /v1/tenants/{tenant}/teams/{team}',
      scope: 'tenant',
      permission: 'team.update',
      call: (c, t) =>
        request(app())
          .patch(`/v1/tenants/${c.tenant}/teams/kept`)
          .set(as(t))
          .send({ description: `changed ${c.n}` }),
    },
    ...(
      [
        ['GET', 'role.get'],
        ['PATCH', 'role.update'],
        ['DELETE', 'role.delete'],
      ] as const
    ).map(([verb, permission]): RouteCase => ({
      name: `${verb} /v1/tenants/{tenant}/roles/{role}`,
      scope: 'tenant',
      permission,
      prepare: async (c) => {
        await request(app())
          .post(`/v1/tenants/${c.tenant}/roles`)
          .set(AUTH)
          .send({ name: `Custom ${c.n}`, scope: 'project', permissions: ['clusterProfile.get'] })
          .expect(201);
      },
      call: (c, t) => {
        const url = `/v1/tenants/${c.tenant}/roles/Custom%20${c.n}`;
        if (verb === 'GET') return request(app()).get(url).set(as(t));
        if (verb === 'PATCH') return request(app()).patch(url).set(as(t)).send({ description: 'changed' });
        return request(app()).delete(url).set(as(t));
      },
    })),
    {
      // Issue 11: taking a role away needs its permissions where it was given, as giving it does.
      name: 'DELETE /v1/tenants/{tenant}/bindings/{binding}',
      scope: 'tenant',
      permission: 'user.update',
      alsoNeeds: permissionsOf('ProjectViewer'),
      prepare: async (c) => {
        const username = `viewer-${c.n}@${c.tenant}`;
        await request(app()).post(`/v1/tenants/${c.tenant}/users`).set(AUTH).send({ username }).expect(201);
        const bound = await request(app())
          .post(`/v1/tenants/${c.tenant}/bindings`)
          .set(AUTH)
          .send({ role: 'ProjectViewer', subject: { kind: 'user', name: username }, project: OWN });
        expect(bound.status).toBe(201);
        bindingIds.set(c.n, bound.body.id as string);
      },
      call: (c, t) =>
        request(app())
          .delete(`/v1/tenants/${c.tenant}/bindings/${bindingIds.get(c.n) ?? ''}`)
          .set(as(t)),
    },
    {
      name: 'DELETE /v1/tenants/{tenant}/users/{user}/api-keys/{key}',
      scope: 'tenant',
      permission: 'apiKey.delete',
      prepare: async (c) => {
        const key = await request(app())
          .post(`/v1/tenants/${c.tenant}/users/target@${c.tenant}/api-keys`)
          .set(AUTH)
          .send({ name: `doomed-${c.n}` })
          .expect(201);
        keyIds.set(c.n, key.body.id as string);
      },
      call: (c, t) =>
        request(app())
          .delete(`/v1/tenants/${c.tenant}/users/target@${c.tenant}/api-keys/${keyIds.get(c.n) ?? ''}`)
          .set(as(t)),
    },
    ...(
      [
        ['GET', 'clusterProfile.get'],
        ['GET revision', 'clusterProfile.get'],
        ['PUT', 'clusterProfile.update'],
        ['DELETE', 'clusterProfile.delete'],
        ['POST publish', 'clusterProfile.publish'],
      ] as const
    ).map(([verb, permission]): RouteCase => ({
      name: `${verb} /v1/tenants/{tenant}/cluster-profiles/{profile}`,
      scope: 'tenant',
      permission,
      prepare: async (c) => {
        await request(app())
          .post(`/v1/tenants/${c.tenant}/cluster-profiles`)
          .set(AUTH)
          .send(profile(`tp-${c.n}`))
          .expect(201);
      },
      call: (c, t) => {
        const url = `/v1/tenants/${c.tenant}/cluster-profiles/tp-${c.n}`;
        if (verb === 'GET') return request(app()).get(url).set(as(t));
        if (verb === 'GET revision') return request(app()).get(`${url}/revisions/1`).set(as(t));
        if (verb === 'PUT')
          return request(app())
            .put(url)
            .set(as(t))
            .send(profile(`tp-${c.n}`));
        if (verb === 'DELETE') return request(app()).delete(url).set(as(t));
        return request(app()).post(`${url}/publish`).set(as(t));
      },
    })),
    ...(['tenant', 'project'] as const).flatMap((scope): RouteCase[] => [
      {
        name: `GET /v1/registries/{${scope} registry}`,
        scope,
        permission: 'packRegistry.get',
        call: (c, t) =>
          request(app())
            .get(`/v1/registries/${registryOf(c, scope)}`)
            .set(as(t)),
      },
      {
        name: `PATCH /v1/registries/{${scope} registry}`,
        scope,
        permission: 'packRegistry.update',
        call: (c, t) =>
          request(app())
            .patch(`/v1/registries/${registryOf(c, scope)}`)
            .set(as(t))
            .send({ description: `changed ${c.n}` }),
      },
      ...(['', '/downloads', '/1.0.0', '/1.0.0/usage', '/1.0.0/archive', '/1.0.0/files/pack.json'] as const).map(
        (suffix): RouteCase => ({
          name: `GET /v1/registries/{${scope} registry}/packs/{name}${suffix}`,
          scope,
          permission: 'packRegistry.get',
          call: (c, t) =>
            request(app())
              .get(`/v1/registries/${registryOf(c, scope)}/packs/matrix-addon${suffix}`)
              .set(as(t)),
        }),
      ),
      {
        name: `PATCH /v1/registries/{${scope} registry}/packs/{name}/{version} (deprecate)`,
        scope,
        permission: 'packRegistry.update',
        call: (c, t) =>
          request(app())
            .patch(`/v1/registries/${registryOf(c, scope)}/packs/matrix-addon/1.0.0`)
            .set(as(t))
            .send({ deprecated: false }),
      },
    ]),
    {
      name: 'DELETE /v1/registries/{tenant registry}/packs/{name}/{version}',
      scope: 'tenant',
      permission: 'packRegistry.update',
      prepare: async (c) => {
        const doomed = await buildTestPack(work.dir, { name: 'matrix-doomed', version: `1.0.${c.n}` });
        await request(app())
          .post(`/v1/registries/${registryOf(c, 'tenant')}/packs`)
          .set(AUTH)
          .set('Content-Type', 'application/zip')
          .send(doomed.bytes)
          .expect(201);
      },
      call: (c, t) =>
        request(app())
          .delete(`/v1/registries/${registryOf(c, 'tenant')}/packs/matrix-doomed/1.0.${c.n}`)
          .set(as(t)),
    },
    // --- acting on a stronger user, or through a team holding a stronger role (issue 11)
    ...(
      [
        ['rename a Tenant Admin', { displayName: 'renamed' }],
        ['reset the password of a Tenant Admin', { password: 'a password of the attacker' }],
      ] as const
    ).map(([what, body]): RouteCase => ({
      name: `PATCH /v1/tenants/{tenant}/users/{user} (${what})`,
      scope: 'tenant',
      permission: 'user.update',
      alsoNeeds: adminPermissions,
      call: (c, t) => request(app()).patch(`/v1/tenants/${c.tenant}/users/strong@${c.tenant}`).set(as(t)).send(body),
    })),
    {
      name: 'PATCH /v1/tenants/{tenant}/users/{user} (disable a Tenant Admin)',
      scope: 'tenant',
      permission: 'user.update',
      alsoNeeds: adminPermissions,
      prepare: (c) => tenantAdmin(c, `disabled-${c.n}@${c.tenant}`),
      call: (c, t) =>
        request(app())
          .patch(`/v1/tenants/${c.tenant}/users/disabled-${c.n}@${c.tenant}`)
          .set(as(t))
          .send({ disabled: true }),
    },
    {
      name: 'DELETE /v1/tenants/{tenant}/users/{user} (a Tenant Admin)',
      scope: 'tenant',
      permission: 'user.delete',
      alsoNeeds: adminPermissions,
      prepare: (c) => tenantAdmin(c, `deleted-${c.n}@${c.tenant}`),
      call: (c, t) => request(app()).delete(`/v1/tenants/${c.tenant}/users/deleted-${c.n}@${c.tenant}`).set(as(t)),
    },
    {
      name: 'GET /v1/tenants/{tenant}/users/{user}/api-keys (of a Tenant Admin)',
      scope: 'tenant',
      permission: 'apiKey.list',
      alsoNeeds: adminPermissions,
      call: (c, t) => request(app()).get(`/v1/tenants/${c.tenant}/users/strong@${c.tenant}/api-keys`).set(as(t)),
    },
    {
      name: 'POST /v1/tenants/{tenant}/users/{user}/api-keys (for a Tenant Admin)',
      scope: 'tenant',
      permission: 'apiKey.create',
      alsoNeeds: adminPermissions,
      call: (c, t) =>
        request(app())
          .post(`/v1/tenants/${c.tenant}/users/strong@${c.tenant}/api-keys`)
          .set(as(t))
          .send({ name: `minted-${c.n}` }),
    },
    {
      name: 'DELETE /v1/tenants/{tenant}/users/{user}/api-keys/{key} (of a Tenant Admin)',
      scope: 'tenant',
      permission: 'apiKey.delete',
      alsoNeeds: adminPermissions,
      prepare: async (c) => {
        const key = await request(app())
          .post(`/v1/tenants/${c.tenant}/users/strong@${c.tenant}/api-keys`)
          .set(AUTH)
          .send({ name: `doomed-${c.n}` })
          .expect(201);
        keyIds.set(c.n, key.body.id as string);
      },
      call: (c, t) =>
        request(app())
          .delete(`/v1/tenants/${c.tenant}/users/strong@${c.tenant}/api-keys/${keyIds.get(c.n) ?? ''}`)
          .set(as(t)),
    },
    {
      name: 'POST /v1/tenants/{tenant}/bindings (Tenant Viewer to a Tenant Admin)',
      scope: 'tenant',
      permission: 'user.update',
      alsoNeeds: adminPermissions,
      call: (c, t) =>
        request(app())
          .post(`/v1/tenants/${c.tenant}/bindings`)
          .set(as(t))
          .send({ role: 'Tenant Viewer', subject: { kind: 'user', name: `strong@${c.tenant}` } }),
    },
    {
      name: 'DELETE /v1/tenants/{tenant}/bindings/{binding} (Tenant Admin of a user)',
      scope: 'tenant',
      permission: 'user.update',
      alsoNeeds: adminPermissions,
      prepare: async (c) => {
        const username = `demoted-${c.n}@${c.tenant}`;
        await tenantAdmin(c, username);
        const bindings = await request(app()).get(`/v1/tenants/${c.tenant}/bindings`).set(AUTH).expect(200);
        const found = (bindings.body.items as Array<{ id: string; subject: { name: string } }>).find(
          (b) => b.subject.name === username,
        );
        bindingIds.set(c.n, found?.id ?? '');
      },
      call: (c, t) =>
        request(app())
          .delete(`/v1/tenants/${c.tenant}/bindings/${bindingIds.get(c.n) ?? ''}`)
          .set(as(t)),
    },
    {
      name: 'POST /v1/tenants/{tenant}/teams (with a Tenant Admin as member)',
      scope: 'tenant',
      permission: 'team.create',
      alsoNeeds: adminPermissions,
      call: (c, t) =>
        request(app())
          .post(`/v1/tenants/${c.tenant}/teams`)
          .set(as(t))
          .send({ name: `crew-${c.n}`, members: [`strong@${c.tenant}`] }),
    },
    {
      name: 'PATCH /v1/tenants/{tenant}/teams/{team} (add a user to a team holding Tenant Admin)',
      scope: 'tenant',
      permission: 'team.update',
      alsoNeeds: adminPermissions,
      prepare: (c) => adminTeam(c, `admins-${c.n}`, []),
      call: (c, t) =>
        request(app())
          .patch(`/v1/tenants/${c.tenant}/teams/admins-${c.n}`)
          .set(as(t))
          .send({ members: [`target@${c.tenant}`] }),
    },
    {
      name: 'PATCH /v1/tenants/{tenant}/teams/{team} (remove a member of a team holding Tenant Admin)',
      scope: 'tenant',
      permission: 'team.update',
      alsoNeeds: adminPermissions,
      prepare: async (c) => {
        const member = `member-${c.n}@${c.tenant}`;
        await request(app()).post(`/v1/tenants/${c.tenant}/users`).set(AUTH).send({ username: member }).expect(201);
        await adminTeam(c, `admins-${c.n}`, [member]);
      },
      call: (c, t) =>
        request(app()).patch(`/v1/tenants/${c.tenant}/teams/admins-${c.n}`).set(as(t)).send({ members: [] }),
    },
    {
      name: 'DELETE /v1/tenants/{tenant}/teams/{team} (a team holding Tenant Admin)',
      scope: 'tenant',
      permission: 'team.delete',
      alsoNeeds: adminPermissions,
      prepare: (c) => adminTeam(c, `admins-${c.n}`, []),
      call: (c, t) => request(app()).delete(`/v1/tenants/${c.tenant}/teams/admins-${c.n}`).set(as(t)),
    },
    // --- more project-scope routes
    {
      name: 'GET /v1/tenants/{tenant}/projects/{project}/cluster-profiles/{profile}',
      scope: 'project',
      permission: 'clusterProfile.get',
      call: (c, t) =>
        request(app()).get(`/v1/tenants/${c.tenant}/projects/${c.project}/cluster-profiles/kept`).set(as(t)),
    },
    {
      name: 'DELETE /v1/tenants/{tenant}/projects/{project} (a project of no binding)',
      scope: 'project',
      permission: 'project.delete',
      relations: ['other project', 'other tenant'],
      prepare: async (c) => {
        await request(app())
          .post(`/v1/tenants/${c.tenant}/projects`)
          .set(AUTH)
          .send({ name: `doomed-${c.n}` })
          .expect(201);
      },
      call: (c, t) => request(app()).delete(`/v1/tenants/${c.tenant}/projects/doomed-${c.n}`).set(as(t)),
    },
    // --- the OCI distribution API (/v2), with the callers' own bearer tokens
    {
      name: 'GET /v2',
      scope: 'system',
      permission: 'packRegistry.list',
      everyone: true,
      call: (_c, t) => request(app()).get('/v2/').set(as(t)),
    },
    {
      name: 'GET /v2/_catalog',
      scope: 'system',
      permission: 'packRegistry.list',
      everyone: true,
      call: (_c, t) => request(app()).get('/v2/_catalog').set(as(t)),
    },
    ...ociCases,
    // --- the OCI token endpoint: what each role's token grants, where
    ...tokenCases,
    {
      name: 'GET /v2/token (registry:catalog:*)',
      scope: 'system',
      permission: 'packRegistry.list',
      everyone: true,
      call: async (c, t) =>
        grantAnswer(
          await request(app()).get('/v2/token?scope=registry:catalog:*').set(as(t)),
          c,
          'registry:catalog',
          '*',
        ),
    },
    // --- single audit entries, in each scope (the id read by the operator first)
    ...(
      [
        ['system', '/v1/audit'],
        ['tenant', '/v1/tenants/{tenant}/audit'],
        ['project', '/v1/tenants/{tenant}/projects/{project}/audit'],
      ] as const
    ).map(([scope, template]): RouteCase => ({
      name: `GET ${template}/{entry}`,
      scope,
      permission: 'audit.get',
      call: async (c, t) => {
        const url = template.replace('{tenant}', c.tenant).replace('{project}', c.project);
        const list = await request(app()).get(url).set(AUTH).expect(200);
        const id = (list.body.items as Array<{ id: string }>)[0]?.id ?? 'none';
        return request(app()).get(`${url}/${id}`).set(as(t));
      },
    })),
  ];

  const roles = BUILT_IN_ROLES.filter((r) => r.scope !== 'system');
  const userOf = (role: Role) => `${role.name.toLowerCase().replace(/ /g, '-')}@${TENANT_A}`;

  /** The answer a holder of `role` (bound in tenant A, or in its project "own") must get. */
  function expected(route: RouteCase, role: Role, relation: Relation): 200 | 403 | 404 {
    if (relation === 'other tenant') return 404;
    if (route.scope === 'system') return route.everyone ? 200 : 403;
    const holds = (permission: string) => role.permissions.includes(permission);
    const applies = role.scope === 'tenant' || (route.scope === 'project' && relation === 'own project');
    if (route.everyone) return 200;
    if (route.associated && role.scope === 'project' && relation === 'own project') return 200;
    const all = [route.permission, ...(route.alsoNeeds ?? [])];
    return applies && all.every(holds) ? 200 : 403;
  }

  function relationsOf(route: RouteCase): readonly Relation[] {
    if (route.relations) return route.relations;
    if (route.scope === 'system') return ['system'];
    if (route.scope === 'tenant') return ['own project', 'other tenant'];
    return ['own project', 'other project', 'other tenant'];
  }

  beforeAll(async () => {
    registry = await startTestRegistry('fs');
    listening = await listenOnLoopback(registry.app);
    work = await tempDir();
    pack = await buildTestPack(work.dir, { name: 'matrix-addon', version: '1.0.0' });
    for (const tenant of [TENANT_A, TENANT_B]) {
      await request(app()).post('/v1/tenants').set(AUTH).send({ name: tenant }).expect(201);
      for (const project of [OWN, OTHER]) {
        await request(app()).post(`/v1/tenants/${tenant}/projects`).set(AUTH).send({ name: project }).expect(201);
        await request(app())
          .post('/v1/registries')
          .set(AUTH)
          .send({ name: `${tenant}-${project}-packs`, scope: 'project', tenant, project })
          .expect(201);
      }
      await request(app())
        .post('/v1/registries')
        .set(AUTH)
        .send({ name: `${tenant}-packs`, scope: 'tenant', tenant })
        .expect(201);
      await request(app())
        .post(`/v1/tenants/${tenant}/users`)
        .set(AUTH)
        .send({ username: `target@${tenant}` })
        .expect(201);
      for (const [username, role] of [
        [`bound@${tenant}`, 'Tenant Viewer'],
        [`strong@${tenant}`, 'Tenant Admin'],
      ] as const) {
        await request(app()).post(`/v1/tenants/${tenant}/users`).set(AUTH).send({ username }).expect(201);
        await request(app())
          .post(`/v1/tenants/${tenant}/bindings`)
          .set(AUTH)
          .send({ role, subject: { kind: 'user', name: username } })
          .expect(201);
      }
      await request(app()).post(`/v1/tenants/${tenant}/teams`).set(AUTH).send({ name: 'kept' }).expect(201);
      for (const registryName of [`${tenant}-packs`, `${tenant}-${OWN}-packs`, `${tenant}-${OTHER}-packs`]) {
        await request(app())
          .post(`/v1/registries/${registryName}/packs`)
          .set(AUTH)
          .set('Content-Type', 'application/zip')
          .send(pack.bytes)
          .expect(201);
      }
      for (const project of [OWN, OTHER]) {
        await request(app())
          .post(`/v1/tenants/${tenant}/projects/${project}/cluster-profiles`)
          .set(AUTH)
          .send(profile('kept'))
          .expect(201);
      }
    }
    await request(app()).post('/v1/cluster-profiles').set(AUTH).send(profile('sys-target')).expect(201);
    for (const tenant of [TENANT_A, TENANT_B]) {
      for (const scope of ['system', 'tenant', 'project'] as const) {
        for (const project of [OWN, OTHER]) {
          const repository = ociRepository({ tenant, project, n: 0 }, scope);
          await pushBlob(repository, OCI_CONFIG);
          await pushManifest(repository, 'kept', OCI_MANIFEST);
        }
      }
    }
    for (const role of roles) {
      const username = userOf(role);
      await request(app())
        .post(`/v1/tenants/${TENANT_A}/users`)
        .set(AUTH)
        .send({ username, password: PASSWORD })
        .expect(201);
      await request(app())
        .post(`/v1/tenants/${TENANT_A}/bindings`)
        .set(AUTH)
        .send({
          role: role.name,
          subject: { kind: 'user', name: username },
          project: role.scope === 'project' ? OWN : null,
        })
        .expect(201);
      const login = await request(app()).post('/v1/auth/login').send({ username, password: PASSWORD }).expect(200);
      tokens.set(role.name, login.body.token as string);
    }
  }, 60_000);
  afterAll(async () => {
    await listening.close();
    await registry.close();
    await work.cleanup();
  });

  /** Routes outside the matrix, and why. */
  const EXEMPT: Record<string, string> = {
    'POST /v1/auth/login': 'anonymous by nature: it is how a caller gets a token',
    'POST /v1/auth/password': "the caller's own password, checked by the current one (identity.test.ts)",
    'GET /livez': 'liveness probe, no data',
    'GET /readyz': 'readiness probe, no data',
    'GET /metrics': 'Prometheus scrape endpoint: protect it at the network level',
    'GET /openapi.json': 'the API description',
  };

  /** The OpenAPI operation a route case exercises. */
  function operationOf(route: RouteCase): string {
    let name = route.name.replace(/ \(.*\)$/, '');
    const publish = /^POST publish (.*)$/.exec(name);
    if (publish) name = `POST ${publish[1] ?? ''}/publish`;
    const revision = /^GET revision (.*)$/.exec(name);
    if (revision) name = `GET ${revision[1] ?? ''}/revisions/{revision}`;
    return name
      .replace('{own tenant}', '{tenant}')
      .replace(/\{(tenant|project) registry\}|\/v1\/registries\/public(?=\/|$)/, (m) =>
        m.startsWith('/') ? '/v1/registries/{registry}' : '{registry}',
      )
      .replace('/sys-target', '/{profile}')
      .replace('/revisions/1', '/revisions/{revision}')
      .replace('/1.0.0', '/{version}')
      .replace('/files/pack.json', '/files/{path}');
  }

  it('covers every route the API describes, but for the few exempt ones', () => {
    const described: string[] = [];
    for (const [path, item] of Object.entries(openApiDocument.paths)) {
      for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
        if (method in item) described.push(`${method.toUpperCase()} ${path}`);
      }
    }
    const covered = new Set([...routes.map(operationOf), ...Object.keys(EXEMPT)]);
    expect(described.filter((operation) => !covered.has(operation))).toEqual([]);
    expect([...covered].filter((operation) => !described.includes(operation))).toEqual([]);
  });

  it('answers every route for every built-in role and relation as the role tables say', async () => {
    const mismatches: string[] = [];
    let n = 0;
    let checked = 0;
    for (const route of routes) {
      for (const role of roles) {
        for (const relation of relationsOf(route)) {
          n++;
          const ctx: Context = {
            tenant: relation === 'other tenant' ? TENANT_B : TENANT_A,
            project: relation === 'other project' ? OTHER : OWN,
            n,
          };
          await route.prepare?.(ctx);
          const res = await route.call(ctx, tokens.get(role.name) ?? '');
          const want = expected(route, role, relation);
          const got = res.status >= 200 && res.status < 300 ? 200 : res.status;
          checked++;
          if (got !== want) {
            mismatches.push(
              `${route.name} | ${role.name} | ${relation}: expected ${want}, got ${res.status} ${JSON.stringify(res.body).slice(0, 160)}`,
            );
          }
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBe(routes.reduce((sum, route) => sum + roles.length * relationsOf(route).length, 0));
    console.log(`authorization matrix: ${routes.length} route cases, ${checked} requests, all as expected`);
  }, 240_000);
});
