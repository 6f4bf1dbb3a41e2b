import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** This package's version: part of every cache key and of every result's provenance. */
export const PACKAGE_VERSION: string = pkg.version;
