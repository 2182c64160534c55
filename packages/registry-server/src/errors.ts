/**
 * The registry's catalogue of error codes (pack-core's own are in its `errors.ts`): each code's
 * HTTP status, what it means and its default hint. Every error the registry raises goes through
 * {@link registryError}, so a code that is not catalogued does not compile and one code always
 * has one status; docs/error-codes.md is generated from here (`node scripts/gen-error-docs.mjs`).
 */
import { cataloguedError, type ErrorSpec, type PackError, type PackErrorOptions } from '@packyard/pack-core';

/** What the registry answers for requests, uploads, downloads, storage and configuration. */
export const SERVER_ERRORS = {
  AUTH_REQUIRED: {
    status: 401,
    meaning: 'The action needs an authenticated caller; send `Authorization: Bearer <token>`.',
    hint: 'send Authorization: Bearer <token or API key> (packctl login <server>)',
  },
  AUTH_INVALID: {
    status: 401,
    meaning: 'The credentials sent match nobody (never silently treated as anonymous).',
    hint: 'log in again (packctl login <server>) or check the token',
  },
  FORBIDDEN: {
    status: 403,
    meaning: 'The caller is known but may not perform the action.',
    hint: 'ask an administrator of that scope for a role that holds it',
  },
  ROUTE_NOT_FOUND: {
    status: 404,
    meaning: 'No route has this method and path (`/openapi.json` lists them).',
    hint: 'GET /openapi.json describes every route',
  },
  REGISTRY_NOT_FOUND: {
    status: 404,
    meaning: 'The registry does not exist.',
    hint: 'packctl registry ls lists the registries you can read',
  },
  REGISTRY_LIMIT_REACHED: {
    status: 409,
    meaning: "The tenant holds 1,000 registries already (its projects' included).",
    hint: 'a registry holds any number of packs: publish into the ones the tenant has (a project registry goes with its project); `details.limit` is the bound',
  },
  REGISTRY_EXISTS: {
    status: 409,
    meaning: 'A registry of that name exists already.',
    hint: 'choose another name, or change the existing one (packctl registry update)',
  },
  NAMESPACE_TAKEN: {
    status: 409,
    meaning:
      "The name would share a level of the OCI names (`/v2/...`) with another: tenants and system registries are both first segments, a tenant's registries and its projects both second ones.",
    hint: "choose another name: tenant names differ from system registry names, project names from their tenant's registry names",
  },
  REGISTRY_INVALID: {
    status: 400,
    meaning: 'A tenant or project registry was created without its tenant or project.',
    hint: 'name its tenant (and project): packctl registry create NAME --tenant T [--project P]',
  },
  PACK_NOT_FOUND: {
    status: 404,
    meaning: 'The registry has no pack of that name.',
  },
  PACK_VERSION_NOT_FOUND: {
    status: 404,
    meaning: 'No version of the pack matches the version, tag or range asked for.',
  },
  PACK_VERSION_DELETED: {
    status: 409,
    meaning:
      'A publish of a deleted version with other bytes: a deleted version can only be restored with its original bytes.',
    hint: 'publish under a new version number',
  },
  PACK_VERSION_GONE: {
    status: 410,
    meaning: 'The version was deleted: it can no longer be read, deprecated or deleted again.',
    hint: 'packctl show NAME --registry REGISTRY lists the versions still published',
  },
  PACK_VERSION_EXISTS: {
    status: 409,
    meaning:
      'The version is published with other bytes; bump the version (or force with a message where overwrite is allowed).',
    hint: 'bump the version in pack.json and push again; to replace the bytes, push with --force and a message (the registry must allow overwrite)',
  },
  OVERWRITE_NOT_ALLOWED: {
    status: 409,
    meaning: '`force` was asked for in a registry whose `allowOverwrite` is off (the default).',
    hint: 'publish a new version instead, or ask an administrator to enable allowOverwrite on the registry',
  },
  MESSAGE_REQUIRED: {
    status: 400,
    meaning: 'A forced overwrite or a deprecation needs a message.',
    hint: 'pass ?message=... (packctl push --force -m "...")',
  },
  PACK_INVALID: {
    status: 422,
    meaning:
      "pack.json or the pack's contents fail validation; `details.findings` lists the lint errors with their rule ids.",
    hint: 'run `packctl lint` on the pack directory, fix every error, then build and push again',
  },
  PACK_TOO_EXPENSIVE: {
    status: 422,
    meaning: 'Checking the pack took longer than the registry allows (60 s by default) or too much memory.',
    hint: 'a pack this costly to read is usually a decompression bomb or huge YAML; build it with `packctl build`, keep YAML files small, or ask the operator to raise the inspection budget',
  },
  UPLOAD_EMPTY: {
    status: 400,
    meaning: 'The request carried no bytes (or a multipart body without a file).',
    hint: 'attach the pack zip as a file field (curl -F file=@my-pack-1.0.0.zip)',
  },
  UPLOAD_INVALID: {
    status: 400,
    meaning: 'A malformed multipart body.',
    hint: 'send the zip as the body with Content-Type: application/zip, or as a multipart file field',
  },
  UPLOAD_TOO_LARGE: {
    status: 413,
    meaning: 'The upload is larger than `limits.maxUploadBytes` (2 GiB by default).',
    hint: 'ask the registry operator to raise limits.maxUploadBytes, or make the pack smaller',
  },
  INVALID_DIGEST: {
    status: 400,
    meaning: '`Content-Digest` or `?digest=` is not a sha256 digest.',
    hint: 'send Content-Digest: sha-256=:<base64 of the sha256>: or ?digest=sha256:<hex>, or neither',
  },
  DIGEST_MISMATCH: {
    status: 400,
    meaning: "The body's sha256 is not the digest the client announced: nothing was stored.",
    hint: 'the upload was damaged on the way, or the digest was computed over other bytes: push again',
  },
  UPLOAD_ABORTED: {
    status: 400,
    meaning: 'The client closed the connection before the upload ended; nothing was stored.',
    hint: 'retry the upload',
  },
  FILE_NOT_FOUND: {
    status: 404,
    meaning: 'The pack version has no file at that path (`GET .../files/{path}`).',
  },
  INVALID_PATH: {
    status: 400,
    meaning: 'A file path that is absolute, has `..` or is otherwise unsafe.',
    hint: 'ask for a path inside the pack, such as values.yaml or charts/x-1.0.0.tgz',
  },
  INVALID_PARAMETER: {
    status: 400,
    meaning:
      'A query parameter is malformed (a limit out of range, an unknown sort, a foreign cursor, a bad version selector).',
    hint: 'correct the parameter the message names',
  },
  INVALID_NAME: {
    status: 400,
    meaning:
      'A name in the path (registry, pack, version or selector, tenant, project, user, team, role, profile, id) breaks its grammar, or a name cannot form a storage key.',
  },
  INVALID_BODY: {
    status: 400,
    meaning: 'A JSON body does not match its schema; `details.problems` lists every problem.',
    hint: 'correct each field the message lists',
  },
  INVALID_JSON: {
    status: 400,
    meaning: 'A JSON body does not parse.',
    hint: 'send a JSON object with Content-Type: application/json',
  },
  BODY_TOO_LARGE: {
    status: 413,
    meaning: 'A JSON body is over its limit: 64 KiB, a cluster profile 2 MiB, a /v2/token form 16 KiB.',
    hint: 'send a smaller body; packs and blobs go through their upload routes, which take gigabytes',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    meaning: 'A JSON body in a charset or content encoding the registry does not read.',
    hint: 'send JSON as UTF-8, without Content-Encoding',
  },
  BAD_REQUEST: {
    status: 400,
    meaning: 'Another malformed request (a URL that does not decode, say).',
    hint: 'check the URL: each %-escape must be two hex digits, and together they must spell UTF-8',
  },
  RANGE_NOT_SATISFIABLE: {
    status: 416,
    meaning:
      'The byte range asked for starts past the end of the archive (several ranges, or another unit, are ignored: 200).',
  },
  STORAGE_UNAVAILABLE: {
    status: 503,
    meaning:
      'The storage backend cannot be reached, or the local disk refuses the registry (mounted read-only, its modes changed); `Retry-After` says when to retry, and `/readyz` fails meanwhile.',
    hint: 'the registry cannot reach its storage right now; retry shortly (the operator finds the cause in the server log)',
  },
  STORAGE_FULL: {
    status: 507,
    meaning:
      "The registry's disk (upload area, fs store) is full; nothing was stored. The operator frees space, then retry.",
    hint: 'the registry operator must free disk space (or raise the quota); retry afterwards',
  },
  BLOB_MISSING: {
    status: 500,
    meaning: "A version's archive is missing from storage (lost outside the registry): restore it from backup.",
    hint: 'the registry storage lost an object; restore it from backup or publish the version again',
  },
  INTERNAL_ERROR: {
    status: 500,
    meaning: "An unexpected failure; the server log has it under the response's `X-Request-Id`.",
    hint: 'the server log has the details under this request id',
  },
  PORT_IN_USE: {
    status: null,
    meaning:
      '`pack-registry` refuses to start, before it creates anything: another program listens on its port (exit code 1).',
    hint: 'pick another port with --port N (or PACKYARD_PORT), or stop what listens there',
  },
  GC_RUNNING: {
    status: null,
    meaning:
      '`pack-registry gc` refuses to start: another run holds the store (one at a time, whatever host it runs on; exit code 1).',
    hint: 'wait for the other run to finish; a run that was killed lets go of the store 5 minutes after its last sign of life',
  },
  GC_STOPPED: {
    status: null,
    meaning:
      '`pack-registry gc` stopped before the end: a signal (SIGINT, SIGTERM), or its hold on the store lost; it printed what it did (exit code 1).',
    hint: 'run it again to finish',
  },
  CONFIG_INVALID: {
    status: null,
    meaning:
      '`pack-registry` refuses to start: the configuration file, a `PACKYARD_*` variable or a flag is invalid (exit code 1).',
  },
} as const satisfies Record<string, ErrorSpec>;

