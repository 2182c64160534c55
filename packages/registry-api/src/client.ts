/**
 * A typed client of the /v1 API: one method per operation, the URL of each built here and nowhere
 * else, and every answer checked against its schema before the caller sees it. How bytes travel
 * (TLS, credentials, redirects, size caps) is the transport's: packctl brings its own, the web
 * catalog a fetch-based one.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { List, Page, type PageOf } from './schemas/common.js';
import {
  ApiKey,
  Binding,
  CreatedApiKey,
  Me,
  PermissionComponent,
  Project,
  Role,
  Team,
  Tenant,
  Token,
  User,
  type Login,
  type NewApiKey,
  type NewBinding,
  type NewProject,
  type NewRole,
  type NewTeam,
  type NewTenant,
  type NewUser,
  type PasswordChange,
  type ProjectChanges,
  type RoleChanges,
  type TeamChanges,
  type UserChanges,
} from './schemas/identity.js';
import { AuditPage, ProfilePage, ProfileView } from './schemas/operations.js';
import {
  CatalogPage,
  DeletedVersion,
  PackDetail,
  Registry,
  VersionRecord,
  type NewRegistry,
  type RegistryChanges,
  type VersionChanges,
} from './schemas/packs.js';
import type { HttpMethod } from './routes.js';
import { allPages } from './paging.js';
import { problemsOf } from './validate.js';

export interface ApiRequest {
  method: Uppercase<HttpMethod>;
  /** Path and query, e.g. `/v1/packs?q=calico`. */
  path: string;
  /** A JSON body. */
  body?: unknown;
  /** What the caller is doing, for messages ("pulling cni-calico"). */
  what: string;
  /** Error statuses the caller handles itself (`errors`: all): answered as `{ status }`, the body discarded. */
  expect?: number[] | 'errors';
}

export interface ApiAnswer {
  status: number;
  /** The parsed JSON of a 2xx answer; undefined when it has none (204) or for an expected error. */
  body: unknown;
}

/**
 * Sends a request and resolves to its status and the parsed JSON of a 2xx answer. Any other
 * answer, but the `expect`ed ones, is the transport's to turn into an error: it knows how its
 * caller reports them.
 */
export interface ApiTransport {
  request(request: ApiRequest): Promise<ApiAnswer>;
}

export interface ApiClientOptions {
  /** One path segment from a value; the default refuses "", "." and ".." (URL parsing would resolve them). */
  segment?: (value: string, what: string) => string;
  /** The error for an answer that does not match its schema. */
  refuse?: (what: string, problems: string[]) => Error;
}

/** Where a cluster profile lives: the system, a tenant, or a tenant's project. */
export interface ProfileScopeRef {
  tenant?: string | undefined;
  project?: string | undefined;
}

/** The catalog's query parameters (GET /v1/packs). */
export interface CatalogQuery {
  q?: string;
  name?: string;
  layer?: string;
  addonType?: string;
  cloudType?: string;
  version?: string;
  deprecated?: boolean;
  sort?: 'relevance' | 'name' | '-name' | 'published' | '-published';
  /** Rows per page; a command-line value passes as typed, for the server to judge. */
  limit?: number | string;
  cursor?: string;
}

/**
 * One collection of the identity API (a tenant's projects, users, teams, roles and role bindings,
 * a user's API keys, the tenants): list, one, create, change and delete, each as the contract has
 * it. `Changes` is `never` where the API has no change (tenants, bindings, API keys).
 */
/** Which page of a collection: at most `limit` items, after the previous page's `cursor`. */
export interface PageQuery {
  limit?: number | string;
  cursor?: string;
}

export interface IdentityCollection<Item, New, Changes, Created = Item> {
  /** One page (the first without a cursor). */
  list(what: string, query?: PageQuery): Promise<PageOf<Item>>;
  /** Every item, page after page. */
  listAll(what: string): Promise<Item[]>;
  get(id: string, what: string): Promise<Item>;
  create(body: New, what: string): Promise<Created>;
  change(id: string, body: Changes, what: string): Promise<Item>;
  remove(id: string, what: string): Promise<void>;
}

