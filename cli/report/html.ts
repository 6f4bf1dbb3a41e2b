/**
 * The HTML file: the page data as JSON, Vega, Vega-Lite and vega-embed inlined from their minified builds in
 * node_modules, and the page script (page.js). A Content-Security-Policy forbids every request but images, so that
 * a chart or a library can never reach the network when the file is opened.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPORT_STYLE } from './style.js';
import type { ReportData } from './section.js';

const require = createRequire(import.meta.url);

/** The UMD builds, in load order (vega-lite and vega-embed expect the globals of the ones before). */
const LIBRARIES: Array<{ pkg: string; file: string }> = [
  { pkg: 'vega', file: 'vega.min.js' },
  { pkg: 'vega-lite', file: 'vega-lite.min.js' },
  { pkg: 'vega-embed', file: 'vega-embed.min.js' },
];

/** A library's minified build: beside its package's main entry (all three keep it in build/; exports hide the path). */
async function libraryScript({ pkg, file }: { pkg: string; file: string }): Promise<string> {
  const path = join(dirname(require.resolve(pkg)), file);
  return readFile(path, 'utf8');
}

/** Text inside <script>: a `</script` (or `<!--`) in it would end or confuse the element. */
function scriptText(text: string): string {
  return text.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

const CSP = [
  "default-src 'none'",
  // Vega compiles its expressions with Function: the inline scripts need eval, and nothing is loaded from anywhere.
  "script-src 'unsafe-inline' 'unsafe-eval'",
  "style-src 'unsafe-inline'",
  // Images inline (data:), or beside the page when the folder's images exceed the inline budget.
  "img-src data: blob: 'self' file:",
].join('; ');

export async function renderHtml(data: ReportData): Promise<string> {
  const libraries = await Promise.all(LIBRARIES.map(libraryScript));
  const page = await readFile(fileURLToPath(new URL('./page.js', import.meta.url)), 'utf8');
  // JSON in a <script> element: `<` escaped so that no string in the data can close it.
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(data.title)} · neurodecode report</title>`,
    `<style>${REPORT_STYLE}</style>`,
    '</head>',
    '<body>',
    '<noscript>This report draws its tables and charts with JavaScript: allow scripts for this file.</noscript>',
    '<div id="report"></div>',
    `<script type="application/json" id="report-data">${json}</script>`,
    ...libraries.map((text, i) => `<script data-library="${LIBRARIES[i]!.pkg}">${scriptText(text)}</script>`),
    // A module script: the build (tsc, allowJs) may add `export {}` to page.js, valid in a module.
    `<script type="module">${scriptText(page)}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
