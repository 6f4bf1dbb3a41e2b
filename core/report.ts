/**
 * Writing an experiment's results: results.json (rows, per-item values, provenance, timings), results.csv
 * (one row per pipeline × subject × target × metric) and a PNG grid of ground truth vs reconstructions.
 * Every file is written atomically.
 */
import { access, constants, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from './errors.js';
import { writeFileAtomic } from './io/atomic.js';
import { writeImageGrid } from './io/png.js';
import type { ExperimentResult, MetricRow } from './runner.js';
import { takeImages } from './tensor.js';

export interface WrittenReport {
  dir: string;
  files: string[];
  /** Column order of the grid: ground truth first, then each pipeline. */
  gridColumns: string[];
}

/** Creates (or checks) the output folder first, so an unwritable one fails before any long computation. */
export async function prepareOutputDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (error) {
    throw new UserError(`cannot write to the output folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, dir);
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
    outcomes: result.outcomes.map(({ reconstructions: _r, truth: _t, ...rest }) => rest),
  };
}

export async function writeReport(result: ExperimentResult, dir: string, options: { gridItems: number }): Promise<WrittenReport> {
  await prepareOutputDir(dir);
  const files: string[] = [];
  const json = join(dir, 'results.json');
  await writeFileAtomic(json, `${JSON.stringify(resultToJson(result), null, 1)}\n`);
  files.push(json);
  const csv = join(dir, 'results.csv');
  await writeFileAtomic(csv, rowsToCsv(result.rows));
  files.push(csv);

  // One grid per subject: ground truth, then every pipeline run on that subject.
  const gridColumns: string[] = [];
  const subjects = [...new Set(result.outcomes.map((o) => o.subject))];
  for (const subject of subjects) {
    const outcomes = result.outcomes.filter((o) => o.subject === subject);
    const first = outcomes[0]!;
    const count = Math.min(options.gridItems, first.truth.count);
    const items = Array.from({ length: count }, (_, i) => i);
    const columns = [
      { label: 'ground truth', images: takeImages(first.truth, items) },
      ...outcomes.map((o) => ({ label: o.pipeline, images: takeImages(o.reconstructions, items) })),
    ];
    const path = join(dir, `grid-${subject}.png`);
    await writeImageGrid(path, columns, { scale: first.truth.height < 96 ? 2 : 1, title: `${subject} · ${result.name}` });
    files.push(path);
    if (gridColumns.length === 0) gridColumns.push(...columns.map((c) => c.label));
  }
  return { dir, files, gridColumns };
}
