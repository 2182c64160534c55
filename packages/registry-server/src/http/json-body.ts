/**
 * JSON request bodies, read one way on every route: within a size limit, never inflated (a few
 * kilobytes of gzip would otherwise become the whole limit's worth of work for an anonymous
 * caller), and refused before `JSON.parse` when they nest arrays or objects deeper than
 * {@link MAX_JSON_DEPTH}: parsing a million levels of `[` blocks the event loop for a second or two,
 * and no body of the API needs more than a handful. The depth is found by one pass over the bytes.
 * A key given twice in one object is refused too: JSON.parse keeps the last, so `{"name":"x",
 * "name":"y"}` created tenant y while a log or a proxy that read the first saw x.
 */
import { jsonNestsDeeperThan } from '@packyard/pack-core';
import express, { type RequestHandler } from 'express';
import { registryError } from '../errors.js';
import { duplicateKey } from './json-keys.js';

/** The deepest nesting of arrays and objects a request body may have. */
export const MAX_JSON_DEPTH = 64;

/** Throws INVALID_JSON when `body` nests deeper than MAX_JSON_DEPTH (strings are skipped). */
export function checkJsonDepth(body: Uint8Array): void {
  if (jsonNestsDeeperThan(body, MAX_JSON_DEPTH)) {
    throw registryError('INVALID_JSON', `the request body nests arrays or objects more than ${MAX_JSON_DEPTH} deep`, {
      hint: 'send the JSON object the route takes: no body of the API nests more than a few levels',
    });
  }
}

/** Throws INVALID_JSON when `text` gives a key twice in one object (invalid JSON is the parser's to refuse). */
export function checkDuplicateKeys(text: string): void {
  const key = duplicateKey(text);
  if (key !== null) {
    throw registryError('INVALID_JSON', `the request body gives the key ${JSON.stringify(key)} twice in one object`, {
      hint: 'give each key once',
    });
  }
}

/** Parses a JSON body of at most `limit` (a size such as '64kb') into `req.body`. */
export function readJsonBody(limit: string): RequestHandler {
  return express.json({
    limit,
    inflate: false,
    verify: (_req, _res, body) => {
      checkJsonDepth(body);
      checkDuplicateKeys(body.toString('utf8'));
    },
  });
}
