/**
 * Helpers for the end-to-end OCI tests (issue 13): a `pack-registry` process with authentication
 * on and a SuperAdmin who may push to the system registry, a user whose rights are one project
 * registry only, the external tools the tests drive (skopeo, the conformance suite's Go), and a
 * small OCI client that authenticates as ORAS and skopeo do: the request goes out bare, a 401's
 * `WWW-Authenticate: Bearer realm=...,service=...,scope=...` is followed to the token endpoint with
 * Basic credentials, and the request is sent again with the token.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { tempDir } from '../packages/registry-server/src/test-support/test-registry.js';
import {
  ADMIN_TOKEN,
  startRegistryProcess,
  storageEnv,
  type Backend,
  type RegistryProcess,
} from './registry-process.js';

/** CI=true runs everything: a missing tool fails there, and only skips on a developer's machine. */
export const IN_CI = process.env['CI'] === 'true';

/** The SuperAdmin of every OCI test registry: the operator, who may push to `public`. */
export const OPERATOR = { username: 'oci-operator', password: 'oci operator password for the e2e tests' };

/** Why `command args` cannot run here, or undefined when it can. */
export function toolProblem(command: string, args: string[], hint: string): string | undefined {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  if (result.error === undefined && result.status === 0) return undefined;
  return `\`${command}\` is not available (${result.error?.message ?? `exit ${result.status}`}): ${hint}`;
}

/**
 * `describe` when nothing is missing; otherwise, in CI, one failing test that names what is
 * missing, and elsewhere a skipped block whose title says why.
 */
export function describeWhenAvailable(title: string, problems: Array<string | undefined>, body: () => void): void {
  const missing = problems.filter((problem): problem is string => problem !== undefined);
  if (missing.length === 0) {
    describe(title, body);
  } else if (IN_CI) {
    describe(title, () => {
      it('has what it needs', () => {
        throw new Error(`CI=true but ${missing.join('; ')}`);
      });
    });
  } else {
    describe.skip(`${title} (skipped: ${missing.join('; ')})`, body);
  }
}

/** The Ceph RGW of CI (S3_TEST_ENDPOINT), as a problem when it is not configured. */
export const CEPH_PROBLEM = process.env['S3_TEST_ENDPOINT']
  ? undefined
  : 'S3_TEST_ENDPOINT is not set: start Ceph RGW with scripts/ceph-rgw.sh start and export S3_TEST_ENDPOINT=http://127.0.0.1:7480';

/** A `pack-registry` process on `backend` whose SuperAdmin is {@link OPERATOR}. */
export function startOciRegistry(backend: Backend, dir: string): Promise<RegistryProcess> {
  return startRegistryProcess({
    dataDir: dir,
    env: {
      ...storageEnv(backend, `${dir}/store`),
      PACKYARD_SUPERADMIN_USERNAME: OPERATOR.username,
      PACKYARD_SUPERADMIN_PASSWORD: OPERATOR.password,
    },
  });
}

/** A /v1 call as the bootstrap admin; throws on an error status. */
export async function adminApi(base: string, method: string, url: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

export interface ProjectPusher {
  /** The OCI namespace of the project registry: `<tenant>/<project>/<registry>`. */
  namespace: string;
  username: string;
  password: string;
}

/**
 * Tenant `tenant`, its project `project` with the project registry `registry`, and a user of the
 * tenant whose only binding is a project role in that project that may read and update pack
 * registries: they can push there and nowhere else.
 */
export async function projectPusher(
  base: string,
  names: { tenant: string; project: string; registry: string; username: string },
): Promise<ProjectPusher> {
  const { tenant, project, registry, username } = names;
  const password = `${username} password for the oci e2e tests`;
  await adminApi(base, 'POST', '/v1/tenants', { name: tenant });
  await adminApi(base, 'POST', `/v1/tenants/${tenant}/projects`, { name: project });
  await adminApi(base, 'POST', `/v1/tenants/${tenant}/users`, { username, password });
  await adminApi(base, 'POST', `/v1/tenants/${tenant}/roles`, {
    name: 'OciPusher',
    scope: 'project',
    description: 'Pull and push OCI content in the project registries',
    permissions: ['packRegistry.get', 'packRegistry.list', 'packRegistry.update'],
  });
  await adminApi(base, 'POST', `/v1/tenants/${tenant}/bindings`, {
    role: 'OciPusher',
    subject: { kind: 'user', name: username },
    project,
  });
  await adminApi(base, 'POST', '/v1/registries', { name: registry, scope: 'project', tenant, project });
  return { namespace: `${tenant}/${project}/${registry}`, username, password };
}

/** What a test file's registry fixture holds once its `beforeAll` ran. */
export interface OciFixture {
  /** The file's temp dir (removed after the file). */
  dir: string;
  registry: RegistryProcess;
  pusher: ProjectPusher;
  /** An OCI client with the pusher's credentials, of the current process. */
  request: OciRequest;
  /** Stops the process and starts another on the same store (and data dir). */
  restart(): Promise<void>;
}

/**
 * One `pack-registry` process for the test file (or describe block) that calls it, with the
 * project registry `names.registry` and its pusher; started in `beforeAll`, stopped and its temp
 * dir removed in `afterAll`. The returned object is filled in when `beforeAll` has run.
 */
export function useOciRegistry(
  backend: Backend,
  names: { tenant: string; project: string; registry: string; username: string },
): OciFixture {
  // Filled in by beforeAll: the tests run after it.
  const fixture = {} as OciFixture;
  let work: Awaited<ReturnType<typeof tempDir>> | undefined;
  let running: RegistryProcess | undefined;
  const start = async () => {
    running = await startOciRegistry(backend, `${fixture.dir}/registry`);
    fixture.registry = running;
  };
  beforeAll(async () => {
    work = await tempDir(`packyard-oci-${names.registry}-`);
    fixture.dir = work.dir;
    await start();
    fixture.pusher = await projectPusher(fixture.registry.url, names);
    fixture.request = ociClient(fixture.registry.url, fixture.pusher);
    fixture.restart = async () => {
      await fixture.registry.stop();
      await start();
      fixture.request = ociClient(fixture.registry.url, fixture.pusher);
    };
  }, 120_000);
  afterAll(async () => {
    await running?.stop();
    await work?.cleanup();
  });
  return fixture;
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export interface OciResponse {
  status: number;
  headers: Headers;
  bytes: Buffer;
  /** The body as JSON, or undefined when it is not JSON. */
  json(): unknown;
}

export interface Credentials {
  username: string;
  password: string;
}

/** Splits `Bearer realm="...",service="...",scope="..."` into its parameters. */
export function challengeParams(header: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const match of header.matchAll(/\b(\w+)="([^"]*)"/g)) {
    const [, key, value] = match;
    if (key !== undefined && value !== undefined) params[key] = value;
  }
  return params;
}

