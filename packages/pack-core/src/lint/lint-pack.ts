/**
 * The lint engine: runs every rule of ./rules.ts over a pack and returns all findings at once
 * (`{ errors, warnings, findings }`), never throwing for a problem of the pack itself.
 */
import { readChartMetadata, type ChartMetadata } from '../chart-archive.js';
import { isPackError } from '../errors.js';
import { isLayer, parseManifestText, validateManifest } from '../manifest.js';
import { listPackFiles } from '../pack-dir.js';
import { boundsOrdered, isStrictSemver, parseVersion } from '../versions.js';
import { parseYaml, type ParsedYaml } from '../yaml.js';
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
export const MAX_YAML_BYTES = 16 * 1024 * 1024;
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
}

function asRecord(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function reportPath(ctx: Context, status: PathStatus, file: string, missingRule: LintRuleId, pointer: string): boolean {
  if (status === 'ok') return true;
  if (status === 'missing') ctx.report(missingRule, file, `${file} does not exist`, { pointer });
  else {
    const why = {
      escapes: 'leaves the pack directory',
      absolute: 'is an absolute path',
      invalid: 'has a backslash or NUL',
    };
    ctx.report('path-escapes', 'pack.json', `"${file}" ${why[status]}`, { pointer });
  }
  return false;
}

/** Reads a YAML file, reporting unreadable or oversized files under `invalidRule`. */
async function readYaml(ctx: Context, file: string, invalidRule: LintRuleId): Promise<ParsedYaml | null> {
  let text: string;
  try {
    const bytes = await ctx.files.read(file, MAX_YAML_BYTES);
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    const message = isPackError(err) ? err.message : `${file} is not UTF-8 text`;
    ctx.report(invalidRule, file, message);
    return null;
  }
  const parsed = parseYaml(text);
  if (parsed.problem) {
    const { message, line, column } = parsed.problem;
    if (parsed.templated) {
      ctx.report('template-unparseable', file, `does not parse with its template expressions neutralised: ${message}`, {
        line,
        column,
      });
    } else {
      ctx.report(invalidRule, file, message, { line, column });
    }
    return null;
  }
  return parsed;
}

async function checkManifest(ctx: Context): Promise<Record<string, unknown> | null> {
  const file = 'pack.json';
  const status = await ctx.files.check(file);
  if (status !== 'ok') {
    if (status === 'missing') ctx.report('pack-json-missing', file, 'pack.json not found');
    else ctx.report('path-escapes', file, 'pack.json is a link that leaves the pack directory');
    return null;
  }
  let text: string;
  try {
    const bytes = await ctx.files.read(file, MAX_MANIFEST_BYTES);
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    ctx.report('pack-json-syntax', file, isPackError(err) ? err.message : 'pack.json is not UTF-8 text');
    return null;
  }
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
  for (const issue of validation.errors) {
    const field = issue.pointer.split('/')[1];
    // Name and version get rules of their own: the most common mistakes deserve the clearest ids.
    if (field === 'name' && issue.keyword !== 'required') {
      ctx.report('name-invalid', file, `name "${String(record['name'])}" is invalid: ${issue.message}`, {
        pointer: issue.pointer,
      });
    } else if (field === 'version' && issue.keyword !== 'required') {
      ctx.report('version-invalid', file, issue.message, { pointer: issue.pointer });
    } else {
      ctx.report('schema-violation', file, issue.message, { pointer: issue.pointer });
    }
  }
  for (const issue of validation.warnings) ctx.report('unknown-field', file, issue.message, { pointer: issue.pointer });

  const version = record['version'];
  if (typeof version === 'string' && version !== '') {
    if (!parseVersion(version)) {
      ctx.report('version-invalid', file, `version "${version}" does not start with a number`, { pointer: '/version' });
    } else if (!isStrictSemver(version)) {
      ctx.report('version-not-semver', file, `version "${version}" is not strict semver`, { pointer: '/version' });
    }
  }
  return record;
}

async function checkCharts(ctx: Context, manifest: Record<string, unknown>, charts: ChartReport[]): Promise<void> {
  for (const [index, file] of stringList(manifest['charts']).entries()) {
    const pointer = `/charts/${index}`;
    if (!reportPath(ctx, await ctx.files.check(file), file, 'chart-missing', pointer)) continue;
    try {
      const chart = await readChartMetadata(await ctx.files.stream(file));
      charts.push({ file, ...chart });
    } catch (err) {
      if (!isPackError(err)) throw err;
      ctx.report(err.code === 'CHART_NOT_TGZ' ? 'chart-not-tgz' : 'chart-yaml-invalid', file, err.message);
    }
  }
}

async function checkKubeManifests(ctx: Context, manifest: Record<string, unknown>): Promise<void> {
  for (const [index, file] of stringList(manifest['kubeManifests']).entries()) {
    if (!reportPath(ctx, await ctx.files.check(file), file, 'manifest-missing', `/kubeManifests/${index}`)) continue;
    const parsed = await readYaml(ctx, file, 'manifest-invalid');
    if (!parsed) continue;
    parsed.documents.forEach((doc, i) => {
      const record = asRecord(doc);
      const missing = ['apiVersion', 'kind'].filter((key) => typeof record?.[key] !== 'string' || record[key] === '');
      if (missing.length > 0) {
        ctx.report('manifest-kind-missing', file, `document ${i + 1} has no ${missing.join(' and ')}`);
      }
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
  const parsed = await readYaml(ctx, file, 'values-invalid');
  if (!parsed) return;
  const first = parsed.documents[0] ?? null;
  const values = asRecord(first);
  if (first !== null && !values) {
    ctx.report('values-invalid', file, 'values.yaml must be a mapping of keys to values');
    return;
  }
  // os and k8s packs configure the node image and kubeadm; they ship no workload images.
  if (layer !== null && layer !== 'os' && layer !== 'k8s' && !listsImages(values)) {
    ctx.report('values-no-images', file, 'no pack.content.images[].image entries');
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

async function checkOptionalYaml(ctx: Context): Promise<void> {
  if ((await ctx.files.check('presets.yaml')) === 'ok') {
    const parsed = await readYaml(ctx, 'presets.yaml', 'presets-invalid');
    if (parsed) {
      const presets = asRecord(parsed.documents[0])?.['presets'];
      const valid = Array.isArray(presets) && presets.every((p) => typeof asRecord(p)?.['name'] === 'string');
      if (!valid)
        ctx.report('presets-invalid', 'presets.yaml', 'expected `presets:` with a list of items that each have a name');
    }
  }
  if ((await ctx.files.check('schema.yaml')) === 'ok') {
    const parsed = await readYaml(ctx, 'schema.yaml', 'schema-yaml-invalid');
    if (parsed && parsed.documents.length > 0 && !asRecord(parsed.documents[0])) {
      ctx.report('schema-yaml-invalid', 'schema.yaml', 'schema.yaml must be a mapping of value paths to schemas');
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
    const name = typeof dep['packName'] === 'string' ? dep['packName'] : `#${index}`;
    if (typeof dep['layer'] === 'string' && !isLayer(dep['layer'])) {
      ctx.report('constraint-layer-invalid', 'pack.json', `dependency ${name}: unknown layer "${dep['layer']}"`, {
        pointer: `${pointer}/layer`,
      });
    }
    let boundsValid = true;
    for (const key of ['minVersion', 'maxVersion'] as const) {
      const bound = dep[key];
      if (typeof bound === 'string' && bound.trim() !== '' && !parseVersion(bound.trim())) {
        boundsValid = false;
        ctx.report(
          'constraint-version-invalid',
          'pack.json',
          `dependency ${name}: ${key} "${bound}" is not a version`,
          {
            pointer: `${pointer}/${key}`,
          },
        );
      }
    }
    const min = typeof dep['minVersion'] === 'string' ? dep['minVersion'] : null;
    const max = typeof dep['maxVersion'] === 'string' ? dep['maxVersion'] : null;
    if (boundsValid && !boundsOrdered(min, max)) {
      ctx.report(
        'constraint-range-inverted',
        'pack.json',
        `dependency ${name}: minVersion ${min} is above maxVersion ${max}`,
        {
          pointer,
        },
      );
    }
  });
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
  const report: Report = (rule, file, message, at = {}) => {
    const spec = LINT_RULES[rule];
    const finding: Finding = { rule, severity: spec.severity, file, message, hint: at.hint ?? spec.hint };
    if (at.line !== undefined) finding.line = at.line;
    if (at.column !== undefined) finding.column = at.column;
    if (at.pointer !== undefined) finding.pointer = at.pointer;
    findings.push(finding);
  };
  const ctx: Context = { files, report };

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
  return lintPackFiles(directoryPackFiles(dir), treeFindings);
}
