/** Signing in, and who exists: tenants, projects, users, API keys, teams, roles, role bindings. */
import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Nullable, ROLE_NAME_PATTERN, SLUG_PATTERN, USERNAME_PATTERN } from './common.js';

const description = Type.Optional(Nullable(Type.String({ maxLength: 2000 })));
const password = Type.Optional(Nullable(Type.String({ minLength: 12, maxLength: 1024 })));
const displayName = Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200 })));
const members = Type.Optional(Nullable(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 10000 })));
const permissions = Type.Array(Type.String({ maxLength: 64 }), { maxItems: 500 });
const closed = { additionalProperties: false } as const;
const changes = { additionalProperties: false, minProperties: 1 } as const;

export const Login = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 128 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  closed,
);
export type Login = Static<typeof Login>;

export const PasswordChange = Type.Object(
  {
    currentPassword: Type.String({ minLength: 1, maxLength: 1024 }),
    newPassword: Type.String({ minLength: 12, maxLength: 1024 }),
  },
  closed,
);
export type PasswordChange = Static<typeof PasswordChange>;

export const Token = Type.Object({
  token: Type.String({ description: 'Send as `Authorization: Bearer <token>`.' }),
  tokenType: Type.Literal('Bearer'),
  expiresAt: DateTime,
  expiresIn: Type.Integer({ description: 'Seconds.' }),
});
export type Token = Static<typeof Token>;

export const Subject = Type.Object({
  kind: Type.Union([Type.Literal('user'), Type.Literal('team')]),
  name: Type.String({ minLength: 1, maxLength: 128 }),
});
export type Subject = Static<typeof Subject>;

export const Binding = Type.Object({
  id: Type.String(),
  role: Type.String(),
  subject: Subject,
  /** Tenant-wide when null, else the project's name. */
  project: Nullable(Type.String()),
  createdAt: DateTime,
  createdBy: Type.String(),
});
export type Binding = Static<typeof Binding>;

/** GET /v1/auth/me: an operator, or a user with their teams, bindings and permissions. */
export const Me = Type.Union([
  Type.Object({
    kind: Type.Literal('operator'),
    username: Type.String(),
    tenant: Type.Null(),
    roles: Type.Array(Type.String()),
  }),
  Type.Object({
    kind: Type.Literal('user'),
    username: Type.String(),
    tenant: Type.String(),
    teams: Type.Array(Type.String()),
    bindings: Type.Array(Binding),
    tenantPermissions: Type.Array(Type.String()),
    projects: Type.Array(Type.String()),
  }),
]);
export type Me = Static<typeof Me>;

export const Tenant = Type.Object({
  id: Type.String(),
  name: Type.String(),
  displayName: Type.String(),
  createdAt: DateTime,
});
export type Tenant = Static<typeof Tenant>;

export const NewTenant = Type.Object({ name: Type.String({ pattern: SLUG_PATTERN }), displayName }, closed);
export type NewTenant = Static<typeof NewTenant>;

export const Project = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  createdAt: DateTime,
  createdBy: Type.String(),
});
export type Project = Static<typeof Project>;

export const NewProject = Type.Object({ name: Type.String({ pattern: SLUG_PATTERN }), description }, closed);
export type NewProject = Static<typeof NewProject>;

export const ProjectChanges = Type.Object({ description }, changes);
export type ProjectChanges = Static<typeof ProjectChanges>;

/** A user as the API shows it: never the password hash. */
export const User = Type.Object({
  id: Type.String(),
  username: Type.String(),
  displayName: Type.String(),
  disabled: Type.Boolean(),
  createdAt: DateTime,
  createdBy: Type.String(),
  hasPassword: Type.Boolean(),
});
export type User = Static<typeof User>;

export const NewUser = Type.Object(
  { username: Type.String({ pattern: USERNAME_PATTERN }), displayName, password },
  closed,
);
export type NewUser = Static<typeof NewUser>;

export const UserChanges = Type.Object(
  { displayName, password, disabled: Type.Optional(Nullable(Type.Boolean())) },
  changes,
);
export type UserChanges = Static<typeof UserChanges>;

/** An API key as the API shows it: never its secret (but once, at creation: {@link CreatedApiKey}). */
export const ApiKey = Type.Object({
  id: Type.String(),
  username: Type.String(),
  name: Type.String(),
  createdAt: DateTime,
  expiresAt: Nullable(Type.String()),
  revokedAt: Nullable(Type.String()),
});
export type ApiKey = Static<typeof ApiKey>;

export const CreatedApiKey = Type.Composite([
  ApiKey,
  Type.Object({ key: Type.String({ description: 'The key: shown this once only.' }) }),
]);
export type CreatedApiKey = Static<typeof CreatedApiKey>;

export const NewApiKey = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    expiresAt: Type.Optional(Nullable(Type.String({ minLength: 10, maxLength: 40 }))),
  },
  closed,
);
export type NewApiKey = Static<typeof NewApiKey>;

export const Team = Type.Object({
  name: Type.String(),
  description: Type.String(),
  members: Type.Array(Type.String()),
  createdAt: DateTime,
  createdBy: Type.String(),
});
export type Team = Static<typeof Team>;

export const NewTeam = Type.Object({ name: Type.String({ pattern: SLUG_PATTERN }), description, members }, closed);
export type NewTeam = Static<typeof NewTeam>;

export const TeamChanges = Type.Object({ description, members }, changes);
export type TeamChanges = Static<typeof TeamChanges>;

export const PermissionScope = Type.Union([Type.Literal('system'), Type.Literal('tenant'), Type.Literal('project')]);

export const Role = Type.Object({
  name: Type.String(),
  scope: PermissionScope,
  builtIn: Type.Boolean(),
  description: Type.String(),
  // Built-in roles share one frozen list: a reader never changes it.
  permissions: Type.Unsafe<readonly string[]>(Type.Array(Type.String())),
});
export type Role = Static<typeof Role>;

export const NewRole = Type.Object(
  {
    name: Type.String({ pattern: ROLE_NAME_PATTERN }),
    scope: Type.Union([Type.Literal('tenant'), Type.Literal('project')]),
    description,
    permissions,
  },
  closed,
);
export type NewRole = Static<typeof NewRole>;

export const RoleChanges = Type.Object({ description, permissions: Type.Optional(Nullable(permissions)) }, changes);
export type RoleChanges = Static<typeof RoleChanges>;

export const NewBinding = Type.Object(
  {
    role: Type.String({ minLength: 1, maxLength: 64 }),
    subject: Type.Object(
      {
        kind: Type.Union([Type.Literal('user'), Type.Literal('team')]),
        name: Type.String({ minLength: 1, maxLength: 128 }),
      },
      closed,
    ),
    project: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64 }))),
  },
  closed,
);
export type NewBinding = Static<typeof NewBinding>;

/** One component of the permission catalogue. */
export const PermissionComponent = Type.Object({
  component: Type.String(),
  displayName: Type.String(),
  operations: Type.Array(Type.String()),
  scopes: Type.Array(PermissionScope),
  permissions: Type.Array(Type.String()),
});
export type PermissionComponent = Static<typeof PermissionComponent>;
