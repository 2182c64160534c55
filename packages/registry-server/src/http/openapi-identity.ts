/** The identity part of the OpenAPI document: sign-in, tenants, projects, users, teams, roles, bindings, API keys. */
import {
  loginSchema,
  passwordChangeSchema,
  newApiKeySchema,
  newBindingSchema,
  newProjectSchema,
  newRoleSchema,
  newTeamSchema,
  newTenantSchema,
  newUserSchema,
  projectChangesSchema,
  roleChangesSchema,
  teamChangesSchema,
  userChangesSchema,
} from './identity-schemas.js';
import { clusterProfileSchema } from '@packyard/pack-core';
import { common, errorResponse, json, openApi31, pathParam, queryParam, ref } from './openapi-helpers.js';

const tenantParam = pathParam('tenant', 'Tenant name.');
const object = { type: 'object' };
const list = { type: 'object', properties: { items: { type: 'array', items: object } } };

const ok = (description: string, schema: unknown = object) => ({ description, content: json(schema) });
const body = (name: string) => ({ required: true, content: json(ref(name)) });
const conflict = (codes: string) => ({ '409': errorResponse(codes) });
/** The 403s of the routes that change who holds what (access/guards.ts). */
const guarded = {
  ...common,
  '403': errorResponse(
    'Not allowed: FORBIDDEN; ROLE_ESCALATION (a role given or taken away, directly or through a team, holds permissions you do not hold there); USER_OUTRANKS_CALLER (the user acted on holds permissions you do not).',
  ),
};

/** GET (list) and POST (create) on a collection, GET/PATCH/DELETE on its items. */
function collection(options: {
  what: string;
  create: string;
  createCodes: string;
  changes?: string;
  /** Whether changes pass the no-escalation checks (users, teams, roles). */
  guarded?: boolean;
}): {
  list: Record<string, unknown>;
  item: Record<string, unknown>;
} {
  const { what } = options;
  const errors = options.guarded ? guarded : common;
  return {
    list: {
      get: { summary: `List the ${what}s`, responses: { '200': ok(`The ${what}s.`, list), ...common } },
      post: {
        summary: `Create a ${what}`,
        requestBody: body(options.create),
        responses: { '201': ok(`Created.`), ...conflict(options.createCodes), ...errors },
      },
    },
    item: {
      get: { summary: `One ${what}`, responses: { '200': ok(`The ${what}.`), ...common } },
      ...(options.changes
        ? {
            patch: {
              summary: `Change a ${what}`,
              requestBody: body(options.changes),
              responses: { '200': ok('Changed.'), ...errors },
            },
          }
        : {}),
      delete: { summary: `Delete a ${what}`, responses: { '204': { description: 'Deleted.' }, ...errors } },
    },
  };
}

const projects = collection({
  what: 'project',
  create: 'NewProject',
  createCodes: 'PROJECT_EXISTS.',
  changes: 'ProjectChanges',
});
const users = collection({
  what: 'user',
  create: 'NewUser',
  createCodes: 'USER_EXISTS.',
  changes: 'UserChanges',
  guarded: true,
});
const teams = collection({
  what: 'team',
  create: 'NewTeam',
  createCodes: 'TEAM_EXISTS.',
  changes: 'TeamChanges',
  guarded: true,
});
const roles = collection({
  what: 'custom role',
  create: 'NewRole',
  createCodes: 'ROLE_EXISTS.',
  changes: 'RoleChanges',
  guarded: true,
});

export const identitySchemas = {
  ClusterProfile: { ...clusterProfileSchema, $schema: undefined, $id: undefined },
  Login: openApi31(loginSchema),
  PasswordChange: openApi31(passwordChangeSchema),
  NewTenant: openApi31(newTenantSchema),
  NewProject: openApi31(newProjectSchema),
  ProjectChanges: openApi31(projectChangesSchema),
  NewUser: openApi31(newUserSchema),
  UserChanges: openApi31(userChangesSchema),
  NewTeam: openApi31(newTeamSchema),
  TeamChanges: openApi31(teamChangesSchema),
  NewRole: openApi31(newRoleSchema),
  RoleChanges: openApi31(roleChangesSchema),
  NewBinding: openApi31(newBindingSchema),
  NewApiKey: openApi31(newApiKeySchema),
  Token: {
    type: 'object',
    required: ['token', 'tokenType', 'expiresAt', 'expiresIn'],
    properties: {
      token: { type: 'string', description: 'Send as `Authorization: Bearer <token>`.' },
      tokenType: { const: 'Bearer' },
      expiresAt: { type: 'string', format: 'date-time' },
      expiresIn: { type: 'integer', description: 'Seconds.' },
    },
  },
};

