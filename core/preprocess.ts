/**
 * The one preprocessing rule core applies before any mapper sees fMRI: voxels that are non-finite in any row
 * (train or test) or constant across the training rows carry no usable signal and are dropped; the ROI atlas is
 * re-indexed to the kept voxels. The counts are reported with every result.
 */
import type { SubjectData } from './contracts.js';
import { takeCols } from './tensor.js';

export const PREPROCESSING_ID = 'drop-nonfinite-and-constant-voxels/v1';

export interface Preprocessed {
  data: SubjectData;
  dropped: { nonFinite: number; constant: number };
}

export function dropUnusableVoxels(data: SubjectData): Preprocessed {
  const { train, test } = data;
  const voxels = train.fmri.cols;
  const usable = new Uint8Array(voxels).fill(1);
  let nonFinite = 0;
  let constant = 0;
  for (const m of [train.fmri, test.fmri]) {
    for (let i = 0; i < m.rows; i++) {
      const base = i * m.cols;
      for (let v = 0; v < voxels; v++) {
        if (usable[v] === 1 && !Number.isFinite(m.data[base + v]!)) {
          usable[v] = 0;
          nonFinite++;
        }
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
  if (nonFinite === 0 && constant === 0) return { data, dropped: { nonFinite, constant } };

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
  };
}
