/**
 * The route table of the API: every operation's method, path, parameters, body, answers by status
 * and authentication, declared once. The OpenAPI document (./openapi.ts), the typed client
 * (./client.ts) and the server's test-time response checker all read it.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { ErrorEnvelope, List, Page } from './schemas/common.js';
import {
  ApiKey,
  Binding,
  CreatedApiKey,
  Login,
  Me,
  NewApiKey,
  NewBinding,
  NewProject,
  NewRole,
  NewTeam,
  NewTenant,
  NewUser,
  PasswordChange,
  PermissionComponent,
  Project,
  ProjectChanges,
  Role,
  RoleChanges,
  Team,
  TeamChanges,
  Tenant,
  Token,
  User,
  UserChanges,
} from './schemas/identity.js';
import { RegistryToken, RegistryTokenForm } from './schemas/oci-token.js';
import {
  AuditEntry,
  AuditPage,
  ClusterProfileBody,
  Liveness,
  ProfilePage,
  ProfileView,
  Readiness,
} from './schemas/operations.js';
import { OciCatalog, OciErrorEnvelope, OciReferrers, OciTagList, OciVersion } from './schemas/oci.js';
import {
  CatalogPage,
  DeletedVersion,
  NewRegistry,
  PackDetail,
  PackDownloads,
  PackUsage,
  Published,
  Registry,
  RegistryChanges,
  VersionChanges,
  VersionRecord,
} from './schemas/packs.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface QueryParam {
  description: string;
  /** The value's JSON Schema (a string when left out). */
  schema?: TSchema;
}

export interface Answer {
  description: string;
  /** The JSON body; none for answers without one (204) or that are not JSON. */
  schema?: TSchema;
  /** A media type other than JSON (archives, files, metrics). */
  mediaType?: string;
}

export interface RouteSpec {
  method: HttpMethod;
  /** OpenAPI's path syntax: `/v1/registries/{registry}`. */
  path: string;
  summary: string;
  /** The query parameters the route reads. */
  query?: Record<string, QueryParam>;
  /** Request headers the route reads. */
  headers?: Record<string, QueryParam>;
  /** A JSON body, or bodies by media type (uploads). */
  body?: TSchema | Record<string, TSchema>;
  answers: Record<number, Answer>;
  /** none: anyone, signed in or not (login, probes); else what the route's permissions say. */
  auth?: 'none';
}

/** The descriptions of the path parameters, by name. */
export const PATH_PARAMS: Record<string, string> = {
  registry: 'Registry name, e.g. `public`.',
  name: 'Pack name.',
  version: 'An exact version, a line tag (`1.29.x`) or a range (`>=1.29 <1.30`).',
  path: 'A file inside the pack, e.g. values.yaml or README.md (may contain slashes).',
  tenant: 'Tenant name.',
  project: 'Project name.',
  user: 'Username.',
  key: 'API key id.',
  team: 'Team name.',
  role: 'Role name (any case).',
  binding: 'Binding id.',
  profile: 'Cluster profile name.',
  revision: 'A revision number of the profile (1, 2, ...).',
  entry: 'Audit entry id.',
  repository:
    'OCI repository name (may contain slashes): `<registry>/...`, `<tenant>/<registry>/...` or `<tenant>/<project>/<registry>/...`.',
  digest: 'A digest, `sha256:<hex>` or `sha512:<hex>`.',
  reference: 'A tag or a digest.',
  uuid: 'An upload session id, from the Location of the POST that started it.',
};

const error = (description: string): Answer => ({ description, schema: ErrorEnvelope });
const ok = (description: string, schema?: TSchema): Answer => (schema ? { description, schema } : { description });

