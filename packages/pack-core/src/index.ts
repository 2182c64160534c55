/**
 * @packyard/pack-core: the Packyard pack format as a library. Pure code over files and streams;
 * no HTTP and no process.exit, so the registry server and packctl share exactly one definition of
 * what a valid pack is.
 */
export * from './errors.js';
export * from './manifest.js';
export * from './profile.js';
export * from './resolve-profile.js';
export * from './readme.js';
export * from './versions.js';
export * from './names.js';
export * from './json-depth.js';
export * from './json-object.js';
export {
  parseYaml,
  neutraliseTemplates,
  hasTemplates,
  YAML_LIMITS,
  type ParsedYaml,
  type YamlProblem,
  type YamlProblemKind,
  type YamlLimits,
  type YamlDocumentInfo,
} from './yaml.js';
export * from './pack-dir.js';
export { packIgnore, type PackIgnore } from './packignore.js';
export * from './chart-archive.js';
export * from './archive/write-archive.js';
export * from './archive/read-archive.js';
export * from './archive/read-tar.js';
export * from './archive/write-tar.js';
export * from './archive/pack-layer.js';
export * from './archive/crc32-blocks.js';
export * from './archive/digest.js';
export * from './streams.js';
export * from './make-dir.js';
export * from './lint/rules.js';
export * from './lint/lint-pack.js';
export { directoryPackFiles, type PackFiles, type PathStatus } from './lint/pack-files.js';
export * from './build.js';
export * from './scaffold.js';
