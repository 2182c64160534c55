/**
 * Validators of this project's own JSON Schemas (schemas/*.json: pack.json, cluster profiles,
 * the registry's configuration), compiled once per process on first use.
 *
 * A schema is compiled without first being checked against the JSON Schema meta-schema, which
 * ajv compiles for that (~40-75 ms in every process that validates anything, a registry's start
 * among them): the schemas are fixed at build time, and ./schemas.test.ts checks each of them
 * against the meta-schema instead. Strict mode stays on, so an unknown keyword still fails the
 * compile.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

/**
 * Compiles one of the project's fixed schemas: every error reported, strict mode, union types.
 *
 * @example
 * const validate = compileFixedSchema<PackManifest>(packManifestSchema);
 * if (!validate(value)) console.log(validate.errors);
 */
export function compileFixedSchema<T>(schema: object): ValidateFunction<T> {
  return new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, validateSchema: false }).compile<T>(
    schema,
  );
}
