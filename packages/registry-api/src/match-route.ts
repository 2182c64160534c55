/** Which route of the table a request's method and path name (for checks that follow the table). */
import { ROUTES, type HttpMethod, type RouteSpec } from './routes.js';

const MULTI_SEGMENT = new Set(['{path}', '{repository}']);

interface Matcher {
  route: RouteSpec;
  pattern: RegExp;
  literals: number;
}

function matcherOf(route: RouteSpec): Matcher {
  const segments = route.path.split('/').slice(1);
  // `{path}` (a file inside a pack) and `{repository}` (an OCI name) may hold slashes.
  const source = segments
    .map((segment) =>
      MULTI_SEGMENT.has(segment) ? '.+' : /^\{\w+\}$/.test(segment) ? '[^/]+' : segment.replace(/\./g, '\\.'),
    )
    .join('/');
  return {
    route,
    pattern: new RegExp(`^/${source}$`),
    literals: segments.filter((segment) => !segment.startsWith('{')).length,
  };
}

// Literal segments win over parameters, as in the server's router.
const MATCHERS = ROUTES.map(matcherOf).sort((a, b) => b.literals - a.literals);

/** The route for `method` and `path` (no query string), or undefined. */
export function matchRoute(method: string, path: string): RouteSpec | undefined {
  // HEAD is GET without the body, as the server's router treats it.
  const wanted = (method.toLowerCase() === 'head' ? 'get' : method.toLowerCase()) as HttpMethod;
  // One trailing slash names the same route, as in the server's router (`/v2/`, `.../uploads/`).
  const bare = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return MATCHERS.find((m) => m.route.method === wanted && m.pattern.test(bare))?.route;
}