export class AnswerRefused extends Error {
  constructor(
    readonly what: string,
    readonly problems: string[],
  ) {
    super(`${what}: the server's answer does not match the API: ${problems.slice(0, 3).join('; ')}`);
    this.name = 'AnswerRefused';
  }
}

function defaultSegment(value: string, what: string): string {
  if (value === '' || value === '.' || value === '..') throw new RangeError(`"${value}" is not a valid ${what}`);
  return encodeURIComponent(value);
}

function queryString(query: object): string {
  const pairs = Object.entries(query as Record<string, unknown>)
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  return pairs.length === 0 ? '' : `?${pairs.join('&')}`;
}

export class RegistryApiClient {
  private readonly segment: (value: string, what: string) => string;
  private readonly refuse: (what: string, problems: string[]) => Error;

  constructor(
    private readonly transport: ApiTransport,
    options: ApiClientOptions = {},
  ) {
    this.segment = options.segment ?? defaultSegment;
    this.refuse = options.refuse ?? ((what, problems) => new AnswerRefused(what, problems));
  }

  /** `value` as the contract's `schema` says, or the refusal naming `what`. */
  check<T extends TSchema>(schema: T, value: unknown, what: string): Static<T> {
    const problems = problemsOf(schema, value);
    if (problems.length === 0) return value;
    throw this.refuse(what, problems);
  }

  private async call<T extends TSchema>(schema: T, request: ApiRequest): Promise<Static<T>> {
    return this.check(schema, (await this.transport.request(request)).body, request.what);
  }

  /** Like call, but null for an answer with the `expected` error status. */
  private async callUnless<T extends TSchema>(
    expected: number,
    schema: T,
    request: ApiRequest,
  ): Promise<Static<T> | null> {
    const answer = await this.transport.request({ ...request, expect: [expected] });
    return answer.status === expected ? null : this.check(schema, answer.body, request.what);
  }

  /** The path of a registry, a pack in it, or one of the pack's versions. */
  packPath(registry: string, name?: string, version?: string): string {
    let path = `/v1/registries/${this.segment(registry, 'registry name')}`;
    if (name === undefined) return path;
    path += `/packs/${this.segment(name, 'pack name')}`;
    return version === undefined ? path : `${path}/${this.segment(version, 'version')}`;
  }

  /** Where a pack archive is published (POST, the zip as the body): the transport streams it. */
  publishPath(registry: string, query: { force?: boolean; message?: string; digest?: string } = {}): string {
    return `${this.packPath(registry)}/packs${queryString(query)}`;
  }

  /** Where a version's archive is downloaded from (GET): the transport streams it. */
  archivePath(registry: string, name: string, version: string): string {
    return `${this.packPath(registry, name, version)}/archive`;
  }

  /** Where a scope's resources are: `/v1`, a tenant's or a tenant's project's. */
  private scopePath(scope: ProfileScopeRef): string {
    if (scope.tenant === undefined) return '/v1';
    const tenant = this.tenantPath(scope.tenant);
    return scope.project === undefined ? tenant : `${tenant}/projects/${this.segment(scope.project, 'project name')}`;
  }

  /** The cluster profiles of a scope, or one of them. */
  profilesPath(scope: ProfileScopeRef, name?: string): string {
    const path = `${this.scopePath(scope)}/cluster-profiles`;
    return name === undefined ? path : `${path}/${this.segment(name, 'profile name')}`;
  }

  /** A collection at `base`, whose items are `record` (and whose create answers `created`). */
  private collection<I extends TSchema, C extends TSchema>(
    base: string,
    what: string,
    record: I,
    created: C,
  ): IdentityCollection<Static<I>, unknown, unknown, Static<C>> {
    const item = (id: string) => `${base}/${this.segment(id, what)}`;
    return {
      list: (doing, query = {}) =>
        this.call(Page(record), { method: 'GET', path: base + queryString(query), what: doing }),
      listAll: (doing) =>
        allPages(
          (cursor, limit) =>
            this.call(Page(record), { method: 'GET', path: base + queryString({ limit, cursor }), what: doing }),
          (problem) => this.refuse(doing, [problem]),
        ),
      get: (id, doing) => this.call(record, { method: 'GET', path: item(id), what: doing }),
      create: (body, doing) => this.call(created, { method: 'POST', path: base, body, what: doing }),
      change: (id, body, doing) => this.call(record, { method: 'PATCH', path: item(id), body, what: doing }),
      remove: async (id, doing) => {
        await this.transport.request({ method: 'DELETE', path: item(id), what: doing });
      },
    };
  }

