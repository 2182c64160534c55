/**
 * Resolving a cluster profile into its exact layers, fed by a {@link PackSource} (a registry
 * client, or a table in tests): no HTTP here.
 *
 * - Each entry takes the highest version satisfying its selector from the first registry (in the
 *   profile's order, or the entry's own `registry`) that has the pack at all; deprecated versions
 *   only when pinned exactly, with a warning (and a selector only deprecated versions satisfy says so).
 * - Layers come out os -> kernel -> k8s -> cni -> csi -> add-ons; add-ons in dependency order, then
 *   by `spectrocloud.com/install-priority` under `pack:` in values.yaml (lower first), then as written.
 * - Constraints: a `cluster` profile has exactly one pack for each of os, k8s, cni, csi (an `add-on`
 *   profile only add-ons); `required` dependencies present within [minVersion, maxVersion];
 *   `optional` ones range-checked when present; `notSupported` ranges rejected; cloudTypes include
 *   the profile's cloud or `all`; dependency cycles reported. Every problem is listed, each with
 *   the pack that caused it, instead of stopping at the first.
 * - Values: the pack's values.yaml, then the profile's override (maps merge deeply, lists replace).
 */
import { stringify } from 'yaml';
import type { ClusterProfile } from './generated/cluster-profile.js';
import type { PackDependency, PackLayer } from './generated/pack-manifest.js';
import { isJsonObject } from './json-object.js';
import { resolveVersion, selectorKind, sortVersions, withinBounds } from './versions.js';
import { parseYaml } from './yaml.js';

export type { ClusterProfile };

/** A version of a pack as a registry lists it. */
export interface SourceVersion {
  version: string;
  deprecated: boolean;
  /** Why it is deprecated (the registry's message), when it is and the source knows. */
  deprecation?: string | null;
}

/** What the resolver needs of one chosen version. */
export interface SourceDetails {
  digest: string;
  layer: PackLayer;
  cloudTypes: readonly string[];
  dependencies: readonly PackDependency[];
  /** The pack's values.yaml, null when it has none. */
  values: string | null;
}

export interface PackSource {
  /** The versions of `name` in `registry`, or null when the registry does not have the pack. */
  versions(registry: string, name: string): Promise<SourceVersion[] | null>;
  details(registry: string, name: string, version: string): Promise<SourceDetails>;
}

export interface ResolvedLayer {
  name: string;
  version: string;
  registry: string;
  digest: string;
  layer: PackLayer;
  /** values.yaml with the profile's override merged in, as YAML. */
  values: string;
  installPriority: number | null;
}

export interface ProfileProblem {
  /** The pack the problem is about (null for the profile as a whole). */
  pack: string | null;
  message: string;
}

export interface ProfileResolution {
  profile: { name: string; version: string; type: 'cluster' | 'add-on'; cloudType: string | null };
  layers: ResolvedLayer[];
  problems: ProfileProblem[];
  /** What resolved but deserves a look: a pinned version that is deprecated. */
  warnings: ProfileProblem[];
}

/**
 * The most problems a resolution lists; past it one more says how many were left out. A profile
 * has at most a hundred add-ons, but their packs' records (a hostile registry's) could list
 * millions of missing dependencies: a line each would exhaust memory.
 */
export const MAX_PROFILE_PROBLEMS = 1000;

/**
 * A pack's dependencies, each pack named once per type and bounds (a record listing the same one
 * again adds nothing to check).
 */
