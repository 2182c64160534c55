/**
 * Every path parameter of every route the API describes is checked before anything else: hostile
 * values answer 400 INVALID_NAME (never a lookup, a storage key or a 500), for anonymous callers
 * and the operator alike; on /v2 the same, in the OCI envelope with the OCI code for the
 * parameter; and routes match their exact spelling only.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenOnLoopback, type ListeningApp } from '../test-support/listening-app.js';
import { AUTH, startTestRegistry, type TestRegistry } from '../test-support/test-registry.js';
import { openApiDocument } from './openapi.js';

/** A valid value for each parameter, used for the parameters not under attack. */
const VALID: Record<string, string> = {
  registry: 'public',
  name: 'demo',
  version: '1.0.0',
  path: 'values.yaml',
  tenant: 'acme',
  project: 'web',
  user: 'alice',
  team: 'ops',
  role: 'Tenant Admin',
  binding: '0123456789ab',
  key: '0123456789abcdef',
  profile: 'prod',
  entry: '8230000000000-0123456789ab',
  repository: 'public/app',
  reference: 'latest',
  digest: `sha256:${'a'.repeat(64)}`,
  uuid: '01234567-89ab-cdef-0123-456789abcdef',
};

/** The OCI codes a hostile value of each /v2 path parameter answers (400 in the OCI envelope). */
const OCI_CODES: Record<string, string[]> = {
  repository: ['NAME_INVALID'],
  // A reference with a colon is a digest.
  reference: ['NAME_INVALID', 'DIGEST_INVALID'],
  digest: ['DIGEST_INVALID'],
  uuid: ['BLOB_UPLOAD_INVALID'],
};

/** The code of a 400 answer, from the registry's envelope or, on /v2, the OCI one. */
function codeOf(body: { error?: { code?: string }; errors?: Array<{ code?: string }> }): string | undefined {
  return body.error?.code ?? body.errors?.[0]?.code;
}

/** Percent-encoded as they would arrive; each decodes to something no resource can be named. */
const HOSTILE = [
  '..%2F..%2Fetc',
  '%2E%2E',
  '%E2%80%AE',
  'a%00b',
  'a%3Ab',
  'a%0Ab',
  `1.${'1'.repeat(1000)}`,
  'x'.repeat(300),
];

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

function operations(): Array<{ method: (typeof METHODS)[number]; path: string; params: string[] }> {
  const found = [];
  for (const [path, item] of Object.entries(openApiDocument.paths)) {
    const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');
    for (const method of METHODS) if (method in item) found.push({ method, path, params });
  }
  return found;
}

function fill(path: string, values: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? VALID[name] ?? 'x');
}

describe('path parameters', () => {
  let registry: TestRegistry;
  // One server for the file's ~1,000 requests, instead of one per request.
  let listening: ListeningApp;
  const app = () => listening.server;
  beforeAll(async () => {
    registry = await startTestRegistry('fs');
    listening = await listenOnLoopback(registry.app);
  });
  afterAll(async () => {
    await listening.close();
    await registry.close();
  });

  it('answer 400 INVALID_NAME for every hostile value of every named parameter of every route', async () => {
    const unexpected: string[] = [];
    let sent = 0;
    for (const { method, path, params } of operations()) {
      for (const param of params.filter((p) => p !== 'path')) {
        for (const value of HOSTILE) {
          for (const auth of [AUTH, {}]) {
            const url = fill(path, { [param]: value });
            const res = await request(app())[method](url).set(auth).send({});
            sent++;
            const expected = path.startsWith('/v2/') ? (OCI_CODES[param] ?? []) : ['INVALID_NAME'];
            if (res.status !== 400 || !expected.includes(codeOf(res.body) ?? '')) {
              unexpected.push(
                `${method.toUpperCase()} ${url.slice(0, 100)}: ${res.status} ${JSON.stringify(res.body).slice(0, 100)}`,
              );
            }
          }
        }
      }
    }
    expect(unexpected.slice(0, 20)).toEqual([]);
    expect(sent).toBeGreaterThan(500);
  });

  it('echo no control characters and at most a short excerpt of the value', async () => {
    const res = await request(app()).get(`/v1/registries/public/packs/a%1B%5B31m${'b'.repeat(500)}`);
    expect(res.status).toBe(400);
    expect(res.body.error.message).not.toContain('\u001b');
    expect(res.body.error.message.length).toBeLessThan(200);
    expect(res.body.error.hint).toContain('lowercase letters');
  });

  it('match routes by their exact spelling only', async () => {
    expect((await request(app()).post('/v1/tenants').set(AUTH).send({ name: 'acme' })).status).toBe(201);
    expect((await request(app()).get('/v1/tenants/acme/teams').set(AUTH)).status).toBe(200);
    for (const url of ['/V1/TENANTS/acme/teams', '/v1/Tenants/acme/teams', '/V1/tenants/acme/teams']) {
      const res = await request(app()).get(url).set(AUTH);
      expect(res.status, url).toBe(404);
      expect(res.body.error.code).toBe('ROUTE_NOT_FOUND');
    }
    const post = await request(app()).post('/V1/TENANTS/acme/teams').set(AUTH).send({ name: 'x' });
    expect(post.status).toBe(404);
  });
});
