/**
 * A digest of a plugin's code, so that cache entries made by a plugin are keyed on the code that made them, not
 * only on the version in its manifest (which an author editing a plugin rarely bumps). The code is the entry
 * file and every file it imports through relative specifiers inside the plugin's folder, followed transitively;
 * for an installed npm package, every file of the package (node_modules excluded).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** Relative specifiers in static imports/exports, dynamic imports and requires. */
const RELATIVE_SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"](\.{1,2}\/[^'"\n]+)['"]/g;

/** What a specifier may name on disk: as written, the TypeScript source of a `.js` specifier, or an index file. */
function candidates(path: string): string[] {
  const stem = path.replace(/\.(m|c)?js$/, '');
  const ts = path === stem ? [] : [`${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, `${stem}.cts`];
  return [path, ...ts, `${path}.ts`, `${path}.js`, `${path}.mjs`, join(path, 'index.ts'), join(path, 'index.js')];
}

function inside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
}

/** The entry and the files it reaches by relative imports inside `root`. */
export function importedFiles(entry: string, root: string): string[] {
  const seen = new Set<string>();
  const queue = [resolve(entry)];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!/\.(m|c)?[jt]sx?$/.test(file)) continue; // an imported JSON or asset: hashed, not parsed
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(RELATIVE_SPECIFIER)) {
      const target = candidates(resolve(dirname(file), match[1]!)).find((p) => existsSync(p) && statSync(p).isFile());
      if (target && inside(root, target) && !seen.has(target)) queue.push(target);
    }
  }
  return [...seen].sort();
}

/** Every file of an installed package: its `files` (with package.json) when declared, else all; never node_modules. */
export function packageFiles(root: string): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files?: string[] };
  const tops = pkg.files ? ['package.json', ...pkg.files].map((f) => join(root, f)).filter((p) => existsSync(p)) : [root];
  const out = new Set<string>();
  const walk = (path: string) => {
    if (statSync(path).isFile()) return void out.add(path);
    for (const name of readdirSync(path)) if (name !== 'node_modules' && name !== '.git') walk(join(path, name));
  };
  tops.forEach(walk);
  return [...out].sort();
}

/** The folder of the installed package holding `entry`, when it lies under node_modules. */
function installedPackageRoot(entry: string): string | undefined {
  if (!entry.split(sep).includes('node_modules')) return undefined;
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  return undefined;
}

/** SHA-256 over the files' paths (relative to `root`) and contents; 16 hex digits. */
export function digestFiles(files: string[], root: string): string {
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The code digest of the plugin whose entry module is `entry` (its folder is `root`, by default the entry's
 * folder), computed on first use and then remembered: `plugins list` never pays for it.
 */
export function lazyCodeDigest(entry: string, root = dirname(entry)): () => string {
  let digest: string | undefined;
  return () => {
    if (digest === undefined) {
      const pkg = installedPackageRoot(resolve(entry));
      digest = pkg ? digestFiles(packageFiles(pkg), pkg) : digestFiles(importedFiles(entry, resolve(root)), resolve(root));
    }
    return digest;
  };
}
