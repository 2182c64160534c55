/** JSON Schemas of the identity management bodies (tenants, projects, users, teams, roles, bindings, API keys). */
import type { JSONSchemaType } from 'ajv';
import type { NewBinding } from '../identity/bindings.js';
import { ROLE_NAME_PATTERN, SLUG_PATTERN, USERNAME_PATTERN } from '../identity/names.js';
import type { NewRole } from '../identity/roles.js';
import type { NewUser, UserChanges } from '../identity/users.js';

const description = { type: 'string', nullable: true, maxLength: 2000 } as const;
const password = { type: 'string', nullable: true, minLength: 12, maxLength: 1024 } as const;

export interface Login {
  username: string;
  password: string;
}

export const loginSchema: JSONSchemaType<Login> = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'password'],
  properties: {
    username: { type: 'string', minLength: 1, maxLength: 128 },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
  },
};

export interface PasswordChange {
  currentPassword: string;
  newPassword: string;
}

export const passwordChangeSchema: JSONSchemaType<PasswordChange> = {
  type: 'object',
  additionalProperties: false,
  required: ['currentPassword', 'newPassword'],
  properties: {
    currentPassword: { type: 'string', minLength: 1, maxLength: 1024 },
    newPassword: { type: 'string', minLength: 12, maxLength: 1024 },
  },
};

export interface NewTenant {
  name: string;
  displayName?: string | null;
}

export const newTenantSchema: JSONSchemaType<NewTenant> = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: SLUG_PATTERN },
    displayName: { type: 'string', nullable: true, minLength: 1, maxLength: 200 },
  },
};

export interface NewNamed {
  name: string;
  description?: string | null;
}

export const newProjectSchema: JSONSchemaType<NewNamed> = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: { type: 'string', pattern: SLUG_PATTERN }, description },
};

export interface DescriptionChange {
  description?: string | null;
}

export const projectChangesSchema: JSONSchemaType<DescriptionChange> = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { description },
};

export const newUserSchema: JSONSchemaType<NewUser> = {
  type: 'object',
  additionalProperties: false,
  required: ['username'],
  properties: {
    username: { type: 'string', pattern: USERNAME_PATTERN },
    displayName: { type: 'string', nullable: true, minLength: 1, maxLength: 200 },
    password,
  },
};

export const userChangesSchema: JSONSchemaType<UserChanges> = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    displayName: { type: 'string', nullable: true, minLength: 1, maxLength: 200 },
    password,
    disabled: { type: 'boolean', nullable: true },
  },
};

export interface TeamInput {
  name: string;
  description?: string | null;
  members?: string[] | null;
}

const members = { type: 'array', nullable: true, maxItems: 10000, items: { type: 'string', maxLength: 128 } } as const;

export const newTeamSchema: JSONSchemaType<TeamInput> = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: { type: 'string', pattern: SLUG_PATTERN }, description, members },
};

export interface TeamChanges {
  description?: string | null;
  members?: string[] | null;
}

export const teamChangesSchema: JSONSchemaType<TeamChanges> = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { description, members },
};

const permissions = { type: 'array', maxItems: 500, items: { type: 'string', maxLength: 64 } } as const;

export const newRoleSchema: JSONSchemaType<NewRole> = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'scope', 'permissions'],
  properties: {
    name: { type: 'string', pattern: ROLE_NAME_PATTERN },
    scope: { type: 'string', enum: ['tenant', 'project'] },
    description,
    permissions,
  },
};

export interface RoleChanges {
  description?: string | null;
  permissions?: string[] | null;
}

export const roleChangesSchema: JSONSchemaType<RoleChanges> = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { description, permissions: { ...permissions, nullable: true } },
};

export const newBindingSchema: JSONSchemaType<NewBinding> = {
  type: 'object',
  additionalProperties: false,
  required: ['role', 'subject'],
  properties: {
    role: { type: 'string', minLength: 1, maxLength: 64 },
    subject: {
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'name'],
      properties: {
        kind: { type: 'string', enum: ['user', 'team'] },
        name: { type: 'string', minLength: 1, maxLength: 128 },
      },
    },
    project: { type: 'string', nullable: true, minLength: 1, maxLength: 64 },
  },
};

export interface NewApiKey {
  name: string;
  expiresAt?: string | null;
}

export const newApiKeySchema: JSONSchemaType<NewApiKey> = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 100 },
    expiresAt: { type: 'string', nullable: true, minLength: 10, maxLength: 40 },
  },
};