/**
 * A registry client that authenticates as registry clients do (one bearer token per challenge
 * scope, fetched with Basic credentials), and answers with the whole body.
 */
export function ociClient(base: string, credentials?: Credentials) {
  const tokens = new Map<string, string>();
  const basic = credentials
    ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
    : undefined;

  async function token(challenge: string): Promise<string | undefined> {
    const { realm, service, scope } = challengeParams(challenge);
    if (realm === undefined || basic === undefined) return undefined;
    const key = `${service ?? ''} ${scope ?? ''}`;
    const known = tokens.get(key);
    if (known !== undefined) return known;
    const url = new URL(realm);
    if (service !== undefined) url.searchParams.set('service', service);
    if (scope !== undefined) url.searchParams.set('scope', scope);
    const res = await fetch(url, { headers: { Authorization: basic } });
    if (!res.ok) throw new Error(`token endpoint ${url.href}: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { token?: string; access_token?: string };
    const issued = body.token ?? body.access_token;
    if (issued === undefined) throw new Error(`token endpoint ${url.href} issued no token`);
    tokens.set(key, issued);
    return issued;
  }

  async function send(method: string, url: string, authorization: string | undefined, init: RequestInit) {
    const headers = new Headers(init.headers);
    if (authorization !== undefined) headers.set('Authorization', authorization);
    const res = await fetch(url.startsWith('http') ? url : `${base}${url}`, {
      ...init,
      method,
      headers,
      redirect: 'follow',
    });
    return { res, bytes: Buffer.from(await res.arrayBuffer()) };
  }

  return async function request(method: string, url: string, init: RequestInit = {}): Promise<OciResponse> {
    let { res, bytes } = await send(method, url, undefined, init);
    const challenge = res.headers.get('www-authenticate');
    if (res.status === 401 && challenge !== null) {
      const issued = challenge.startsWith('Bearer') ? await token(challenge) : undefined;
      const authorization = issued === undefined ? basic : `Bearer ${issued}`;
      if (authorization !== undefined) ({ res, bytes } = await send(method, url, authorization, init));
    }
    return {
      status: res.status,
      headers: res.headers,
      bytes,
      json: () => {
        try {
          return JSON.parse(bytes.toString('utf8')) as unknown;
        } catch {
          return undefined;
        }
      },
    };
  };
}

export type OciRequest = ReturnType<typeof ociClient>;

/** Monolithic blob push (POST, then PUT with the digest); throws unless the registry stored it. */
export async function pushBlob(request: OciRequest, repository: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const started = await request('POST', `/v2/${repository}/blobs/uploads/`);
  const location = started.headers.get('location');
  if (started.status !== 202 || location === null) {
    throw new Error(`POST upload in ${repository}: ${started.status} ${started.bytes.toString()}`);
  }
  const target = new URL(location, 'http://placeholder');
  target.searchParams.set('digest', digest);
  const url = location.startsWith('http') ? target.href : `${target.pathname}${target.search}`;
  const put = await request('PUT', url, {
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.length) },
    body: bytes,
  });
  if (put.status !== 201) throw new Error(`PUT blob ${digest} in ${repository}: ${put.status} ${put.bytes.toString()}`);
  return digest;
}

/** The OCI error envelope's codes in a response, or [] when it is not one. */
export function errorCodes(response: OciResponse): string[] {
  const body = response.json() as { errors?: Array<{ code?: unknown }> } | undefined;
  if (!Array.isArray(body?.errors)) return [];
  return body.errors.map((error) => String(error.code));
}
