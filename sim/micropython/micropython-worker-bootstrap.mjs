/**
 * Entry file of an interpreter worker thread. Node does not hand the main thread's module loader
 * hooks to worker threads (not even with `--import tsx` in execArgv), so when the simulator runs from
 * its TypeScript sources (tsx, vitest) tsx is registered here before the worker module is loaded.
 */
import { existsSync } from 'node:fs';

const source = new URL('./micropython-worker.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('./micropython-worker.js', import.meta.url).href);
}
