// Module resolve hook: a plugin's `import … from 'neurodecode'` gets this host's own API module (as VS Code
// extensions get the host's `vscode`), so that plugins and core share one copy of every class.
const API = new URL('../../core/index.ts', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  // Resolved through the rest of the chain, so that tsx's loader handles the .ts file.
  if (specifier === 'neurodecode') return nextResolve(API, context);
  return nextResolve(specifier, context);
}
