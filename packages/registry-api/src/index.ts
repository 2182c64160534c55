/**
 * @packyard/registry-api: the registry's /v1 wire contract, declared once with TypeBox (each
 * schema is a JSON Schema and, through `Static<>`, a TypeScript type), and what comes of it: the
 * route table, the OpenAPI document and a typed client. No server code, no Node-only imports: the
 * web catalog uses the same client.
 */
export * from './schemas/common.js';
export * from './schemas/packs.js';
export * from './schemas/identity.js';
export * from './schemas/operations.js';
export * from './schemas/oci.js';
export * from './routes.js';
export * from './openapi.js';
export * from './match-route.js';
export * from './validate.js';
export * from './client.js';
export type { Static, TSchema } from '@sinclair/typebox';