export const identityPaths = {
  '/v1/auth/login': {
    post: {
      summary: 'Sign in with a username and password for a short-lived access token',
      security: [],
      requestBody: body('Login'),
      responses: {
        '200': ok('The token.', ref('Token')),
        '401': errorResponse('LOGIN_FAILED.'),
        '429': errorResponse(
          'LOGIN_RATE_LIMITED (too many attempts for the username or address) or LOGIN_BUSY (too many password checks waiting); Retry-After says when to retry.',
        ),
        '400': common['400'],
      },
    },
  },
  '/v1/auth/refresh': {
    post: {
      summary:
        'A fresh token for the caller of a valid one (or of an API key): same credential, never past its end (the key expiry, or auth.sessionMaxSeconds after a password sign-in)',
      responses: { '200': ok('The token.', ref('Token')), ...common },
    },
  },
  '/v1/auth/password': {
    post: {
      summary: "Change the caller's own password (a user's or an operator's), given the current one",
      requestBody: body('PasswordChange'),
      responses: {
        '204': { description: "Changed; every token signed in with the old password ends, the caller's own included." },
        ...common,
        '403': errorResponse('CURRENT_PASSWORD_INCORRECT: the current password is wrong.'),
        '429': errorResponse('LOGIN_RATE_LIMITED (too many wrong passwords) or LOGIN_BUSY; see Retry-After.'),
      },
    },
  },
  '/v1/auth/me': {
    get: {
      summary: 'The caller: tenant, teams, bindings, permissions, projects',
      responses: { '200': ok('The caller.'), ...common },
    },
  },
  '/v1/permissions': {
    get: {
      summary: 'The permission catalogue (component, operations, displayName, scopes)',
      responses: { '200': ok('The catalogue.', list), ...common },
    },
  },
  '/v1/roles': {
    get: {
      summary: "Built-in roles and the caller's tenant's custom roles",
      parameters: [queryParam('tenant', "For the system operator: include this tenant's custom roles.")],
      responses: { '200': ok('The roles.', list), ...common },
    },
  },
  '/v1/tenants': {
    get: { summary: 'List the tenants (system operator)', responses: { '200': ok('The tenants.', list), ...common } },
    post: {
      summary: 'Create a tenant (system operator)',
      requestBody: body('NewTenant'),
      responses: { '201': ok('Created.'), ...conflict('TENANT_EXISTS.'), ...common },
    },
  },
  '/v1/tenants/{tenant}': {
    parameters: [tenantParam],
    get: { summary: 'One tenant', responses: { '200': ok('The tenant.'), ...common } },
    delete: {
      summary: 'Delete a tenant that owns no registries',
      responses: { '204': { description: 'Deleted.' }, ...conflict('TENANT_NOT_EMPTY.'), ...common },
    },
  },
  '/v1/tenants/{tenant}/projects': { parameters: [tenantParam], ...projects.list },
  '/v1/tenants/{tenant}/projects/{project}': {
    parameters: [tenantParam, pathParam('project', 'Project name.')],
    ...projects.item,
  },
  '/v1/tenants/{tenant}/users': { parameters: [tenantParam], ...users.list },
  '/v1/tenants/{tenant}/users/{user}': { parameters: [tenantParam, pathParam('user', 'Username.')], ...users.item },
  '/v1/tenants/{tenant}/users/{user}/api-keys': {
    parameters: [tenantParam, pathParam('user', 'Username.')],
    get: {
      summary: "A user's API keys (never their secrets)",
      responses: { '200': ok('The keys.', list), ...guarded },
    },
    post: {
      summary: 'Create an API key: the response is the only time the key is shown',
      requestBody: body('NewApiKey'),
      responses: { '201': ok('The key, with `key`.'), ...guarded },
    },
  },
  '/v1/tenants/{tenant}/users/{user}/api-keys/{key}': {
    parameters: [tenantParam, pathParam('user', 'Username.'), pathParam('key', 'API key id.')],
    delete: { summary: 'Revoke an API key', responses: { '200': ok('The revoked key.'), ...guarded } },
  },
  '/v1/tenants/{tenant}/teams': { parameters: [tenantParam], ...teams.list },
  '/v1/tenants/{tenant}/teams/{team}': { parameters: [tenantParam, pathParam('team', 'Team name.')], ...teams.item },
  '/v1/tenants/{tenant}/roles': { parameters: [tenantParam], ...roles.list },
  '/v1/tenants/{tenant}/roles/{role}': {
    parameters: [tenantParam, pathParam('role', 'Role name (any case).')],
    ...roles.item,
  },
  '/v1/tenants/{tenant}/bindings': {
    parameters: [tenantParam],
    get: { summary: 'List the role bindings', responses: { '200': ok('The bindings.', list), ...common } },
    post: {
      summary: 'Bind a role to a user or team, tenant-wide or in one project',
      requestBody: body('NewBinding'),
      responses: { '201': ok('Bound.'), '200': ok('The same binding existed.'), ...guarded },
    },
  },
  '/v1/tenants/{tenant}/bindings/{binding}': {
    parameters: [tenantParam, pathParam('binding', 'Binding id.')],
    delete: { summary: 'Remove a role binding', responses: { '204': { description: 'Removed.' }, ...guarded } },
  },
};

