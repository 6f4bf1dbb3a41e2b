/**
 * Finds plugin modules: the built-in folders of this package, and external plugins the user names (a folder
 * path or an npm package). Built-in and external plugins load the same way: import the module, hand it to the
 * registry. Only what the user named is loaded.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { UserError } from './errors.js';
import { lazyCodeDigest } from './plugin-digest.js';
import { importExternal } from './plugin-import.js';
import type { PluginRegistry, PluginSource } from './registry.js';

/** The folder holding this package's modules: the repository for the sources, dist/ for the compiled build. */
export const CODE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * A file the package ships beside its modules (weights, export recipes): next to the sources, or one level above
 * the compiled dist/ (tsc copies no data files).
 */
export function packageFile(relative: string): string {
  const candidates = [join(CODE_ROOT, relative), join(CODE_ROOT, '..', relative)];
  return candidates.find((path) => existsSync(path)) ?? candidates[0]!;
}

/** The folders of this package that hold one built-in plugin per subfolder. */
export const BUILTIN_FOLDERS = ['datasets', 'plugins', 'generators', 'metrics'] as const;

const ENTRY_NAMES = ['index.ts', 'index.js', 'index.mjs'];

function entryIn(folder: string): string | undefined {
  for (const name of ENTRY_NAMES) {
    const p = join(folder, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Module objects may put manifest/register on named exports or on a default export. */
function pluginModuleOf(namespace: Record<string, unknown>): unknown {
  if ('manifest' in namespace) return namespace;
  return namespace.default;
}

/** Imports a plugin entry: a built-in one directly, an external one through importExternal (root: its folder). */
async function importPlugin(entry: string, source: string, external?: { root?: string }): Promise<unknown> {
  try {
    const namespace = external ? await importExternal(entry, external.root) : ((await import(pathToFileURL(entry).href)) as Record<string, unknown>);
    return pluginModuleOf(namespace);
  } catch (error) {
    throw new UserError(`could not load the plugin module ${entry}: ${(error as Error).message}`, source);
  }
}

export async function loadBuiltinPlugins(registry: PluginRegistry): Promise<PluginSource[]> {
  const loaded: PluginSource[] = [];
  for (const folder of BUILTIN_FOLDERS) {
    const base = join(CODE_ROOT, folder);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base).sort()) {
      const entry = entryIn(join(base, name));
      if (!entry) continue;
      const source = `built-in:${folder}/${name}`;
      loaded.push(registry.add(await importPlugin(entry, source), source, true, lazyCodeDigest(entry, join(base, name))));
    }
  }
  return loaded;
}

/** The entry file of a plugin folder: its package.json `main`/`exports` when present, else index.{ts,js}. */
function entryOfFolder(folder: string, spec: string): string {
  const pkgPath = join(folder, 'package.json');
  if (existsSync(pkgPath)) {
    let pkg: { main?: string; exports?: unknown };
    try {
      pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { main?: string; exports?: unknown };
    } catch (error) {
      throw new UserError(`invalid package.json: ${(error as Error).message}`, pkgPath);
    }
    const exported = typeof pkg.exports === 'string' ? pkg.exports : undefined;
    const main = exported ?? pkg.main;
    if (main) {
      const p = resolve(folder, main);
      if (!existsSync(p)) throw new UserError(`package.json names '${main}' as the entry, but ${p} does not exist`, spec);
      return p;
    }
  }
  const entry = entryIn(folder);
  if (!entry) throw new UserError(`no plugin entry found in ${folder} (expected package.json "main", or ${ENTRY_NAMES.join(' / ')})`, spec);
  return entry;
}

/** Loads a plugin named by a path (file or folder) or an npm package name resolved from `cwd`. */
export async function loadExternalPlugin(registry: PluginRegistry, spec: string, cwd: string): Promise<PluginSource> {
  const asPath = resolve(cwd, spec);
  let entry: string;
  let root: string | undefined;
  if (existsSync(asPath)) {
    root = statSync(asPath).isDirectory() ? asPath : dirname(asPath);
    entry = root === asPath ? entryOfFolder(asPath, spec) : asPath;
  } else if (spec.startsWith('.') || spec.startsWith('/')) {
    throw new UserError(`plugin path does not exist: ${asPath}`, spec);
  } else {
    try {
      entry = createRequire(join(cwd, 'package.json')).resolve(spec);
    } catch {
      throw new UserError(`plugin '${spec}' is neither a path nor an installed npm package (looked from ${cwd}; try npm install ${spec})`, spec);
    }
  }
  return registry.add(await importPlugin(entry, spec, { root }), spec, false, lazyCodeDigest(entry, root));
}
