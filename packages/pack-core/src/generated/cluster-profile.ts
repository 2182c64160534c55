// Generated from schemas/profile.schema.json by scripts/gen-schema-types.mjs. Do not edit by hand.

/**
 * A cluster profile: the packs of a cluster's layers (os, k8s, cni, csi, add-ons), by name and version selector, with value overrides. Written as YAML or JSON; `packctl profile resolve` turns it into exact versions.
 */
export interface ClusterProfile {
  /**
   * URL or path of this schema, for editor support.
   */
  $schema?: string;
  /**
   * Profile name: lowercase letters, digits and inner hyphens, at most 64 characters.
   */
  name: string;
  /**
   * The profile's own version (semver), at most 128 characters.
   */
  version: string;
  description?: string;
  /**
   * cluster (the default): one pack for each of os, k8s, cni, csi, plus add-ons; add-on: add-ons only.
   */
  type?: 'cluster' | 'add-on';
  /**
   * The cloud the profile is for (aws, azure, vsphere, edge-native, ...); packs must support it.
   */
  cloudType?: string;
  /**
   * Registries to take packs from, in precedence order (at most 32).
   *
   * @maxItems 32
   */
  registries?: string[];
  /**
   * @maxItems 100
   */
  packs: ProfilePack[];
}
export interface ProfilePack {
  name: string;
  /**
   * An exact version, a line tag (1.29.x) or a semver range (>=1.29 <1.30), at most 256 characters.
   */
  version: string;
  /**
   * Take this pack from this registry only.
   */
  registry?: string;
  /**
   * YAML merged over the pack's values.yaml.
   */
  values?: string;
}

export const clusterProfileSchema = {
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://packyard.dev/schemas/profile.schema.json",
  "title": "ClusterProfile",
  "description": "A cluster profile: the packs of a cluster's layers (os, k8s, cni, csi, add-ons), by name and version selector, with value overrides. Written as YAML or JSON; `packctl profile resolve` turns it into exact versions.",
  "type": "object",
  "additionalProperties": false,
  "required": [
    "name",
    "version",
    "packs"
  ],
  "properties": {
    "$schema": {
      "type": "string",
      "description": "URL or path of this schema, for editor support."
    },
    "name": {
      "type": "string",
      "description": "Profile name: lowercase letters, digits and inner hyphens, at most 64 characters.",
      "minLength": 1,
      "maxLength": 64,
      "pattern": "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
    },
    "version": {
      "type": "string",
      "description": "The profile's own version (semver), at most 128 characters.",
      "maxLength": 128,
      "pattern": "^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-[0-9A-Za-z.-]+)?(?:\\+[0-9A-Za-z.-]+)?$"
    },
    "description": {
      "type": "string",
      "maxLength": 2000
    },
    "type": {
      "type": "string",
      "enum": [
        "cluster",
        "add-on"
      ],
      "description": "cluster (the default): one pack for each of os, k8s, cni, csi, plus add-ons; add-on: add-ons only."
    },
    "cloudType": {
      "type": "string",
      "maxLength": 64,
      "description": "The cloud the profile is for (aws, azure, vsphere, edge-native, ...); packs must support it."
    },
    "registries": {
      "type": "array",
      "description": "Registries to take packs from, in precedence order (at most 32).",
      "maxItems": 32,
      "items": {
        "type": "string",
        "minLength": 1,
        "maxLength": 64
      },
      "uniqueItems": true
    },
    "packs": {
      "type": "array",
      "maxItems": 100,
      "items": {
        "title": "ProfilePack",
        "type": "object",
        "additionalProperties": false,
        "required": [
          "name",
          "version"
        ],
        "properties": {
          "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 64,
            "pattern": "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
          },
          "version": {
            "type": "string",
            "minLength": 1,
            "maxLength": 256,
            "description": "An exact version, a line tag (1.29.x) or a semver range (>=1.29 <1.30), at most 256 characters."
          },
          "registry": {
            "type": "string",
            "minLength": 1,
            "maxLength": 64,
            "description": "Take this pack from this registry only."
          },
          "values": {
            "type": "string",
            "maxLength": 1048576,
            "description": "YAML merged over the pack's values.yaml."
          }
        }
      }
    }
  }
} as const;