/** Signing in, tenants, projects, users, teams, roles, bindings, API keys, profiles and audit. */
export const IDENTITY_ERRORS = {
  LOGIN_FAILED: {
    status: 401,
    meaning: 'The username or password is wrong (the answer does not say which).',
    hint: 'check both, or ask a tenant user admin to reset the password',
  },
  PASSWORD_RESET_REQUIRED: {
    status: 401,
    meaning:
      "The password is right, but another user set it (a reset, a password given at creation, or the owner's own change from a session such a password opened) who does not hold every permission its owner holds now: it is worth no more than they are.",
    hint: 'ask the operator, or an administrator holding every permission you hold, to set it again',
  },
  LOGIN_RATE_LIMITED: {
    status: 429,
    meaning:
      'Too many password attempts for this username or client address (counted before hashing, by every replica); wait `Retry-After` seconds.',
  },
  LOGIN_BUSY: {
    status: 429,
    meaning:
      'Too many password checks waiting in this process, or from this client address; retry after `Retry-After` seconds.',
  },
  CURRENT_PASSWORD_INCORRECT: {
    status: 403,
    meaning: 'POST /v1/auth/password: the current password is wrong (counted against the login limits).',
    hint: 'send the password you sign in with as currentPassword; a user admin can reset a forgotten one',
  },
  CURRENT_PASSWORD_REQUIRED: {
    status: 400,
    meaning:
      'A PATCH of your own user with a password: change your own password with POST /v1/auth/password and the current one.',
    hint: 'change your own password with packctl passwd, which asks for the current one',
  },
  PASSWORD_NOT_APPLICABLE: {
    status: 400,
    meaning: 'POST /v1/auth/password with the bootstrap admin token, which has no password: sign in as the SuperAdmin.',
    hint: 'sign in as the SuperAdmin (packctl login -u NAME) and run packctl passwd; the admin token is rotated in the server configuration',
  },
  TOKEN_NOT_REFRESHABLE: {
    status: 400,
    meaning:
      'Only a token from `POST /v1/auth/login` or an API key can be refreshed (not the bootstrap admin token), until its session ends.',
    hint: 'sign in again: packctl login',
  },
  TENANT_NOT_FOUND: {
    status: 404,
    meaning: "No such tenant, or it is another tenant's (the two look the same).",
  },
  PROJECT_NOT_FOUND: {
    status: 404,
    meaning: 'No such project, user, team, role, role binding or API key in the tenant.',
  },
  USER_NOT_FOUND: {
    status: 404,
    meaning: 'No such project, user, team, role, role binding or API key in the tenant.',
  },
  TEAM_NOT_FOUND: {
    status: 404,
    meaning: 'No such project, user, team, role, role binding or API key in the tenant.',
  },
  ROLE_NOT_FOUND: {
    status: 404,
    meaning: 'No such project, user, team, role, role binding or API key in the tenant.',
  },
  BINDING_NOT_FOUND: {
    status: 404,
    meaning: 'No such project, user, team, role, role binding or API key in the tenant.',
  },
  API_KEY_NOT_FOUND: {
    status: 404,
    meaning: 'No such project, user, team, role, role binding or API key in the tenant.',
  },
  TENANT_EXISTS: {
    status: 409,
    meaning:
      'The name is taken. Usernames are unique across tenants; role names regardless of case, built-in roles included.',
  },
  PROJECT_EXISTS: {
    status: 409,
    meaning:
      'The name is taken. Usernames are unique across tenants; role names regardless of case, built-in roles included.',
  },
  USER_EXISTS: {
    status: 409,
    meaning:
      'The name is taken. Usernames are unique across tenants; role names regardless of case, built-in roles included.',
  },
  TEAM_EXISTS: {
    status: 409,
    meaning:
      'The name is taken. Usernames are unique across tenants; role names regardless of case, built-in roles included.',
  },
  ROLE_EXISTS: {
    status: 409,
    meaning:
      'The name is taken. Usernames are unique across tenants; role names regardless of case, built-in roles included.',
  },
  TENANT_NOT_EMPTY: {
    status: 409,
    meaning: 'The tenant or project still owns registries; delete them first.',
    hint: 'delete or move its registries first',
  },
  PROJECT_NOT_EMPTY: {
    status: 409,
    meaning: 'The tenant or project still owns registries; delete them first.',
    hint: 'delete its registries first',
  },
  ROLE_INVALID: {
    status: 400,
    meaning: "A custom role names an unknown permission, or one not valid in the role's scope (`GET /v1/permissions`).",
    hint: 'packctl role permissions lists every permission and the scopes it applies in',
  },
  ROLE_BUILT_IN: {
    status: 409,
    meaning: 'Built-in roles cannot be changed or deleted.',
    hint: 'create a custom role with the permissions you need',
  },
  ROLE_IN_USE: {
    status: 409,
    meaning: 'The custom role is still bound; remove its bindings first.',
    hint: 'remove its role bindings first (packctl binding ls, then packctl binding rm ID)',
  },
  IDENTITY_BUSY: {
    status: 503,
    meaning:
      "A change to a tenant's users, keys, teams, roles or bindings could not take its turn in time (many changes to one tenant at once); nothing was changed. `Retry-After` says when to retry.",
    hint: 'retry the same command in a moment: nothing was changed',
  },
  ROLE_SCOPE_MISMATCH: {
    status: 400,
    meaning: 'A tenant role bound in a project, or a project role bound tenant-wide.',
  },
  ROLE_ESCALATION: {
    status: 403,
    meaning:
      'The caller tried to give or take away (binding, team members, team deletion, custom role) permissions they do not hold in that scope.',
    hint: 'only someone who holds a permission in a scope can give it, or take it away, there',
  },
  USER_OUTRANKS_CALLER: {
    status: 403,
    meaning:
      'The user acted on (password, API keys, enabled, name, deletion, bindings, teams) holds permissions the caller does not hold.',
    hint: 'acting on another user needs every permission they hold, in every scope they hold it; ask a Tenant Admin',
  },
  PROFILE_INVALID: {
    status: 400,
    meaning:
      "A cluster profile does not match `schemas/profile.schema.json` (every problem is in `details.problems`), lists a pack twice, or is PUT to another name's URL.",
    hint: 'check it against schemas/profile.schema.json (packctl profile resolve reports the same problems)',
  },
  PROFILE_NOT_FOUND: {
    status: 404,
    meaning:
      'No cluster profile of that name in the scope (nor inherited from above, for reads), or not the revision asked for.',
    hint: 'packctl profile ls lists the cluster profiles of the scope (--tenant, --project)',
  },
  PROFILE_EXISTS: {
    status: 409,
    meaning: 'A cluster profile of that name exists in the scope; PUT to its URL to change it.',
    hint: 'PUT to its URL to change it, or choose another name',
  },
  PROFILE_INHERITED: {
    status: 403,
    meaning: 'The profile belongs to a scope above (tenant or system): read-only in this scope.',
  },
  AUDIT_ENTRY_NOT_FOUND: {
    status: 404,
    meaning: 'No audit entry with that id in the scope asked.',
    hint: 'entry ids come from the audit list of the same scope',
  },
  IDENTITY_LIMIT_REACHED: {
    status: 409,
    meaning:
      'The change would make the tenant hold more records of a kind than it may (50,000 users, 5,000 teams, 5,000 projects, 1,000 custom roles, 50,000 role bindings, 50,000 API keys, 200,000 team memberships), or the user more than 100 API keys that still work. Revoked and expired keys make room by themselves.',
    hint: 'delete what is no longer needed first (the message says what); `details.limit` is the bound',
  },
  API_KEY_INVALID: {
    status: 400,
    meaning: "An API key's `expiresAt` is not a future date-time.",
    hint: 'pass an ISO 8601 date-time in the future, or leave expiresAt out for a key that does not expire',
  },
} as const satisfies Record<string, ErrorSpec>;

