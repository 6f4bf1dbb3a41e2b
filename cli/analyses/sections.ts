/**
 * An analysis's report section: per target (the final image, stage 1, …) a table with one row per variant and one
 * column per metric, and a chart of the same values. Rows are matched to variants by pipeline name, each series
 * being a subject (and dataset, with several --dataset) so that several subjects share the table.
 */
import type { MetricRow } from '../../core/runner.js';
import { arrow, fmt, metricLabel } from '../paper-table.js';
import type { ReportCell, ReportChart, ReportSection, ReportTable } from '../report/section.js';
import type { Variant } from './variants.js';

/** A run's pipeline as a variant of one series (a dataset suffix from --dataset, or none). */
export interface VariantPipeline {
  pipeline: string;
  variant: Variant;
  series: string;
}

/** One value of the analysis: what the table's cell and the chart's point show. */
export interface AnalysisPoint {
  series: string;
  variant: string;
  value: number | null;
  target: string;
  metric: string;
  direction: 'higher' | 'lower';
  score: number | null;
  low: number | null;
  high: number | null;
  trivial: number | null;
  items: number;
}

/** The pipelines of the run spec in order: `replaceDatasets` repeats the variants once per dataset, suffixing names. */
export function variantPipelines(names: readonly string[], variants: readonly Variant[]): VariantPipeline[] {
  return names.map((pipeline, i) => {
    const variant = variants[i % variants.length]!;
    return { pipeline, variant, series: pipeline.slice(variant.name.length).trim() };
  });
}

export function analysisPoints(rows: readonly MetricRow[], pipelines: readonly VariantPipeline[]): AnalysisPoint[] {
  const byName = new Map(pipelines.map((p) => [p.pipeline, p]));
  const subjects = new Set(rows.map((r) => r.subject));
  return rows.flatMap((r) => {
    const p = byName.get(r.pipeline);
    if (!p) return [];
    const series = [p.series, subjects.size > 1 ? r.subject : ''].filter((s) => s !== '').join(' ');
    const { target, direction, value: score, low, high, trivial, items } = r;
    return [{ series, variant: p.variant.name, value: p.variant.value, target, metric: metricLabel(r), direction, score, low, high, trivial, items }];
  });
}

const unique = <T>(values: T[]): T[] => [...new Set(values)];

/** Rows: series × variant in run order; columns: the target's metrics. */
export function analysisTable(points: AnalysisPoint[], target: string, variantHead: string, id: string): ReportTable {
  const mine = points.filter((p) => p.target === target);
  const metrics = unique(mine.map((p) => p.metric));
  const directions = new Map(mine.map((p) => [p.metric, p.direction]));
  const series = unique(mine.map((p) => p.series));
  const several = series.length > 1 || series[0] !== '';
  const rows = series.flatMap((s) =>
    unique(mine.filter((p) => p.series === s).map((p) => p.variant)).map((variant) => {
      const cells = metrics.map((metric): ReportCell | string => {
        const p = mine.find((q) => q.series === s && q.variant === variant && q.metric === metric);
        if (!p) return '';
        const data = { variant, metric, target, ...(several ? { series: s } : {}) };
        return { text: fmt(p.score), sub: p.low === null ? '' : `[${fmt(p.low)}, ${fmt(p.high)}]`, value: p.score, data, classes: p.score === null ? ['na'] : [] };
      });
      return { cells: [...(several ? [s] : []), variant, ...cells] };
    }),
  );
  const items = unique(mine.map((p) => p.items));
  return {
    id,
    caption: `'${target}'`,
    head: [...(several ? ['series'] : []), variantHead, ...metrics.map((m) => `${m} ${arrow(directions.get(m)!)}`)],
    rows,
    notes: [`Each cell: the mean over ${items.join(' / ')} test items and its 95% bootstrap interval.`],
  };
}

