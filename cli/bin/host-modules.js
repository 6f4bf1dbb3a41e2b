// Module resolve hook: a plugin's `import … from 'neurodecode'` gets this host's own API module (as VS Code
// extensions get the host's `vscode`), so that plugins and core share one copy of every class.
const API = new URL('../../core/index.ts', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'neurodecode') return { url: API, shortCircuit: true };
  return nextResolve(specifier, context);
}