/** The error answers most routes may give. */
const COMMON: Record<number, Answer> = {
  400: error('Invalid request (INVALID_PARAMETER, INVALID_BODY, ...).'),
  401: error('Authentication required or invalid (AUTH_REQUIRED, AUTH_INVALID).'),
  403: error('Not allowed (FORBIDDEN).'),
  404: error('Not found (REGISTRY_NOT_FOUND, PACK_NOT_FOUND, PACK_VERSION_NOT_FOUND).'),
  503: error('Storage unavailable (STORAGE_UNAVAILABLE); retry after Retry-After seconds.'),
};
/** The 403s of the routes that change who holds what (access/guards.ts). */
const GUARDED: Record<number, Answer> = {
  ...COMMON,
  403: error(
    'Not allowed: FORBIDDEN; ROLE_ESCALATION (a role given or taken away, directly or through a team, holds permissions you do not hold there); USER_OUTRANKS_CALLER (the user acted on holds permissions you do not).',
  ),
};
const conflict = (codes: string) => ({ 409: error(codes) });

const CATALOG_FILTERS: Record<string, QueryParam> = {
  q: {
    description:
      "Words that must all appear in the name, display name, add-on type, annotation values or description (the README's first paragraph).",
  },
  name: { description: 'Exact pack name.' },
  layer: { description: 'os, k8s, cni, csi, addon, kernel.' },
  addonType: { description: 'Add-on type (case-insensitive), e.g. monitoring.' },
  cloudType: { description: 'Packs for this cloud or for all clouds.' },
  version: { description: 'Version selector: rows show only the versions it matches.' },
  deprecated: { description: 'true: deprecated versions only; false: none.', schema: Type.Boolean() },
  sort: {
    description:
      'Order of the rows. relevance (the default with q): the pack named as the words first, then names starting with them, names holding every word, display names holding them, the rest; by name within each. name is the default without q.',
    schema: Type.Union([
      Type.Literal('relevance'),
      Type.Literal('name'),
      Type.Literal('-name'),
      Type.Literal('published'),
      Type.Literal('-published'),
    ]),
  },
  limit: { description: 'Rows per page (1-500, default 50).', schema: Type.Integer({ minimum: 1, maximum: 500 }) },
  cursor: { description: 'The nextCursor of the previous page.' },
  facets: {
    description:
      'true: the answer also counts the matches per layer, cloud, add-on type and registry (each with its own filter left out) and those with a deprecated version.',
    schema: Type.Boolean(),
  },
};

/** The paging of the identity collections: in-memory records, by name (bindings by id). */
const IDENTITY_PAGING: Record<string, QueryParam> = {
  limit: { description: 'Items per page (1-500, default 100).', schema: Type.Integer({ minimum: 1, maximum: 500 }) },
  cursor: { description: 'The nextCursor of the previous page.' },
};

/** GET (list) and POST (create) on a collection, GET/PATCH/DELETE on its items. */
function collection(options: {
  path: string;
  item: string;
  what: string;
  record: TSchema;
  create: TSchema;
  createCodes: string;
  changes: TSchema;
  /** Whether changes pass the no-escalation checks (users, teams, roles). */
  guarded?: boolean;
}): RouteSpec[] {
  const { what, record } = options;
  const errors = options.guarded ? GUARDED : COMMON;
  return [
    {
      method: 'get',
      path: options.path,
      summary: `List the ${what}s, by name`,
      query: IDENTITY_PAGING,
      answers: { 200: ok(`A page of ${what}s, with nextCursor.`, Page(record)), ...COMMON },
    },
    {
      method: 'post',
      path: options.path,
      summary: `Create a ${what}`,
      body: options.create,
      answers: { 201: ok('Created.', record), ...conflict(options.createCodes), ...errors },
    },
    {
      method: 'get',
      path: options.item,
      summary: `One ${what}`,
      answers: { 200: ok(`The ${what}.`, record), ...COMMON },
    },
    {
      method: 'patch',
      path: options.item,
      summary: `Change a ${what}`,
      body: options.changes,
      answers: { 200: ok('Changed.', record), ...errors },
    },
    { method: 'delete', path: options.item, summary: `Delete a ${what}`, answers: { 204: ok('Deleted.'), ...errors } },
  ];
}