function distinctDependencies(dependencies: readonly PackDependency[]): PackDependency[] {
  const seen = new Set<string>();
  return dependencies.filter((dep) => {
    const key = JSON.stringify([dep.packName, dep.type ?? null, dep.minVersion ?? null, dep.maxVersion ?? null]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Problems at most {@link MAX_PROFILE_PROBLEMS}, the rest (with `uncounted` more found past the cap
 * and not made) counted in one more.
 */
function boundedProblems(problems: ProfileProblem[], uncounted: number): ProfileProblem[] {
  if (problems.length <= MAX_PROFILE_PROBLEMS && uncounted === 0) return problems;
  const left = Math.max(problems.length - MAX_PROFILE_PROBLEMS, 0) + uncounted;
  return [
    ...problems.slice(0, MAX_PROFILE_PROBLEMS),
    { pack: null, message: `and ${left} more problem${left === 1 ? '' : 's'}, not listed` },
  ];
}

const LAYER_ORDER: readonly PackLayer[] = ['os', 'kernel', 'k8s', 'cni', 'csi', 'addon'];
const CORE_LAYERS: readonly PackLayer[] = ['os', 'k8s', 'cni', 'csi'];
const PRIORITY_KEY = 'spectrocloud.com/install-priority';

type Json = unknown;

/** Deep merge: maps merge key by key, anything else (lists included) is replaced by the override. */
export function mergeValues(base: Json, override: Json): Json {
  if (!isJsonObject(base) || !isJsonObject(override)) return override === undefined ? base : override;
  const out: Record<string, Json> = { ...base };
  for (const [key, value] of Object.entries(override)) out[key] = mergeValues(base[key], value);
  return out;
}

function firstDocument(text: string | null | undefined, what: string, problems: ProfileProblem[], pack: string): Json {
  if (!text) return {};
  const parsed = parseYaml(text);
  const { problem } = parsed;
  if (problem) {
    const why = problem.kind === 'syntax' ? `is not valid YAML: ${problem.message}` : problem.message;
    problems.push({ pack, message: `${what} ${why}` });
    return {};
  }
  return parsed.documents[0] ?? {};
}

function installPriorityOf(values: Json): number | null {
  const pack = isJsonObject(values) ? values['pack'] : undefined;
  const priority = isJsonObject(pack) ? pack[PRIORITY_KEY] : undefined;
  const number = typeof priority === 'string' ? Number(priority) : priority;
  return typeof number === 'number' && Number.isFinite(number) ? number : null;
}

function describeBounds(dep: PackDependency): string {
  const min = dep.minVersion ?? null;
  const max = dep.maxVersion ?? null;
  if (min && max) return ` ${min} to ${max}`;
  if (min) return ` ${min} or later`;
  if (max) return ` up to ${max}`;
  return '';
}

/**
 * Resolves `profile` against `source`: the layers in install order, and every problem found.
 *
 * @example
 * const { layers, problems } = await resolveProfile(profile, source);
 */
/** ": MESSAGE" for a deprecated version whose source gave the reason, else nothing. */
function deprecationNote(version: SourceVersion): string {
  return version.deprecation ? `: ${version.deprecation}` : '';
}

/**
 * The registries an entry of a profile takes its pack from, in precedence order: its own
 * `registry`, else the profile's `registries`, else the public one. The first that has the pack
 * at all is the one (the registry's "who uses it" follows the same rule).
 */
export function registriesOf(profile: ClusterProfile, entry: ClusterProfile['packs'][number]): string[] {
  return entry.registry ? [entry.registry] : (profile.registries ?? ['public']);
}

export async function resolveProfile(profile: ClusterProfile, source: PackSource): Promise<ProfileResolution> {
  const problems: ProfileProblem[] = [];
  const warnings: ProfileProblem[] = [];
  const type = profile.type ?? 'cluster';
  const cloudType = profile.cloudType ?? null;
  const chosen: Array<ResolvedLayer & { index: number; dependencies: readonly PackDependency[] }> = [];

  for (const [index, entry] of profile.packs.entries()) {
    const registries = registriesOf(profile, entry);
    let found: { registry: string; versions: SourceVersion[] } | null = null;
    for (const registry of registries) {
      const versions = await source.versions(registry, entry.name);
      if (versions && versions.length > 0) {
        found = { registry, versions };
        break;
      }
    }
    if (!found) {
      problems.push({
        pack: entry.name,
        message: `${entry.name} is in none of the registries ${registries.join(', ')}`,
      });
      continue;
    }
    const kind = selectorKind(entry.version);
    if (kind === null) {
      problems.push({
        pack: entry.name,
        message: `${entry.version} is not a version, a line tag (1.29.x) or a range (>=1.29 <1.30)`,
      });
      continue;
    }
    // Deprecated versions are chosen only when pinned exactly.
    const candidates = found.versions.filter((v) => kind === 'exact' || !v.deprecated).map((v) => v.version);
    const version = resolveVersion(candidates, entry.version);
    if (version === null) {
      const available = sortVersions(found.versions.map((v) => v.version)).join(', ');
      const deprecatedFit = resolveVersion(
        found.versions.map((v) => v.version),
        entry.version,
      );
      const why = deprecatedFit === null ? undefined : found.versions.find((v) => v.version === deprecatedFit);
      problems.push({
        pack: entry.name,
        message:
          why === undefined
            ? `no version of ${entry.name} in ${found.registry} satisfies ${entry.version} (it has ${available})`
            : `no version of ${entry.name} in ${found.registry} satisfies ${entry.version} but deprecated ones: ` +
              `${why.version} is deprecated${deprecationNote(why)}; choose another version, or pin ${why.version} to use it anyway`,
      });
      continue;
    }
    const pinnedDeprecated = found.versions.find((v) => v.version === version && v.deprecated);
    if (pinnedDeprecated) {
      warnings.push({
        pack: entry.name,
        message: `${entry.name}@${version} is deprecated${deprecationNote(pinnedDeprecated)}`,
      });
    }
    const details = await source.details(found.registry, entry.name, version);
    const base = firstDocument(details.values, `values.yaml of ${entry.name}@${version}`, problems, entry.name);
    const override = firstDocument(entry.values, `the profile's values for ${entry.name}`, problems, entry.name);
    const merged = mergeValues(base, override);
    chosen.push({
      name: entry.name,
      version,
      registry: found.registry,
      digest: details.digest,
      layer: details.layer,
      values: isJsonObject(merged) && Object.keys(merged).length === 0 ? '' : stringify(merged),
      installPriority: installPriorityOf(merged),
      index,
      dependencies: distinctDependencies(details.dependencies),
    });
    if (cloudType && details.cloudTypes.length > 0 && !details.cloudTypes.some((c) => c === cloudType || c === 'all')) {
      problems.push({
        pack: entry.name,
        message: `${entry.name}@${version} supports ${details.cloudTypes.join(', ')}, not ${cloudType}`,
      });
    }
  }

  // Layers: exactly one of each core layer for a cluster profile; add-ons only for an add-on profile.
  for (const layer of LAYER_ORDER) {
    const packs = chosen.filter((c) => c.layer === layer);
    if (type === 'add-on' && layer !== 'addon') {
      for (const p of packs)
        problems.push({ pack: p.name, message: `an add-on profile cannot hold the ${layer} pack ${p.name}` });
      continue;
    }
    if (type === 'cluster' && CORE_LAYERS.includes(layer)) {
      if (packs.length === 0) {
        problems.push({ pack: null, message: `a cluster profile needs one ${layer} pack, and none resolved` });
      }
      if (packs.length > 1) {
        problems.push({
          pack: packs[1]?.name ?? null,
          message: `a cluster profile has one ${layer} pack, not ${packs.length} (${packs.map((p) => p.name).join(', ')})`,
        });
      }
    }
  }

  // Dependencies: problems past the cap are counted, not made (a hostile record lists millions).
  const byName = new Map(chosen.map((c) => [c.name, c]));
  let uncounted = 0;
  for (const pack of chosen) {
    for (const dep of pack.dependencies) {
      if (problems.length >= MAX_PROFILE_PROBLEMS) {
        const present = byName.get(dep.packName);
        const inBounds = present ? withinBounds(present.version, dep.minVersion, dep.maxVersion) : false;
        if (
          (dep.type === 'required' && (!present || !inBounds)) ||
          (dep.type === 'optional' && present && !inBounds) ||
          (dep.type === 'notSupported' && present && inBounds)
        ) {
          uncounted++;
        }
        continue;
      }
      const present = byName.get(dep.packName);
      const inBounds = present ? withinBounds(present.version, dep.minVersion, dep.maxVersion) : false;
      const who = `${pack.name}@${pack.version}`;
      if (dep.type === 'required') {
        if (!present) {
          problems.push({
            pack: pack.name,
            message: `${who} requires ${dep.packName}${describeBounds(dep)}, which the profile lacks`,
          });
        } else if (!inBounds) {
          problems.push({
            pack: pack.name,
            message: `${who} requires ${dep.packName}${describeBounds(dep)}, and the profile has ${present.version}`,
          });
        }
      } else if (dep.type === 'optional' && present && !inBounds) {
        problems.push({
          pack: pack.name,
          message: `${who} works with ${dep.packName}${describeBounds(dep)} only, and the profile has ${present.version}`,
        });
      } else if (dep.type === 'notSupported' && present && inBounds) {
        problems.push({
          pack: pack.name,
          message: `${who} does not support ${dep.packName}${describeBounds(dep) || ' at all'}, and the profile has ${present.version}`,
        });
      }
    }
  }

  // Order: by layer; add-ons by dependencies, then install priority, then as written.
  const ordered: typeof chosen = [];
  for (const layer of LAYER_ORDER.filter((l) => l !== 'addon'))
    ordered.push(...chosen.filter((c) => c.layer === layer));
  const addons = chosen.filter((c) => c.layer === 'addon');
  const addonNames = new Set(addons.map((a) => a.name));
  const waitsFor = new Map(
    addons.map((a) => [
      a.name,
      new Set(
        a.dependencies
          .filter(
            (d) =>
              (d.type === 'required' || d.type === 'optional') && addonNames.has(d.packName) && d.packName !== a.name,
          )
          .map((d) => d.packName),
      ),
    ]),
  );
  const placed = new Set<string>();
  const rank = (a: (typeof addons)[number]) => [a.installPriority ?? 0, a.index] as const;
  while (placed.size < addons.length) {
    const ready = addons
      .filter((a) => !placed.has(a.name) && [...(waitsFor.get(a.name) ?? [])].every((d) => placed.has(d)))
      .sort((x, y) => {
        const [px, ix] = rank(x);
        const [py, iy] = rank(y);
        return px - py || ix - iy;
      });
    const next = ready[0];
    if (!next) {
      const stuck = addons.filter((a) => !placed.has(a.name));
      problems.push({
        pack: stuck[0]?.name ?? null,
        message: `dependency cycle among ${stuck.map((a) => a.name).join(', ')}`,
      });
      // Still list them, as written, so the caller sees every layer.
      for (const a of stuck.sort((x, y) => x.index - y.index)) {
        placed.add(a.name);
        ordered.push(a);
      }
      break;
    }
    placed.add(next.name);
    ordered.push(next);
  }

  return {
    profile: { name: profile.name, version: profile.version, type, cloudType },
    layers: ordered.map(({ index: _index, dependencies: _dependencies, ...layer }) => layer),
    problems: boundedProblems(problems, uncounted),
    warnings,
  };
}

/** The lock of a resolution: exact versions, registries and digests. */
export interface ProfileLock {
  profile: string;
  profileVersion: string;
  layers: Array<{ name: string; version: string; registry: string; digest: string }>;
}

export function lockOf(resolution: ProfileResolution): ProfileLock {
  return {
    profile: resolution.profile.name,
    profileVersion: resolution.profile.version,
    layers: resolution.layers.map(({ name, version, registry, digest }) => ({ name, version, registry, digest })),
  };
}
