import { describe, expect, it } from 'vitest';
import { createRouter } from '../app.js';
import type { RegistryServices } from '../services.js';
import { openApiDocument } from './openapi.js';

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

/** Every METHOD /path the app's router serves, in OpenAPI's path syntax. */
function routesOf(): string[] {
  // Registering routes touches no service; the router only keeps the handlers.
  const router = createRouter({} as RegistryServices) as unknown as { stack: RouteLayer[] };
  const routes: string[] = [];
  for (const layer of router.stack) {
    if (!layer.route) continue;
    const path = layer.route.path.replace(/:(\w+)/g, '{$1}').replace(/\*(\w+)/g, '{$1}');
    for (const method of Object.keys(layer.route.methods)) routes.push(`${method.toUpperCase()} ${path}`);
  }
  // Mounted by createApp itself, ahead of authentication (a scraper's token is no user credential).
  routes.push('GET /metrics');
  return routes.sort();
}

function documented(): string[] {
  const operations: string[] = [];
  for (const [path, item] of Object.entries(openApiDocument.paths)) {
    for (const method of ['get', 'post', 'patch', 'put', 'delete']) {
      if (method in item) operations.push(`${method.toUpperCase()} ${path}`);
    }
  }
  return operations.sort();
}

describe('the OpenAPI document', () => {
  it('describes exactly the routes the app serves', () => {
    expect(routesOf().length).toBeGreaterThan(10);
    expect(documented()).toEqual(routesOf());
  });

  it('is OpenAPI 3.1 with path parameters declared for every templated path', () => {
    expect(openApiDocument.openapi).toBe('3.1.0');
    for (const [path, item] of Object.entries(openApiDocument.paths)) {
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const declared = (item.parameters ?? []).map((p: { name: string }) => p.name);
      expect(declared.sort(), path).toEqual(templated.sort());
    }
    expect(JSON.stringify(openApiDocument)).not.toContain('nullable');
  });
});
