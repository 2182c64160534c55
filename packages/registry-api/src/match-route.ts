/** Which route of the table a request's method and path name (for checks that follow the table). */
import { ROUTES, type HttpMethod, type RouteSpec } from './routes.js';

interface Matcher {
  route: RouteSpec;
  pattern: RegExp;
  literals: number;
}

function matcherOf(route: RouteSpec): Matcher {
  const segments = route.path.split('/').slice(1);
  // `{path}` is the one parameter that may hold slashes (a file inside a pack).
  const source = segments
    .map((segment) =>
      segment === '{path}' ? '.+' : /^\{\w+\}$/.test(segment) ? '[^/]+' : segment.replace(/\./g, '\\.'),
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
  const wanted = method.toLowerCase() as HttpMethod;
  return MATCHERS.find((m) => m.route.method === wanted && m.pattern.test(path))?.route;
}
