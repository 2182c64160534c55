/**
 * JSON Schemas of the request bodies: the routes validate with them and the OpenAPI document
 * shows them, so the two cannot drift apart.
 */
import type { JSONSchemaType } from 'ajv/dist/2020.js';
import { REGISTRY_NAME_PATTERN, type NewRegistry, type RegistryChanges } from '../registries/registry-service.js';

export const newRegistrySchema: JSONSchemaType<NewRegistry> = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'scope'],
  properties: {
    name: { type: 'string', pattern: REGISTRY_NAME_PATTERN, maxLength: 64 },
    scope: { type: 'string', enum: ['system', 'tenant', 'project'] },
    tenant: { type: 'string', nullable: true, minLength: 1, maxLength: 128 },
    project: { type: 'string', nullable: true, minLength: 1, maxLength: 128 },
    description: { type: 'string', nullable: true, maxLength: 2000 },
    public: { type: 'boolean', nullable: true },
    allowOverwrite: { type: 'boolean', nullable: true },
  },
};

export const registryChangesSchema: JSONSchemaType<RegistryChanges> = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    description: { type: 'string', nullable: true, maxLength: 2000 },
    public: { type: 'boolean', nullable: true },
    allowOverwrite: { type: 'boolean', nullable: true },
  },
};

export interface VersionChanges {
  /** true (with a message) deprecates; false clears a deprecation. */
  deprecated: boolean;
  message?: string;
}

export const versionChangesSchema: JSONSchemaType<VersionChanges> = {
  type: 'object',
  additionalProperties: false,
  required: ['deprecated'],
  properties: {
    deprecated: { type: 'boolean' },
    message: { type: 'string', nullable: true, minLength: 1, maxLength: 2000 },
  },
};
