/**
 * The lint rule catalogue: every finding carries one of these stable ids. Ids are part of the
 * public interface (CI scripts grep for them, docs/lint-rules.md lists them): never rename one.
 */
export type Severity = 'error' | 'warning';

export interface RuleSpec {
  severity: Severity;
  /** What the rule checks, for docs and `packctl lint --list-rules`. */
  description: string;
  /** The default one-line fix shown with a finding. */
  hint: string;
}

export const LINT_RULES = {
  'pack-json-missing': {
    severity: 'error',
    description: 'The pack has no pack.json.',
    hint: 'create pack.json with name, displayName, version and layer (`packctl init` scaffolds one)',
  },
  'pack-json-syntax': {
    severity: 'error',
    description: 'pack.json is not valid JSON (or is not UTF-8, or is over 1 MiB).',
    hint: 'fix the JSON syntax at the reported line and column',
  },
  'schema-violation': {
    severity: 'error',
    description: 'pack.json does not match schemas/pack.schema.json.',
    hint: 'see schemas/pack.schema.json for the allowed fields and values',
  },
  'name-invalid': {
    severity: 'error',
    description: 'The pack name is not lowercase letters, digits and inner hyphens, at most 64 characters.',
    hint: 'use a name like "cni-calico": lowercase letters, digits and hyphens, not starting or ending with "-"',
  },
  'version-invalid': {
    severity: 'error',
    description: 'The version has no leading number ("latest", "abc"), so it cannot be ordered.',
    hint: 'use a version such as "1.2.3" (semver) or "22.04" (calendar)',
  },
  'version-not-semver': {
    severity: 'warning',
    description: 'The version is ordered by numeric segments but is not strict semver ("22.04", "v1.8.7").',
    hint: 'prefer strict semver (MAJOR.MINOR.PATCH) unless the upstream project versions otherwise',
  },
  'unknown-field': {
    severity: 'warning',
    description: 'pack.json has a top-level field Packyard does not know; it is kept but ignored.',
    hint: 'remove the field, or check its spelling against schemas/pack.schema.json',
  },
  'chart-missing': {
    severity: 'error',
    description: 'A file listed in `charts` does not exist.',
    hint: 'add the chart archive (helm pull REPO/CHART --version X -d charts/) or fix the path in pack.json',
  },
  'chart-not-tgz': {
    severity: 'error',
    description: 'A file listed in `charts` is not a gzip-compressed tar.',
    hint: 'package the chart with `helm package` and reference the .tgz it writes',
  },
  'chart-yaml-invalid': {
    severity: 'error',
    description: 'A chart archive has no parseable <chart>/Chart.yaml with a name and a version.',
    hint: 'fix Chart.yaml and package the chart again with `helm package`',
  },
  'manifest-missing': {
    severity: 'error',
    description: 'A file listed in `kubeManifests` does not exist.',
    hint: 'add the manifest file or fix the path in pack.json',
  },
  'manifest-invalid': {
    severity: 'error',
    description: 'A Kubernetes manifest is not valid YAML.',
    hint: 'fix the YAML syntax at the reported line and column',
  },
  'manifest-kind-missing': {
    severity: 'error',
    description: 'A document in a Kubernetes manifest lacks `apiVersion` or `kind`.',
    hint: 'every document needs `apiVersion:` and `kind:`; remove stray `---` separators around empty documents',
  },
  'template-unparseable': {
    severity: 'warning',
    description:
      'A YAML file with Go-template expressions does not parse even with the expressions neutralised; it may still render.',
    hint: 'check the YAML around the reported line; templates are only rendered at deploy time',
  },
  'values-missing': {
    severity: 'error',
    description: 'The pack has no values.yaml.',
    hint: 'add values.yaml (it may be a short commented file) with the pack defaults',
  },
  'values-invalid': {
    severity: 'error',
    description: 'values.yaml is not valid YAML, or not a mapping.',
    hint: 'fix the YAML syntax at the reported line and column',
  },
  'values-no-images': {
    severity: 'warning',
    description: 'values.yaml lists no `pack.content.images[].image` (checked for layers other than os and k8s).',
    hint: 'list the container images under pack.content.images so air-gapped sites can mirror them',
  },
  'readme-missing': {
    severity: 'warning',
    description: 'The pack has no README.md.',
    hint: 'add README.md: what the pack installs, its parameters and how to use it',
  },
  'logo-missing': {
    severity: 'warning',
    description: 'The pack has no logo.png.',
    hint: 'add a square PNG logo named logo.png',
  },
  'logo-not-png': {
    severity: 'warning',
    description: 'logo.png is not a PNG image.',
    hint: 'convert the logo to PNG (the file must start with the PNG signature)',
  },
  'presets-invalid': {
    severity: 'error',
    description: 'presets.yaml does not parse, or is not `presets:` with a list of named presets.',
    hint: 'presets.yaml holds `presets:` followed by items with `name`, `displayName`, `group` and `add`/`remove`',
  },
  'schema-yaml-invalid': {
    severity: 'error',
    description: 'schema.yaml does not parse or is not a mapping.',
    hint: 'schema.yaml maps value paths to `schema:` strings, e.g. `charts.x.replicas: { schema: "..." }`',
  },
  'constraint-layer-invalid': {
    severity: 'error',
    description: 'A dependency in `constraints.dependencies` names a layer that does not exist.',
    hint: 'use one of the layers kernel, os, k8s, cni, csi, addon',
  },
  'constraint-version-invalid': {
    severity: 'error',
    description: 'A dependency `minVersion` or `maxVersion` is not a version.',
    hint: 'write a full or partial version ("1.27.4", "1.27"), or leave the bound empty',
  },
  'constraint-range-inverted': {
    severity: 'error',
    description: 'A dependency `minVersion` is above its `maxVersion`, so nothing can satisfy it.',
    hint: 'swap the bounds or correct one of them',
  },
  'path-escapes': {
    severity: 'error',
    description: 'A path in pack.json, or a symlink in the pack, points outside the pack directory.',
    hint: 'keep every file inside the pack directory; copy the file in instead of linking to it',
  },
  'special-file': {
    severity: 'error',
    description: 'The pack directory holds a socket, FIFO or device file, which cannot be packed.',
    hint: 'remove the file or list it in .packignore',
  },
} as const satisfies Record<string, RuleSpec>;

export type LintRuleId = keyof typeof LINT_RULES;

export const LINT_RULE_IDS = Object.keys(LINT_RULES) as LintRuleId[];