  private tenantPath(tenant: string): string {
    return `/v1/tenants/${this.segment(tenant, 'tenant name')}`;
  }

  tenants(): IdentityCollection<Tenant, NewTenant, never> {
    return this.collection('/v1/tenants', 'tenant name', Tenant, Tenant);
  }

  projects(tenant: string): IdentityCollection<Project, NewProject, ProjectChanges> {
    return this.collection(`${this.tenantPath(tenant)}/projects`, 'project name', Project, Project);
  }

  users(tenant: string): IdentityCollection<User, NewUser, UserChanges> {
    return this.collection(`${this.tenantPath(tenant)}/users`, 'username', User, User);
  }

  /** A user's API keys; `remove` revokes one (by id). */
  apiKeys(tenant: string, user: string): IdentityCollection<ApiKey, NewApiKey, never, CreatedApiKey> {
    const base = `${this.tenantPath(tenant)}/users/${this.segment(user, 'username')}/api-keys`;
    return this.collection(base, 'API key id', ApiKey, CreatedApiKey);
  }

  teams(tenant: string): IdentityCollection<Team, NewTeam, TeamChanges> {
    return this.collection(`${this.tenantPath(tenant)}/teams`, 'team name', Team, Team);
  }

  /** A tenant's custom roles (the built-in ones: {@link builtInRoles}). */
  roles(tenant: string): IdentityCollection<Role, NewRole, RoleChanges> {
    return this.collection(`${this.tenantPath(tenant)}/roles`, 'role name', Role, Role);
  }

  /** A tenant's role bindings; `remove` takes a binding's id. */
  bindings(tenant: string): IdentityCollection<Binding, NewBinding, never> {
    return this.collection(`${this.tenantPath(tenant)}/bindings`, 'binding id', Binding, Binding);
  }

  /** A page of a scope's audit log, newest first: the system's, a tenant's (its projects included) or a project's. */
  audit(scope: ProfileScopeRef, query: { limit?: number | string; cursor?: string }, what: string): Promise<AuditPage> {
    return this.call(AuditPage, { method: 'GET', path: `${this.scopePath(scope)}/audit${queryString(query)}`, what });
  }

  /** The built-in roles and the caller's tenant's custom ones (an operator names the tenant). */
  allRoles(what: string, tenant?: string): Promise<{ items: Role[] }> {
    return this.call(List(Role), { method: 'GET', path: `/v1/roles${queryString({ tenant })}`, what });
  }

  /** The permission catalogue: each component, its operations and the scopes it applies in. */
  permissions(what: string): Promise<{ items: PermissionComponent[] }> {
    return this.call(List(PermissionComponent), { method: 'GET', path: '/v1/permissions', what });
  }

  login(credentials: Login, what: string): Promise<Token> {
    return this.call(Token, { method: 'POST', path: '/v1/auth/login', body: credentials, what });
  }

  refresh(what: string): Promise<Token> {
    return this.call(Token, { method: 'POST', path: '/v1/auth/refresh', what });
  }

  /** A fresh token, or null when the server refuses one (the old one then serves until it expires). */
  async refreshIfAllowed(what: string): Promise<Token | null> {
    const answer = await this.transport.request({ method: 'POST', path: '/v1/auth/refresh', what, expect: 'errors' });
    return answer.status >= 200 && answer.status < 300 ? this.check(Token, answer.body, what) : null;
  }

  me(what: string): Promise<Me> {
    return this.call(Me, { method: 'GET', path: '/v1/auth/me', what });
  }

  async changePassword(change: PasswordChange, what: string): Promise<void> {
    await this.transport.request({ method: 'POST', path: '/v1/auth/password', body: change, what });
  }

  registries(what: string): Promise<{ items: Registry[] }> {
    return this.call(List(Registry), { method: 'GET', path: '/v1/registries', what });
  }

