/**
 * pack.json: parsing and validation against schemas/pack.schema.json (embedded in
 * ./generated/pack-manifest.ts, from which the types are generated too).
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { packManifestSchema, type PackManifest, type PackLayer, type CloudType } from './generated/pack-manifest.js';

export type {
  PackManifest,
  PackLayer,
  CloudType,
  PackConstraints,
  PackDependency,
  PackResourceConstraint,
  PackResourceComponent,
} from './generated/pack-manifest.js';
export { packManifestSchema };

/** The layers, in the order a cluster profile stacks them. */
export const LAYERS: readonly PackLayer[] = packManifestSchema.$defs.layer.enum;
export const CLOUD_TYPES: readonly CloudType[] = packManifestSchema.$defs.cloudType.enum;
/** The top-level pack.json fields Packyard knows; others are kept but flagged by lint. */
export const KNOWN_MANIFEST_FIELDS: readonly string[] = Object.keys(packManifestSchema.properties);

export function isLayer(value: unknown): value is PackLayer {
  return typeof value === 'string' && (LAYERS as readonly string[]).includes(value);
}

export interface ManifestIssue {
  /** JSON pointer into pack.json ("" for the document itself). */
  pointer: string;
  /** The schema keyword that failed ("required", "pattern", "enum", ...), or "unknown-field". */
  keyword: string;
  message: string;
}

export interface ManifestValidation {
  /** The manifest, typed, when there are no errors. */
  manifest: PackManifest | null;
  errors: ManifestIssue[];
  warnings: ManifestIssue[];
}

let compiled: ValidateFunction<PackManifest> | undefined;

function validator(): ValidateFunction<PackManifest> {
  // Compiled on first use: ajv code generation costs a few milliseconds nobody needs at import.
  compiled ??= new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile<PackManifest>(
    packManifestSchema,
  );
  return compiled;
}

function describe(error: ErrorObject): ManifestIssue {
  const pointer = error.instancePath;
  const where = pointer === '' ? 'pack.json' : pointer;
  let message: string;
  switch (error.keyword) {
    case 'required':
      message = `missing required field "${String(error.params['missingProperty'])}"`;
      return { pointer: `${pointer}/${String(error.params['missingProperty'])}`, keyword: error.keyword, message };
    case 'enum':
      message = `${where} must be one of: ${(error.params['allowedValues'] as unknown[]).join(', ')}`;
      break;
    case 'pattern':
      message = `${where} must match ${String(error.params['pattern'])}`;
      break;
    default:
      message = `${where} ${error.message ?? 'is invalid'}`;
  }
  return { pointer, keyword: error.keyword, message };
}

/**
 * Validates a parsed pack.json. Errors are schema violations; warnings are unknown top-level
 * fields (real packs carry some, such as `commit_msg`: they are kept, never rejected).
 *
 * @example
 * const { errors } = validateManifest({ name: 'cni-calico', displayName: 'Calico', version: '3.27.2', layer: 'cni' });
 * errors.length; // 0
 */
export function validateManifest(value: unknown): ManifestValidation {
  const validate = validator();
  const valid = validate(value);
  const errors = valid ? [] : (validate.errors ?? []).map(describe);
  const warnings: ManifestIssue[] = [];
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const key of Object.keys(value)) {
      if (!KNOWN_MANIFEST_FIELDS.includes(key)) {
        warnings.push({
          pointer: `/${escapePointer(key)}`,
          keyword: 'unknown-field',
          message: `unknown field "${key}"`,
        });
      }
    }
  }
  return { manifest: valid ? value : null, errors, warnings };
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

export interface JsonSyntaxError {
  message: string;
  line: number;
  column: number;
}

/**
 * Parses pack.json text (a UTF-8 BOM is allowed), reporting syntax errors with line and column.
 *
 * @example
 * parseManifestText('{"name": }').error; // { message: 'Unexpected token ...', line: 1, column: 10 }
 */
export function parseManifestText(
  text: string,
): { value: unknown; error: null } | { value: null; error: JsonSyntaxError } {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return { value: JSON.parse(body) as unknown, error: null };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const position = /position (\d+)/.exec(message);
    const offset = position ? Number(position[1]) : body.length;
    const before = body.slice(0, offset).split('\n');
    const line = before.length;
    const column = (before.at(-1)?.length ?? 0) + 1;
    const clean = message.replace(/\s*\(line \d+ column \d+\)/, '').replace(/\s*in JSON at position \d+/, '');
    return { value: null, error: { message: clean, line, column } };
  }
}
