/**
 * The paper layout of results: one row per pipeline (per subject, then the mean over subjects when there are
 * several), one column per metric with its direction, value and 95% interval, the trivial floor as its own row,
 * ★ for the best value of each column. Image-level metrics form the main table, latent-level metrics one table
 * per target space. Every value not better than its trivial floor is marked †.
 */
import Table from 'cli-table3';
import type { MetricRow } from '../core/runner.js';
import { bootstrapMeanInterval } from '../core/stats.js';

/** An interval from fewer items than this is flagged as rough. */
export const SMALL_SAMPLE = 10;
/** The mean over subjects gets a bootstrap interval over subjects from this many subjects on. */
export const MIN_SUBJECTS_FOR_INTERVAL = 3;

export const MARK_BEST = '★';
export const MARK_NOT_ABOVE_FLOOR = '†';

interface Column {
  key: string;
  metric: string;
  note?: string;
  direction: 'higher' | 'lower';
}

/** One pipeline's value of one metric, as the long rows hold it. */
type Cell = Pick<MetricRow, 'value' | 'low' | 'high' | 'trivial' | 'items' | 'problem'>;

interface Line {
  kind: 'pipeline' | 'mean' | 'floor';
  pipeline: string;
  subject: string;
  cells: Map<string, Cell>;
}

export interface PaperTable {
  columns: Column[];
  lines: Line[];
}

/** What the legend under the tables must explain. */
export interface TableFacts {
  notAboveFloor: number;
  smallSamples: number;
  means: boolean;
}

export function fmt(v: number | null): string {
  if (v === null) return 'n/a';
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(2) : v.toFixed(4);
}

export function arrow(direction: 'higher' | 'lower'): string {
  return direction === 'higher' ? '↑' : '↓';
}

/** The metric as shown: its id and, when the run qualifies it, the qualifier (`retrieval-forward (150-way)`). */
export function metricLabel(row: { metric: string; note?: string }): string {
  return row.note ? `${row.metric} (${row.note})` : row.metric;
}

function better(direction: 'higher' | 'lower', a: number, b: number): boolean {
  return direction === 'higher' ? a > b : a < b;
}