  registry(name: string, what: string): Promise<Registry> {
    return this.call(Registry, { method: 'GET', path: this.packPath(name), what });
  }

  createRegistry(registry: NewRegistry, what: string): Promise<Registry> {
    return this.call(Registry, { method: 'POST', path: '/v1/registries', body: registry, what });
  }

  changeRegistry(name: string, changes: RegistryChanges, what: string): Promise<Registry> {
    return this.call(Registry, { method: 'PATCH', path: this.packPath(name), body: changes, what });
  }

  /** A page of the catalog: every readable registry's packs, or one registry's. */
  searchPacks(query: CatalogQuery, what: string, registry?: string): Promise<CatalogPage> {
    const base = registry === undefined ? '/v1/packs' : `${this.packPath(registry)}/packs`;
    return this.call(CatalogPage, { method: 'GET', path: `${base}${queryString(query)}`, what });
  }

  pack(registry: string, name: string, what: string): Promise<PackDetail> {
    return this.call(PackDetail, { method: 'GET', path: this.packPath(registry, name), what });
  }

  /** The pack, or null when the registry has no such pack (404). */
  packIfAny(registry: string, name: string, what: string): Promise<PackDetail | null> {
    return this.callUnless(404, PackDetail, { method: 'GET', path: this.packPath(registry, name), what });
  }

  /** Where one file of a version is read from (GET): the transport streams it. */
  filePath(ref: { registry: string; name: string; version: string }, file: string): string {
    return `${this.packPath(ref.registry, ref.name, ref.version)}/files/${file
      .split('/')
      .map((s) => this.segment(s, 'file path'))
      .join('/')}`;
  }

  version(registry: string, name: string, version: string, what: string): Promise<VersionRecord> {
    return this.call(VersionRecord, { method: 'GET', path: this.packPath(registry, name, version), what });
  }

  changeVersion(
    ref: { registry: string; name: string; version: string },
    changes: VersionChanges,
    what: string,
  ): Promise<VersionRecord> {
    const path = this.packPath(ref.registry, ref.name, ref.version);
    return this.call(VersionRecord, { method: 'PATCH', path, body: changes, what });
  }

  deleteVersion(
    ref: { registry: string; name: string; version: string },
    message: string | undefined,
    what: string,
  ): Promise<DeletedVersion> {
    const path = `${this.packPath(ref.registry, ref.name, ref.version)}${queryString({ message })}`;
    return this.call(DeletedVersion, { method: 'DELETE', path, what });
  }

  profiles(
    scope: ProfileScopeRef,
    query: { limit?: number | string; cursor?: string; inherited?: boolean },
    what: string,
  ): Promise<ProfilePage> {
    return this.call(ProfilePage, { method: 'GET', path: `${this.profilesPath(scope)}${queryString(query)}`, what });
  }

  /** A profile of the scope (or one it inherits from a scope above), or null when there is none (404). */
  profileIfAny(scope: ProfileScopeRef, name: string, what: string): Promise<ProfileView | null> {
    return this.callUnless(404, ProfileView, { method: 'GET', path: this.profilesPath(scope, name), what });
  }

  /** One revision of a profile: the current one, or an earlier one the server kept. */
  profileRevision(scope: ProfileScopeRef, name: string, revision: number, what: string): Promise<ProfileView> {
    const path = `${this.profilesPath(scope, name)}/revisions/${String(revision)}`;
    return this.call(ProfileView, { method: 'GET', path, what });
  }

  /** Creates a profile; null when the scope has one of that name already (409). */
  createProfile(scope: ProfileScopeRef, profile: unknown, what: string): Promise<ProfileView | null> {
    return this.callUnless(409, ProfileView, { method: 'POST', path: this.profilesPath(scope), body: profile, what });
  }

  replaceProfile(scope: ProfileScopeRef, name: string, profile: unknown, what: string): Promise<ProfileView> {
    return this.call(ProfileView, { method: 'PUT', path: this.profilesPath(scope, name), body: profile, what });
  }

  async deleteProfile(scope: ProfileScopeRef, name: string, what: string): Promise<void> {
    await this.transport.request({ method: 'DELETE', path: this.profilesPath(scope, name), what });
  }
}
