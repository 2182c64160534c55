/**
 * pack.json: parsing and validation against schemas/pack.schema.json (embedded in
 * ./generated/pack-manifest.ts, from which the types are generated too).
 */
import type { ErrorObject } from 'ajv/dist/2020.js';
import { validatePackManifest } from './generated/pack-manifest-validator.js';
import { isJsonObject } from './json-object.js';
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
/**
 * The cloud types Palette and its packs name. A pack may name another (Palette takes any: a custom
 * cloud's name); lint warns on one that is not here, as it is more often a typo.
 */
export const CLOUD_TYPES: readonly CloudType[] = packManifestSchema.$defs.knownCloudType.enum;

export function isKnownCloudType(value: string): boolean {
  return CLOUD_TYPES.includes(value);
}
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

/** Text from pack.json for a message, at most 80 characters: messages stay small whatever the keys. */
function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function describe(error: ErrorObject): ManifestIssue {
  const pointer = error.instancePath;
  const where = pointer === '' ? 'pack.json' : clip(pointer);
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
  const validate = validatePackManifest;
  const valid = validate(value);
  const errors = valid ? [] : (validate.errors ?? []).map(describe);
  const warnings: ManifestIssue[] = [];
  if (isJsonObject(value)) {
    for (const key of Object.keys(value)) {
      if (!KNOWN_MANIFEST_FIELDS.includes(key)) {
        warnings.push({
          pointer: `/${escapePointer(key)}`,
          keyword: 'unknown-field',
          message: `unknown field "${clip(key)}"`,
        });
      }
    }
  }
  return { manifest: valid ? value : null, errors, warnings };
}

function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

export interface JsonSyntaxError {
  message: string;
  line: number;
  column: number;
}

const POSITION = ' at position ';

/** The end of the run of digits starting at `from`. */
function digitsEnd(text: string, from: number): number {
  let end = from;
  while (end < text.length && text.charCodeAt(end) >= 48 && text.charCodeAt(end) <= 57) end++;
  return end;
}

/**
 * The offset V8 names at the end of a JSON.parse message ("... in JSON at position 25"), and the
 * message without it; found by string scans, as the message quotes part of the untrusted input.
 */
function splitPosition(message: string): { offset: number | null; message: string } {
  let clean = message;
  // Newer V8 versions add " (line 3 column 1)" after the position.
  const line = clean.lastIndexOf(' (line ');
  if (line !== -1 && clean.endsWith(')')) clean = clean.slice(0, line);
  const at = clean.lastIndexOf(POSITION);
  const end = at === -1 ? -1 : digitsEnd(clean, at + POSITION.length);
  if (at === -1 || end !== clean.length || end === at + POSITION.length) return { offset: null, message: clean };
  const offset = Number(clean.slice(at + POSITION.length));
  // "in JSON at position 25" says nothing the line and column do not; other wordings keep it.
  const inJson = clean.slice(0, at).endsWith(' in JSON');
  return { offset, message: inJson ? clean.slice(0, at - ' in JSON'.length) : clean };
}

/** Real pack.json files nest five levels (constraints.resources[].components[]). */
export const MAX_MANIFEST_DEPTH = 64;

/**
 * How deep `value` nests, up to `limit + 1`, by an explicit stack: JSON.parse takes any depth, but
 * JSON.stringify and every recursive walk overflow the call stack on a deeply nested pack.json.
 */
function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    if (item.value === null || typeof item.value !== 'object') continue;
    const depth = item.depth + 1;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    for (const child of Object.values(item.value)) stack.push({ value: child, depth });
  }
  return deepest;
}

/**
 * Parses pack.json text (a UTF-8 BOM is allowed), reporting syntax errors with line and column,
 * and refusing JSON nested deeper than {@link MAX_MANIFEST_DEPTH}.
 *
 * @example
 * parseManifestText('{"name": }').error; // { message: 'Unexpected token ...', line: 1, column: 10 }
 */
export function parseManifestText(
  text: string,
): { value: unknown; error: null } | { value: null; error: JsonSyntaxError } {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    const value = JSON.parse(body) as unknown;
    if (nestingDepth(value, MAX_MANIFEST_DEPTH) > MAX_MANIFEST_DEPTH) {
      const message = `pack.json nests deeper than ${MAX_MANIFEST_DEPTH} levels`;
      return { value: null, error: { message, line: 1, column: 1 } };
    }
    return { value, error: null };
  } catch (err) {
    const { offset, message } = splitPosition(err instanceof Error ? err.message : String(err));
    const before = body.slice(0, offset ?? body.length);
    const lineStart = before.lastIndexOf('\n') + 1;
    let line = 1;
    for (let i = before.indexOf('\n'); i !== -1; i = before.indexOf('\n', i + 1)) line++;
    return { value: null, error: { message, line, column: before.length - lineStart + 1 } };
  }
}

/** The values of Palette's `system_state` annotation that retire a pack. */
const RETIRED_STATES = ['deprecated', 'deleted'];

/**
 * The deprecation a pack declares itself, as its message; null when it declares none. Palette marks
 * the packs it retires with the annotation `system_state: deprecated` (or `deleted`): a registry
 * treats such a version as deprecated from its publish on.
 *
 * @example
 * declaredDeprecation({ ...manifest, annotations: { system_state: 'deprecated' } }); // "pack.json: system_state deprecated"
 */
export function declaredDeprecation(manifest: Pick<PackManifest, 'annotations'>): string | null {
  const state = manifest.annotations?.['system_state']?.trim().toLowerCase();
  return state !== undefined && RETIRED_STATES.includes(state) ? `pack.json: system_state ${state}` : null;
}
