/**
 * The web catalog's build: static files in dist/ that pack-registry serves at / (index.html never
 * cached, everything under assets/ hashed and cached for a year). No inline script or style, so
 * that the server's Content-Security-Policy can forbid both.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    // Never inline an asset as a data: URL inside the CSS or the script.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
  },
});
