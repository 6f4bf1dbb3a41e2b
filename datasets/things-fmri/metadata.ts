/**
 * The two CSV tables of a subject: StimulusMetadata (row i describes trial column i of the responses) gives the
 * train/test split; VoxelMetadata (row i describes voxel row i) gives ROI membership and noise ceilings.
 */
import { UserError } from '../../core/errors.js';
import type { ColumnRequest, ColumnTable, Table } from '../../core/io/csv.js';
import type { NoiseCeilingUnit } from './schema.js';

export interface SplitPlan {
  /** One entry per output row: the trial columns averaged into it. */
  rows: number[][];
  stimuli: string[];
  concepts: string[];
}

export interface TrialPlan {
  train: SplitPlan;
  test: SplitPlan;
  /** Trials that are neither train nor test (e.g. catch), left out. */
  otherTrials: number;
}

export function planTrials(table: Table, averageTestRepeats: boolean): TrialPlan {
  const types = table.strings('trial_type').map((t) => t.trim().toLowerCase());
  const stimuli = table.strings('stimulus').map((s) => s.trim());
  const concepts = table.strings('concept').map((s) => s.trim());
  const train: SplitPlan = { rows: [], stimuli: [], concepts: [] };
  const test: SplitPlan = { rows: [], stimuli: [], concepts: [] };
  const testRow = new Map<string, number>();
  let otherTrials = 0;
  types.forEach((type, trial) => {
    const stimulus = stimuli[trial]!;
    if (type === 'train') {
      train.rows.push([trial]);
      train.stimuli.push(stimulus);
      train.concepts.push(concepts[trial]!);
    } else if (type === 'test') {
      const row = averageTestRepeats ? testRow.get(stimulus) : undefined;
      if (row !== undefined) test.rows[row]!.push(trial);
      else {
        testRow.set(stimulus, test.rows.length);
        test.rows.push([trial]);
        test.stimuli.push(stimulus);
        test.concepts.push(concepts[trial]!);
      }
    } else otherTrials++;
  });
  if (train.rows.length === 0 || test.rows.length === 0) {
    throw new UserError(`column 'trial_type' has ${train.rows.length} 'train' and ${test.rows.length} 'test' trials; expected both`, table.source);
  }
  return { train, test, otherTrials };
}

export interface VoxelSelection {
  /** Selected voxel rows (sorted): the union of the ROIs. */
  rows: number[];
  /** ROI name → column indices into the selection. */
  atlas: Record<string, number[]>;
  /** Per selected voxel, 0..1 (NaN where missing), or null when the table has no such column. */
  noiseCeiling: number[] | null;
}

/** The VoxelMetadata columns that make up ROI `name`: itself, its l/r hemispheres, its '(prf)' variant. */
export function roiColumns(columns: readonly string[], name: string): string[] {
  const wanted = [name, `l${name}`, `r${name}`, `${name} (prf)`];
  return columns.filter((c) => wanted.includes(c));
}

/** The only VoxelMetadata columns a load needs (the file has hundreds): ROI membership, noise ceiling, voxel_id. */
export function voxelTableRequest(columns: readonly string[], rois: readonly string[], noiseCeilingColumn: string): ColumnRequest {
  // ROI membership is 0/1 or True/False (pandas' booleans); anything else (2, 0.5, −1) is refused, not taken as a member.
  const flags = [...new Set(rois.flatMap((roi) => roiColumns(columns, roi)))];
  const numbers = columns.includes(noiseCeilingColumn) ? [noiseCeilingColumn] : [];
  return { flags, numbers, required: columns.includes('voxel_id') ? ['voxel_id'] : [] };
}

export function selectVoxels(table: ColumnTable, rois: readonly string[], noiseCeilingColumn: string, unit: NoiseCeilingUnit): VoxelSelection {
  const members = new Map<string, boolean[]>();
  for (const roi of rois) {
    const columns = roiColumns(table.columns, roi);
    if (columns.length === 0) {
      const candidates = table.columns.filter((c) => !/^(voxel_|subject|nc_|splithalf|prf)/.test(c));
      throw new UserError(`option 'rois': no column for ROI '${roi}' (looked for ${[roi, `l${roi}`, `r${roi}`].join(', ')}; ROI columns: ${candidates.join(', ')})`, table.source);
    }
    const inRoi = new Array<boolean>(table.length).fill(false);
    for (const column of columns) {
      table.numbers(column).forEach((v, i) => {
        if (v === 1) inRoi[i] = true;
      });
    }
    members.set(roi, inRoi);
  }
  const rows: number[] = [];
  for (let i = 0; i < table.length; i++) if (rois.some((roi) => members.get(roi)![i])) rows.push(i);
  if (rows.length === 0) throw new UserError(`option 'rois': ${rois.join(', ')} contain no voxel`, table.source);
  const atlas: Record<string, number[]> = {};
  for (const roi of rois) atlas[roi] = rows.flatMap((row, column) => (members.get(roi)![row] ? [column] : []));
  const noiseCeiling = table.has(noiseCeilingColumn) ? noiseCeilingFractions(table, noiseCeilingColumn, unit) : null;
  return { rows, atlas, noiseCeiling: noiseCeiling && rows.map((r) => noiseCeiling[r]!) };
}

/**
 * The whole noise-ceiling column as fractions (core's contract). THINGS-data's `nc_*` columns are percentages
 * (0–100, NSD's definition 100·ncsnr²/(ncsnr² + 1/n)); `unit: 'fraction'` is for a custom column in 0–1. The unit
 * is never guessed from the values (a guess would depend on the ROI selection), but a percent column whose
 * values all lie in 0–1 is refused as a likely fraction.
 */
function noiseCeilingFractions(table: ColumnTable, column: string, unit: NoiseCeilingUnit): Float64Array {
  const values = table.numbers(column);
  const top = unit === 'percent' ? 100 : 1;
  let max = -Infinity;
  values.forEach((v, row) => {
    if (Number.isNaN(v)) return;
    if (v < 0 || v > top) {
      throw new UserError(`row ${row + 1}, column '${column}': noise ceiling ${v} is outside 0–${top} (option 'noiseCeilingUnit' is '${unit}')`, table.source);
    }
    max = Math.max(max, v);
  });
  if (unit === 'percent' && max > 0 && max <= 1) {
    throw new UserError(`column '${column}': every noise ceiling is at most ${max}, which looks like fractions, not the percentages THINGS-data stores; set option 'noiseCeilingUnit' to 'fraction' if so`, table.source);
  }
  return unit === 'percent' ? values.map((v) => v / 100) : values;
}

/** Checks that the voxel table describes the response rows in the same order. */
export function checkVoxelIds(table: ColumnTable, voxelIds: number[] | null, responsesPath: string): void {
  if (voxelIds === null || !table.has('voxel_id')) return;
  const ids = table.numbers('voxel_id');
  const at = ids.findIndex((id, i) => id !== voxelIds[i]);
  if (at >= 0) {
    throw new UserError(`row ${at + 1} has voxel_id ${ids[at]} but row ${at} of ${responsesPath} has voxel_id ${voxelIds[at]}; the two files must list voxels in the same order`, table.source);
  }
}
