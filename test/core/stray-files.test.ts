/** Left-overs of merges and editors (`*.orig`, `*.rej`, `*~`, `*.bak`, `*.swp`) must not sit in the project's folders. */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const STRAY = /(\.orig|\.rej|~|\.bak|\.sw[a-p])$/;
// Installed, generated or user output folders: not the project's own files.
const SKIPPED = new Set(['node_modules', '.git', 'dist', '.neurodecode', 'neurodecode-results', 'coverage', '.scratch']);

function strayFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIPPED.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return strayFiles(path);
    return STRAY.test(entry.name) ? [relative(ROOT, path)] : [];
  });
}

describe('the project folders', () => {
  it('hold no merge or editor left-overs', () => {
    expect(strayFiles(ROOT)).toEqual([]);
  });

  it('recognises each kind of left-over', () => {
    const names = ['trainer.ts.orig', 'a.ts.rej', 'b.ts~', 'c.bak', '.d.ts.swp', '.e.ts.swo'];
    expect(names.filter((n) => STRAY.test(n))).toEqual(names);
    expect(['index.ts', 'README.md', 'hdf5-worker.js'].filter((n) => STRAY.test(n))).toEqual([]);
  });
});
