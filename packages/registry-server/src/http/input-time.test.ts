/**
 * Every server function that matches user input against a regular expression, or parses it,
 * runs in linear time: on adversarial inputs of 1 MiB (and, through HTTP, on the longest request
 * line Node accepts) each call takes a few milliseconds. A quadratic or exponential pattern takes
 * seconds on such inputs. The bound is generous (50 ms) so that a loaded 2-core CI machine does
 * not make it flaky; eslint-plugin-regexp checks the same property statically.
 */
import { createSecretKey } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKey, verifyToken } from '../identity/secrets.js';
import { announcedDigest } from '../publish/receive-upload.js';
import { AUTH, startTestRegistry, type TestRegistry } from '../test-support/test-registry.js';
import { Login, NewRole, NewTeam, NewUser } from '@packyard/registry-api';
import { bodyValidator } from './params.js';
import { invalidName, PATH_GRAMMARS } from './path-params.js';

const MIB = 1024 * 1024;
const BUDGET_MS = 50;

/** Strings built to make backtracking patterns work hardest: long runs, then a rejecting tail. */
function adversarial(): string[] {
  const runs = ['a', '-', '.', ' ', '/', ',', '{', '1.', '>=1 ', 'sha-256=:', 'Bearer ', '%2F', '\u202e', '0'];
  const out: string[] = [];
  for (const run of runs) {
    const body = run.repeat(Math.ceil(MIB / run.length)).slice(0, MIB);
    out.push(body, `${body}!`, `a${body}\u0000`);
  }
  return out;
}

/** The fastest of three runs: a busy machine slows a run down, never a super-linear one up. */
function timed(fn: () => unknown): number {
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    const start = performance.now();
    try {
      fn();
    } catch {
      // A refusal is an answer too: only the time matters here.
    }
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

/** timed() for an async check: the time until its promise settles. */
async function timedAsync(fn: () => Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    const start = performance.now();
    await fn().catch(() => undefined);
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

describe('input handling time', () => {
  const inputs = adversarial();

  it('path parameter grammars and their error messages', () => {
    for (const [name, grammar] of Object.entries(PATH_GRAMMARS)) {
      for (const input of inputs) {
        expect(
          timed(() => grammar.valid(input)),
          name,
        ).toBeLessThan(BUDGET_MS);
        expect(
          timed(() => invalidName(grammar, input)),
          name,
        ).toBeLessThan(BUDGET_MS);
      }
    }
  });

  it('digests, API keys and tokens', async () => {
    for (const input of inputs) {
      const req = { headers: { 'content-digest': input } } as unknown as IncomingMessage;
      expect(timed(() => announcedDigest(req, undefined))).toBeLessThan(BUDGET_MS);
      expect(timed(() => announcedDigest(req, input))).toBeLessThan(BUDGET_MS);
      expect(timed(() => parseApiKey(input))).toBeLessThan(BUDGET_MS);
      const key = createSecretKey(Buffer.alloc(32));
      expect(await timedAsync(() => verifyToken(`pya_${input}`, () => key, 0))).toBeLessThan(BUDGET_MS);
    }
  });

  it('request bodies checked against their schemas', () => {
    const readers: Array<(body: unknown) => unknown> = [
      bodyValidator(NewUser),
      bodyValidator(NewRole),
      bodyValidator(NewTeam),
      bodyValidator(Login),
    ];
    const fields = ['username', 'name', 'password', 'permissions', 'members'];
    for (const input of inputs) {
      for (const field of fields) {
        const body = { [field]: field === 'permissions' || field === 'members' ? [input] : input };
        for (const read of readers)
          expect(
            timed(() => read(body)),
            field,
          ).toBeLessThan(BUDGET_MS);
      }
    }
  });

  describe('through HTTP', () => {
    let registry: TestRegistry;
    beforeAll(async () => {
      registry = await startTestRegistry('fs');
    });
    afterAll(async () => {
      await registry.close();
    });

    it('answers catalog queries, selectors and credentials of the longest accepted request line quickly', async () => {
      // Node refuses request heads over 16 KiB; 15 KiB of value leaves room for the rest.
      const long = (run: string) => encodeURIComponent(run.repeat(Math.ceil(5000 / run.length)).slice(0, 5000));
      const urls = [
        `/v1/packs?q=${long('a ')}`,
        `/v1/packs?q=${long('{{')}`,
        `/v1/packs?version=${long('>=1 ')}`,
        `/v1/packs?version=${long('1.')}x`,
        `/v1/packs?version=${long('||')}`,
        `/v1/registries/public/packs/demo/${long('1.')}`,
      ];
      for (const url of urls) {
        const start = performance.now();
        const res = await request(registry.app).get(url).set(AUTH);
        expect(res.status, url.slice(0, 60)).toBeLessThan(500);
        expect(performance.now() - start, url.slice(0, 60)).toBeLessThan(500);
      }
      const bearer = `Bearer ${'a '.repeat(7000)}x`;
      const res = await request(registry.app).get('/v1/packs').set('Authorization', bearer);
      expect(res.status).toBe(401);
    });
  });
});