/** One scope's cluster-profile routes. */
function profileRoutes(base: string, scope: string): RouteSpec[] {
  const item = `${base}/{profile}`;
  return [
    {
      method: 'get',
      path: base,
      summary: `List the ${scope} cluster profiles (with those inherited from the scopes above, read-only)`,
      query: {
        limit: {
          description: 'Profiles per page (1-500, default 100); a page also ends before 8 MiB of profiles.',
          schema: Type.Integer({ minimum: 1, maximum: 500 }),
        },
        cursor: { description: 'The nextCursor of the previous page.' },
        inherited: {
          description: "false: only this scope's own profiles, without those of the scopes above.",
          schema: Type.Boolean(),
        },
      },
      answers: {
        200: ok(
          "A page of profiles, this scope's own first (by name), then those inherited; with nextCursor.",
          ProfilePage,
        ),
        ...COMMON,
      },
    },
    {
      method: 'post',
      path: base,
      summary: `Create a ${scope} cluster profile`,
      body: ClusterProfileBody,
      answers: { 201: ok('Created.', ProfileView), ...conflict('PROFILE_EXISTS.'), ...COMMON },
    },
    {
      method: 'get',
      path: item,
      summary: 'One cluster profile (own or inherited)',
      answers: { 200: ok('The profile.', ProfileView), ...COMMON },
    },
    {
      method: 'get',
      path: `${item}/revisions/{revision}`,
      summary:
        'One revision of a cluster profile: the current one, or an earlier one (each is kept when a change replaces it)',
      answers: { 200: ok('The profile as it was at that revision.', ProfileView), ...COMMON },
    },
    {
      method: 'put',
      path: item,
      summary: 'Replace a cluster profile of this scope',
      body: ClusterProfileBody,
      answers: { 200: ok('Replaced.', ProfileView), ...COMMON },
    },
    {
      method: 'delete',
      path: item,
      summary: 'Delete a cluster profile of this scope',
      answers: { 204: ok('Deleted.'), ...COMMON },
    },
    {
      method: 'post',
      path: `${item}/publish`,
      summary: 'Publish the current version of a cluster profile',
      answers: { 200: ok('Published.', ProfileView), ...COMMON },
    },
  ];
}

/** One scope's audit routes. */
function auditRoutes(base: string, scope: string): RouteSpec[] {
  return [
    {
      method: 'get',
      path: base,
      summary: `The ${scope} audit log, newest first (audit.list)`,
      query: {
        limit: {
          description: 'Entries per page (1-500, default 100).',
          schema: Type.Integer({ minimum: 1, maximum: 500 }),
        },
        cursor: { description: 'The nextCursor of the previous page.' },
      },
      answers: { 200: ok('A page of entries, with nextCursor.', AuditPage), ...COMMON },
    },
    {
      method: 'get',
      path: `${base}/{entry}`,
      summary: 'One audit entry (audit.get)',
      answers: { 200: ok('The entry.', AuditEntry), ...COMMON },
    },
  ];
}

const VERSION = '/v1/registries/{registry}/packs/{name}/{version}';
const TENANT = '/v1/tenants/{tenant}';
const USER = `${TENANT}/users/{user}`;

const ociError = (description: string): Answer => ({ description, schema: OciErrorEnvelope });
const ociBytes = (description: string): Answer => ({ description, mediaType: 'application/octet-stream' });

/** The errors every /v2 operation may answer, in the OCI envelope. */
const OCI_COMMON: Record<number, Answer> = {
  400: ociError('Invalid name, reference or digest (NAME_INVALID, DIGEST_INVALID, UNSUPPORTED).'),
  401: ociError('Authentication required (UNAUTHORIZED); the WWW-Authenticate header says where.'),
  403: ociError('Not allowed (DENIED).'),
  404: ociError(
    'Unknown repository, blob, manifest or upload (NAME_UNKNOWN, BLOB_UNKNOWN, MANIFEST_UNKNOWN, BLOB_UPLOAD_UNKNOWN).',
  ),
  // Basic credentials go through the login limits on every /v2 route.
  429: ociError('Too many failed or waiting password checks (TOOMANYREQUESTS); see Retry-After.'),
  503: ociError('Storage unavailable (UNAVAILABLE); retry after Retry-After seconds.'),
};
const OCI_PAGING: Record<string, QueryParam> = {
  n: { description: 'At most this many entries.', schema: Type.Integer({ minimum: 0 }) },
  last: { description: "Entries after this one (the previous page's last)." },
};
const OCI_REPO = '/v2/{repository}';
const OCI_UPLOAD = `${OCI_REPO}/blobs/uploads/{uuid}`;

