/**
 * `analyze roi`: the file's pipeline once per atlas ROI, every mapper restricted to that ROI's voxels (the mappers'
 * existing `"rois"` restriction), plus the all-voxels pipeline, so that the table and heat map show which region
 * carries which target space.
 */
import { UserError } from '../../core/errors.js';
import type { ExperimentSpec } from '../../core/pipeline.js';
import type { Dataset } from '../../core/contracts.js';
import { arrow, fmt } from '../paper-table.js';
import type { ReportCell, ReportChart, ReportSection } from '../report/section.js';
import type { AnalysisPoint } from './sections.js';
import type { Variant } from './variants.js';

export const ALL_VOXELS = 'all voxels';

/**
 * The dataset's ROIs in atlas order, with at least one voxel for some subject: from describe(), else (a dataset
 * whose summaries name no ROI) from the first subject's loaded atlas.
 */
export async function datasetRois(dataset: Dataset): Promise<string[]> {
  const info = await dataset.describe();
  const names = new Set<string>();
  for (const s of info.summaries) for (const [name, count] of Object.entries(s.rois ?? {})) if (count > 0) names.add(name);
  if (names.size > 0 || info.subjects.length === 0) return [...names];
  const { atlas } = await dataset.load(info.subjects[0]!);
  return Object.keys(atlas).filter((name) => atlas[name]!.length > 0);
}

/** `--roi` values checked against the dataset's ROIs (each once, in the given order); none given: every ROI. */
export function chooseRois(requested: readonly string[] | undefined, known: readonly string[], datasetId: string): string[] {
  if (known.length === 0) throw new UserError(`dataset '${datasetId}' has no ROI atlas: there is nothing to restrict the mappers to`, '--roi');
  if (!requested || requested.length === 0) return [...known];
  const unknown = requested.filter((r) => !known.includes(r));
  if (unknown.length > 0) {
    throw new UserError(`dataset '${datasetId}' has no ROI ${unknown.map((r) => `'${r}'`).join(', ')} (its ROIs: ${known.join(', ')})`, '--roi');
  }
  return [...new Set(requested)];
}

/** The variants: every voxel first (the reference), then one per ROI. `value` is unused (null). */
export function roiVariants(rois: readonly string[]): Variant[] {
  return [{ name: ALL_VOXELS, value: null }, ...rois.map((roi) => ({ name: `ROI ${roi}`, value: null }))];
}

/** The file's one pipeline copied per ROI with `"rois": [roi]` on every mapper key (any generator works). */
export function roiSpec(spec: ExperimentSpec, file: string, rois: readonly string[]): { spec: ExperimentSpec; variants: Variant[] } {
  const [template, ...others] = spec.pipelines;
  if (!template) throw new UserError('holds no pipeline', file);
  if (others.length > 0) throw new UserError(`holds ${spec.pipelines.length} pipelines; give a file of one pipeline`, file);
  const variants = roiVariants(rois);
  const pipelines = variants.map((v, i) => {
    const roi = rois[i - 1];
    const copy = structuredClone(template);
    if (roi !== undefined) for (const key of Object.keys(copy.mappers)) copy.mappers[key] = { ...copy.mappers[key]!, rois: [roi] };
    return { ...copy, name: v.name, source: `${template.source ?? template.name} as '${v.name}'` };
  });
  return { spec: { name: `per-ROI decoding: ${template.name}`, pipelines }, variants };
}

const unique = <T>(values: T[]): T[] => [...new Set(values)];

/**
 * The section: one table (rows: the variants per series; columns: each target space's latent metrics, then the
 * image targets' metrics) and a heat map of ROI × target space coloured by the first latent metric.
 */
export function roiSection(points: AnalysisPoint[], spaces: readonly string[]): ReportSection {
  const columns = unique(points.map((p) => `${p.target}\u0000${p.metric}`))
    .map((c) => c.split('\u0000') as [string, string])
    .sort(([a], [b]) => Number(!spaces.includes(a)) - Number(!spaces.includes(b)));
  const series = unique(points.map((p) => p.series));
  const several = series.length > 1 || series[0] !== '';
  const find = (s: string, variant: string, target: string, metric: string) =>
    points.find((p) => p.series === s && p.variant === variant && p.target === target && p.metric === metric);
  const rows = series.flatMap((s) =>
    unique(points.filter((p) => p.series === s).map((p) => p.variant)).map((variant) => ({
      cells: [
        ...(several ? [s] : []),
        variant,
        ...columns.map(([target, metric]): ReportCell | string => {
          const p = find(s, variant, target, metric);
          if (!p) return '';
          const data = { variant, metric, target, ...(several ? { series: s } : {}) };
          return { text: fmt(p.score), sub: p.low === null ? '' : `[${fmt(p.low)}, ${fmt(p.high)}]`, value: p.score, data, classes: p.score === null ? ['na'] : [] };
        }),
      ],
    })),
  );
  const direction = new Map(points.map((p) => [p.metric, p.direction]));
  const items = unique(points.map((p) => p.items));
  const latentMetric = points.find((p) => spaces.includes(p.target))?.metric;
  const charts: ReportChart[] = [];
  if (latentMetric !== undefined) {
    const values = points
      .filter((p) => spaces.includes(p.target) && p.metric === latentMetric && p.variant !== ALL_VOXELS)
      .map((p) => ({ series: p.series, roi: p.variant.replace(/^ROI /, ''), space: p.target, score: p.score }));
    charts.push({
      title: `${latentMetric} ${arrow(direction.get(latentMetric)!)} of each target space's predicted latents, per ROI`,
      spec: {
        data: { values },
        mark: 'rect',
        encoding: {
          x: { field: 'space', type: 'nominal', title: 'target space', sort: [...spaces] },
          y: { field: 'roi', type: 'nominal', title: 'ROI', sort: null },
          color: { field: 'score', type: 'quantitative', title: latentMetric, scale: { scheme: 'viridis' } },
          ...(several ? { column: { field: 'series', type: 'nominal', title: null } } : {}),
          tooltip: [{ field: 'roi' }, { field: 'space' }, { field: 'series' }, { field: 'score', type: 'quantitative', format: '.4f' }],
        },
      },
    });
  }
  return {
    id: 'roi',
    title: 'Per-ROI decoding',
    text: [
      `The same pipeline once per ROI, every mapper fitted and predicting on that ROI's voxels only ("rois": [roi]), and once on ` +
        `every voxel (the first row): the regions that carry a target space score near the all-voxels row on it.`,
    ],
    tables: [
      {
        id: 'roi-table',
        caption: 'per ROI',
        head: [...(several ? ['series'] : []), 'voxels', ...columns.map(([t, m]) => `${t}: ${m} ${arrow(direction.get(m)!)}`)],
        rows,
        notes: [`Each cell: the mean over ${items.join(' / ')} test items and its 95% bootstrap interval.`],
      },
    ],
    charts,
  };
}
