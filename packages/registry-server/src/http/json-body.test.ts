/**
 * Request bodies a hostile caller shapes to cost the server: nesting that would take JSON.parse
 * seconds, compressed bodies that inflate to the whole limit, parsing for callers who may not
 * write at all, answers that list every one of 100,000 problems, and framework refusals without a
 * hint. Each gets a 4xx with a stable code and a hint, before any expensive work.
 */
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LISTED_PROBLEMS } from '../errors.js';
import { AUTH, startTestRegistry, type TestRegistry } from '../test-support/test-registry.js';
import { checkJsonDepth, MAX_JSON_DEPTH } from './json-body.js';

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('JSON request bodies', () => {
  it('finds the nesting depth in one pass, skipping strings and escapes', () => {
    expect(() => {
      checkJsonDepth(Buffer.from(nested(MAX_JSON_DEPTH)));
    }).not.toThrow();
    expect(() => {
      checkJsonDepth(Buffer.from(nested(MAX_JSON_DEPTH + 1)));
    }).toThrow(expect.objectContaining({ code: 'INVALID_JSON', hint: expect.any(String) }));
    const brackets = JSON.stringify({ text: `${'['.repeat(1000)}\\"{{{`, list: [[{ a: [1] }]] });
    expect(() => {
      checkJsonDepth(Buffer.from(brackets));
    }).not.toThrow();
  });

  describe('through HTTP', () => {
    let registry: TestRegistry;
    const app = () => registry.app;
    const errorOf = (answer: request.Response) => answer.body as { error: { code: string; hint?: string } };

    beforeAll(async () => {
      registry = await startTestRegistry('fs');
    });
    afterAll(async () => {
      await registry.close();
    });

    it('refuses deep nesting before parsing it, on every JSON route', async () => {
      const deep = nested(30_000); // 60 KB: under the smallest limit
      for (const path of ['/v1/auth/login', '/v1/registries', '/v1/cluster-profiles']) {
        const answer = await request(app())
          .post(path)
          .set({ ...AUTH, 'Content-Type': 'application/json' })
          .send(deep);
        expect(answer.status, path).toBe(400);
        expect(errorOf(answer).error).toMatchObject({ code: 'INVALID_JSON', hint: expect.any(String) });
      }
    });

    it('refuses a key given twice in one object, on every JSON route, creating nothing', async () => {
      for (const [path, body] of [
        ['/v1/tenants', '{"name":"first","name":"second"}'],
        ['/v1/registries', '{"name":"r1","scope":"system","public":true,"public":false}'],
        ['/v1/auth/login', '{"username":"admin","password":"a","password":"b"}'],
      ] as const) {
        const answer = await request(app())
          .post(path)
          .set({ ...AUTH, 'Content-Type': 'application/json' })
          .send(body);
        expect(answer.status, path).toBe(400);
        expect(errorOf(answer).error).toMatchObject({ code: 'INVALID_JSON', hint: 'give each key once' });
      }
      for (const name of ['first', 'second']) {
        expect((await request(app()).get(`/v1/tenants/${name}`).set(AUTH)).status).toBe(404);
      }
      // Escaped, a key is the same key ("\u006e" is n); each key once is taken.
      const escaped = await request(app())
        .post('/v1/tenants')
        .set({ ...AUTH, 'Content-Type': 'application/json' })
        .send('{"name":"third","\\u006eame":"fourth"}');
      expect(escaped.status).toBe(400);
      const once = await request(app())
        .post('/v1/tenants')
        .set({ ...AUTH, 'Content-Type': 'application/json' })
        .send('{"name":"fifth"}');
      expect(once.status, JSON.stringify(once.body)).toBe(201);
    });

    it('does not inflate compressed bodies: 415 with a hint', async () => {
      const answer = await request(app())
        .post('/v1/auth/login')
        .set({ 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' })
        .send(gzipSync(JSON.stringify({ username: 'a', password: 'b' })));
      expect(answer.status).toBe(415);
      expect(errorOf(answer).error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', hint: expect.any(String) });
    });

    it('authorizes a cluster profile write before reading its body', async () => {
      // Not even JSON: an anonymous caller is told to sign in, and nothing was parsed for them.
      for (const method of ['post', 'put'] as const) {
        const path = method === 'post' ? '/v1/cluster-profiles' : '/v1/cluster-profiles/x';
        const answer = await request(app())[method](path).set('Content-Type', 'application/json').send('{not json');
        expect(answer.status, method).toBe(401);
        expect(errorOf(answer).error.code).toBe('AUTH_REQUIRED');
      }
    });

    it('lists at most a bounded number of problems, and counts the rest', async () => {
      const wide = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`unknown${i}`, i]));
      const answer = await request(app())
        .post('/v1/cluster-profiles')
        .set(AUTH)
        .send({ name: 'p', version: '1.0.0', packs: [], ...wide });
      expect(answer.status).toBe(400);
      const { error } = answer.body as { error: { code: string; message: string; details: { problems: string[] } } };
      expect(error.code).toBe('PROFILE_INVALID');
      expect(error.details.problems).toHaveLength(MAX_LISTED_PROBLEMS + 1);
      expect(error.details.problems.at(-1)).toMatch(/more$/);
      expect(error.message.length).toBeLessThan(2000);
    });

    it('gives framework refusals a hint: too many form fields, a URL that does not decode', async () => {
      const form = Array.from({ length: 100 }, (_, i) => `f${i}=x`).join('&');
      const token = await request(app())
        .post('/v2/token')
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send(form);
      expect(token.status).toBe(400);
      expect(JSON.stringify(token.body)).toContain('too many fields');
      const url = await request(app()).get('/v1/registries/%ZZ/packs');
      expect(url.status).toBe(400);
      expect(errorOf(url).error).toMatchObject({ code: 'BAD_REQUEST', hint: expect.any(String) });
      const large = await request(app())
        .post('/v1/registries')
        .set(AUTH)
        .send({ name: 'x'.repeat(70_000) });
      expect(large.status).toBe(413);
      expect(errorOf(large).error).toMatchObject({ code: 'BODY_TOO_LARGE', hint: expect.any(String) });
    });
  });
});