/**
 * The OCI Distribution Specification's codes, answered on /v2 in its envelope
 * `{"errors":[{"code","message","detail"}]}` (oci/oci-errors.ts); registry codes raised on /v2
 * (AUTH_REQUIRED, FORBIDDEN, ...) are answered there under their OCI equivalent.
 */
export const OCI_ERRORS = {
  BLOB_UNKNOWN: { status: 404, meaning: 'The blob is not in the repository (never pushed or mounted there).' },
  BLOB_UPLOAD_INVALID: {
    status: 400,
    meaning: 'The upload session is in a state the request cannot continue from (a body sent twice, say).',
  },
  BLOB_UPLOAD_UNKNOWN: {
    status: 404,
    meaning:
      'No such upload session: never started, finished, cancelled or expired, or started on another replica (chunked uploads need sticky sessions).',
  },
  DIGEST_INVALID: {
    status: 400,
    meaning: 'The digest is malformed, of an algorithm other than sha256 and sha512, or does not match the content.',
  },
  MANIFEST_BLOB_UNKNOWN: {
    status: 400,
    meaning: 'The manifest references a blob or manifest the repository does not hold.',
  },
  MANIFEST_INVALID: {
    status: 400,
    meaning: 'The manifest is not valid JSON of a supported media type, or not what its Content-Type says.',
  },
  MANIFEST_UNKNOWN: { status: 404, meaning: 'The repository has no manifest under this tag or digest.' },
  NAME_INVALID: {
    status: 400,
    meaning: 'The repository name, tag or digest in the path is outside the OCI grammar.',
  },
  NAME_UNKNOWN: {
    status: 404,
    meaning:
      "The repository name maps onto no registry the caller may see (another tenant's answers the same), or the repository holds nothing yet.",
  },
  SIZE_INVALID: {
    status: 400,
    meaning: 'The content is larger than the limit (oci.maxBlobBytes, oci.maxManifestBytes) or than it said.',
  },
  UNAUTHORIZED: { status: 401, meaning: 'The /v2 request needs credentials (see the WWW-Authenticate challenge).' },
  DENIED: { status: 403, meaning: 'The caller may not do this in that registry.' },
  UNSUPPORTED: { status: 400, meaning: 'The operation or parameter is not supported.' },
  METHOD_NOT_ALLOWED: {
    status: 405,
    meaning:
      'The resource does not take that method (`Allow` lists those it takes): a pack version is deleted through /v1, leaving a tombstone, not with an OCI DELETE. Answered as UNSUPPORTED on /v2.',
  },
  BODY_IDLE_TIMEOUT: {
    status: 408,
    meaning:
      'The request body brought less than 1 KiB a second over oci.bodyIdleSeconds (a pause, or a byte now and then); the connection is closed. A chunked upload keeps what it had before the chunk.',
  },
  TOOMANYREQUESTS: {
    status: 429,
    meaning:
      'Too many uploads are open in this process (sessions, and blobs or manifests sent whole while they arrive), or the caller holds 200 already, or too many manifest bodies are arriving at once; finish or cancel some, or retry after `Retry-After` seconds.',
  },
  RANGE_INVALID: {
    status: 416,
    meaning:
      'An upload chunk does not start where the upload ends (its Content-Range), or a blob range is outside the blob; the Range header tells where it stands.',
  },
} as const satisfies Record<string, ErrorSpec>;

