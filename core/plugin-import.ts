/**
 * Imports an external plugin's entry module. In the compiled CLI this registers, on first need, the hook that
 * provides `neurodecode` and makes the plugin's folder ES modules (host-modules.ts), and the TypeScript loader (tsx)
 * only when an entry is TypeScript, so that a run without TypeScript plugins never loads it. Running from the
 * sources (vitest), the test runner already does both.
 */
import { register } from 'node:module';
import { sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PLUGIN_ROOT_PARAM } from './host-modules.js';

const FROM_SOURCES = import.meta.url.endsWith('.ts');
let typescriptLoader = false;
let hostHook = false;

async function prepareHooks(entry: string): Promise<void> {
  if (/\.[cm]?tsx?$/.test(entry) && !typescriptLoader) {
    const { register: registerTsx } = await import('tsx/esm/api');
    registerTsx();
    typescriptLoader = true;
    hostHook = false; // registered (again) after tsx, so that it is asked first: the last registered runs first
  }
  if (!hostHook) {
    register('./host-modules.js', import.meta.url);
    hostHook = true;
  }
}

/** The module namespace of a plugin entry file; `root`, the plugin's folder, is where files load as ES modules. */
export async function importExternal(entry: string, root?: string): Promise<Record<string, unknown>> {
  if (FROM_SOURCES) return (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  await prepareHooks(entry);
  const url = pathToFileURL(entry);
  if (root) url.searchParams.set(PLUGIN_ROOT_PARAM, root.endsWith(sep) ? root : root + sep);
  return (await import(url.href)) as Record<string, unknown>;
}
