// @ts-check
/**
 * Node module hooks that load the package's TypeScript sources in a worker thread started from
 * source-worker.mjs: a `.js` import that has no file is the `.ts` module beside it (the sources
 * import each other as they are built, `module: nodenext`), and a `.ts` module is compiled one
 * file at a time by oxc, the transformer vitest itself runs the sources through (types are erased,
 * not checked: `npm run typecheck` does that).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'rolldown/utils';

/** @type {import('node:module').ResolveHook} */
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    if (!context.parentURL?.endsWith('.ts') || !specifier.endsWith('.js')) throw err;
    return next(`${specifier.slice(0, -'.js'.length)}.ts`, context);
  }
}

/** @type {import('node:module').LoadHook} */
export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  const { code, errors } = transformSync(fileURLToPath(url), await readFile(new URL(url), 'utf8'));
  if (errors.length > 0) throw new Error(`${url}: ${errors.map((e) => e.message).join('; ')}`);
  return { format: 'module', source: code, shortCircuit: true };
}