/** A value no better than the trivial predictor's on the same metric (equal counts as not better). */
export function notAboveFloor(cell: { value: number | null; trivial: number | null }, direction: 'higher' | 'lower'): boolean {
  return cell.value !== null && cell.trivial !== null && !better(direction, cell.value, cell.trivial);
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/**
 * Floor rows: one when every pipeline has the same floor (as printed, on the metrics both have), else one per
 * distinct floor, naming its pipelines.
 */
function floorLines(lines: Line[], columns: Column[], subject: string): Line[] {
  const groups: Array<{ pipelines: string[]; cells: Map<string, Cell> }> = [];
  for (const line of lines) {
    const agrees = (cells: Map<string, Cell>) =>
      columns.every((c) => {
        const [a, b] = [cells.get(c.key), line.cells.get(c.key)];
        return !a || !b || fmt(a.trivial) === fmt(b.trivial);
      });
    let group = groups.find((g) => agrees(g.cells));
    if (!group) groups.push((group = { pipelines: [], cells: new Map() }));
    group.pipelines.push(line.pipeline);
    for (const [key, cell] of line.cells) if (!group.cells.has(key)) group.cells.set(key, { ...cell, value: cell.trivial, low: null, high: null });
  }
  return groups.map((g) => ({
    kind: 'floor' as const,
    pipeline: groups.length === 1 ? 'trivial floor' : `trivial floor (${g.pipelines.join(', ')})`,
    subject,
    cells: g.cells,
  }));
}

/** Mean of per-subject values; a bootstrap interval over subjects from MIN_SUBJECTS_FOR_INTERVAL subjects on. */
function meanCell(cells: Cell[], seed: number): Cell | undefined {
  if (cells.some((c) => c.value === null)) return undefined;
  const values = cells.map((c) => c.value!);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const interval = values.length >= MIN_SUBJECTS_FOR_INTERVAL ? bootstrapMeanInterval(values, { seed }) : undefined;
  const trivial = cells.every((c) => c.trivial !== null) ? cells.reduce((a, c) => a + c.trivial!, 0) / cells.length : null;
  return { value: mean, low: interval?.low ?? null, high: interval?.high ?? null, trivial, items: values.length };
}

/** Builds the paper layout from metric rows of one target (`image` or one target space). */
export function buildPaperTable(rows: MetricRow[], options: { seed?: number } = {}): PaperTable {
  const columns: Column[] = [];
  for (const r of rows) {
    const key = metricLabel(r);
    if (!columns.some((c) => c.key === key)) columns.push({ key, metric: r.metric, note: r.note, direction: r.direction });
  }
  const subjects = unique(rows.map((r) => r.subject));
  const pipelines = unique(rows.map((r) => r.pipeline));
  const cellOf = (r: MetricRow): Cell => ({ value: r.value, low: r.low, high: r.high, trivial: r.trivial, items: r.items, problem: r.problem });
  const lines: Line[] = [];
  const perSubject = new Map<string, Line[]>();
  for (const subject of subjects) {
    const group = pipelines.flatMap((pipeline) => {
      const mine = rows.filter((r) => r.subject === subject && r.pipeline === pipeline);
      if (mine.length === 0) return [];
      return [{ kind: 'pipeline' as const, pipeline, subject, cells: new Map(mine.map((r) => [metricLabel(r), cellOf(r)])) }];
    });
    perSubject.set(subject, group);
    lines.push(...group, ...floorLines(group, columns, subject));
  }
  if (subjects.length > 1) {
    const means = pipelines.flatMap((pipeline) => {
      const own = subjects.flatMap((s) => perSubject.get(s)!.filter((l) => l.pipeline === pipeline));
      if (own.length < 2) return [];
      const cells = new Map<string, Cell>();
      for (const c of columns) {
        const all = own.map((l) => l.cells.get(c.key));
        const cell = all.every((x) => x !== undefined) ? meanCell(all as Cell[], options.seed ?? 0) : undefined;
        if (cell) cells.set(c.key, cell);
      }
      return [{ kind: 'mean' as const, pipeline, subject: `mean of ${own.length}`, cells }];
    });
    lines.push(...means, ...floorLines(means, columns, means[0]?.subject ?? 'mean'));
  }
  return { columns, lines };
}

/** Whether a line's cell is the best of its column among the lines it competes with (same subject or means). */
export function isBest(table: PaperTable, line: Line, column: Column): boolean {
  if (line.kind === 'floor') return false;
  const rivals = table.lines.filter((l) => l.kind === line.kind && l.subject === line.subject);
  const values = rivals.map((l) => l.cells.get(column.key)?.value).filter((v): v is number => v !== null && v !== undefined);
  const own = line.cells.get(column.key)?.value;
  if (values.length < 2 || own === null || own === undefined) return false;
  return values.every((v) => !better(column.direction, v, own));
}

function cellText(table: PaperTable, line: Line, column: Column, facts: TableFacts): string {
  const cell = line.cells.get(column.key);
  if (!cell) return '';
  if (line.kind === 'floor') return fmt(cell.value);
  if (cell.value === null) return `n/a\n${cell.problem ?? ''}`;
  let marks = '';
  if (notAboveFloor(cell, column.direction)) {
    marks += ` ${MARK_NOT_ABOVE_FLOOR}`;
    facts.notAboveFloor++;
  }
  if (isBest(table, line, column)) marks += ` ${MARK_BEST}`;
  let interval = cell.low === null || cell.high === null ? '(no interval)' : `[${fmt(cell.low)}, ${fmt(cell.high)}]`;
  if (cell.low !== null && cell.items < SMALL_SAMPLE) {
    interval += ` n=${cell.items}`;
    facts.smallSamples++;
  }
  if (line.kind === 'mean') facts.means = true;
  return `${fmt(cell.value)}${marks}\n${interval}`;
}

/**
 * A cli-table3 table with rules only under the header and after the rows `ruleAfter` names (cli-table3 draws
 * one between every row or none at all): a rule between every row makes a table of a few lines hard to read.
 */
export function tableWithRules(table: Table.Table, ruleAfter: (row: number) => boolean = () => false): string {
  let rules = 0; // the first rule is under the header, the next one after row 0, and so on
  return table
    .toString()
    .split('\n')
    .filter((line) => {
      if (!line.startsWith('├')) return true;
      const afterRow = rules++ - 1;
      return afterRow < 0 || ruleAfter(afterRow);
    })
    .join('\n');
}

/** The table; the subject is a column with several subjects, else it is said in `title`. */
export function renderPaperTable(title: string, table: PaperTable, facts: TableFacts): string {
  const subjects = unique(table.lines.map((l) => l.subject));
  const bySubject = subjects.length > 1;
  const out = new Table({
    head: [
      'pipeline',
      ...(bySubject ? ['subject'] : []),
      ...table.columns.map((c) => `${c.metric} ${arrow(c.direction)}${c.note ? `\n${c.note}` : ''}`),
    ],
    style: { head: [], border: [] },
  });
  for (const line of table.lines) {
    out.push([line.pipeline, ...(bySubject ? [line.subject] : []), ...table.columns.map((c) => cellText(table, line, c, facts))]);
  }
  // Rules set off each block's floor rows, and end each subject's block (pipelines compete within a block).
  const lines = table.lines;
  const floor = (i: number) => lines[i]?.kind === 'floor';
  const rendered = tableWithRules(out, (i) => floor(i) !== floor(i + 1) && i + 1 < lines.length);
  return `${bySubject ? title : `${title} · ${subjects[0]}`}\n${rendered}`;
}

/** The legend under the tables: every mark that appears is explained, and the floor verdict is always said. */
export function paperLegend(facts: TableFacts): string[] {
  const lines = [
    `${MARK_BEST} = best in its column (per subject; the means among themselves); [low, high] = 95% percentile bootstrap interval over test items`,
    facts.notAboveFloor > 0
      ? `${MARK_NOT_ABOVE_FLOOR} = NOT better than the trivial floor (${facts.notAboveFloor} value${facts.notAboveFloor === 1 ? '' : 's'}): ` +
        'no better than predicting every test item as the mean training target'
      : 'every value is better than the trivial floor (every test item predicted as the mean training target)',
  ];
  if (facts.smallSamples > 0) lines.push(`n=k = interval from fewer than ${SMALL_SAMPLE} items (or subjects): rough, read it with care`);
  if (facts.means) {
    lines.push(
      `mean of k = mean of the per-subject values; its interval is a bootstrap over subjects (none with fewer than ${MIN_SUBJECTS_FOR_INTERVAL})`,
    );
  }
  return lines;
}

/** The image-level table, then one latent table per target space, then the legend. */
export function renderPaperLayout(rows: MetricRow[], options: { seed?: number } = {}): string {
  const facts: TableFacts = { notAboveFloor: 0, smallSamples: 0, means: false };
  const parts: string[] = [];
  const image = rows.filter((r) => r.target === 'image');
  if (image.length > 0) parts.push(renderPaperTable('image metrics', buildPaperTable(image, options), facts));
  for (const space of unique(rows.filter((r) => r.target !== 'image').map((r) => r.target))) {
    const latent = rows.filter((r) => r.target === space);
    parts.push(`\n${renderPaperTable(`latent metrics in target space '${space}'`, buildPaperTable(latent, options), facts)}`);
  }
  parts.push(...paperLegend(facts));
  return parts.join('\n');
}
