/**
 * report.html of a results folder, built from what the folder holds (results.json, run.json, images/): the run
 * writes it right after results.json, and `neurodecode report <dir>` rebuilds it the same way.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../../core/errors.js';
import { rethrowFileSystemError } from '../../core/io/folders.js';
import { writeFileAtomic } from '../../core/io/atomic.js';
import { renderHtml } from './html.js';
import { readItemImages } from './item-images.js';
import { itemGroups } from './item-groups.js';
import { provenanceSection } from './provenance-section.js';
import { readResultsJson, readRunRecord } from './results-file.js';
import { comparisonSection, metricSections } from './result-sections.js';
import type { ItemGroup, ReportData, ReportSection } from './section.js';

export type { ReportChart, ReportSection, ReportTable } from './section.js';

export const REPORT_FILE = 'report.html';

/** Images inlined up to this many bytes of PNG in all; the rest are referenced beside the page (images/…). */
export const INLINE_IMAGE_BYTES = 32 * 1024 * 1024;

export interface HtmlReportOptions {
  /** More sections (an analysis's tables and charts), placed after the paired comparisons. */
  sections?: ReportSection[];
  inlineImageBytes?: number;
}

/** Image key → data: URI, in the order the page shows them, until the budget is spent; then the relative path. */
async function imageSources(dir: string, groups: ItemGroup[], budget: number): Promise<{ images: Record<string, string>; inlined: number; beside: number }> {
  const images: Record<string, string> = {};
  let spent = 0;
  let [inlined, beside] = [0, 0];
  for (const g of groups) {
    for (const file of [...(g.truth ?? []), ...g.columns.flatMap((c) => c.images)]) {
      if (file in images) continue;
      const { size } = await stat(join(dir, file));
      if (spent + size <= budget) {
        images[file] = `data:image/png;base64,${(await readFile(join(dir, file))).toString('base64')}`;
        spent += size;
        inlined++;
      } else {
        images[file] = file;
        beside++;
      }
    }
  }
  return { images, inlined, beside };
}

export async function buildReportData(dir: string, options: HtmlReportOptions = {}): Promise<ReportData> {
  const results = await readResultsJson(dir);
  const [run, saved] = await Promise.all([readRunRecord(dir), readItemImages(dir)]);
  const seed = run?.experiment.pipelines[0]?.seed ?? 0; // the console table's means use the first pipeline's seed too
  const groups = itemGroups(results, saved);
  const { images, beside } = await imageSources(dir, groups, options.inlineImageBytes ?? INLINE_IMAGE_BYTES);
  const comparisons = comparisonSection(results.comparisons);
  const sections = [...metricSections(results.rows, { seed }), ...(comparisons ? [comparisons] : []), ...(options.sections ?? []), provenanceSection(results, run)];
  const text = [
    'Per test item: a scatter plot of one metric for two pipelines (click a point to see the item), and the grid of ground truth and ' +
      'reconstructions, which sorts by any metric of any pipeline.',
    ...(beside > 0 ? [`${beside} images are beyond what the page holds inline: they are read from images/ beside report.html (keep the folder together).`] : []),
  ];
  return {
    title: results.name,
    subtitle: `neurodecode ${results.version}${run ? ` · run ${run.started} · ${run.seconds.toFixed(1)} s` : ''}`,
    sections,
    items: { title: 'Items', text, groups },
    images,
  };
}

/** Where the extra sections of a report are kept (plain data), so that `neurodecode report` rebuilds them too. */
export const SECTIONS_FILE = 'report-sections.json';

/**
 * Writes `<dir>/report.html` (atomically) and returns its path. Sections given are kept in SECTIONS_FILE; without
 * them, the ones kept there earlier (an analysis's) are shown again.
 */
export async function writeHtmlReport(dir: string, options: HtmlReportOptions = {}): Promise<string> {
  const kept = join(dir, SECTIONS_FILE);
  let sections = options.sections;
  try {
    if (sections) await writeFileAtomic(kept, `${JSON.stringify(sections)}\n`);
    else if (existsSync(kept)) sections = JSON.parse(await readFile(kept, 'utf8')) as ReportSection[];
  } catch (error) {
    if (error instanceof SyntaxError) throw new UserError(`not valid JSON (${error.message}): remove it to rebuild the report without its extra sections`, kept);
    rethrowFileSystemError(error, 'keep the report sections', dir);
  }
  const html = await renderHtml(await buildReportData(dir, { ...options, ...(sections ? { sections } : {}) }));
  const path = join(dir, REPORT_FILE);
  try {
    await writeFileAtomic(path, html);
  } catch (error) {
    rethrowFileSystemError(error, 'write the report', dir);
  }
  return path;
}
