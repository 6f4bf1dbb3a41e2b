/**
 * Terminal rendering of results: the paper layout by default (cli/paper-table.ts), or `--long`, one row per
 * subject × metric × target × pipeline; then the paired comparisons against the baseline.
 */
import Table from 'cli-table3';
import type { PairedComparisonRow } from '../core/comparisons.js';
import type { MetricRow } from '../core/runner.js';
import {
  arrow,
  fmt,
  MARK_BEST,
  MARK_NOT_ABOVE_FLOOR,
  metricLabel,
  notAboveFloor,
  renderPaperLayout,
  SMALL_SAMPLE,
  tableWithRules,
} from './paper-table.js';

/** The long layout: rows grouped by subject, metric and target; the best pipeline in each group is starred. */
export function renderResultsTable(rows: MetricRow[]): string {
  const groups = new Map<string, MetricRow[]>();
  for (const row of rows) {
    const key = `${row.subject}|${metricLabel(row)}|${row.target}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  const table = new Table({
    head: ['subject', 'metric', 'target', 'pipeline', 'value', '95% CI', 'trivial'],
    style: { head: [], border: [] },
  });
  for (const group of groups.values()) {
    const scored = group.filter((r) => r.value !== null);
    const best = scored.length > 1
      ? scored.reduce((a, b) => ((b.direction === 'higher' ? b.value! > a.value! : b.value! < a.value!) ? b : a))
      : undefined;
    for (const r of group) {
      const marks = `${notAboveFloor(r, r.direction) ? ` ${MARK_NOT_ABOVE_FLOOR}` : ''}${r === best ? ` ${MARK_BEST}` : ''}`;
      table.push([
        r.subject,
        `${metricLabel(r)} ${arrow(r.direction)}`,
        r.target,
        r.pipeline,
        `${fmt(r.value)}${marks}`,
        r.value === null ? (r.problem ?? '') : `[${fmt(r.low)}, ${fmt(r.high)}]${r.items < SMALL_SAMPLE ? ` n=${r.items}` : ''}`,
        fmt(r.trivial),
      ]);
    }
  }
  return table.toString();
}

export function formatP(p: number): string {
  return p < 1e-3 ? '<0.001' : p.toFixed(3);
}

/** A paired comparison's verdict at p < 0.05, respecting the metric's direction. */
export function comparisonVerdict(r: Pick<PairedComparisonRow, 'pValue' | 'direction' | 'difference'>): 'better' | 'worse' | 'no clear difference' {
  if (!(r.pValue < 0.05)) return 'no clear difference';
  return (r.direction === 'higher' ? r.difference > 0 : r.difference < 0) ? 'better' : 'worse';
}

/** Paired differences against the baseline pipeline; the verdict respects each metric's direction. */
export function renderComparisonsTable(rows: PairedComparisonRow[], options: { long?: boolean } = {}): string {
  const table = new Table({
    head: ['subject', 'metric', 'target', 'pipeline − baseline', 'difference', '95% CI', 'p', 'verdict'],
    style: { head: [], border: [] },
  });
  for (const r of rows) {
    table.push([
      r.subject,
      `${metricLabel(r)} ${arrow(r.direction)}`,
      r.target,
      `${r.pipeline} − ${r.baseline}`,
      fmt(r.difference),
      `[${fmt(r.low)}, ${fmt(r.high)}]${r.items < SMALL_SAMPLE ? ` n=${r.items}` : ''}`,
      formatP(r.pValue),
      comparisonVerdict(r),
    ]);
  }
  return options.long ? table.toString() : tableWithRules(table);
}

/** Footnotes for rows not computed on every test item: a trivial floor on a subset, --limit, samples averaged. */
export function sampleNotes(rows: MetricRow[]): string[] {
  const notes: string[] = [];
  const subsets = new Map<string, number>();
  for (const r of rows) if (r.trivialItems !== undefined) subsets.set(r.pipeline, r.trivialItems);
  for (const [pipeline, items] of subsets) {
    notes.push(`trivial floor of ${pipeline}: its images were generated for ${items} seeded test items only (a costly generator; pipeline option trivialItems)`);
  }
  const limited = new Map<string, number>();
  for (const r of rows) if (r.limited !== undefined) limited.set(`${r.pipeline}|${r.limited.of}`, r.limited.items);
  for (const [key, items] of limited) {
    const [pipeline, of] = key.split('|');
    notes.push(`${pipeline}: --limit ${items}, only the first ${items} of ${of} test items were generated and scored`);
  }
  return notes;
}

/** Everything printed on stdout after a run: the results, their legend, the paired comparisons. */
export function renderResults(rows: MetricRow[], comparisons: PairedComparisonRow[], options: { long?: boolean; seed?: number } = {}): string {
  const parts = options.long
    ? [
        renderResultsTable(rows),
        `trivial = the same metric for the mean training target; ${MARK_BEST} = best; ${MARK_NOT_ABOVE_FLOOR} = not better than trivial; ` +
          `95% CI = bootstrap over test items (n=k: fewer than ${SMALL_SAMPLE} items, rough)`,
      ]
    : [renderPaperLayout(rows, { seed: options.seed })];
  parts.push(...sampleNotes(rows));
  if (comparisons.length > 0) {
    parts.push(
      '\npaired over the same test items (bootstrap interval of the mean difference, two-sided p):',
      renderComparisonsTable(comparisons, { long: options.long }),
    );
  }
  return parts.join('\n');
}