/** The OCI Distribution Specification v1.1 on /v2 (generic content and packs alike). */
const OCI_ROUTES: RouteSpec[] = [
  {
    method: 'get',
    path: '/v2',
    summary: 'OCI: API version check',
    answers: {
      200: ok('The registry speaks the OCI distribution API.', OciVersion),
      401: OCI_COMMON[401] ?? ociError(''),
      429: OCI_COMMON[429] ?? ociError(''),
    },
  },
  {
    method: 'get',
    path: '/v2/_catalog',
    summary: 'OCI: the repositories the caller can read',
    query: OCI_PAGING,
    answers: { 200: ok('Repository names, sorted; a Link header names the next page.', OciCatalog), ...OCI_COMMON },
  },
  {
    method: 'get',
    path: `${OCI_REPO}/tags/list`,
    summary: 'OCI: the tags of a repository',
    query: OCI_PAGING,
    answers: { 200: ok('Tags, sorted; a Link header names the next page.', OciTagList), ...OCI_COMMON },
  },
  {
    method: 'get',
    path: `${OCI_REPO}/manifests/{reference}`,
    summary: 'OCI: a manifest by tag or digest (HEAD: whether it exists, the same headers without the body)',
    answers: { 200: ociBytes('The manifest, with its media type as Content-Type.'), ...OCI_COMMON },
  },
  {
    method: 'put',
    path: `${OCI_REPO}/manifests/{reference}`,
    summary: 'OCI: push a manifest (a pack repository publishes the pack)',
    answers: {
      201: ok('Stored; Location and Docker-Content-Digest name it.'),
      ...OCI_COMMON,
      400: ociError('MANIFEST_INVALID, MANIFEST_BLOB_UNKNOWN, DIGEST_INVALID, NAME_INVALID, SIZE_INVALID.'),
      413: ociError('The manifest is larger than oci.maxManifestBytes (SIZE_INVALID).'),
    },
  },
  {
    method: 'delete',
    path: `${OCI_REPO}/manifests/{reference}`,
    summary: 'OCI: delete a manifest (by digest) or a tag (by tag)',
    answers: { 202: ok('Deleted.'), ...OCI_COMMON },
  },
  {
    method: 'get',
    path: `${OCI_REPO}/blobs/{digest}`,
    summary: 'OCI: a blob, Range supported (HEAD: whether it exists, its size and digest)',
    headers: {
      Range: {
        description:
          '`bytes=<start>-<end>`, `bytes=<start>-` or `bytes=-<suffix>`: a part of the blob (206); another unit, several ranges or an invalid one are ignored (200).',
      },
    },
    answers: {
      200: ociBytes('The blob.'),
      206: ociBytes('The range asked for.'),
      ...OCI_COMMON,
      416: ociError('The range is outside the blob (RANGE_INVALID).'),
    },
  },
  {
    method: 'delete',
    path: `${OCI_REPO}/blobs/{digest}`,
    summary: 'OCI: remove a blob from a repository (storage keeps it while others use it; gc removes it)',
    answers: { 202: ok('Removed.'), ...OCI_COMMON },
  },
  {
    method: 'post',
    path: `${OCI_REPO}/blobs/uploads`,
    summary: 'OCI: start an upload, push a blob in one request (?digest=), or mount one (?mount=&from=)',
    query: {
      digest: { description: 'The digest of the body: a monolithic upload.' },
      mount: { description: 'A digest to mount from another repository.' },
      from: { description: 'The repository to mount from.' },
    },
    answers: {
      201: ok('Stored or mounted; Location names the blob.'),
      202: ok('An upload session started; Location names it.'),
      ...OCI_COMMON,
      413: ociError('Larger than oci.maxBlobBytes (SIZE_INVALID).'),
    },
  },
  {
    method: 'get',
    path: OCI_UPLOAD,
    summary: 'OCI: the state of an upload',
    answers: { 204: ok('Range says what was received.'), ...OCI_COMMON },
  },
  {
    method: 'patch',
    path: OCI_UPLOAD,
    summary: 'OCI: append a chunk to an upload',
    headers: {
      'Content-Range': { description: '`<start>-<end>`: where the chunk goes; it must follow what was received.' },
    },
    answers: {
      202: ok('Appended; Range says what was received.'),
      ...OCI_COMMON,
      413: ociError('Larger than oci.maxBlobBytes (SIZE_INVALID).'),
      416: ociError('The chunk does not start where the upload ends (RANGE_INVALID).'),
    },
  },
  {
    method: 'put',
    path: OCI_UPLOAD,
    summary: 'OCI: finish an upload (?digest=), with an optional last chunk',
    query: { digest: { description: 'The digest of the whole blob.' } },
    answers: {
      201: ok('Stored; Location names the blob.'),
      ...OCI_COMMON,
      413: ociError('Larger than oci.maxBlobBytes (SIZE_INVALID).'),
      416: ociError('The chunk does not start where the upload ends (RANGE_INVALID).'),
    },
  },
  {
    method: 'delete',
    path: OCI_UPLOAD,
    summary: 'OCI: cancel an upload',
    answers: { 204: ok('Cancelled.'), ...OCI_COMMON },
  },
  {
    method: 'get',
    path: `${OCI_REPO}/referrers/{digest}`,
    summary: 'OCI: the manifests whose subject is a digest',
    query: {
      artifactType: { description: 'Only referrers of this artifact type (OCI-Filters-Applied says so).' },
      last: {
        description:
          'The page after this referrer digest: an answer lists at most 500, and a Link header (rel="next") leads on.',
      },
    },
    answers: { 200: ok('An image index of their descriptors.', OciReferrers), ...OCI_COMMON },
  },
];