export const REGISTRY_ERRORS = { ...SERVER_ERRORS, ...IDENTITY_ERRORS, ...OCI_ERRORS };

export type RegistryErrorCode = keyof typeof REGISTRY_ERRORS;

/**
 * The registry's way to raise an error: a catalogued code, with the catalogue's status and hint.
 *
 * @example
 * throw registryError('REGISTRY_NOT_FOUND', `registry "${name}" does not exist`);
 */
export function registryError(code: RegistryErrorCode, message: string, options: PackErrorOptions = {}): PackError {
  return cataloguedError(REGISTRY_ERRORS, code, message, options);
}

/** The most problems an answer lists in `details.problems`; the rest are counted, not listed. */
export const MAX_LISTED_PROBLEMS = 50;

/**
 * `problems` as an answer carries them: the first {@link MAX_LISTED_PROBLEMS}, then how many more
 * there were (a body with 150,000 unknown keys must not get a 7 MB answer), and the first few
 * again for the message.
 */
export function listedProblems(problems: readonly string[]): { summary: string; listed: string[] } {
  const more = problems.length - MAX_LISTED_PROBLEMS;
  const listed = more > 0 ? [...problems.slice(0, MAX_LISTED_PROBLEMS), `... and ${more} more`] : [...problems];
  const shown = problems.slice(0, 5).join('; ');
  return { summary: problems.length > 5 ? `${shown}; ... (${problems.length} in all)` : shown, listed };
}
