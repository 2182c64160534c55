import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { contractChecker, contractProblems } from './contract-checker.js';

const token = { token: 't', tokenType: 'Bearer', expiresAt: '2026-01-01T00:00:00Z', expiresIn: 60 };

describe('the contract checker', () => {
  it('passes answers that match the route and status schema, errors as the envelope', () => {
    const ok = { method: 'POST', path: '/v1/auth/refresh', status: 200, contentType: 'application/json' };
    expect(contractProblems({ ...ok, body: JSON.stringify(token) })).toEqual([]);
    const envelope = JSON.stringify({ error: { code: 'AUTH_REQUIRED', message: 'sign in' } });
    expect(contractProblems({ ...ok, status: 401, body: envelope })).toEqual([]);
    expect(contractProblems({ ...ok, path: '/v1/nowhere', status: 404, body: envelope })).toEqual([]);
  });

  it('catches a body off its schema, an error off the envelope and an undeclared answer', () => {
    const answer = { method: 'GET', path: '/v1/registries/public', status: 200, contentType: 'application/json' };
    const [wrongBody] = contractProblems({ ...answer, body: JSON.stringify({ name: 'public', scope: 'galaxy' }) });
    expect(wrongBody).toMatch(/^GET \/v1\/registries\/public 200: .*needs "createdAt"/);
    const [wrongError] = contractProblems({ ...answer, status: 500, body: JSON.stringify({ message: 'oops' }) });
    expect(wrongError).toContain('needs "error"');
    const [undeclared] = contractProblems({ ...answer, status: 202, body: '{}' });
    expect(undeclared).toContain('declares no such answer');
  });

  it('records a wrong body an app sends, as the test registries install it', async () => {
    const recorded: string[] = [];
    const app = express();
    app.use(contractChecker((problems) => recorded.push(...problems)));
    app.get('/v1/auth/me', (_req, res) => {
      res.json({ kind: 'user', username: 'ann' });
    });
    app.get('/v1/registries/:registry/packs/:name/:version/files/*path', (_req, res) => {
      res.type('json').send('{"not":"checked: pack files are bytes"}');
    });
    expect((await request(app).get('/v1/auth/me')).status).toBe(200);
    expect((await request(app).get('/v1/registries/r/packs/p/1.0.0/files/pack.json')).status).toBe(200);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatch(/^GET \/v1\/auth\/me 200: /);
  });
});
