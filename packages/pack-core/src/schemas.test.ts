import { readdirSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';

const SCHEMAS = new URL('../../../schemas/', import.meta.url);

// The validators of these schemas are generated ahead (scripts/gen-schema-types.mjs, ajv's
// standalone code, kept current by a test of test/sample-packs.test.ts): no process compiles a
// schema, nor checks it against the JSON Schema meta-schema. That check is made here.
describe('schemas/', () => {
  const files = readdirSync(SCHEMAS).filter((file) => file.endsWith('.schema.json'));

  it('holds the schemas the validators compile', () => {
    expect(files).toEqual(
      expect.arrayContaining(['pack.schema.json', 'profile.schema.json', 'registry-config.schema.json']),
    );
  });

  it.each(files)('%s is a valid JSON Schema (2020-12) that compiles in strict mode', (file) => {
    const schema = JSON.parse(readFileSync(new URL(file, SCHEMAS), 'utf8')) as Record<string, unknown>;
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    expect(ajv.validateSchema(schema), `${file}: ${ajv.errorsText(ajv.errors)}`).toBe(true);
    expect(() => new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema)).not.toThrow();
  });

  it('would tell a schema that is not one', () => {
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    expect(ajv.validateSchema({ type: 'object', properties: { name: { type: 'strng' } } })).toBe(false);
  });
});
