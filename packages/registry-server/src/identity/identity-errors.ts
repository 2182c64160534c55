/** What identity lookups and creations fail with: one literal, catalogued code per kind of record. */
import type { PackError } from '@packyard/pack-core';
import { registryError, type RegistryErrorCode } from '../errors.js';

const NOT_FOUND = {
  tenant: 'TENANT_NOT_FOUND',
  project: 'PROJECT_NOT_FOUND',
  user: 'USER_NOT_FOUND',
  team: 'TEAM_NOT_FOUND',
  role: 'ROLE_NOT_FOUND',
  binding: 'BINDING_NOT_FOUND',
  'API key': 'API_KEY_NOT_FOUND',
} as const satisfies Record<string, RegistryErrorCode>;

const EXISTS = {
  tenant: 'TENANT_EXISTS',
  project: 'PROJECT_EXISTS',
  user: 'USER_EXISTS',
  team: 'TEAM_EXISTS',
  role: 'ROLE_EXISTS',
} as const satisfies Record<string, RegistryErrorCode>;

export function notFound(kind: keyof typeof NOT_FOUND, name: string, hint: string): PackError {
  return registryError(NOT_FOUND[kind], `no ${kind} named ${name}`, { hint });
}

export function exists(kind: keyof typeof EXISTS, name: string, hint = 'choose another name'): PackError {
  return registryError(EXISTS[kind], `a ${kind} named ${name} already exists`, { hint });
}

export const tenantNotFound = (name: string) => notFound('tenant', name, 'GET /v1/tenants lists the tenants');
export const projectNotFound = (name: string) =>
  notFound('project', name, 'GET /v1/tenants/<tenant>/projects lists the projects you can see');
export const userNotFound = (name: string) => notFound('user', name, 'GET /v1/tenants/<tenant>/users lists the users');
export const teamNotFound = (name: string) => notFound('team', name, 'GET /v1/tenants/<tenant>/teams lists the teams');
export const roleNotFound = (name: string) => notFound('role', name, 'GET /v1/roles lists the roles');
export const bindingNotFound = (id: string) =>
  notFound('binding', id, 'GET /v1/tenants/<tenant>/bindings lists the role bindings');
