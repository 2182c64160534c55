// Generated from schemas/pack.schema.json by scripts/gen-schema-types.mjs. Do not edit by hand.

export type PackLayer = 'kernel' | 'os' | 'k8s' | 'cni' | 'csi' | 'addon';
/**
 * A cloud Palette deploys to: one of knownCloudType, or the name of a custom cloud (Palette takes any name; lint warns on unknown ones).
 */
export type CloudType = string;
/**
 * A path relative to the pack root, with forward slashes.
 */
export type RelativePath = string;
/**
 * A version bound: full (1.27.4), partial (1.27) or empty/null for no bound.
 */
export type BoundVersion = string | null;

/**
 * pack.json: the manifest of a Packyard pack (the Spectro Cloud Palette pack format). Unknown fields are allowed; packctl lint warns about them.
 */
export interface PackManifest {
  /**
   * URL or path of this schema, for editor support.
   */
  $schema?: string;
  /**
   * Pack name: lowercase letters, digits and inner hyphens, at most 64 characters.
   */
  name: string;
  /**
   * Human-readable name.
   */
  displayName: string;
  /**
   * The pack version exactly as written, at most 128 characters: strict semver (1.9.0), or numeric dot segments with an optional leading v, pre-release and build (22.04, 1.5, v1.8.7).
   */
  version: string;
  layer: PackLayer;
  /**
   * Clouds the pack supports; "all" means every cloud.
   */
  cloudTypes?: CloudType[];
  cloudType?: CloudType;
  /**
   * Add-on category (free text): system app, monitoring, logging, ai, registry, security, app services, load balancer, ingress, authentication, servicemesh, ...
   */
  addonType?: string;
  addonSubType?: string;
  group?: string;
  /**
   * End-of-life date or note; may be empty.
   */
  eol?: string;
  /**
   * Helm chart archives (.tgz) inside the pack, as relative paths.
   */
  charts?: RelativePath[];
  /**
   * Kubernetes manifest files inside the pack, as relative paths.
   */
  kubeManifests?: RelativePath[];
  /**
   * Ansible roles inside the pack, as relative paths.
   */
  ansibleRoles?: RelativePath[];
  /**
   * Free-form string annotations (source, contributor, docsURL, ...).
   */
  annotations?: {
    [k: string]: string | undefined;
  };
  constraints?: PackConstraints;
  [k: string]: unknown | undefined;
}
export interface PackConstraints {
  dependencies?: PackDependency[];
  resources?: PackResourceConstraint[];
  [k: string]: unknown | undefined;
}
export interface PackDependency {
  packName: string;
  layer: string;
  minVersion?: BoundVersion;
  maxVersion?: BoundVersion;
  /**
   * How the dependency binds; a dependency without a type (published packs have some) is not checked.
   */
  type?: 'required' | 'optional' | 'notSupported' | 'upgrade';
  [k: string]: unknown | undefined;
}
export interface PackResourceConstraint {
  type: 'cpu' | 'memory' | 'diskSize';
  minLimit?: number;
  components?: PackResourceComponent[];
  [k: string]: unknown | undefined;
}
export interface PackResourceComponent {
  scheduleType: 'all' | 'master' | 'worker' | 'control-plane';
  resourceRequestParamRef?: string;
  replicaCountParamRef?: string;
  [k: string]: unknown | undefined;
}

