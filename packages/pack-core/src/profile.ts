/**
 * Cluster profiles: the packs of a cluster's layers by name and version selector
 * (schemas/profile.schema.json). This module validates the document; resolving it against
 * registries into exact versions is a separate step.
 */
import type { ErrorObject } from 'ajv/dist/2020.js';
import { validateClusterProfile } from './generated/cluster-profile-validator.js';
import { clusterProfileSchema, type ClusterProfile, type ProfilePack } from './generated/cluster-profile.js';
import { selectorKind } from './versions.js';

export type { ClusterProfile, ProfilePack };
export { clusterProfileSchema };

function describe(error: ErrorObject): string {
  const where = error.instancePath === '' ? 'the profile' : error.instancePath;
  if (error.keyword === 'required') return `${where} is missing "${String(error.params['missingProperty'])}"`;
  if (error.keyword === 'additionalProperties') {
    return `${where} has an unknown field "${String(error.params['additionalProperty'])}"`;
  }
  if (error.keyword === 'enum') {
    return `${where} must be one of: ${(error.params['allowedValues'] as unknown[]).join(', ')}`;
  }
  return `${where} ${error.message ?? 'is invalid'}`;
}

/**
 * Validates a parsed cluster profile against schemas/profile.schema.json, that every pack's version
 * is a selector (names.ts `isVersionSelector`), and that no pack is listed twice.
 *
 * @example
 * const { profile, errors } = validateProfile({ name: 'prod-aws', version: '1.0.0', packs: [] });
 * errors; // []
 */
export function validateProfile(value: unknown): { profile: ClusterProfile | null; errors: string[] } {
  const validate = validateClusterProfile;
  if (!validate(value)) return { profile: null, errors: (validate.errors ?? []).map(describe) };
  const seen = new Set<string>();
  const errors: string[] = [];
  value.packs.forEach((pack, index) => {
    if (selectorKind(pack.version) === null) {
      errors.push(
        `/packs/${index}/version "${pack.version}" is not a version, a line tag (1.29.x) or a range (>=1.29 <1.30)`,
      );
    }
    if (seen.has(pack.name)) errors.push(`/packs/${index} lists ${pack.name} a second time`);
    seen.add(pack.name);
  });
  return errors.length > 0 ? { profile: null, errors } : { profile: value, errors };
}