/** One scope's cluster-profile routes. */
function profileRoutes(base: string, scopeParams: unknown[], scope: string) {
  const profileParam = pathParam('profile', 'Cluster profile name.');
  return {
    [base]: {
      ...(scopeParams.length > 0 ? { parameters: scopeParams } : {}),
      get: {
        summary: `List the ${scope} cluster profiles (with those inherited from the scopes above, read-only)`,
        responses: { '200': ok('The profiles.', list), ...common },
      },
      post: {
        summary: `Create a ${scope} cluster profile`,
        requestBody: body('ClusterProfile'),
        responses: { '201': ok('Created.'), ...conflict('PROFILE_EXISTS.'), ...common },
      },
    },
    [`${base}/{profile}`]: {
      parameters: [...scopeParams, profileParam],
      get: { summary: 'One cluster profile (own or inherited)', responses: { '200': ok('The profile.'), ...common } },
      put: {
        summary: 'Replace a cluster profile of this scope',
        requestBody: body('ClusterProfile'),
        responses: { '200': ok('Replaced.'), ...common },
      },
      delete: {
        summary: 'Delete a cluster profile of this scope',
        responses: { '204': { description: 'Deleted.' }, ...common },
      },
    },
    [`${base}/{profile}/publish`]: {
      parameters: [...scopeParams, profileParam],
      post: {
        summary: 'Publish the current version of a cluster profile',
        responses: { '200': ok('Published.'), ...common },
      },
    },
  };
}

export const profilePaths = {
  ...profileRoutes('/v1/cluster-profiles', [], 'system'),
  ...profileRoutes('/v1/tenants/{tenant}/cluster-profiles', [tenantParam], 'tenant'),
  ...profileRoutes(
    '/v1/tenants/{tenant}/projects/{project}/cluster-profiles',
    [tenantParam, pathParam('project', 'Project name.')],
    'project',
  ),
};

const auditPage = [
  queryParam('limit', 'Entries per page (1-500, default 100).', { type: 'integer', minimum: 1, maximum: 500 }),
  queryParam('cursor', 'The nextCursor of the previous page.'),
];
const auditGet = (scope: string) => ({
  summary: `The ${scope} audit log, newest first (audit.list)`,
  parameters: auditPage,
  responses: { '200': ok('A page of entries, with nextCursor.', list), ...common },
});

const entryParam = pathParam('entry', 'Audit entry id.');
const entryGet = {
  summary: 'One audit entry (audit.get)',
  responses: { '200': ok('The entry.'), ...common },
};
const projectParam = pathParam('project', 'Project name.');

export const auditPaths = {
  '/v1/audit': { get: auditGet('system') },
  '/v1/audit/{entry}': { parameters: [entryParam], get: entryGet },
  '/v1/tenants/{tenant}/audit': { parameters: [tenantParam], get: auditGet("tenant's (its projects included)") },
  '/v1/tenants/{tenant}/audit/{entry}': { parameters: [tenantParam, entryParam], get: entryGet },
  '/v1/tenants/{tenant}/projects/{project}/audit': {
    parameters: [tenantParam, projectParam],
    get: auditGet('project'),
  },
  '/v1/tenants/{tenant}/projects/{project}/audit/{entry}': {
    parameters: [tenantParam, projectParam, entryParam],
    get: entryGet,
  },
};
