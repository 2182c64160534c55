import { Kind, type TSchema } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { ROUTES } from './routes.js';
import { validatorOf } from './validate.js';

function isSchema(value: unknown): value is TSchema {
  return typeof value === 'object' && value !== null && Kind in value;
}

describe('the contract schemas', () => {
  // The server compiles a route's body validator at the route's first request, not at start-up:
  // this is where a schema ajv (strict) refuses is caught instead.
  it('all compile with ajv in strict mode: every body and every answer of every route', () => {
    const schemas: Array<[string, TSchema]> = [];
    for (const route of ROUTES) {
      const where = `${route.method.toUpperCase()} ${route.path}`;
      const { body } = route;
      if (isSchema(body)) schemas.push([`${where} body`, body]);
      else if (body) for (const [type, schema] of Object.entries(body)) schemas.push([`${where} ${type} body`, schema]);
      for (const [status, answer] of Object.entries(route.answers)) {
        if (answer.schema) schemas.push([`${where} ${status}`, answer.schema]);
      }
    }
    // Schemas pointing into the OpenAPI document's components (cluster profiles, whose documents
    // pack-core checks) only make sense there; ajv has nothing to resolve them against.
    const standalone = schemas.filter(([, schema]) => !JSON.stringify(schema).includes('"#/components/'));
    expect(standalone.length).toBeGreaterThan(50);
    for (const [where, schema] of standalone) expect(() => validatorOf(schema), where).not.toThrow();
  });
});
