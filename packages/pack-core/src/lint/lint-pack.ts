/**
 * The lint engine: runs every rule of ./rules.ts over a pack and returns all findings at once
 * (`{ errors, warnings, findings }`), never throwing for a problem of the pack itself.
 */
import { readChartMetadata, type ChartMetadata } from '../chart-archive.js';
import { isPackError } from '../errors.js';
import { isJsonObject } from '../json-object.js';
import {
  CLOUD_TYPES,
  isKnownCloudType,
  isLayer,
  packManifestSchema,
  parseManifestText,
  validateManifest,
} from '../manifest.js';
import { isPackVersion } from '../names.js';
import { unwritableEntryName } from '../archive/write-archive.js';
import { listPackFiles } from '../pack-dir.js';
import { boundsOrdered, isStrictSemver, MAX_VERSION_LENGTH, parseBound } from '../versions.js';
import { parseYaml, YAML_LIMITS, type ParsedYaml, type YamlProblemKind } from '../yaml.js';
import { directoryPackFiles, type PackFiles, type PathStatus } from './pack-files.js';
import { LINT_RULES, type LintRuleId, type Severity } from './rules.js';

export interface Finding {
  rule: LintRuleId;
  severity: Severity;
  /** The pack-relative file the finding is about. */
  file: string;
  line?: number;
  column?: number;
  /** JSON pointer into the file, for pack.json findings. */
  pointer?: string;
  message: string;
  hint: string;
}

export interface ChartReport extends ChartMetadata {
  file: string;
}

export interface LintResult {
  pack: { name: string | null; version: string | null; layer: string | null };
  errors: number;
  warnings: number;
  findings: Finding[];
  /** The Helm charts found, with the name and version their Chart.yaml declares. */
  charts: ChartReport[];
}

export const MAX_MANIFEST_BYTES = 1024 * 1024;
/** YAML files past this are not read at all ({@link YAML_LIMITS}, the bound of every parse). */
export const MAX_YAML_BYTES = YAML_LIMITS.maxBytes;
/**
 * The YAML tokens of all the files of one pack together: four files at the per-file limit, five
 * times pack-central's largest pack (kubeflow-full, 370,000 tokens).
 */
export const MAX_PACK_YAML_TOKENS = 2_000_000;
/** Findings of one rule in one file past this many are summed up in a last one. */
export const MAX_FINDINGS_PER_RULE = 50;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

type Report = (
  rule: LintRuleId,
  file: string,
  message: string,
  at?: { line?: number | undefined; column?: number | undefined; pointer?: string; hint?: string },
) => void;

interface Context {
  files: PackFiles;
  report: Report;
  /** YAML tokens the pack's remaining files may still take ({@link MAX_PACK_YAML_TOKENS}). */
  yamlTokensLeft: number;
  /** The text of each file read already ({@link readText}), for a later check of the same file. */
  texts: Map<string, string>;
}

