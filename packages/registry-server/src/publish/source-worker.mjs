// @ts-check
/**
 * The launcher of a worker thread run from the TypeScript sources (see worker-entry.ts): it has
 * Node compile each .ts module as it loads (typescript-hooks.mjs), then runs the worker module
 * named in `workerData.sourceWorker`, and passes its default export on (piscina's task handler).
 */
import { register } from 'node:module';
import { workerData } from 'node:worker_threads';

register('./typescript-hooks.mjs', import.meta.url);
const worker = await import(/** @type {{ sourceWorker: string }} */ (workerData).sourceWorker);
export default worker.default;
