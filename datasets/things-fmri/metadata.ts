/**
 * The two CSV tables of a subject: StimulusMetadata (row i describes trial column i of the responses) gives the
 * train/test split; VoxelMetadata (row i describes voxel row i) gives ROI membership and noise ceilings.
 */
import { UserError } from '../../core/errors.js';
import type { Table } from '../../core/io/csv.js';

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
  /** Per selected voxel, 0..1, or null when the table has no such column. */
  noiseCeiling: number[] | null;
}

/** The VoxelMetadata columns that make up ROI `name`: itself, its l/r hemispheres, its '(prf)' variant. */
export function roiColumns(table: Table, name: string): string[] {
  const wanted = [name, `l${name}`, `r${name}`, `${name} (prf)`];
  return table.columns.filter((c) => wanted.includes(c));
}

export function selectVoxels(table: Table, rois: readonly string[], noiseCeilingColumn: string): VoxelSelection {
  const members = new Map<string, boolean[]>();
  for (const roi of rois) {
    const columns = roiColumns(table, roi);
    if (columns.length === 0) {
      const candidates = table.columns.filter((c) => !/^(voxel_|subject|nc_|splithalf|prf)/.test(c));
      throw new UserError(`option 'rois': no column for ROI '${roi}' (looked for ${[roi, `l${roi}`, `r${roi}`].join(', ')}; ROI columns: ${candidates.join(', ')})`, table.source);
    }
    const inRoi = new Array<boolean>(table.length).fill(false);
    for (const column of columns) {
      table.numbers(column).forEach((v, i) => {
        if (v !== null && v !== 0) inRoi[i] = true;
      });
    }
    members.set(roi, inRoi);
  }
  const rows: number[] = [];
  for (let i = 0; i < table.length; i++) if (rois.some((roi) => members.get(roi)![i])) rows.push(i);
  if (rows.length === 0) throw new UserError(`option 'rois': ${rois.join(', ')} contain no voxel`, table.source);
  const atlas: Record<string, number[]> = {};
  for (const roi of rois) atlas[roi] = rows.flatMap((row, column) => (members.get(roi)![row] ? [column] : []));
  let noiseCeiling: number[] | null = null;
  if (table.has(noiseCeilingColumn)) {
    const all = table.numbers(noiseCeilingColumn);
    const picked = rows.map((r) => all[r] ?? NaN);
    // THINGS-data reports noise ceilings in percent; the contract wants a fraction.
    const percent = picked.some((v) => v > 1);
    noiseCeiling = picked.map((v) => (percent ? v / 100 : v));
  }
  return { rows, atlas, noiseCeiling };
}

/** Checks that the voxel table describes the response rows in the same order. */
export function checkVoxelIds(table: Table, voxelIds: number[] | null, responsesPath: string): void {
  if (voxelIds === null || !table.has('voxel_id')) return;
  const ids = table.numbers('voxel_id', { required: true });
  const at = ids.findIndex((id, i) => id !== voxelIds[i]);
  if (at >= 0) {
    throw new UserError(`row ${at + 1} has voxel_id ${ids[at]} but row ${at} of ${responsesPath} has voxel_id ${voxelIds[at]}; the two files must list voxels in the same order`, table.source);
  }
}
