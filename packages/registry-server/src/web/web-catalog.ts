/**
 * The web catalog (packages/web, built by Vite into static files) served at `/`: its hashed assets
 * under /assets/ cached for a year, and index.html for every page of the catalog (/, /packs/...,
 * /profiles/..., /signin: @packyard/registry-api/catalog-pages), never cached. A browser asking for HTML at any other path outside the API gets
 * index.html with a 404, and the catalog shows its "not found" page; API clients get the JSON 404
 * as before.
 *
 * Every catalog response carries a strict Content-Security-Policy: scripts, styles, images and
 * requests from this origin only (images also from blob: URLs, which the catalog makes of a pack's
 * own files), no inline script, no framing. The catalog's files are public (they hold no data), so
 * this runs before authentication: a stale token never keeps the page from loading.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import express, { type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import { catalogPage } from '@packyard/registry-api/catalog-pages';

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Paths that are the registry's, never the catalog's. */
const API_PREFIXES = ['/v1/', '/v2', '/metrics', '/livez', '/readyz', '/openapi.json'];

/** The catalog's own pages (the table the catalog's router reads too): anything else is its "not found" page. */
function isCatalogPage(pathname: string): boolean {
  return catalogPage(pathname).page !== 'not-found';
}

function isApiPath(pathname: string): boolean {
  return API_PREFIXES.some(
    (prefix) => pathname === prefix || pathname.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`),
  );
}

function securityHeaders(res: Response): void {
  res.set({
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'same-origin',
    'Cross-Origin-Opener-Policy': 'same-origin',
  });
}

/** Where the built catalog is: packages/web/dist, found through the @packyard/web package. */
export function webCatalogDir(): string | null {
  try {
    const manifest = createRequire(import.meta.url).resolve('@packyard/web/package.json');
    return path.join(path.dirname(manifest), 'dist');
  } catch {
    return null;
  }
}

/**
 * The catalog's handler, or null (with a warning) when it was not built: the API then runs alone.
 */
export function webCatalog(dir: string | null, logger: Logger): RequestHandler | null {
  let index: Buffer;
  try {
    if (dir === null) throw new Error('the @packyard/web package is not installed');
    index = readFileSync(path.join(dir, 'index.html'));
  } catch (err) {
    logger.warn(
      { err: err instanceof Error ? err.message : String(err) },
      'the web catalog is not built (npm run build): / serves the API only',
    );
    return null;
  }
  const assets = express.static(path.join(dir, 'assets'), {
    immutable: true,
    maxAge: '365d',
    index: false,
    redirect: false,
    // A missing file (or a malformed path) goes on to the registry's JSON 404.
    fallthrough: true,
    dotfiles: 'deny',
    setHeaders: (res) => {
      res.setHeader('X-Content-Type-Options', 'nosniff');
    },
  });

  const sendIndex = (req: Request, res: Response, status: number): void => {
    securityHeaders(res);
    res.status(status).set({ 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' });
    if (req.method === 'HEAD') res.end();
    else res.end(index);
  };

  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      next();
      return;
    }
    const pathname = req.path;
    if (pathname.startsWith('/assets/')) {
      req.url = req.url.slice('/assets'.length);
      assets(req, res, (err?: unknown) => {
        req.url = `/assets${req.url}`;
        next(err);
      });
      return;
    }
    if (isApiPath(pathname)) {
      next();
      return;
    }
    if (isCatalogPage(pathname)) {
      sendIndex(req, res, 200);
      return;
    }
    // A browser gets the catalog's "not found" page; an API client the JSON 404.
    if (req.accepts(['json', 'html']) === 'html') sendIndex(req, res, 404);
    else next();
  };
}
