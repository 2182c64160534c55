/**
 * The OpenAPI 3.1 document, generated from the route table (./routes.ts): nothing about a route is
 * written twice. Schemas named in {@link COMPONENTS} become `#/components/schemas/<name>` references.
 */
import type { TSchema } from '@sinclair/typebox';
import { ErrorEnvelope } from './schemas/common.js';
import * as identity from './schemas/identity.js';
import * as oci from './schemas/oci.js';
import * as operations from './schemas/operations.js';
import * as packs from './schemas/packs.js';
import { PATH_PARAMS, pathParamsOf, ROUTES, type Answer, type QueryParam, type RouteSpec } from './routes.js';

/** The schemas the document names, by component name. */
export const COMPONENTS: Record<string, TSchema> = {
  Error: ErrorEnvelope,
  Registry: packs.Registry,
  NewRegistry: packs.NewRegistry,
  RegistryChanges: packs.RegistryChanges,
  VersionChanges: packs.VersionChanges,
  VersionRecord: packs.VersionRecord,
  Published: packs.Published,
  LintFinding: packs.LintFinding,
  DeletedVersion: packs.DeletedVersion,
  PackRow: packs.PackRow,
  CatalogPage: packs.CatalogPage,
  PackDetail: packs.PackDetail,
  Login: identity.Login,
  PasswordChange: identity.PasswordChange,
  Token: identity.Token,
  Me: identity.Me,
  Binding: identity.Binding,
  NewBinding: identity.NewBinding,
  Tenant: identity.Tenant,
  NewTenant: identity.NewTenant,
  Project: identity.Project,
  NewProject: identity.NewProject,
  ProjectChanges: identity.ProjectChanges,
  User: identity.User,
  NewUser: identity.NewUser,
  UserChanges: identity.UserChanges,
  ApiKey: identity.ApiKey,
  CreatedApiKey: identity.CreatedApiKey,
  NewApiKey: identity.NewApiKey,
  Team: identity.Team,
  NewTeam: identity.NewTeam,
  TeamChanges: identity.TeamChanges,
  Role: identity.Role,
  NewRole: identity.NewRole,
  RoleChanges: identity.RoleChanges,
  PermissionComponent: identity.PermissionComponent,
  ProfileView: operations.ProfileView,
  AuditEntry: operations.AuditEntry,
  AuditPage: operations.AuditPage,
  OciError: oci.OciErrorEnvelope,
  OciTagList: oci.OciTagList,
  OciCatalog: oci.OciCatalog,
  OciDescriptor: oci.OciDescriptor,
  OciReferrers: oci.OciReferrers,
};

const names = new Map<unknown, string>(Object.entries(COMPONENTS).map(([name, schema]) => [schema, name]));

/** A TypeBox schema as plain JSON Schema, a named component's as its reference. */
function jsonSchema(schema: unknown, top = false): unknown {
  if (!top && names.has(schema)) return { $ref: `#/components/schemas/${names.get(schema) ?? ''}` };
  if (Array.isArray(schema)) return schema.map((item) => jsonSchema(item));
  if (schema === null || typeof schema !== 'object') return schema;
  // Object.entries leaves out TypeBox's symbol-keyed bookkeeping ([Kind], [OptionalKind]).
  return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, jsonSchema(value)]));
}

const json = (schema: TSchema) => ({ 'application/json': { schema: jsonSchema(schema) } });

function parameter(name: string, where: 'query' | 'header', param: QueryParam) {
  return {
    name,
    in: where,
    required: false,
    description: param.description,
    schema: param.schema ? jsonSchema(param.schema) : { type: 'string' },
  };
}

function answer(spec: Answer) {
  if (spec.schema) return { description: spec.description, content: json(spec.schema) };
  if (spec.mediaType) return { description: spec.description, content: { [spec.mediaType]: {} } };
  return { description: spec.description };
}

/** A body is one schema (JSON) or schemas by media type (uploads). */
function requestBody(body: NonNullable<RouteSpec['body']>) {
  const byMediaType = !('type' in body) && !('$ref' in body) && !('anyOf' in body);
  const content = byMediaType
    ? Object.fromEntries(
        Object.entries(body as Record<string, TSchema>).map(([type, s]) => [type, { schema: jsonSchema(s) }]),
      )
    : json(body as TSchema);
  return { required: true, content };
}

function operation(route: RouteSpec) {
  const parameters = [
    ...Object.entries(route.query ?? {}).map(([name, param]) => parameter(name, 'query', param)),
    ...Object.entries(route.headers ?? {}).map(([name, param]) => parameter(name, 'header', param)),
  ];
  return {
    summary: route.summary,
    ...(route.auth === 'none' ? { security: [] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body ? { requestBody: requestBody(route.body) } : {}),
    responses: Object.fromEntries(Object.entries(route.answers).map(([status, spec]) => [status, answer(spec)])),
  };
}

export interface OpenApiOptions {
  /** Component schemas the contract refers to but does not declare (the server's ClusterProfile). */
  schemas?: Record<string, unknown>;
}

export type OpenApiPathItem = Record<string, unknown> & {
  parameters?: Array<{ name: string; in: string; required: boolean; description: string; schema: unknown }>;
};

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
  security: Array<Record<string, string[]>>;
  paths: Record<string, OpenApiPathItem>;
}

/** The OpenAPI 3.1 document of {@link ROUTES}. */
export function buildOpenApiDocument(options: OpenApiOptions = {}): OpenApiDocument {
  const paths: Record<string, OpenApiPathItem> = {};
  for (const route of ROUTES) {
    const params = pathParamsOf(route.path);
    const item = (paths[route.path] ??=
      params.length === 0
        ? {}
        : {
            parameters: params.map((name) => ({
              name,
              in: 'path',
              required: true,
              description: PATH_PARAMS[name] ?? name,
              schema: { type: 'string' },
            })),
          });
    item[route.method] = operation(route);
  }
  return {
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
        ...Object.fromEntries(Object.entries(COMPONENTS).map(([name, schema]) => [name, jsonSchema(schema, true)])),
        ...options.schemas,
      },
    },
    security: [{}, { bearer: [] }],
    paths,
  };
}