function chartValues(points: AnalysisPoint[], target: string) {
  return points
    .filter((p) => p.target === target && p.score !== null)
    .map((p) => ({ series: p.series, variant: p.variant, value: p.value, metric: `${p.metric} ${arrow(p.direction)}`, score: p.score, low: p.low, high: p.high }));
}

const tooltip = [
  { field: 'variant', type: 'nominal' },
  { field: 'series', type: 'nominal' },
  { field: 'score', type: 'quantitative', format: '.4f' },
  { field: 'low', type: 'quantitative', format: '.4f', title: '95% low' },
  { field: 'high', type: 'quantitative', format: '.4f', title: '95% high' },
];

/** Panels side by side, each with its own y scale (concat, not facet: no empty panel fills the last row). */
const panels = (values: Array<{ metric: string }>, panel: (metric: string) => Record<string, unknown>, title: string): ReportChart => ({
  title,
  spec: { data: { values }, concat: unique(values.map((v) => v.metric)).map(panel), columns: 4, resolve: { scale: { y: 'independent' } } },
});

/**
 * Score against amplitude (log₂ axis: the amplitudes double), one line per series, per metric; the run without noise
 * as a dashed rule, since it has no amplitude to place on the axis.
 */
export function amplitudeChart(points: AnalysisPoint[], target: string, title: string): ReportChart {
  const values = chartValues(points, target);
  const panel = (metric: string) => ({
    title: metric,
    width: 170,
    height: 130,
    transform: [{ filter: { field: 'metric', equal: metric } }],
    layer: [
      {
        transform: [{ filter: 'datum.value !== null' }],
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'value', type: 'quantitative', title: 'amplitude', scale: { type: 'log', base: 2 } },
          y: { field: 'score', type: 'quantitative', title: null, scale: { zero: false } },
          color: { field: 'series', type: 'nominal', legend: null },
          tooltip,
        },
      },
      {
        transform: [{ filter: 'datum.value === null' }],
        mark: { type: 'rule', strokeDash: [4, 3], color: '#d62728' },
        encoding: { y: { field: 'score', type: 'quantitative' }, tooltip },
      },
    ],
  });
  return panels(values, panel, title);
}

/** One bar per variant side by side per series, per metric, with the 95% interval as a rule. */
export function groupedBarChart(points: AnalysisPoint[], target: string, title: string): ReportChart {
  const values = chartValues(points, target);
  const variants = unique(values.map((v) => v.variant));
  const panel = (metric: string) => ({
    title: metric,
    width: 150,
    height: 130,
    transform: [{ filter: { field: 'metric', equal: metric } }],
    encoding: {
      x: { field: 'series', type: 'nominal', title: null, axis: { labelAngle: 0 } },
      xOffset: { field: 'variant', type: 'nominal', sort: variants },
    },
    layer: [
      {
        mark: { type: 'bar', opacity: 0.85 },
        encoding: { y: { field: 'score', type: 'quantitative', title: null }, color: { field: 'variant', type: 'nominal', sort: variants }, tooltip },
      },
      { mark: { type: 'rule', strokeWidth: 1.5 }, encoding: { y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' }, tooltip } },
    ],
  });
  return panels(values, panel, title);
}

/** The section: a table per target, the final image's first, and the chart for each target the variants change. */
export function analysisSection(
  section: { id: string; title: string; text: string[]; variantHead: string },
  points: AnalysisPoint[],
  chart: (points: AnalysisPoint[], target: string) => ReportChart,
  charted: (target: string) => boolean,
): ReportSection {
  const targets = unique(points.map((p) => p.target)).sort((a, b) => Number(b === 'image') - Number(a === 'image'));
  const slug = (t: string) => t.replace(/[^A-Za-z0-9-]+/g, '-');
  return {
    id: section.id,
    title: section.title,
    text: section.text,
    tables: targets.map((t) => analysisTable(points, t, section.variantHead, `${section.id}-${slug(t)}`)),
    charts: targets.filter(charted).map((t) => chart(points, t)),
  };
}
