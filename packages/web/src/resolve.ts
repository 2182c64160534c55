/**
 * Resolving a cluster profile in the browser with pack-core's resolver, the very code
 * `packctl profile resolve` runs, fed by the same public API: a pack's versions from its detail,
 * a version's layer, clouds and constraints from its record, its values.yaml from the file route.
 * Loaded only by the profile page (its own chunk: the resolver brings the YAML parser).
 */
import {
  resolveProfile,
  type ClusterProfile,
  type PackSource,
  type ProfileResolution,
  type SourceDetails,
} from '@packyard/pack-core/resolve-profile';
import { ApiError, packDetail, packText, versionRecord } from './api.js';

export type { ProfileResolution };

/** The resolution, and the layer of every pack found (to place even those that did not resolve). */
export interface BrowserResolution {
  resolution: ProfileResolution;
  layerOf: Map<string, string>;
}

/** A registry the visitor may not read has no packs, as far as they are concerned. */
function unreadable(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 403 || err.status === 404);
}

function apiSource(signal: AbortSignal, layerOf: Map<string, string>): PackSource {
  return {
    async versions(registry, name) {
      try {
        const detail = await packDetail(registry, name, signal);
        if (!layerOf.has(name)) layerOf.set(name, detail.layer);
        return detail.versions.map((v) => ({
          version: v.version,
          deprecated: v.deprecated !== null,
          deprecation: v.deprecated,
        }));
      } catch (err) {
        if (unreadable(err)) return null;
        throw err;
      }
    },
    async details(registry, name, version): Promise<SourceDetails> {
      const [record, values] = await Promise.all([
        versionRecord(registry, name, version, signal),
        packText({ registry, name, version }, 'values.yaml', signal),
      ]);
      // The registry validated pack.json against the schema when it was published.
      const manifest = record.manifest as typeof record.manifest & { cloudType?: string };
      const clouds = manifest.cloudTypes ?? (manifest.cloudType === undefined ? [] : [manifest.cloudType]);
      return {
        digest: record.digest,
        layer: manifest.layer as SourceDetails['layer'],
        cloudTypes: clouds,
        dependencies: manifest.constraints?.dependencies ?? [],
        values,
      };
    },
  };
}

export async function resolveInBrowser(profile: ClusterProfile, signal: AbortSignal): Promise<BrowserResolution> {
  const layerOf = new Map<string, string>();
  return { resolution: await resolveProfile(profile, apiSource(signal, layerOf)), layerOf };
}
