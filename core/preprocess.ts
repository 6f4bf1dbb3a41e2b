/**
 * The one preprocessing rule core applies before any mapper sees fMRI, in two steps:
 * 1. rows (items) with more than half of their voxels non-finite are a missing trial, not a bad voxel: they are
 *    dropped — train rows with their stimuli, test rows reported as missing items — so that one missing trial
 *    does not drop every voxel;
 * 2. voxels non-finite in any remaining row (train or test), or constant across the remaining training rows, carry
 *    no usable signal and are dropped; the ROI atlas is re-indexed to the kept voxels.
 * Every count (and the ids of the dropped rows) is reported with the result.
 */
import type { SplitData, Stimuli, SubjectData } from './contracts.js';
import { takeCols, takeImages, takeRows, type Matrix } from './tensor.js';

export const PREPROCESSING_ID = 'drop-nonfinite-rows-then-nonfinite-and-constant-voxels/v2';

/** A row is dropped when more than this fraction of its voxels is non-finite. */
export const MISSING_ROW_FRACTION = 0.5;

export interface DroppedRows {
  /** Stimulus ids of the dropped rows, per split. */
  train: string[];
  test: string[];
}

export interface Preprocessed {
  data: SubjectData;
  dropped: { nonFinite: number; constant: number };
  droppedRows: DroppedRows;
  /** Indices of the input's voxel columns that were kept, ascending: where new fMRI's columns go (`predict`). */
  keptVoxels: Int32Array;
}

/** Counts of non-finite values per row and per voxel of one matrix. */
export function nonFiniteCounts(m: Matrix): { perRow: Int32Array; perVoxel: Int32Array } {
  const perRow = new Int32Array(m.rows);
  const perVoxel = new Int32Array(m.cols);
  for (let i = 0; i < m.rows; i++) {
    const base = i * m.cols;
    for (let v = 0; v < m.cols; v++) {
      if (!Number.isFinite(m.data[base + v]!)) {
        perRow[i]!++;
        perVoxel[v]!++;
      }
    }
  }
  return { perRow, perVoxel };
}

/** Indices of the rows that are a missing trial (mostly non-finite). */
export function missingRows(m: Matrix, perRow = nonFiniteCounts(m).perRow): number[] {
  const rows: number[] = [];
  perRow.forEach((bad, i) => {
    if (m.cols > 0 && bad > MISSING_ROW_FRACTION * m.cols) rows.push(i);
  });
  return rows;
}

/** The split without the given rows: fMRI, repeats, ids, and lazily the images and captions, kept aligned. */
function withoutRows(split: SplitData, drop: number[]): SplitData {
  if (drop.length === 0) return split;
  const dropped = new Set(drop);
  const keep = Array.from({ length: split.fmri.rows }, (_, i) => i).filter((i) => !dropped.has(i));
  const { stimuli } = split;
  const kept: Stimuli = {
    ids: keep.map((i) => stimuli.ids[i]!),
    images: async () => takeImages(await stimuli.images(), keep),
  };
  const captions = stimuli.captions;
  if (captions) kept.captions = async () => (await captions.call(stimuli)).filter((_, i) => !dropped.has(i));
  return { fmri: takeRows(split.fmri, keep), repeats: Int32Array.from(keep, (i) => split.repeats[i]!), stimuli: kept };
}

export function dropUnusableVoxels(input: SubjectData): Preprocessed {
  const trainRows = missingRows(input.train.fmri);
  const testRows = missingRows(input.test.fmri);
  const droppedRows = { train: trainRows.map((i) => input.train.stimuli.ids[i]!), test: testRows.map((i) => input.test.stimuli.ids[i]!) };
  const data = { ...input, train: withoutRows(input.train, trainRows), test: withoutRows(input.test, testRows) };
  const { train, test } = data;
  const voxels = train.fmri.cols;
  const usable = new Uint8Array(voxels).fill(1);
  let nonFinite = 0;
  let constant = 0;
  for (const m of [train.fmri, test.fmri]) {
    const { perVoxel } = nonFiniteCounts(m);
    for (let v = 0; v < voxels; v++) {
      if (usable[v] === 1 && perVoxel[v]! > 0) {
        usable[v] = 0;
        nonFinite++;
      }
    }
  }
  for (let v = 0; v < voxels; v++) {
    if (usable[v] !== 1) continue;
    const first = train.fmri.data[v]!;
    let same = true;
    for (let i = 1; i < train.fmri.rows && same; i++) same = train.fmri.data[i * voxels + v] === first;
    if (same) {
      usable[v] = 2;
      constant++;
    }
  }
  if (nonFinite === 0 && constant === 0) {
    return { data, dropped: { nonFinite, constant }, droppedRows, keptVoxels: Int32Array.from({ length: voxels }, (_, v) => v) };
  }

  const kept: number[] = [];
  const newIndex = new Int32Array(voxels).fill(-1);
  for (let v = 0; v < voxels; v++) {
    if (usable[v] === 1) {
      newIndex[v] = kept.length;
      kept.push(v);
    }
  }
  const atlas: Record<string, Int32Array> = {};
  for (const [roi, indices] of Object.entries(data.atlas)) {
    atlas[roi] = Int32Array.from([...indices].map((v) => newIndex[v]!).filter((v) => v >= 0));
  }
  const noiseCeiling = data.noiseCeiling ? Float32Array.from(kept, (v) => data.noiseCeiling![v]!) : undefined;
  return {
    data: {
      ...data,
      train: { ...train, fmri: takeCols(train.fmri, kept) },
      test: { ...test, fmri: takeCols(test.fmri, kept) },
      atlas,
      noiseCeiling,
    },
    dropped: { nonFinite, constant },
    droppedRows,
    keptVoxels: Int32Array.from(kept),
  };
}
