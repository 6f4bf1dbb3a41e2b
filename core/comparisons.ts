/**
 * Paired comparisons between pipelines: on the same subject and the same test items, the per-item difference of
 * each metric between every pipeline and the first one on that dataset (the baseline), with a bootstrap interval and a two-sided
 * p-value. Two means alone cannot say whether a method is better; paired per-item values can.
 */
import type { MetricRow, PipelineOutcome } from './runner.js';
import { pairedBootstrap } from './stats.js';

export interface PairedComparisonRow {
  subject: string;
  target: string;
  metric: string;
  /** The metric's qualifier for this run (e.g. `150-way`), as in its MetricRow. */
  note?: string;
  direction: 'higher' | 'lower';
  pipeline: string;
  baseline: string;
  /** mean over items of (pipeline − baseline). */
  difference: number;
  low: number;
  high: number;
  pValue: number;
  items: number;
}

/**
 * The dataset an outcome ran on (id and resolved options): two datasets may name their items alike (a simulation
 * with another seed) without showing the same images, so only runs on one dataset are the same test items.
 */
export function datasetKey(outcome: Pick<PipelineOutcome, 'provenance'>): string {
  const dataset = outcome.provenance?.find((p) => p.kind === 'dataset');
  return dataset ? JSON.stringify([dataset.id, dataset.options]) : '';
}

/** Outcomes of one subject on one dataset, in run order: the groups that share test items. */
export function sameItemGroups(outcomes: PipelineOutcome[]): PipelineOutcome[][] {
  const groups = new Map<string, PipelineOutcome[]>();
  for (const o of outcomes) {
    const key = JSON.stringify([o.subject, datasetKey(o)]);
    groups.set(key, [...(groups.get(key) ?? []), o]);
  }
  return [...groups.values()];
}

export function pairedComparisons(rows: MetricRow[], outcomes: PipelineOutcome[], seed: number): PairedComparisonRow[] {
  const out: PairedComparisonRow[] = [];
  for (const runs of sameItemGroups(outcomes)) {
    const { subject } = runs[0]!;
    const baseline = runs[0]!;
    for (const other of runs.slice(1)) {
      // Only items known to be the same, in the same order, can be paired.
      if (other.testIds.length !== baseline.testIds.length || other.testIds.some((id, i) => id !== baseline.testIds[i])) continue;
      for (const [key, values] of Object.entries(other.perItem)) {
        const base = baseline.perItem[key];
        const row = rows.find((r) => r.pipeline === other.pipeline && r.subject === subject && `${r.target}/${r.metric}` === key);
        const baseRow = rows.find((r) => r.pipeline === baseline.pipeline && r.subject === subject && `${r.target}/${r.metric}` === key);
        if (!base || !row || !baseRow || row.value === null || baseRow.value === null) continue;
        // A set-level metric (no per-item values, e.g. FID) has nothing to pair: no paired test for it.
        if (values.length === 0 || base.length === 0) continue;
        const c = pairedBootstrap(values, base, { seed });
        out.push({
          subject,
          target: row.target,
          metric: row.metric,
          ...(row.note ? { note: row.note } : {}),
          direction: row.direction,
          pipeline: other.pipeline,
          baseline: baseline.pipeline,
          difference: c.meanDifference,
          low: c.low,
          high: c.high,
          pValue: c.pValue,
          items: values.length,
        });
      }
    }
  }
  return out;
}
