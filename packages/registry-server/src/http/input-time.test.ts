/**
 * Every server function that matches user input against a regular expression, or parses it,
 * runs in linear time: on adversarial inputs of 1 MiB (and, through HTTP, on the longest request
 * line Node accepts) each call takes a few milliseconds. A quadratic or exponential pattern takes
 * seconds on such inputs. A call over 50 ms fails only when its time also grows more than 8-fold
 * from a quarter of the input to all of it (a linear call's grows 4-fold), so that a loaded 2-core
 * CI machine does not make it flaky; eslint-plugin-regexp checks the same property statically.
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
import { bestOfThree, fill, superLinearity } from '../../../pack-core/src/test-support/linear-time.js';
import { invalidName, PATH_GRAMMARS } from './path-params.js';

const BUDGET_MS = 50;

/** Builders of strings made to make backtracking patterns work hardest: long runs, then a rejecting tail. */
function adversarial(): Array<(size: number) => string> {
  const runs = ['a', '-', '.', ' ', '/', ',', '{', '1.', '>=1 ', 'sha-256=:', 'Bearer ', '%2F', '\u202e', '0'];
  return runs.flatMap((run) => [
    (size: number) => fill(run, size),
    (size: number) => `${fill(run, size)}!`,
    (size: number) => `a${fill(run, size)}\u0000`,
  ]);
}

/**
 * Null when `check` is linear on the inputs `build` makes, else what was measured: each call timed
 * best of three (a refusal is an answer too: only the time matters), and a call over the budget
 * compared with one on a quarter of the input (test-support/linear-time.ts).
 */
function superLinear(build: (size: number) => string, check: (input: string) => unknown): Promise<string | null> {
  const time = (size: number) => {
    const input = build(size);
    return bestOfThree(async () => {
      try {
        await check(input);
      } catch {
        // refused: timed all the same
      }
    });
  };
  return superLinearity(time, BUDGET_MS);
}

describe('input handling time', () => {
  const inputs = adversarial();

  it('path parameter grammars and their error messages', async () => {
    for (const [name, grammar] of Object.entries(PATH_GRAMMARS)) {
      for (const build of inputs) {
        expect(await superLinear(build, (input) => grammar.valid(input)), name).toBeNull();
        expect(await superLinear(build, (input) => invalidName(grammar, input)), name).toBeNull();
      }
    }
  });

  it('digests, API keys and tokens', async () => {
    const key = createSecretKey(Buffer.alloc(32));
    const withDigest = (input: string) => ({ headers: { 'content-digest': input } }) as unknown as IncomingMessage;
    for (const build of inputs) {
      expect(await superLinear(build, (input) => announcedDigest(withDigest(input), undefined))).toBeNull();
      expect(await superLinear(build, (input) => announcedDigest(withDigest(input), input))).toBeNull();
      expect(await superLinear(build, (input) => parseApiKey(input))).toBeNull();
      expect(await superLinear(build, (input) => verifyToken(`pya_${input}`, () => key, 0))).toBeNull();
    }
  });

  it('request bodies checked against their schemas', async () => {
    const readers: Array<(body: unknown) => unknown> = [
      bodyValidator(NewUser),
      bodyValidator(NewRole),
      bodyValidator(NewTeam),
      bodyValidator(Login),
    ];
    const fields = ['username', 'name', 'password', 'permissions', 'members'];
    const body = (field: string, input: string) => ({
      [field]: field === 'permissions' || field === 'members' ? [input] : input,
    });
    for (const build of inputs) {
      for (const field of fields) {
        for (const read of readers)
          expect(await superLinear(build, (input) => read(body(field, input))), field).toBeNull();
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