/**
 * The token endpoint of the OCI API (Docker token protocol): credentials as HTTP Basic (GET) or in
 * the form (POST, OAuth2 password grant); none for an anonymous token.
 */
function registryTokenRoutes(): RouteSpec[] {
  const answers: Record<number, Answer> = {
    200: ok('The token, granting on each scope only the actions the caller may do there.', RegistryToken),
    400: ociError('A scope is not type:name:actions, or too many scopes; an unsupported grant_type (UNSUPPORTED).'),
    401: ociError('The credentials are not valid (UNAUTHORIZED); WWW-Authenticate: Basic.'),
    429: OCI_COMMON[429] ?? ociError(''),
    503: OCI_COMMON[503] ?? ociError(''),
  };
  const query: Record<string, QueryParam> = {
    service: { description: 'The service of the challenge (auth.registryService).' },
    scope: { description: 'repository:NAME:pull,push (repeatable), registry:catalog:*.' },
    account: { description: 'The username, as some clients send it (informational).' },
  };
  return [
    {
      method: 'get',
      path: '/v2/token',
      summary: 'A registry token for /v2 (Docker token protocol; HTTP Basic credentials, or none for anonymous)',
      auth: 'none',
      query,
      answers,
    },
    {
      method: 'post',
      path: '/v2/token',
      summary: 'A registry token for /v2 (OAuth2 password grant, form-encoded)',
      auth: 'none',
      body: { 'application/x-www-form-urlencoded': RegistryTokenForm },
      answers,
    },
  ];
}