/** A value from the pack, for a message: at most `max` characters, so findings stay small. */
function quote(value: unknown, max = 80): string {
  const text = typeof value === 'string' ? value : value === undefined ? 'undefined' : JSON.stringify(value);
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/** A pack path for a message (the finding's `file` carries it whole). */
function shortPath(file: string): string {
  return file.length > 120 ? `${file.slice(0, 120)}…` : file;
}

function asRecord(value: unknown): Record<string, unknown> | null {
  return isJsonObject(value) ? value : null;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function reportPath(ctx: Context, status: PathStatus, file: string, missingRule: LintRuleId, pointer: string): boolean {
  if (status === 'ok') return true;
  if (status === 'missing') ctx.report(missingRule, file, `${shortPath(file)} does not exist`, { pointer });
  else {
    const why = {
      escapes: 'leaves the pack directory',
      absolute: 'is an absolute path',
      invalid: 'has a backslash or NUL',
    };
    ctx.report('path-escapes', 'pack.json', `${quote(file)} ${why[status]}`, { pointer });
  }
  return false;
}

/** Reads a text file; unreadable, oversized or non-UTF-8 files are reported and give null. */
async function readText(
  ctx: Context,
  file: string,
  maxBytes: number,
  rules: { invalid: LintRuleId; tooLarge: LintRuleId },
): Promise<string | null> {
  let bytes: Buffer;
  try {
    bytes = await ctx.files.read(file, maxBytes);
  } catch (err) {
    if (isPackError(err)) ctx.report(err.code === 'FILE_TOO_LARGE' ? rules.tooLarge : rules.invalid, file, err.message);
    else
      ctx.report(
        rules.invalid,
        file,
        `${shortPath(file)} cannot be read (${err instanceof Error ? err.message : String(err)})`,
      );
    return null;
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    ctx.texts.set(file, text);
    return text;
  } catch {
    ctx.report(rules.invalid, file, `${shortPath(file)} is not UTF-8 text`);
    return null;
  }
}

const LIMIT_RULES: Record<Exclude<YamlProblemKind, 'syntax' | 'duplicate-key'>, LintRuleId> = {
  'too-large': 'yaml-too-large',
  'too-deep': 'yaml-too-deep',
  aliases: 'yaml-alias-expansion',
};

/**
 * Reads and parses a YAML file within {@link YAML_LIMITS} and the pack's token budget, reporting
 * syntax problems under `rules.invalid`, exceeded limits under their own rules, and keys given
 * twice under `rules.duplicate`.
 */
async function readYaml(
  ctx: Context,
  file: string,
  rules: { invalid: LintRuleId; duplicate: LintRuleId },
): Promise<ParsedYaml | null> {
  const text = await readText(ctx, file, MAX_YAML_BYTES, { invalid: rules.invalid, tooLarge: 'yaml-too-large' });
  if (text === null) return null;
  const maxTokens = Math.min(YAML_LIMITS.maxTokens, ctx.yamlTokensLeft);
  const parsed = parseYaml(text, { maxTokens });
  ctx.yamlTokensLeft = Math.max(0, ctx.yamlTokensLeft - parsed.tokens);
  const { problem } = parsed;
  if (problem) {
    const at = { line: problem.line, column: problem.column };
    if (problem.kind === 'syntax' || problem.kind === 'duplicate-key') {
      if (parsed.templated) {
        const message = `does not parse with its template expressions neutralised: ${problem.message}`;
        ctx.report('template-unparseable', file, message, at);
      } else {
        ctx.report(rules.invalid, file, problem.message, at);
      }
    } else if (problem.kind === 'too-large' && parsed.tokens > maxTokens && maxTokens < YAML_LIMITS.maxTokens) {
      const message = `${shortPath(file)} takes the pack's YAML files past ${MAX_PACK_YAML_TOKENS} tokens together`;
      ctx.report('yaml-too-large', file, message, at);
    } else {
      ctx.report(LIMIT_RULES[problem.kind], file, `${shortPath(file)} ${problem.message}`, at);
    }
    return null;
  }
  for (const duplicate of parsed.duplicateKeys) {
    ctx.report(rules.duplicate, file, duplicate.message, { line: duplicate.line, column: duplicate.column });
  }
  return parsed;
}

function versionProblem(version: string): string | null {
  if (version === '') return 'version is empty';
  if (version.length > MAX_VERSION_LENGTH) {
    return `version is ${version.length} characters long, more than ${MAX_VERSION_LENGTH}`;
  }
  if (!isPackVersion(version)) {
    return `version ${quote(version)} is not a version: it needs a leading number, then numeric dot segments, an optional -pre-release and +build`;
  }
  return null;
}

async function checkManifest(ctx: Context): Promise<Record<string, unknown> | null> {
  const file = 'pack.json';
  const status = await ctx.files.check(file);
  if (status !== 'ok') {
    if (status === 'missing') ctx.report('pack-json-missing', file, 'pack.json not found');
    else ctx.report('path-escapes', file, 'pack.json is a link that leaves the pack directory');
    return null;
  }
  const text = await readText(ctx, file, MAX_MANIFEST_BYTES, {
    invalid: 'pack-json-syntax',
    tooLarge: 'pack-json-syntax',
  });
  if (text === null) return null;
  const parsed = parseManifestText(text);
  if (parsed.error) {
    const { message, line, column } = parsed.error;
    ctx.report('pack-json-syntax', file, message, { line, column });
    return null;
  }
  const record = asRecord(parsed.value);
  if (!record) {
    ctx.report('schema-violation', file, 'pack.json must be a JSON object', { pointer: '' });
    return null;
  }
  const validation = validateManifest(record);
  const version = record['version'];
  for (const issue of validation.errors) {
    const field = issue.pointer.split('/')[1];
    // Name and version get rules of their own: the most common mistakes deserve the clearest ids.
    if (field === 'name' && issue.keyword !== 'required') {
      ctx.report('name-invalid', file, `name ${quote(record['name'])} is invalid: ${issue.message}`, {
        pointer: issue.pointer,
      });
    } else if (field === 'version' && issue.keyword !== 'required') {
      // A string version gets one finding below, from the grammar the registry checks paths with.
      if (typeof version !== 'string') ctx.report('version-invalid', file, issue.message, { pointer: issue.pointer });
    } else {
      ctx.report('schema-violation', file, issue.message, { pointer: issue.pointer });
    }
  }
  for (const issue of validation.warnings) ctx.report('unknown-field', file, issue.message, { pointer: issue.pointer });
  checkCloudTypes(ctx, file, record);

  if (typeof version === 'string') {
    const problem = versionProblem(version);
    if (problem) ctx.report('version-invalid', file, problem, { pointer: '/version' });
    else if (!isStrictSemver(version)) {
      ctx.report('version-not-semver', file, `version ${quote(version)} is not strict semver`, { pointer: '/version' });
    }
  }
  return record;
}

/** Cloud types Palette does not ship: kept (a custom cloud's name), but more often a typo. */
function checkCloudTypes(ctx: Context, file: string, manifest: Record<string, unknown>): void {
  const named: Array<{ cloud: unknown; pointer: string }> = Array.isArray(manifest['cloudTypes'])
    ? manifest['cloudTypes'].map((cloud: unknown, i) => ({ cloud, pointer: `/cloudTypes/${i}` }))
    : [];
  if ('cloudType' in manifest) named.push({ cloud: manifest['cloudType'], pointer: '/cloudType' });
  for (const { cloud, pointer } of named) {
    // Anything else than a well-formed name is a schema violation already.
    if (typeof cloud !== 'string' || cloud.length > CLOUD_TYPE.maxLength || !CLOUD_NAME.test(cloud)) continue;
    if (isKnownCloudType(cloud)) continue;
    ctx.report('cloud-type-unknown', file, `cloud type ${quote(cloud)} is not one Palette ships (${KNOWN})`, {
      pointer,
    });
  }
}

/** A well-formed cloud type name: the schema's own definition of one. */
const CLOUD_TYPE = packManifestSchema.$defs.cloudType;
const CLOUD_NAME = new RegExp(CLOUD_TYPE.pattern);
const KNOWN = CLOUD_TYPES.join(', ');

/** A chart archive's path directly under charts/ ("charts/x-1.0.0.tgz"). */
const CHART_ARCHIVE = /^charts\/[^/]+\.(?:tgz|tar\.gz)$/;

async function checkCharts(ctx: Context, manifest: Record<string, unknown>, charts: ChartReport[]): Promise<void> {
  const listed = new Set(stringList(manifest['charts']).map((file) => file.replace(/^\.\//, '')));
  for (const file of ctx.files.paths ?? []) {
    if (CHART_ARCHIVE.test(file) && !listed.has(file)) {
      ctx.report('chart-unlisted', file, `${shortPath(file)} is in charts/ but not listed in pack.json charts`);
    }
  }
  for (const [index, file] of stringList(manifest['charts']).entries()) {
    const pointer = `/charts/${index}`;
    if (!reportPath(ctx, await ctx.files.check(file), file, 'chart-missing', pointer)) continue;
    try {
      const chart = await readChartMetadata(await ctx.files.stream(file));
      charts.push({ file, ...chart });
    } catch (err) {
      // Whatever the chart reader refuses is a finding about this chart, never a failed lint.
      if (!isPackError(err)) {
        const why = err instanceof Error ? err.message : String(err);
        ctx.report('chart-not-tgz', file, `${shortPath(file)} cannot be read as a chart archive (${why})`);
      } else {
        ctx.report(err.code.startsWith('CHART_YAML') ? 'chart-yaml-invalid' : 'chart-not-tgz', file, err.message);
      }
    }
  }
}

/** Why a manifest document is not a Kubernetes object kubectl would take, or null. */
function objectProblem(doc: unknown): string | null {
  const record = asRecord(doc);
  if (!record) return `is ${Array.isArray(doc) ? 'a list' : 'a scalar'}, not an object with apiVersion and kind`;
  const missing = ['apiVersion', 'kind'].filter(
    (key) => record[key] === undefined || record[key] === null || record[key] === '',
  );
  if (missing.length > 0) return `has no ${missing.join(' and ')}`;
  const notText = ['apiVersion', 'kind'].filter((key) => typeof record[key] !== 'string');
  return notText.length > 0 ? `has a ${notText.join(' and ')} that is not a string` : null;
}

async function checkKubeManifests(ctx: Context, manifest: Record<string, unknown>): Promise<void> {
  for (const [index, file] of stringList(manifest['kubeManifests']).entries()) {
    if (!reportPath(ctx, await ctx.files.check(file), file, 'manifest-missing', `/kubeManifests/${index}`)) continue;
    // kubectl's default --validate=strict refuses an object that gives a field twice.
    const parsed = await readYaml(ctx, file, { invalid: 'manifest-invalid', duplicate: 'manifest-invalid' });
    if (!parsed) continue;
    parsed.documents.forEach((doc, i) => {
      // kubectl skips empty and null documents (`---` twice, a trailing `---`, only comments).
      if (doc === null) return;
      const info = parsed.documentInfo[i];
      // A template may write apiVersion or kind itself; it renders at deploy time.
      if (info?.templated) return;
      const problem = objectProblem(doc);
      if (problem) ctx.report('manifest-kind-missing', file, `document ${i + 1} ${problem}`, { line: info?.line });
    });
  }
}

function listsImages(values: Record<string, unknown> | null): boolean {
  const images = asRecord(asRecord(asRecord(values?.['pack'])?.['content']))?.['images'];
  return Array.isArray(images) && images.some((item) => typeof asRecord(item)?.['image'] === 'string');
}

async function checkValues(ctx: Context, layer: string | null): Promise<void> {
  const file = 'values.yaml';
  const status = await ctx.files.check(file);
  if (status !== 'ok') {
    if (status === 'missing') ctx.report('values-missing', file, 'values.yaml not found');
    else ctx.report('path-escapes', file, 'values.yaml is a link that leaves the pack directory');
    return;
  }
  const parsed = await readYaml(ctx, file, { invalid: 'values-invalid', duplicate: 'yaml-duplicate-key' });
  if (!parsed) return;
  // Helm reads the first document; empty, comments only or null is an empty mapping to it.
  const first = parsed.documents[0] ?? null;
  const values = asRecord(first);
  if (first !== null && !values) {
    const line = parsed.documentInfo[0]?.line;
    ctx.report('values-invalid', file, 'values.yaml must be a mapping of keys to values', { line });
    return;
  }
  // os and k8s packs configure the node image and kubeadm; they ship no workload images.
  if (layer !== null && layer !== 'os' && layer !== 'k8s' && !listsImages(values)) {
    ctx.report('values-no-images', file, 'no pack.content.images[].image entries');
  }
}

/** README.md and values.yaml are scanned for placeholders up to this size (larger ones are not the scaffold's). */
const MAX_PLACEHOLDER_SCAN = 4 * 1024 * 1024;
/** A `TODO` the scaffold writes: the word on its own, upper case, as a marker ("TODO:", "| TODO |"). */
const PLACEHOLDER = /(?:^|[^A-Za-z0-9_])TODO(?:[^A-Za-z0-9_]|$)/;

/** The 1-based line of the first placeholder in `text`, or 0 when there is none. */
function placeholderLine(text: string): number {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) if (PLACEHOLDER.test(lines[i] ?? '')) return i + 1;
  return 0;
}

/** The scaffold's TODO placeholders still in README.md, values.yaml or pack.json's annotations. */
async function checkPlaceholders(ctx: Context, manifest: Record<string, unknown> | null): Promise<void> {
  for (const file of ['README.md', 'values.yaml']) {
    // values.yaml was read by its own checks: its text is not read again.
    let text = ctx.texts.get(file);
    if (text === undefined) {
      if ((await ctx.files.check(file)) !== 'ok') continue;
      text = (await ctx.files.read(file, MAX_PLACEHOLDER_SCAN).catch(() => null))?.toString('utf8') ?? '';
    }
    const line = placeholderLine(text);
    if (line > 0) ctx.report('placeholder-left', file, `${file} still has a TODO placeholder`, { line });
  }
  const annotations = asRecord(manifest?.['annotations']);
  for (const [key, value] of Object.entries(annotations ?? {})) {
    if (typeof value === 'string' && PLACEHOLDER.test(value)) {
      ctx.report('placeholder-left', 'pack.json', `annotation ${quote(key)} is still a TODO placeholder`, {
        pointer: `/annotations/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`,
      });
    }
  }
}

async function checkAssets(ctx: Context): Promise<void> {
  if ((await ctx.files.check('README.md')) !== 'ok') ctx.report('readme-missing', 'README.md', 'README.md not found');
  if ((await ctx.files.check('logo.png')) !== 'ok') {
    ctx.report('logo-missing', 'logo.png', 'logo.png not found');
    return;
  }
  const head = await ctx.files.read('logo.png', 64 * 1024 * 1024).catch(() => Buffer.alloc(0));
  if (!head.subarray(0, 8).equals(PNG_SIGNATURE)) ctx.report('logo-not-png', 'logo.png', 'logo.png is not a PNG image');
}

function isPresetList(presets: unknown): boolean {
  // `presets:` with nothing after it is a pack without presets.
  if (presets === null) return true;
  return Array.isArray(presets) && presets.every((p) => typeof asRecord(p)?.['name'] === 'string');
}

async function checkOptionalYaml(ctx: Context): Promise<void> {
  const duplicate = 'yaml-duplicate-key';
  if ((await ctx.files.check('presets.yaml')) === 'ok') {
    const parsed = await readYaml(ctx, 'presets.yaml', { invalid: 'presets-invalid', duplicate });
    const doc = parsed?.documents[0] ?? null;
    // An empty file (no bytes, only comments, only `---`) has no presets, which is fine.
    if (doc !== null && !isPresetList(asRecord(doc)?.['presets'])) {
      const line = parsed?.documentInfo[0]?.line;
      const message = 'expected `presets:` with a list of items that each have a name';
      ctx.report('presets-unrecognised', 'presets.yaml', message, { line });
    }
  }
  if ((await ctx.files.check('schema.yaml')) === 'ok') {
    const parsed = await readYaml(ctx, 'schema.yaml', { invalid: 'schema-yaml-invalid', duplicate });
    const doc = parsed?.documents[0] ?? null;
    if (doc !== null && !asRecord(doc)) {
      const line = parsed?.documentInfo[0]?.line;
      const message = 'schema.yaml must be a mapping of value paths to schemas';
      ctx.report('schema-yaml-unrecognised', 'schema.yaml', message, { line });
    }
  }
}

function checkConstraints(ctx: Context, manifest: Record<string, unknown>): void {
  const dependencies = asRecord(manifest['constraints'])?.['dependencies'];
  if (!Array.isArray(dependencies)) return;
  dependencies.forEach((entry, index) => {
    const dep = asRecord(entry);
    if (!dep) return; // the schema reports it
    const pointer = `/constraints/dependencies/${index}`;
    const name = typeof dep['packName'] === 'string' ? quote(dep['packName']) : `#${index}`;
    if (typeof dep['layer'] === 'string' && !isLayer(dep['layer'])) {
      const message = `dependency ${name}: unknown layer ${quote(dep['layer'])}`;
      ctx.report('constraint-layer-invalid', 'pack.json', message, { pointer: `${pointer}/layer` });
    }
    let boundsValid = true;
    for (const key of ['minVersion', 'maxVersion'] as const) {
      const bound = dep[key];
      if (typeof bound === 'string' && parseBound(bound) === 'invalid') {
        boundsValid = false;
        const message = `dependency ${name}: ${key} ${quote(bound)} is not a version`;
        ctx.report('constraint-version-invalid', 'pack.json', message, { pointer: `${pointer}/${key}` });
      }
    }
    const min = typeof dep['minVersion'] === 'string' ? dep['minVersion'] : null;
    const max = typeof dep['maxVersion'] === 'string' ? dep['maxVersion'] : null;
    if (boundsValid && !boundsOrdered(min, max)) {
      const message = `dependency ${name}: minVersion ${quote(min)} is above maxVersion ${quote(max)}`;
      ctx.report('constraint-range-inverted', 'pack.json', message, { pointer });
    }
  });
}

/**
 * Every file's path must be an entry name a zip carries unchanged and Packyard's reader takes
 * ({@link unwritableEntryName}): the archive then holds exactly the files checked here.
 */
function checkEntryNames(ctx: Context): void {
  for (const file of ctx.files.paths ?? []) {
    const problem = unwritableEntryName(file);
    if (problem) ctx.report('entry-name-unsafe', file, `${quote(file)} ${problem}: it cannot be an archive entry`);
  }
}

/** Credentials files are small: packctl reads its own up to 1 MiB. */
const MAX_CREDENTIALS_BYTES = 1024 * 1024;

/** Whether `text` is packctl's credentials file: `{ "auths": { server: { "token" | "apiKey": "..." } } }`. */
function holdsPackctlCredentials(text: string): boolean {
  if (!text.includes('"auths"')) return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return false;
  }
  const auths = asRecord(asRecord(parsed)?.['auths']);
  return Object.values(auths ?? {}).some((auth) => {
    const entry = asRecord(auth);
    return typeof entry?.['token'] === 'string' || typeof entry?.['apiKey'] === 'string';
  });
}

/**
 * A copy of packctl's credentials file in the pack (`packctl login` with HOME unset writes one into
 * the working directory; a --config inside the pack): its JSON files and anything under a .packctl
 * folder are looked at, the way packctl writes it.
 */
async function checkCredentials(ctx: Context): Promise<void> {
  for (const file of ctx.files.paths ?? []) {
    if (file === 'pack.json' || !(file.endsWith('.json') || /(?:^|\/)\.packctl\//.test(file))) continue;
    const bytes = await ctx.files.read(file, MAX_CREDENTIALS_BYTES).catch(() => null);
    if (bytes === null || !holdsPackctlCredentials(bytes.toString('utf8'))) continue;
    ctx.report(
      'credentials-file',
      file,
      `${shortPath(file)} is a packctl credentials file: it holds tokens or API keys`,
    );
  }
}

async function checkPathFields(ctx: Context, manifest: Record<string, unknown>): Promise<void> {
  // charts and kubeManifests are checked with their contents; ansible roles are directories.
  for (const [index, file] of stringList(manifest['ansibleRoles']).entries()) {
    const status = await ctx.files.check(file);
    if (status === 'escapes' || status === 'absolute' || status === 'invalid') {
      reportPath(ctx, status, file, 'path-escapes', `/ansibleRoles/${index}`);
    }
  }
}

function compareFindings(a: Finding, b: Finding): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return (a.line ?? 0) - (b.line ?? 0);
}

/**
 * Lints a pack given through {@link PackFiles}; `treeFindings` adds findings about the container
 * itself (symlinks in a directory, for example).
 */
export async function lintPackFiles(files: PackFiles, treeFindings: Finding[] = []): Promise<LintResult> {
  const findings: Finding[] = [...treeFindings];
  const charts: ChartReport[] = [];
  // A pack.json with 100,000 unknown fields must not answer with 100,000 findings.
  const reported = new Map<string, number>();
  const report: Report = (rule, file, message, at = {}) => {
    const key = `${rule}\u0000${file}`;
    const count = (reported.get(key) ?? 0) + 1;
    reported.set(key, count);
    if (count > MAX_FINDINGS_PER_RULE) return;
    const spec = LINT_RULES[rule];
    const finding: Finding = { rule, severity: spec.severity, file, message, hint: at.hint ?? spec.hint };
    if (at.line !== undefined) finding.line = at.line;
    if (at.column !== undefined) finding.column = at.column;
    if (at.pointer !== undefined) finding.pointer = at.pointer;
    findings.push(finding);
  };
  const ctx: Context = { files, report, yamlTokensLeft: MAX_PACK_YAML_TOKENS, texts: new Map() };

  const manifest = await checkManifest(ctx);
  const layer = typeof manifest?.['layer'] === 'string' ? manifest['layer'] : null;
  if (manifest) {
    await checkCharts(ctx, manifest, charts);
    await checkKubeManifests(ctx, manifest);
    await checkPathFields(ctx, manifest);
    checkConstraints(ctx, manifest);
  }
  await checkValues(ctx, layer);
  await checkOptionalYaml(ctx);
  await checkAssets(ctx);
  await checkPlaceholders(ctx, manifest);
  checkEntryNames(ctx);
  await checkCredentials(ctx);

  for (const [key, count] of reported) {
    if (count <= MAX_FINDINGS_PER_RULE) continue;
    const [rule, file] = key.split('\u0000') as [LintRuleId, string];
    const { severity, hint } = LINT_RULES[rule];
    findings.push({ rule, severity, file, message: `and ${count - MAX_FINDINGS_PER_RULE} more like these`, hint });
  }
  findings.sort(compareFindings);
  const text = (key: string): string | null => (typeof manifest?.[key] === 'string' ? manifest[key] : null);
  return {
    pack: { name: text('name'), version: text('version'), layer },
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
    findings,
    charts,
  };
}

/**
 * Lints a pack directory: every rule of {@link LINT_RULES}, no network.
 *
 * @example
 * const result = await lintPack('sample-packs/cert-manager');
 * result.errors; // 0
 */
export async function lintPack(dir: string): Promise<LintResult> {
  const tree = await listPackFiles(dir);
  const treeFindings: Finding[] = tree.problems.map((problem) => {
    const rule: LintRuleId = problem.kind === 'special-file' ? 'special-file' : 'path-escapes';
    const message =
      problem.kind === 'special-file'
        ? `${problem.path} is a socket, FIFO or device`
        : `${problem.path} is a symlink to ${problem.target ?? 'a missing file'}, outside the pack`;
    return { rule, severity: LINT_RULES[rule].severity, file: problem.path, message, hint: LINT_RULES[rule].hint };
  });
  return lintPackFiles({ ...directoryPackFiles(dir), paths: tree.files.map((file) => file.path) }, treeFindings);
}
