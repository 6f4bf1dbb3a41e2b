/** Terminal rendering of results: one table, best value per metric marked. */
import Table from 'cli-table3';
import type { PairedComparisonRow } from '../core/comparisons.js';
import type { MetricRow } from '../core/runner.js';

function fmt(v: number | null): string {
  if (v === null) return 'n/a';
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(2) : v.toFixed(4);
}

/** Rows grouped by subject, metric and target; the best pipeline in each group is starred. */
export function renderResultsTable(rows: MetricRow[]): string {
  const groups = new Map<string, MetricRow[]>();
  for (const row of rows) {
    const key = `${row.subject}|${row.metric}|${row.target}`;
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
      const arrow = r.direction === 'higher' ? '↑' : '↓';
      table.push([
        r.subject,
        `${r.metric} ${arrow}`,
        r.target,
        r.pipeline,
        `${fmt(r.value)}${r === best ? ' ★' : ''}`,
        r.value === null ? (r.problem ?? '') : `[${fmt(r.low)}, ${fmt(r.high)}]`,
        fmt(r.trivial),
      ]);
    }
  }
  return table.toString();
}

/** Paired differences against the baseline pipeline; the verdict respects each metric's direction. */
export function renderComparisonsTable(rows: PairedComparisonRow[]): string {
  const table = new Table({
    head: ['subject', 'metric', 'target', 'pipeline − baseline', 'difference', '95% CI', 'p', 'verdict'],
    style: { head: [], border: [] },
  });
  for (const r of rows) {
    const significant = r.pValue < 0.05;
    const better = r.direction === 'higher' ? r.difference > 0 : r.difference < 0;
    table.push([
      r.subject,
      r.metric,
      r.target,
      `${r.pipeline} − ${r.baseline}`,
      fmt(r.difference),
      `[${fmt(r.low)}, ${fmt(r.high)}]`,
      r.pValue < 1e-3 ? '<0.001' : r.pValue.toFixed(3),
      significant ? (better ? 'better' : 'worse') : 'no clear difference',
    ]);
  }
  return table.toString();
}
