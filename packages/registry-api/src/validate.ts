/** Checking a value against a contract schema with ajv: the client's answers, the server's test-time checker. */
import type { Static, TSchema } from '@sinclair/typebox';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';

// Formats (date-time, binary) document the wire; values are not rejected for them.
const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, validateFormats: false });
const compiled = new WeakMap<TSchema, ValidateFunction>();

function describe(error: ErrorObject): string {
  const where = error.instancePath === '' ? 'the body' : error.instancePath.slice(1);
  if (error.keyword === 'additionalProperties') {
    return `${where} has an unknown field "${String(error.params['additionalProperty'])}"`;
  }
  if (error.keyword === 'required') return `${where} needs "${String(error.params['missingProperty'])}"`;
  return `${where} ${error.message ?? 'is invalid'}`;
}

/** The ajv validator of a contract schema, compiled once. */
export function validatorOf(schema: TSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/** The problems of `value` against `schema`, in words (none: it conforms). */
export function problemsOf(schema: TSchema, value: unknown): string[] {
  const validate = validatorOf(schema);
  return validate(value) ? [] : (validate.errors ?? []).map(describe);
}

/** True when `value` conforms to `schema`, narrowing its type. */
export function conforms<T extends TSchema>(schema: T, value: unknown): value is Static<T> {
  return validatorOf(schema)(value);
}
