/**
 * The tables and charts of `analyze roi --stimulate`: how far each ROI's stimulation moves the predicted latents
 * (per target space), the reconstructions (against the unstimulated ones) and the image metrics (against the
 * ground truth). Each cell's `value` is the number in `stimulation` of `--json`, unrounded.
 */
import { arrow, fmt } from '../paper-table.js';
import type { ReportCell, ReportChart, ReportTable } from '../report/section.js';
import type { ImageStimulation, StimulationPoint } from './stimulate.js';

const unique = <T>(values: T[]): T[] => [...new Set(values)];
const groupOf = (p: { series: string; subject: string }) => [p.series, p.subject].filter((s) => s !== '').join(' ');

/** Rows per (series and subject) group and ROI, in the points' order; `several`: more than one group. */
function rowsByGroup<P extends { series: string; subject: string; roi: string }>(points: P[], cells: (p: P) => Array<ReportCell | string>) {
  const groups = unique(points.map(groupOf));
  const several = groups.length > 1;
  const rows = groups.flatMap((g) => points.filter((p) => groupOf(p) === g).map((p) => ({ cells: [...(several ? [g] : []), p.roi, ...cells(p)] })));
  return { rows, several };
}

const cell = (value: number | null, data: Record<string, string>): ReportCell => ({ text: fmt(value), value, data, classes: value === null ? ['na'] : [] });

/** Rows: ROIs (per series and subject); columns: each target space's mean relative L2 change. */
export function stimulationTable(points: StimulationPoint[]): ReportTable {
  const spaces = unique(points.map((p) => p.space));
  const perRoi = unique(points.map((p) => `${groupOf(p)}\u0000${p.roi}`)).map((key) => points.find((p) => `${groupOf(p)}\u0000${p.roi}` === key)!);
  const { rows, several } = rowsByGroup(perRoi, (first) =>
    spaces.map((space) => {
      const p = points.find((q) => groupOf(q) === groupOf(first) && q.roi === first.roi && q.space === space);
      return p ? cell(p.change, { roi: p.roi, space }) : '';
    }),
  );
  return {
    id: 'roi-stimulation',
    caption: `ROI microstimulation: test fMRI of the ROI × ${points[0]?.gain ?? '?'}`,
    head: [...(several ? ['series'] : []), 'stimulated ROI', ...spaces.map((s) => `${s}: relative L2 change`)],
    rows,
    notes: [
      `Each cell: the mean over ${unique(points.map((p) => p.items)).join(' / ')} test items of ‖p′ − p‖ / ‖p‖, p the all-voxels mappers' ` +
        'prediction and p′ the same mappers (fitted once, on unmodified training data) on the test fMRI with that ROI scaled by the gain.',
    ],
  };
}

/** Rows: ROIs; columns: how far the images moved (1 − PixCorr, RMS), then each image metric's change. */
export function imageStimulationTable(points: ImageStimulation[]): ReportTable {
  const metrics = unique(points.flatMap((p) => p.metrics.map((m) => m.metric)));
  const direction = new Map(points.flatMap((p) => p.metrics.map((m) => [m.metric, m.direction] as const)));
  const { rows, several } = rowsByGroup(points, (p) => [
    cell(p.pixcorrDistance, { roi: p.roi, measure: 'pixcorr-distance' }),
    cell(p.rms, { roi: p.roi, measure: 'rms' }),
    ...metrics.map((metric) => {
      const m = p.metrics.find((q) => q.metric === metric);
      return m ? { ...cell(m.change, { roi: p.roi, metric }), sub: `${fmt(m.unstimulated)} → ${fmt(m.stimulated)}` } : '';
    }),
  ]);
  return {
    id: 'roi-stimulation-images',
    caption: `ROI microstimulation: reconstructions (test fMRI of the ROI × ${points[0]?.gain ?? '?'})`,
    head: [
      ...(several ? ['series'] : []),
      'stimulated ROI',
      'images moved: 1 − PixCorr',
      'images moved: RMS',
      ...metrics.map((m) => `Δ ${m} ${arrow(direction.get(m)!)}`),
    ],
    rows,
    notes: [
      `Over ${unique(points.map((p) => p.items)).join(' / ')} test items, the pipeline's generator on the stimulated predictions, with the run's seed ` +
        'and item ids (the same noise per item as the unstimulated reconstructions, so only the predictions differ). ' +
        '1 − PixCorr: one minus the Pearson correlation of the pixels of the stimulated and the unstimulated image of each item ' +
        '(the low-level distance the papers report, 0 for identical images), mean over items; RMS: root-mean-square pixel difference (pixels 0..1). ' +
        'Δ metric: the image metric against the ground truth on the stimulated reconstructions minus on the unstimulated ones (under it: unstimulated → stimulated).',
    ],
  };
}

/** A bar per ROI of how far its stimulation moved the reconstructions, and a heat map of the metric changes. */
export function imageStimulationCharts(points: ImageStimulation[]): ReportChart[] {
  const several = unique(points.map(groupOf)).length > 1;
  const facet = several ? { column: { field: 'series', type: 'nominal', title: null } } : {};
  const charts: ReportChart[] = [
    {
      title: 'ROI microstimulation: how far the reconstructions moved (1 − PixCorr against the unstimulated images)',
      spec: {
        data: { values: points.map((p) => ({ series: groupOf(p), roi: p.roi, distance: p.pixcorrDistance })) },
        mark: 'bar',
        height: 160,
        encoding: {
          x: { field: 'roi', type: 'nominal', title: 'stimulated ROI', sort: null },
          y: { field: 'distance', type: 'quantitative', title: '1 − PixCorr' },
          ...facet,
          tooltip: [{ field: 'roi' }, { field: 'series' }, { field: 'distance', type: 'quantitative', format: '.4f' }],
        },
      },
    },
  ];
  const changes = points.flatMap((p) => p.metrics.map((m) => ({ series: groupOf(p), roi: p.roi, metric: `${m.metric} ${arrow(m.direction)}`, change: m.change })));
  if (changes.length > 0) {
    charts.push({
      title: 'ROI microstimulation: change of each image metric against the ground truth (stimulated − unstimulated)',
      spec: {
        data: { values: changes },
        mark: 'rect',
        encoding: {
          x: { field: 'metric', type: 'nominal', title: 'metric', sort: null },
          y: { field: 'roi', type: 'nominal', title: 'stimulated ROI', sort: null },
          color: { field: 'change', type: 'quantitative', title: 'Δ', scale: { scheme: 'redblue', domainMid: 0 } },
          ...facet,
          tooltip: [{ field: 'roi' }, { field: 'metric' }, { field: 'series' }, { field: 'change', type: 'quantitative', format: '.4f' }],
        },
      },
    });
  }
  return charts;
}
