/**
 * `analyze roi --stimulate <gain>`: Mind Reader's ROI microstimulation. For each ROI, that ROI's raw test-fMRI
 * columns are multiplied by the gain and the all-voxels pipeline's mappers predict again. The mappers are the ones
 * the run fitted on unmodified training data, loaded from their cache entries (as `export` finds them): no refit,
 * since core keys a fit on the dataset's options, and a stimulated dataset would change that key for identical
 * training data.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Core } from '../../core/core.js';
import { UserError } from '../../core/errors.js';
import { fromRanges, mapperInput } from '../../core/exported-model.js';
import type { PluginRef } from '../../core/pipeline.js';
import type { MapperOutcome } from '../../core/runner.js';
import type { PluginServices } from '../../core/services.js';
import type { Matrix } from '../../core/tensor.js';
import { TOKENS } from '../../core/tokens.js';
import { fmt } from '../paper-table.js';
import type { ReportTable } from '../report/section.js';

/** How far one space's predicted latents move when one ROI is stimulated. */
export interface StimulationPoint {
  series: string;
  subject: string;
  roi: string;
  space: string;
  gain: number;
  /** Mean over test items of ‖p_stimulated − p‖ / ‖p‖ (0 where ‖p‖ = 0 and nothing moved). */
  change: number;
  items: number;
}

/** The test rows whose used columns are all finite (core's preprocessing drops the others as missing trials). */
function finiteRows(fmri: Matrix, columns: Int32Array): Matrix {
  const keep: number[] = [];
  for (let r = 0; r < fmri.rows; r++) if (columns.every((c) => Number.isFinite(fmri.data[r * fmri.cols + c]!))) keep.push(r);
  const data = new Float32Array(keep.length * fmri.cols);
  keep.forEach((r, i) => data.set(fmri.data.subarray(r * fmri.cols, (r + 1) * fmri.cols), i * fmri.cols));
  return { rows: keep.length, cols: fmri.cols, data };
}

/** A copy of `fmri` with `columns` multiplied by `gain`. */
function scaled(fmri: Matrix, columns: ArrayLike<number>, gain: number): Matrix {
  const data = Float32Array.from(fmri.data);
  for (let r = 0; r < fmri.rows; r++) for (const c of Array.from(columns)) data[r * fmri.cols + c]! *= gain;
  return { ...fmri, data };
}

/** Mean per-row relative L2 distance of `moved` from `base`. */
export function meanRelativeChange(base: Matrix, moved: Matrix): number {
  let sum = 0;
  for (let r = 0; r < base.rows; r++) {
    let d = 0;
    let n = 0;
    for (let k = r * base.cols; k < (r + 1) * base.cols; k++) {
      d += (moved.data[k]! - base.data[k]!) ** 2;
      n += base.data[k]! ** 2;
    }
    sum += n > 0 ? Math.sqrt(d / n) : d > 0 ? Infinity : 0;
  }
  return sum / base.rows;
}

export interface StimulationRun {
  core: Core;
  cacheDir: string | null;
  gain: number;
  rois: readonly string[];
  /** The all-voxels outcomes (one per subject and dataset) with their dataset and series. */
  outcomes: Array<{ series: string; subject: string; dataset: PluginRef; mappers: MapperOutcome[] }>;
}

export async function stimulate(run: StimulationRun): Promise<StimulationPoint[]> {
  if (run.cacheDir === null) throw new UserError('stimulation re-uses the fitted mappers from the cache: run without --no-cache', '--stimulate');
  const services = run.core.container.get<PluginServices>(TOKENS.Services);
  const points: StimulationPoint[] = [];
  for (const o of run.outcomes) {
    const { instance } = await run.core.registry.create('dataset', o.dataset.id, o.dataset.options);
    const data = await instance.load(o.subject);
    for (const m of o.mappers) {
      const entry = join(run.cacheDir, 'mappers', m.model.key);
      if (!existsSync(join(entry, 'sealed.json'))) throw new Error(`internal: the fit of ${m.mapper} → ${m.space} is not in the cache (${entry})`);
      const fitted = await run.core.registry.factory('mapper', m.mapper).load(entry, services);
      const source = `dataset '${o.dataset.id}' (${o.subject}, test)`;
      const columns = fromRanges(m.model.voxels.ranges);
      const fmri = finiteRows(data.test.fmri, columns);
      const base = await fitted.predict(mapperInput(fmri, m.model.voxels, source));
      for (const roi of run.rois) {
        const moved = await fitted.predict(mapperInput(scaled(fmri, data.atlas[roi] ?? [], run.gain), m.model.voxels, source));
        points.push({ series: o.series, subject: o.subject, roi, space: m.space, gain: run.gain, change: meanRelativeChange(base, moved), items: fmri.rows });
      }
    }
  }
  return points;
}

/** Rows: ROIs (per series and subject); columns: each target space's mean relative L2 change. */
export function stimulationTable(points: StimulationPoint[]): ReportTable {
  const unique = <T>(values: T[]): T[] => [...new Set(values)];
  const spaces = unique(points.map((p) => p.space));
  const groups = unique(points.map((p) => [p.series, p.subject].filter((s) => s !== '').join(' ')));
  const several = groups.length > 1;
  const rows = groups.flatMap((g) =>
    unique(points.map((p) => p.roi)).map((roi) => ({
      cells: [
        ...(several ? [g] : []),
        roi,
        ...spaces.map((space) => {
          const p = points.find((q) => [q.series, q.subject].filter((s) => s !== '').join(' ') === g && q.roi === roi && q.space === space);
          return p ? { text: fmt(p.change), value: p.change, data: { roi, space } } : '';
        }),
      ],
    })),
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
