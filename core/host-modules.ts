/**
 * Module resolve hook for external plugins, registered by plugin-import.ts in the compiled CLI only (vitest aliases
 * `neurodecode` and compiles every file as an ES module itself).
 * - A plugin's `import … from 'neurodecode'` gets this host's own API module (as VS Code extensions get the host's
 *   `vscode`), so that plugins and core share one copy of every class.
 * - A plugin folder's own .js/.ts files are ES modules whatever package.json the folder has (or lacks): without
 *   this, Node takes them for CommonJS and fails with "Cannot require() ES Module … in a cycle".
 */
import { fileURLToPath } from 'node:url';

interface ResolveResult {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}
type NextResolve = (specifier: string, context: unknown) => Promise<ResolveResult>;

const API = new URL('./index.js', import.meta.url).href;

/** The query parameter with which plugin-import.ts names a plugin's folder on the URL of its entry file. */
export const PLUGIN_ROOT_PARAM = 'neurodecode-plugin-root';

/** Folders (ending with a separator) whose .js/.ts files are plugin code; filled as their entries are resolved. */
const pluginRoots = new Set<string>();

function isPluginCode(url: string): boolean {
  if (!url.startsWith('file:')) return false;
  const path = fileURLToPath(url);
  if (!/\.[jt]s$/.test(path) || path.includes('/node_modules/')) return false;
  for (const root of pluginRoots) if (path.startsWith(root)) return true;
  return false;
}

export async function resolve(specifier: string, context: unknown, nextResolve: NextResolve): Promise<ResolveResult> {
  if (specifier === 'neurodecode') return { url: API, format: 'module', shortCircuit: true };
  if (specifier.startsWith('file:') && specifier.includes(PLUGIN_ROOT_PARAM)) {
    const url = new URL(specifier);
    pluginRoots.add(url.searchParams.get(PLUGIN_ROOT_PARAM)!);
    url.searchParams.delete(PLUGIN_ROOT_PARAM);
    specifier = url.href;
  }
  const resolved = await nextResolve(specifier, context);
  return isPluginCode(resolved.url) ? { ...resolved, format: 'module' } : resolved;
}