export const packManifestSchema = {
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://packyard.dev/schemas/pack.schema.json",
  "title": "PackManifest",
  "description": "pack.json: the manifest of a Packyard pack (the Spectro Cloud Palette pack format). Unknown fields are allowed; packctl lint warns about them.",
  "type": "object",
  "required": [
    "name",
    "displayName",
    "version",
    "layer"
  ],
  "properties": {
    "$schema": {
      "type": "string",
      "description": "URL or path of this schema, for editor support."
    },
    "name": {
      "type": "string",
      "description": "Pack name: lowercase letters, digits and inner hyphens, at most 64 characters.",
      "minLength": 1,
      "maxLength": 64,
      "pattern": "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
    },
    "displayName": {
      "type": "string",
      "minLength": 1,
      "description": "Human-readable name."
    },
    "version": {
      "type": "string",
      "minLength": 1,
      "maxLength": 128,
      "pattern": "^v?\\d+(?:\\.\\d+)*(?:-[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?$",
      "description": "The pack version exactly as written, at most 128 characters: strict semver (1.9.0), or numeric dot segments with an optional leading v, pre-release and build (22.04, 1.5, v1.8.7)."
    },
    "layer": {
      "$ref": "#/$defs/layer"
    },
    "cloudTypes": {
      "type": "array",
      "description": "Clouds the pack supports; \"all\" means every cloud.",
      "items": {
        "$ref": "#/$defs/cloudType"
      }
    },
    "cloudType": {
      "$ref": "#/$defs/cloudType"
    },
    "addonType": {
      "type": "string",
      "description": "Add-on category (free text): system app, monitoring, logging, ai, registry, security, app services, load balancer, ingress, authentication, servicemesh, ..."
    },
    "addonSubType": {
      "type": "string"
    },
    "group": {
      "type": "string"
    },
    "eol": {
      "type": "string",
      "description": "End-of-life date or note; may be empty."
    },
    "charts": {
      "type": "array",
      "description": "Helm chart archives (.tgz) inside the pack, as relative paths.",
      "items": {
        "$ref": "#/$defs/relativePath"
      }
    },
    "kubeManifests": {
      "type": "array",
      "description": "Kubernetes manifest files inside the pack, as relative paths.",
      "items": {
        "$ref": "#/$defs/relativePath"
      }
    },
    "ansibleRoles": {
      "type": "array",
      "description": "Ansible roles inside the pack, as relative paths.",
      "items": {
        "$ref": "#/$defs/relativePath"
      }
    },
    "annotations": {
      "type": "object",
      "description": "Free-form string annotations (source, contributor, docsURL, ...).",
      "additionalProperties": {
        "type": "string"
      }
    },
    "constraints": {
      "$ref": "#/$defs/constraints"
    }
  },
  "additionalProperties": true,
  "$defs": {
    "layer": {
      "title": "PackLayer",
      "type": "string",
      "enum": [
        "kernel",
        "os",
        "k8s",
        "cni",
        "csi",
        "addon"
      ]
    },
    "cloudType": {
      "title": "CloudType",
      "type": "string",
      "description": "A cloud Palette deploys to: one of knownCloudType, or the name of a custom cloud (Palette takes any name; lint warns on unknown ones).",
      "minLength": 1,
      "maxLength": 64,
      "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$"
    },
    "knownCloudType": {
      "title": "KnownCloudType",
      "type": "string",
      "description": "The cloud types Palette and its packs name (Palette's v1CloudType, pack-central).",
      "enum": [
        "all",
        "aws",
        "azure",
        "gcp",
        "vsphere",
        "openstack",
        "baremetal",
        "maas",
        "aks",
        "eks",
        "gke",
        "tencent",
        "tke",
        "edge",
        "libvirt",
        "edge-native",
        "coxedge",
        "nested",
        "apache-cloudstack",
        "generic",
        "custom"
      ]
    },
    "relativePath": {
      "type": "string",
      "minLength": 1,
      "description": "A path relative to the pack root, with forward slashes."
    },
    "boundVersion": {
      "description": "A version bound: full (1.27.4), partial (1.27) or empty/null for no bound.",
      "type": [
        "string",
        "null"
      ]
    },
    "constraints": {
      "title": "PackConstraints",
      "type": "object",
      "properties": {
        "dependencies": {
          "type": "array",
          "items": {
            "$ref": "#/$defs/dependency"
          }
        },
        "resources": {
          "type": "array",
          "items": {
            "$ref": "#/$defs/resourceConstraint"
          }
        }
      },
      "additionalProperties": true
    },
    "dependency": {
      "title": "PackDependency",
      "type": "object",
      "required": [
        "packName",
        "layer"
      ],
      "properties": {
        "packName": {
          "type": "string",
          "minLength": 1
        },
        "layer": {
          "type": "string",
          "minLength": 1
        },
        "minVersion": {
          "$ref": "#/$defs/boundVersion"
        },
        "maxVersion": {
          "$ref": "#/$defs/boundVersion"
        },
        "type": {
          "type": "string",
          "enum": [
            "required",
            "optional",
            "notSupported",
            "upgrade"
          ],
          "description": "How the dependency binds; a dependency without a type (published packs have some) is not checked."
        }
      },
      "additionalProperties": true
    },
    "resourceConstraint": {
      "title": "PackResourceConstraint",
      "type": "object",
      "required": [
        "type"
      ],
      "properties": {
        "type": {
          "type": "string",
          "enum": [
            "cpu",
            "memory",
            "diskSize"
          ]
        },
        "minLimit": {
          "type": "number",
          "minimum": 0
        },
        "components": {
          "type": "array",
          "items": {
            "title": "PackResourceComponent",
            "type": "object",
            "required": [
              "scheduleType"
            ],
            "properties": {
              "scheduleType": {
                "type": "string",
                "enum": [
                  "all",
                  "master",
                  "worker",
                  "control-plane"
                ]
              },
              "resourceRequestParamRef": {
                "type": "string"
              },
              "replicaCountParamRef": {
                "type": "string"
              }
            },
            "additionalProperties": true
          }
        }
      },
      "additionalProperties": true
    }
  }
} as const;
