/**
 * The table of a preset run (`compare --preset …`) in the papers' layout: one line per method and dataset (the mean
 * over its subjects of the final images' metrics), and under it what the paper printed for that method, with the
 * source of each line — so that whether a reproduction holds is read off at once.
 */
import Table from 'cli-table3';
import type { PipelineSpec } from '../core/pipeline.js';
import type { MetricRow } from '../core/runner.js';
import { arrow, fmt, tableWithRules } from './paper-table.js';
import { publishedFor, type PublishedValues } from './published-values.js';

/** Brain-Diffuser's eight columns, in its order: [metric ids the column shows, label]. */
const PAPER_COLUMNS: ReadonlyArray<[readonly string[], string]> = [
  [['pixcorr'], 'PixCorr'],
  [['ssim-columns', 'ssim'], 'SSIM'],
  [['alexnet-2'], 'AlexNet(2)'],
  [['alexnet-5'], 'AlexNet(5)'],
  [['inception'], 'Inception'],
  [['clip'], 'CLIP'],
  [['effnet-b'], 'EffNet-B'],
  [['swav'], 'SwAV'],
];

export interface MethodLine {
  pipeline: string;
  method: string;
  dataset: string;
  subjects: string[];
  /** Metric id → mean over the subjects (null where a subject's value is undefined). */
  values: Record<string, number | null>;
  published: PublishedValues[];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The run's final-image metrics per preset pipeline, averaged over its subjects, beside the published values. */
export function publishedComparison(rows: readonly MetricRow[], pipelines: readonly PipelineSpec[]): MethodLine[] {
  return pipelines.flatMap((p) => {
    if (p.method === undefined) return [];
    const mine = rows.filter((r) => r.pipeline === p.name && r.target === 'image');
    const values: Record<string, number | null> = {};
    for (const metric of new Set(mine.map((r) => r.metric))) {
      const per = mine.filter((r) => r.metric === metric).map((r) => r.value);
      values[metric] = per.some((v) => v === null) ? null : mean(per as number[]);
    }
    return [{ pipeline: p.name, method: p.method, dataset: p.dataset.id, subjects: [...new Set(mine.map((r) => r.subject))], values, published: publishedFor(p.method) }];
  });
}

interface Column {
  ids: readonly string[];
  label: string;
}

/** The eight columns, then any other image metric the run or the papers have (LPIPS, FID, retrieval…). */
function columnsOf(lines: readonly MethodLine[], rows: readonly MetricRow[]): Column[] {
  const columns: Column[] = PAPER_COLUMNS.map(([ids, label]) => ({ ids, label }));
  const known = new Set(columns.flatMap((c) => c.ids));
  for (const line of lines) {
    for (const id of [...Object.keys(line.values), ...line.published.flatMap((p) => Object.keys(p.values))]) {
      if (!known.has(id)) columns.push({ ids: [id], label: id });
      known.add(id);
    }
  }
  return columns.map((c) => {
    const direction = rows.find((r) => c.ids.includes(r.metric))?.direction;
    return direction ? { ...c, label: `${c.label} ${arrow(direction)}` } : c;
  });
}

const cell = (values: Record<string, number | null>, column: Column): string => {
  const id = column.ids.find((i) => i in values);
  return id === undefined ? '—' : fmt(values[id]!);
};

const subjectsLabel = (subjects: readonly string[]) => (subjects.length === 1 ? subjects[0]! : `mean of ${subjects.length}`);

export function renderPublishedTable(lines: readonly MethodLine[], rows: readonly MetricRow[]): string {
  if (lines.length === 0) return '';
  const columns = columnsOf(lines, rows);
  const table = new Table({ head: ['method', 'data', ...columns.map((c) => c.label)], style: { head: [], border: [] } });
  const sources: string[] = [];
  const lastOfMethod: number[] = [];
  // One block per method: its run on each dataset, then what its papers printed.
  for (const method of [...new Set(lines.map((l) => l.method))]) {
    const mine = lines.filter((l) => l.method === method);
    for (const line of mine) table.push([line.pipeline, `${line.dataset} · ${subjectsLabel(line.subjects)}`, ...columns.map((c) => cell(line.values, c))]);
    for (const p of mine[0]!.published) {
      sources.push(p.source);
      table.push([`  published [${sources.length}]`, `${p.dataset} · ${p.subject}`, ...columns.map((c) => cell(p.values, c))]);
    }
    lastOfMethod.push(table.length - 1);
  }
  const footnotes = sources.map((s, i) => `[${i + 1}] ${s}`);
  const title = 'Published pipelines: this run (final images, mean over subjects) and the papers\' values (— not reported)';
  return [title, tableWithRules(table, (row) => lastOfMethod.includes(row)), ...footnotes].join('\n');
}
