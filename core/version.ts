import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's package.json: next to the sources' folders, or above dist/ when running the compiled build. */
function packageJsonPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    if (dirname(dir) === dir) throw new Error(`internal: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = dirname(dir);
  }
  return join(dir, 'package.json');
}

const pkg = JSON.parse(readFileSync(packageJsonPath(), 'utf8')) as { version: string };

/** This package's version: part of every cache key and of every result's provenance. */
export const PACKAGE_VERSION: string = pkg.version;
