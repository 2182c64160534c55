/**
 * The OpenAPI 3.1 description of every route, served at /openapi.json. A test walks the app's
 * router and fails when a route is missing here or a path here has no route.
 */
import { newRegistrySchema, registryChangesSchema, versionChangesSchema } from './api-schemas.js';
import { common, errorResponse, json, openApi31, pathParam, queryParam, ref } from './openapi-helpers.js';
import { auditPaths, identityPaths, identitySchemas, profilePaths } from './openapi-identity.js';

const registryParam = pathParam('registry', 'Registry name, e.g. `public`.');
const nameParam = pathParam('name', 'Pack name.');
const versionParam = pathParam('version', 'An exact version, a line tag (`1.29.x`) or a range (`>=1.29 <1.30`).');

const catalogFilters = [
  queryParam('q', 'Words that must all appear in the name, display name, add-on type or annotations.'),
  queryParam('name', 'Exact pack name.'),
  queryParam('layer', 'os, k8s, cni, csi, addon, kernel.'),
  queryParam('addonType', 'Add-on type (case-insensitive), e.g. monitoring.'),
  queryParam('cloudType', 'Packs for this cloud or for all clouds.'),
  queryParam('version', 'Version selector: rows show only the versions it matches.'),
  queryParam('deprecated', 'true: deprecated versions only; false: none.', { type: 'boolean' }),
  queryParam('sort', 'Order of the rows.', { enum: ['name', '-name', 'published', '-published'] }),
  queryParam('limit', 'Rows per page (1-500, default 50).', { type: 'integer', minimum: 1, maximum: 500 }),
  queryParam('cursor', 'The nextCursor of the previous page.'),
];

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Packyard registry',
    version: '1',
    description:
      'Versioned pack storage for Kubernetes cluster profiles. Errors are `{ "error": { "code", "message", "hint"? } }` with stable codes (docs/error-codes.md).',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: {
              code: { type: 'string' },
              message: { type: 'string' },
              hint: { type: 'string' },
              details: {},
            },
          },
        },
      },
      Registry: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          scope: { enum: ['system', 'tenant', 'project'] },
          tenant: { type: ['string', 'null'] },
          project: { type: ['string', 'null'] },
          description: { type: 'string' },
          public: { type: 'boolean' },
          allowOverwrite: { type: 'boolean' },
          createdAt: { type: 'string', format: 'date-time' },
          createdBy: { type: 'string' },
          revision: { type: 'integer' },
        },
      },
      NewRegistry: openApi31(newRegistrySchema),
      RegistryChanges: openApi31(registryChangesSchema),
      VersionChanges: openApi31(versionChangesSchema),
      ...identitySchemas,
      PackRow: {
        type: 'object',
        properties: {
          registry: { type: 'string' },
          name: { type: 'string' },
          displayName: { type: 'string' },
          layer: { type: 'string' },
          addonType: { type: ['string', 'null'] },
          cloudTypes: { type: 'array', items: { type: 'string' } },
          latest: { type: 'string' },
          versions: { type: 'array', items: { type: 'string' } },
          deprecated: { type: 'boolean' },
          publishedAt: { type: 'string', format: 'date-time' },
          digest: { type: 'string' },
        },
      },
      CatalogPage: {
        type: 'object',
        properties: {
          total: { type: 'integer' },
          items: { type: 'array', items: ref('PackRow') },
          nextCursor: { type: ['string', 'null'] },
        },
      },
      PackDetail: {
        type: 'object',
        properties: {
          registry: { type: 'string' },
          name: { type: 'string' },
          displayName: { type: 'string' },
          layer: { type: 'string' },
          latest: { type: ['string', 'null'] },
          tags: { type: 'object', additionalProperties: { type: 'string' } },
          versions: { type: 'array', items: { type: 'object' } },
        },
      },
      VersionRecord: {
        type: 'object',
        properties: {
          registry: { type: 'string' },
          name: { type: 'string' },
          version: { type: 'string' },
          layer: { type: 'string' },
          digest: { type: 'string', description: 'sha256:<hex> of the archive' },
          integrity: { type: 'string', description: 'sha512-<base64> (Subresource Integrity)' },
          size: { type: 'integer' },
          publishedAt: { type: 'string', format: 'date-time' },
          publisher: { type: 'string' },
          message: { type: ['string', 'null'] },
          deprecated: { type: ['object', 'null'] },
          manifest: { type: 'object', description: 'pack.json as published' },
          files: { type: 'array', items: { type: 'object' } },
          history: { type: 'array', items: { type: 'object' } },
          revision: { type: 'integer' },
        },
      },
    },
  },
  security: [{}, { bearer: [] }],
  paths: {
    ...identityPaths,
    ...profilePaths,
    ...auditPaths,
    '/livez': { get: { summary: 'Liveness', responses: { '200': { description: 'The process is up.' } } } },
    '/readyz': {
      get: {
        summary: 'Readiness: storage reachable and catalog loaded',
        responses: { '200': { description: 'Ready.' }, '503': { description: 'Not ready; `checks` says why.' } },
      },
    },
    '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'Text exposition.' } } } },
    '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1.' } } } },
    '/v1/registries': {
      get: {
        summary: 'Registries the caller can read',
        responses: { '200': { description: 'Registries.', content: json({ type: 'object' }) } },
      },
      post: {
        summary: 'Create a registry (administrators)',
        requestBody: { required: true, content: json(ref('NewRegistry')) },
        responses: {
          '201': { description: 'Created.', content: json(ref('Registry')) },
          '409': errorResponse('REGISTRY_EXISTS.'),
          ...common,
        },
      },
    },
    '/v1/registries/{registry}': {
      parameters: [registryParam],
      get: {
        summary: 'One registry',
        responses: { '200': { description: 'The registry.', content: json(ref('Registry')) }, ...common },
      },
      patch: {
        summary: 'Change a registry (administrators)',
        requestBody: { required: true, content: json(ref('RegistryChanges')) },
        responses: { '200': { description: 'Changed.', content: json(ref('Registry')) }, ...common },
      },
    },
    '/v1/packs': {
      get: {
        summary: 'Search packs in every registry the caller can read',
        parameters: [queryParam('registry', 'Only this registry.'), ...catalogFilters],
        responses: { '200': { description: 'A page of packs.', content: json(ref('CatalogPage')) }, ...common },
      },
    },
    '/v1/registries/{registry}/packs': {
      parameters: [registryParam],
      get: {
        summary: "Search one registry's packs",
        parameters: catalogFilters,
        responses: { '200': { description: 'A page of packs.', content: json(ref('CatalogPage')) }, ...common },
      },
      post: {
        summary: 'Publish a pack (the zip as the body, or a multipart file field)',
        parameters: [
          queryParam('force', 'Replace a published version with other bytes (the registry must allow it).', {
            type: 'boolean',
          }),
          queryParam('message', 'Why (required with force).'),
          queryParam(
            'digest',
            'sha256:<hex> of the body (or the Content-Digest header): the archive then streams to storage as it arrives, and a body with another digest is refused.',
          ),
          {
            name: 'Content-Digest',
            in: 'header',
            required: false,
            description: 'RFC 9530 digest of the body, `sha-256=:<base64>:`.',
            schema: { type: 'string' },
          },
        ],
        requestBody: {
          required: true,
          content: {
            'application/zip': { schema: { type: 'string', contentMediaType: 'application/zip' } },
            'multipart/form-data': {
              schema: {
                type: 'object',
                properties: { file: { type: 'string', format: 'binary' }, message: { type: 'string' } },
              },
            },
          },
        },
        responses: {
          '201': { description: 'Published.', content: json(ref('VersionRecord')) },
          '200': {
            description: 'The same bytes were already published (or a forced overwrite).',
            content: json(ref('VersionRecord')),
          },
          '409': errorResponse('PACK_VERSION_EXISTS, PACK_VERSION_DELETED, OVERWRITE_NOT_ALLOWED.'),
          '413': errorResponse('UPLOAD_TOO_LARGE.'),
          '422': errorResponse('PACK_INVALID or an ARCHIVE_* code.'),
          ...common,
        },
      },
    },
    '/v1/registries/{registry}/packs/{name}': {
      parameters: [registryParam, nameParam],
      get: {
        summary: 'A pack: versions (ascending) and line tags',
        responses: { '200': { description: 'The pack.', content: json(ref('PackDetail')) }, ...common },
      },
    },
    '/v1/registries/{registry}/packs/{name}/{version}': {
      parameters: [registryParam, nameParam, versionParam],
      get: {
        summary: 'A version record',
        responses: {
          '200': { description: 'The record.', content: json(ref('VersionRecord')) },
          '410': errorResponse('PACK_VERSION_GONE.'),
          ...common,
        },
      },
      patch: {
        summary: 'Deprecate a version (with a message) or clear its deprecation',
        requestBody: { required: true, content: json(ref('VersionChanges')) },
        responses: { '200': { description: 'The record.', content: json(ref('VersionRecord')) }, ...common },
      },
      delete: {
        summary: 'Delete a version, leaving a tombstone: it can only come back with the same bytes',
        parameters: [queryParam('message', 'Why.')],
        responses: { '200': { description: 'Deleted.' }, ...common },
      },
    },
    '/v1/registries/{registry}/packs/{name}/{version}/archive': {
      parameters: [registryParam, nameParam, versionParam],
      get: {
        summary: 'Download the archive (ETag is the digest; Range and If-None-Match supported)',
        responses: {
          '200': { description: 'The zip.', content: { 'application/zip': {} } },
          '206': { description: 'A byte range of the zip.' },
          '304': { description: 'Not modified.' },
          '416': errorResponse('RANGE_NOT_SATISFIABLE.'),
          ...common,
        },
      },
    },
    '/v1/registries/{registry}/packs/{name}/{version}/files/{path}': {
      parameters: [
        registryParam,
        nameParam,
        versionParam,
        pathParam('path', 'A file inside the pack, e.g. values.yaml or README.md (may contain slashes).'),
      ],
      get: {
        summary: 'One file out of the pack, without downloading the archive',
        responses: { '200': { description: 'The file.' }, '304': { description: 'Not modified.' }, ...common },
      },
    },
  },
} as const;
