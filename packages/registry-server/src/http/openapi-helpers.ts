/** Building blocks of the OpenAPI document (./openapi.ts). */

/** JSON Schema as ajv's typed schemas write it (`nullable: true`) to OpenAPI 3.1's (`type: [t, 'null']`). */
export function openApi31(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(openApi31);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  const { nullable, ...rest } = schema as Record<string, unknown>;
  for (const [key, value] of Object.entries(rest)) out[key] = openApi31(value);
  if (nullable === true && typeof out['type'] === 'string') out['type'] = [out['type'], 'null'];
  return out;
}

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const json = (schema: unknown) => ({ 'application/json': { schema } });
export const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });

export const pathParam = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string' },
});
export const queryParam = (name: string, description: string, schema: unknown = { type: 'string' }) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});

export const common = {
  '400': errorResponse('Invalid request (INVALID_PARAMETER, INVALID_BODY, ...).'),
  '401': errorResponse('Authentication required or invalid (AUTH_REQUIRED, AUTH_INVALID).'),
  '403': errorResponse('Not allowed (FORBIDDEN).'),
  '404': errorResponse('Not found (REGISTRY_NOT_FOUND, PACK_NOT_FOUND, PACK_VERSION_NOT_FOUND).'),
  '503': errorResponse('Storage unavailable (STORAGE_UNAVAILABLE); retry after Retry-After seconds.'),
};
