import { readdirSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';

const SCHEMAS = new URL('../../../schemas/', import.meta.url);

// The validators (compileFixedSchema: pack.json, profiles, the configuration) compile these without
// checking them against the JSON Schema meta-schema first: that check compiled the meta-schema in
// every process, ~40-75 ms of a registry's start. It is made here instead.
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