export const ROUTES: readonly RouteSpec[] = [
  {
    method: 'post',
    path: '/v1/auth/login',
    summary: 'Sign in with a username and password for a short-lived access token',
    auth: 'none',
    body: Login,
    answers: {
      200: ok('The token.', Token),
      400: COMMON[400] ?? error('Invalid request.'),
      401: error('LOGIN_FAILED.'),
      429: error(
        'LOGIN_RATE_LIMITED (too many attempts for the username or address) or LOGIN_BUSY (too many password checks waiting); Retry-After says when to retry.',
      ),
    },
  },
  {
    method: 'post',
    path: '/v1/auth/refresh',
    summary:
      'A fresh token for the caller of a valid one (or of an API key): same credential, never past its end (the key expiry, or auth.sessionMaxSeconds after a password sign-in)',
    answers: { 200: ok('The token.', Token), ...COMMON },
  },
  {
    method: 'post',
    path: '/v1/auth/password',
    summary: "Change the caller's own password (a user's or an operator's), given the current one",
    body: PasswordChange,
    answers: {
      204: ok("Changed; every token signed in with the old password ends, the caller's own included."),
      ...COMMON,
      403: error('CURRENT_PASSWORD_INCORRECT: the current password is wrong.'),
      429: error('LOGIN_RATE_LIMITED (too many wrong passwords) or LOGIN_BUSY; see Retry-After.'),
    },
  },
  {
    method: 'get',
    path: '/v1/auth/me',
    summary: 'The caller: tenant, teams, bindings, permissions, projects',
    answers: { 200: ok('The caller.', Me), ...COMMON },
  },
  {
    method: 'get',
    path: '/v1/permissions',
    summary: 'The permission catalogue (component, operations, displayName, scopes)',
    answers: { 200: ok('The catalogue.', List(PermissionComponent)), ...COMMON },
  },
  {
    method: 'get',
    path: '/v1/roles',
    summary: "Built-in roles and the caller's tenant's custom roles",
    query: { tenant: { description: "For the system operator: include this tenant's custom roles." } },
    answers: { 200: ok('The roles.', List(Role)), ...COMMON },
  },
  {
    method: 'get',
    path: '/v1/tenants',
    summary: 'List the tenants, by name (system operator)',
    query: IDENTITY_PAGING,
    answers: { 200: ok('A page of tenants, with nextCursor.', Page(Tenant)), ...COMMON },
  },
  {
    method: 'post',
    path: '/v1/tenants',
    summary: 'Create a tenant (system operator)',
    body: NewTenant,
    answers: { 201: ok('Created.', Tenant), ...conflict('TENANT_EXISTS, NAMESPACE_TAKEN.'), ...COMMON },
  },
  { method: 'get', path: TENANT, summary: 'One tenant', answers: { 200: ok('The tenant.', Tenant), ...COMMON } },
  {
    method: 'delete',
    path: TENANT,
    summary: 'Delete a tenant that owns no registries',
    answers: { 204: ok('Deleted.'), ...conflict('TENANT_NOT_EMPTY.'), ...COMMON },
  },
  ...collection({
    path: `${TENANT}/projects`,
    item: `${TENANT}/projects/{project}`,
    what: 'project',
    record: Project,
    create: NewProject,
    createCodes: 'PROJECT_EXISTS, NAMESPACE_TAKEN.',
    changes: ProjectChanges,
  }),
  ...collection({
    path: `${TENANT}/users`,
    item: USER,
    what: 'user',
    record: User,
    create: NewUser,
    createCodes: 'USER_EXISTS.',
    changes: UserChanges,
    guarded: true,
  }),
  {
    method: 'get',
    path: `${USER}/api-keys`,
    summary: "A user's API keys (never their secrets), by id",
    query: IDENTITY_PAGING,
    answers: { 200: ok('A page of keys, with nextCursor.', Page(ApiKey)), ...GUARDED },
  },
  {
    method: 'post',
    path: `${USER}/api-keys`,
    summary: 'Create an API key: the response is the only time the key is shown',
    body: NewApiKey,
    answers: { 201: ok('The key, with `key`.', CreatedApiKey), ...GUARDED },
  },
  {
    method: 'delete',
    path: `${USER}/api-keys/{key}`,
    summary: 'Revoke an API key',
    answers: { 200: ok('The revoked key.', ApiKey), ...GUARDED },
  },
  ...collection({
    path: `${TENANT}/teams`,
    item: `${TENANT}/teams/{team}`,
    what: 'team',
    record: Team,
    create: NewTeam,
    createCodes: 'TEAM_EXISTS.',
    changes: TeamChanges,
    guarded: true,
  }),
  ...collection({
    path: `${TENANT}/roles`,
    item: `${TENANT}/roles/{role}`,
    what: 'custom role',
    record: Role,
    create: NewRole,
    createCodes: 'ROLE_EXISTS.',
    changes: RoleChanges,
    guarded: true,
  }),
  {
    method: 'get',
    path: `${TENANT}/bindings`,
    summary: 'List the role bindings, by id',
    query: IDENTITY_PAGING,
    answers: { 200: ok('A page of bindings, with nextCursor.', Page(Binding)), ...COMMON },
  },
  {
    method: 'post',
    path: `${TENANT}/bindings`,
    summary: 'Bind a role to a user or team, tenant-wide or in one project',
    body: NewBinding,
    answers: { 201: ok('Bound.', Binding), 200: ok('The same binding existed.', Binding), ...GUARDED },
  },
  {
    method: 'delete',
    path: `${TENANT}/bindings/{binding}`,
    summary: 'Remove a role binding',
    answers: { 204: ok('Removed.'), ...GUARDED },
  },
  ...profileRoutes('/v1/cluster-profiles', 'system'),
  ...profileRoutes(`${TENANT}/cluster-profiles`, 'tenant'),
  ...profileRoutes(`${TENANT}/projects/{project}/cluster-profiles`, 'project'),
  ...auditRoutes('/v1/audit', 'system'),
  ...auditRoutes(`${TENANT}/audit`, "tenant's (its projects included)"),
  ...auditRoutes(`${TENANT}/projects/{project}/audit`, 'project'),
  {
    method: 'get',
    path: '/livez',
    summary: 'Liveness',
    auth: 'none',
    answers: { 200: ok('The process is up.', Liveness) },
  },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: storage reachable and catalog loaded',
    auth: 'none',
    answers: { 200: ok('Ready.', Readiness), 503: ok('Not ready; `checks` says why.', Readiness) },
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    auth: 'none',
    answers: { 200: { description: 'Text exposition.', mediaType: 'text/plain' }, 401: COMMON[401] ?? error('') },
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    auth: 'none',
    answers: { 200: ok('OpenAPI 3.1.', Type.Record(Type.String(), Type.Unknown())) },
  },
  {
    method: 'get',
    path: '/v1/registries',
    summary: 'Registries the caller can read',
    answers: { 200: ok('Registries.', List(Registry)), ...COMMON },
  },
  {
    method: 'post',
    path: '/v1/registries',
    summary: 'Create a registry (administrators)',
    body: NewRegistry,
    answers: { 201: ok('Created.', Registry), ...conflict('REGISTRY_EXISTS, NAMESPACE_TAKEN.'), ...COMMON },
  },
  {
    method: 'get',
    path: '/v1/registries/{registry}',
    summary: 'One registry',
    answers: { 200: ok('The registry.', Registry), ...COMMON },
  },
  {
    method: 'patch',
    path: '/v1/registries/{registry}',
    summary: 'Change a registry (administrators)',
    body: RegistryChanges,
    answers: { 200: ok('Changed.', Registry), ...COMMON },
  },
  {
    method: 'get',
    path: '/v1/packs',
    summary: 'Search packs in every registry the caller can read',
    query: { registry: { description: 'Only this registry.' }, ...CATALOG_FILTERS },
    answers: { 200: ok('A page of packs.', CatalogPage), ...COMMON },
  },
  {
    method: 'get',
    path: '/v1/registries/{registry}/packs',
    summary: "Search one registry's packs",
    query: CATALOG_FILTERS,
    answers: { 200: ok('A page of packs.', CatalogPage), ...COMMON },
  },
  {
    method: 'post',
    path: '/v1/registries/{registry}/packs',
    summary: 'Publish a pack (the zip as the body, or a multipart file field)',
    query: {
      force: {
        description: 'Replace a published version with other bytes (the registry must allow it).',
        schema: Type.Boolean(),
      },
      message: { description: 'Why (required with force).' },
      digest: {
        description:
          'sha256:<hex> of the body (or the Content-Digest header): the archive then streams to storage as it arrives, and a body with another digest is refused.',
      },
    },
    headers: { 'Content-Digest': { description: 'RFC 9530 digest of the body, `sha-256=:<base64>:`.' } },
    body: {
      'application/zip': Type.String({ contentMediaType: 'application/zip' }),
      'multipart/form-data': Type.Object({
        file: Type.String({ format: 'binary' }),
        message: Type.Optional(Type.String()),
      }),
    },
    answers: {
      201: ok('Published.', Published),
      200: ok('The same bytes were already published (or a forced overwrite).', Published),
      409: error('PACK_VERSION_EXISTS, PACK_VERSION_DELETED, OVERWRITE_NOT_ALLOWED.'),
      413: error('UPLOAD_TOO_LARGE.'),
      422: error('PACK_INVALID or an ARCHIVE_* code.'),
      ...COMMON,
    },
  },
  {
    method: 'get',
    path: '/v1/registries/{registry}/packs/{name}',
    summary: 'A pack: versions (ascending) and line tags',
    answers: { 200: ok('The pack.', PackDetail), ...COMMON },
  },
  {
    method: 'get',
    path: '/v1/registries/{registry}/packs/{name}/downloads',
    summary: 'How many times each version of a pack was downloaded (versions never downloaded may be absent)',
    answers: { 200: ok('Downloads by version.', PackDownloads), ...COMMON },
  },
  {
    method: 'get',
    path: VERSION,
    summary: 'A version record',
    answers: { 200: ok('The record.', VersionRecord), 410: error('PACK_VERSION_GONE.'), ...COMMON },
  },
  {
    method: 'patch',
    path: VERSION,
    summary: 'Deprecate a version (with a message) or clear its deprecation',
    body: VersionChanges,
    answers: { 200: ok('The record.', VersionRecord), ...COMMON },
  },
  {
    method: 'delete',
    path: VERSION,
    summary: 'Delete a version, leaving a tombstone: it can only come back with the same bytes',
    query: { message: { description: 'Why.' } },
    answers: { 200: ok('Deleted.', DeletedVersion), ...COMMON },
  },
  {
    method: 'get',
    path: `${VERSION}/archive`,
    summary: 'Download the archive (ETag is the digest; Range and If-None-Match supported)',
    answers: {
      200: { description: 'The zip.', mediaType: 'application/zip' },
      206: { description: 'A byte range of the zip.', mediaType: 'application/zip' },
      304: ok('Not modified.'),
      416: error('RANGE_NOT_SATISFIABLE.'),
      ...COMMON,
    },
  },
  {
    method: 'get',
    path: `${VERSION}/usage`,
    summary:
      'Who uses a version: the cluster profiles (that the caller may list) selecting it, and the packs whose constraints name it',
    answers: { 200: ok('Profiles and dependent packs.', PackUsage), ...COMMON },
  },
  {
    method: 'get',
    path: `${VERSION}/files/{path}`,
    summary: 'One file out of the pack, without downloading the archive',
    answers: {
      200: { description: 'The file.', mediaType: 'application/octet-stream' },
      304: ok('Not modified.'),
      ...COMMON,
    },
  },
  ...registryTokenRoutes(),
  ...OCI_ROUTES,
];

/** The path parameters of an OpenAPI path, in order. */
export function pathParamsOf(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');
}
