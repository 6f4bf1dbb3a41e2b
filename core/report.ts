/**
 * Writing an experiment's results: results.json (rows, per-item values, provenance, timings), results.csv
 * (one row per pipeline × subject × target × metric) and a PNG grid of ground truth vs reconstructions.
 * Every file is written atomically.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from './errors.js';
import { writeFileAtomic } from './io/atomic.js';
import { checkWritable, ensureFolder, rethrowFileSystemError } from './io/folders.js';
import { sameItemGroups } from './comparisons.js';
import { writeImageGrid } from './io/png.js';
import type { ExperimentResult, MetricRow } from './runner.js';
import { takeImages } from './tensor.js';

export interface WrittenReport {
  dir: string;
  files: string[];
  /** Column order of the grid: ground truth first, then each pipeline. */
  gridColumns: string[];
}

/**
 * The output folder `-o` names, checked before any long computation: created when missing, used when empty.
 * A folder with files is refused (its old results would mix with the new ones) unless `force`, which empties
 * it first — and only when it holds earlier results (results.json), so that a mistyped `-o ~` deletes nothing.
 */
export async function prepareOutputDir(dir: string, options: { force?: boolean } = {}): Promise<void> {
  await ensureFolder(dir);
  const present = await readdir(dir);
  if (present.length > 0) {
    if (!options.force) {
      throw new UserError(`the output folder is not empty (${present.length} entries): choose a new one, or pass --force to empty it first`, dir);
    }
    if (!existsSync(join(dir, 'results.json'))) {
      throw new UserError('--force empties only a folder of earlier results (one with results.json); this one has none: choose another folder', dir);
    }
    for (const name of present) await rm(join(dir, name), { recursive: true, force: true });
  }
  await checkWritable(dir, 'write to the output folder');
}

/**
 * A new folder `<parent>/<stem>` for one run, created exclusively: when another run took the name (two runs
 * started in the same second), `<stem>-2`, `<stem>-3`… so that no run writes into another's folder.
 */
export async function createUniqueOutputDir(parent: string, stem: string): Promise<string> {
  await ensureFolder(parent);
  for (let n = 1; ; n++) {
    const dir = join(parent, n === 1 ? stem : `${stem}-${n}`);
    try {
      await mkdir(dir); // not recursive: fails with EEXIST when the name is taken
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && n < 1000) continue;
      rethrowFileSystemError(error, 'create the output folder', dir);
    }
    await checkWritable(dir, 'write to the output folder');
    return dir;
  }
}

const CSV_COLUMNS: Array<keyof MetricRow> = ['pipeline', 'subject', 'target', 'metric', 'note', 'direction', 'value', 'low', 'high', 'trivial', 'items', 'problem'];

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function rowsToCsv(rows: MetricRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const row of rows) lines.push(CSV_COLUMNS.map((c) => csvCell(row[c])).join(','));
  return `${lines.join('\n')}\n`;
}

/** The JSON form: everything but the image arrays. */
export function resultToJson(result: ExperimentResult): unknown {
  return {
    name: result.name,
    version: result.version,
    rows: result.rows,
    comparisons: result.comparisons,
    outcomes: result.outcomes.map(({ reconstructions: _r, truth: _t, stages: _s, ...rest }) => rest),
  };
}

export async function writeReport(result: ExperimentResult, dir: string, options: { gridItems: number }): Promise<WrittenReport> {
  try {
    return await writeReportFiles(result, dir, options);
  } catch (error) {
    rethrowFileSystemError(error, 'write the results', dir);
  }
}

async function writeReportFiles(result: ExperimentResult, dir: string, options: { gridItems: number }): Promise<WrittenReport> {
  await ensureFolder(dir);
  const files: string[] = [];
  const json = join(dir, 'results.json');
  await writeFileAtomic(json, `${JSON.stringify(resultToJson(result), null, 1)}\n`);
  files.push(json);
  const csv = join(dir, 'results.csv');
  await writeFileAtomic(csv, rowsToCsv(result.rows));
  files.push(csv);

  // One grid per subject and dataset: ground truth, then every pipeline run on it (grid-<subject>.png for the first
  // dataset, grid-<subject>-dataset<k>.png for the k-th: other datasets show other images).
  const gridColumns: string[] = [];
  const seen = new Map<string, number>();
  for (const outcomes of sameItemGroups(result.outcomes)) {
    const first = outcomes[0]!;
    const subject = first.subject;
    const k = (seen.get(subject) ?? 0) + 1;
    seen.set(subject, k);
    const count = Math.min(options.gridItems, first.truth.count);
    const items = Array.from({ length: count }, (_, i) => i);
    const columns = [
      { label: 'ground truth', images: takeImages(first.truth, items) },
      ...outcomes.map((o) => ({ label: o.pipeline, images: takeImages(o.reconstructions, items) })),
    ];
    const path = join(dir, k === 1 ? `grid-${subject}.png` : `grid-${subject}-dataset${k}.png`);
    await writeImageGrid(path, columns, { scale: first.truth.height < 96 ? 2 : 1, title: `${subject} · ${result.name}` });
    files.push(path);
    if (gridColumns.length === 0) gridColumns.push(...columns.map((c) => c.label));
  }
  return { dir, files, gridColumns };
}
