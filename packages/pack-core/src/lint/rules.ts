/**
 * The lint rule catalogue: every finding carries one of these stable ids. Ids are part of the
 * public interface (CI scripts grep for them, docs/lint-rules.md lists them): never rename one.
 *
 * A rule is an error only when the platform would refuse the pack as well: Palette (whose own pack
 * validator is validator/pack-schema.json in spectrocloud/pack-central), Helm for values and charts
 * (helm.sh/helm/v3 pkg/chart/loader, chartutil.ReadValues) or kubectl for manifests
 * (k8s.io/cli-runtime resource.StreamVisitor), or when Packyard cannot check the pack safely. Each
 * rule's `rationale` records that decision.
 */
export type Severity = 'error' | 'warning';

export interface RuleSpec {
  severity: Severity;
  /** What the rule checks, for docs and `packctl lint --list-rules`. */
  description: string;
  /** The default one-line fix shown with a finding. */
  hint: string;
  /** Why the rule has its severity: what Palette, Helm or kubectl do with the same input. */
  rationale: string;
}

export const LINT_RULES = {
  'pack-json-missing': {
    severity: 'error',
    description: 'The pack has no pack.json.',
    hint: 'create pack.json with name, displayName, version and layer (`packctl init` scaffolds one)',
    rationale: "Palette identifies a pack by its pack.json; pack-central's validator requires one.",
  },
  'pack-json-syntax': {
    severity: 'error',
    description: 'pack.json is not valid JSON (or is not UTF-8, is over 1 MiB, or nests deeper than 64 levels).',
    hint: 'fix the JSON syntax at the reported line and column',
    rationale: "Palette's validator parses pack.json with jq; JSON that does not parse cannot be read at all.",
  },
  'schema-violation': {
    severity: 'error',
    description: 'pack.json does not match schemas/pack.schema.json.',
    hint: 'see schemas/pack.schema.json for the allowed fields and values',
    rationale:
      "The schema follows the one Palette's validator applies; what a published pack-central pack omits (a dependency's `type`) is optional here too.",
  },
  'name-invalid': {
    severity: 'error',
    description: 'The pack name is not lowercase letters, digits and inner hyphens, at most 64 characters.',
    hint: 'use a name like "cni-calico": lowercase letters, digits and hyphens, not starting or ending with "-"',
    rationale: 'Names become registry paths and storage keys (names.ts); every pack-central name fits.',
  },
  'version-invalid': {
    severity: 'error',
    description:
      'The version has no leading number ("latest", "abc"), is not a version of the accepted forms, or is longer than 128 characters.',
    hint: 'use a version such as "1.2.3" (semver) or "22.04" (calendar)',
    rationale:
      'Versions become registry paths and must be ordered (names.ts); every pack-central version fits, 22.04, v1.8.7 and 0.30.0-5.5.2026 included.',
  },
  'version-not-semver': {
    severity: 'warning',
    description: 'The version is ordered by numeric segments but is not strict semver ("22.04", "v1.8.7").',
    hint: 'prefer strict semver (MAJOR.MINOR.PATCH) unless the upstream project versions otherwise',
    rationale: 'Palette publishes calendar (22.04), short (1.5) and v-prefixed versions: advice only.',
  },
  'unknown-field': {
    severity: 'warning',
    description: 'pack.json has a top-level field Packyard does not know; it is kept but ignored.',
    hint: 'remove the field, or check its spelling against schemas/pack.schema.json',
    rationale: 'Palette keeps fields it does not know (pack-central packs carry commit_msg and kubeVersion).',
  },
  'cloud-type-unknown': {
    severity: 'warning',
    description:
      'A cloud type in `cloudTypes` (or `cloudType`) is not one Palette ships (aws, vsphere, edge-native, ...).',
    hint: 'check the spelling against the known cloud types the message lists; a custom cloud keeps its own name',
    rationale:
      "Palette takes any cloud type name (a custom cloud's, such as nutanix), so an unknown one is kept; it is more often a typo, which would leave the pack offered for no cloud.",
  },
  'chart-missing': {
    severity: 'error',
    description: 'A file listed in `charts` does not exist.',
    hint: 'add the chart archive (helm pull REPO/CHART --version X -d charts/) or fix the path in pack.json',
    rationale: 'Palette cannot install a chart that is not in the pack.',
  },
  'chart-not-tgz': {
    severity: 'error',
    description: 'A file listed in `charts` is not a gzip-compressed tar, or not one that can be read safely.',
    hint: 'package the chart with `helm package` and reference the .tgz it writes',
    rationale: "Helm's loader reads a chart archive only as a gzip-compressed tar.",
  },
  'chart-unlisted': {
    severity: 'warning',
    description: 'A chart archive in charts/ that pack.json does not list in `charts`.',
    hint: 'list it in pack.json `charts` (Palette installs only the listed charts), or remove it: it is shipped either way',
    rationale:
      'Palette deploys the charts pack.json lists; an unlisted archive is dead weight in every download, or a chart someone forgot to list.',
  },
  'chart-yaml-invalid': {
    severity: 'error',
    description: 'A chart archive has no parseable <chart>/Chart.yaml with a name and a version.',
    hint: 'fix Chart.yaml and package the chart again with `helm package`',
    rationale: "Helm's loader refuses a chart without a Chart.yaml that names the chart and its version.",
  },
  'manifest-missing': {
    severity: 'error',
    description: 'A file listed in `kubeManifests` does not exist.',
    hint: 'add the manifest file or fix the path in pack.json',
    rationale: 'kubectl apply -f fails on a file that does not exist.',
  },
  'manifest-invalid': {
    severity: 'error',
    description: 'A Kubernetes manifest is not valid YAML, or gives a key twice in one mapping.',
    hint: 'fix the YAML syntax at the reported line and column',
    rationale:
      'kubectl refuses a manifest that does not parse, and (with its default --validate=strict) an object that gives a field twice.',
  },
  'manifest-kind-missing': {
    severity: 'error',
    description:
      'A document in a Kubernetes manifest is not a mapping with a string `apiVersion` and `kind` (empty documents are skipped).',
    hint: 'every document needs `apiVersion:` and `kind:`',
    rationale:
      'kubectl skips empty and null documents but refuses one without apiVersion or kind; a document with template actions is not checked, the template may supply them.',
  },
  'template-unparseable': {
    severity: 'warning',
    description:
      'A YAML file with Go-template expressions does not parse even with the expressions neutralised; it may still render.',
    hint: 'check the YAML around the reported line; templates are only rendered at deploy time',
    rationale: 'Templates are rendered at deploy time; what they produce cannot be known here.',
  },
  'values-missing': {
    severity: 'error',
    description: 'The pack has no values.yaml.',
    hint: 'add values.yaml (it may be a short commented file) with the pack defaults',
    rationale:
      "Palette reads values.yaml for the pack's images (pack-central's validator fails without it); every pack-central pack has one.",
  },
  'values-invalid': {
    severity: 'error',
    description:
      'values.yaml is not valid YAML, or its top level is not a mapping (empty, comments only or null is fine).',
    hint: 'fix the YAML syntax at the reported line and column',
    rationale:
      "Helm's ReadValues fails on YAML that does not parse or whose top level is not a mapping; an empty file, comments only or a null top level are an empty mapping to Helm.",
  },
  'values-no-images': {
    severity: 'warning',
    description: 'values.yaml lists no `pack.content.images[].image` (checked for layers other than os and k8s).',
    hint: 'list the container images under pack.content.images so air-gapped sites can mirror them',
    rationale: 'Air-gapped mirroring needs the list, but Palette deploys without it.',
  },
  'placeholder-left': {
    severity: 'warning',
    description: 'A `TODO` placeholder of `packctl init` is still in README.md, values.yaml or pack.json annotations.',
    hint: 'replace the TODO with the real text (image, docs link, contributor)',
    rationale: "The scaffold's placeholders deploy, but a published pack that still says TODO misleads its users.",
  },
  'readme-missing': {
    severity: 'warning',
    description: 'The pack has no README.md.',
    hint: 'add README.md: what the pack installs, its parameters and how to use it',
    rationale: 'Palette shows the README; a pack works without one.',
  },
  'logo-missing': {
    severity: 'warning',
    description: 'The pack has no logo.png.',
    hint: 'add a square PNG logo named logo.png',
    rationale: 'Palette shows the logo; a pack works without one.',
  },
  'logo-not-png': {
    severity: 'warning',
    description: 'logo.png is not a PNG image.',
    hint: 'convert the logo to PNG (the file must start with the PNG signature)',
    rationale: 'Palette shows the logo; a pack works without a readable one.',
  },
  'presets-invalid': {
    severity: 'error',
    description: 'presets.yaml is not valid YAML (an empty file, comments only, is fine).',
    hint: 'fix the YAML syntax at the reported line and column',
    rationale: 'A presets.yaml that does not parse cannot be read by Palette; an empty one just has no presets.',
  },
  'presets-unrecognised': {
    severity: 'warning',
    description: 'presets.yaml parses but is not `presets:` with a list of named presets.',
    hint: 'presets.yaml holds `presets:` followed by items with `name`, `displayName`, `group` and `add`/`remove`',
    rationale: "Palette's presets format has no published schema, so another shape may still be read: a warning.",
  },
  'schema-yaml-invalid': {
    severity: 'error',
    description: 'schema.yaml is not valid YAML (an empty file, comments only, is fine).',
    hint: 'fix the YAML syntax at the reported line and column',
    rationale: 'A schema.yaml that does not parse cannot be read by Palette; an empty one just has no schemas.',
  },
  'schema-yaml-unrecognised': {
    severity: 'warning',
    description: 'schema.yaml parses but is not a mapping of value paths to schemas.',
    hint: 'schema.yaml maps value paths to `schema:` strings, e.g. `charts.x.replicas: { schema: "..." }`',
    rationale: "Palette's schema.yaml format has no published schema, so another shape may still be read: a warning.",
  },
  'yaml-duplicate-key': {
    severity: 'warning',
    description: 'values.yaml, presets.yaml or schema.yaml gives a key twice in one mapping; the last one wins.',
    hint: 'remove one of the two keys (the first is silently overridden)',
    rationale:
      "Helm reads values with sigs.k8s.io/yaml's non-strict Unmarshal, which keeps the last value; the first is lost, hence a warning (manifests: see manifest-invalid).",
  },
  'yaml-too-large': {
    severity: 'error',
    description:
      "A YAML file is over 8 MiB, 500,000 YAML tokens or 10,000 documents, or the pack's YAML files together are over 2,000,000 tokens.",
    hint: 'split the file, or move bulk data into a chart or an image; real values files are a few hundred KiB',
    rationale:
      'Parsing costs grow with tokens; the largest real files (pack-central: a 2.4 MiB CRD manifest of 138,000 tokens) stay far below these bounds.',
  },
  'yaml-too-deep': {
    severity: 'error',
    description: 'A YAML file nests collections more than 128 levels deep.',
    hint: 'flatten the structure; real manifests nest a few dozen levels at most',
    rationale:
      'Deep nesting only serves to exhaust the parser; the deepest real manifest in pack-central nests 39 levels.',
  },
  'yaml-alias-expansion': {
    severity: 'error',
    description:
      'YAML aliases expand a file past 1,000,000 nodes (an alias bomb), or an alias refers to a node that contains it.',
    hint: 'write the repeated values out, or alias small blocks only',
    rationale:
      'go-yaml, which Helm and kubectl use, refuses excessive aliasing and anchors that contain themselves as well.',
  },
  'constraint-layer-invalid': {
    severity: 'error',
    description: 'A dependency in `constraints.dependencies` names a layer that does not exist.',
    hint: 'use one of the layers kernel, os, k8s, cni, csi, addon',
    rationale: "Palette's validator allows only these layers in a dependency.",
  },
  'constraint-version-invalid': {
    severity: 'warning',
    description:
      'A dependency `minVersion` or `maxVersion` is not a version (a trailing `.x` wildcard, "1.27.x", is read as "1.27").',
    hint: 'write a full or partial version ("1.27.4", "1.27"), or leave the bound empty',
    rationale:
      'Palette stores bounds as free strings and accepts the pack; a bound that is not a version is never compared, hence a warning.',
  },
  'constraint-range-inverted': {
    severity: 'warning',
    description: 'A dependency `minVersion` is above its `maxVersion`, so nothing can satisfy it.',
    hint: 'swap the bounds or correct one of them',
    rationale: 'Palette accepts the pack; the dependency can just never be satisfied, hence a warning.',
  },
  'path-escapes': {
    severity: 'error',
    description: 'A path in pack.json, or a symlink in the pack, points outside the pack directory.',
    hint: 'keep every file inside the pack directory; copy the file in instead of linking to it',
    rationale: 'A file outside the pack cannot be packed, and a path that leaves it would read elsewhere.',
  },
  'special-file': {
    severity: 'error',
    description: 'The pack directory holds a socket, FIFO or device file, which cannot be packed.',
    hint: 'remove the file or list it in .packignore',
    rationale: 'Sockets, FIFOs and devices have no content to pack.',
  },
  'entry-name-unsafe': {
    severity: 'error',
    description:
      'A file name cannot be an archive entry as it is: a backslash, a drive letter or "name:" prefix, a control character, too long or too deep a path.',
    hint: 'rename the file (plain names: letters, digits, ".", "-", "_"), or list it in .packignore',
    rationale:
      "Zip tools rewrite such names (`..\\values.yaml` becomes a second values.yaml, `..\\..\\x.bat` lands outside the folder on Windows) and Packyard's own reader refuses them: the archive would not hold the file lint checked.",
  },
  'credentials-file': {
    severity: 'error',
    description: "A file is packctl's credentials file (its `auths` hold a token or API key).",
    hint: 'remove it from the pack directory (or list it in .packignore), then revoke the tokens and keys it holds: they may have been copied',
    rationale: 'A published pack is readable by everyone who may pull it; the credentials would go with it.',
  },
} as const satisfies Record<string, RuleSpec>;

export type LintRuleId = keyof typeof LINT_RULES;

export const LINT_RULE_IDS = Object.keys(LINT_RULES) as LintRuleId[];
