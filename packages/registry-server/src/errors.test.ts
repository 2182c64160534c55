import { describe, expect, it } from 'vitest';
import { SERVER_ERRORS } from './errors.js';

/** The code whose hint may name an HTTP route: a path no route has (an HTTP client's mistake, never packctl's). */
const ROUTE_HINTS_ALLOWED = new Set(['ROUTE_NOT_FOUND']);

describe('the error catalogue', () => {
  it('gives hints that name the packctl command to run, not an HTTP route', () => {
    const routeHints = Object.entries(SERVER_ERRORS)
      .filter(([code]) => !ROUTE_HINTS_ALLOWED.has(code))
      .filter(([, spec]) => 'hint' in spec && /\b(GET|POST|PUT|PATCH|DELETE) \/|openapi\.json/.test(spec.hint))
      .map(([code]) => code);
    expect(routeHints).toEqual([]);
  });
});
