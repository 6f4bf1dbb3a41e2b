import { describe, expect, it } from 'vitest';
import type { SplitData, SubjectData } from '../../core/contracts.js';
import { dropUnusableVoxels, missingRows, PREPROCESSING_ID } from '../../core/preprocess.js';

/** A split of `rows` × `voxels` with distinct finite values, one 1×1 gray image and one caption per row. */
function split(rows: number, voxels: number, prefix: string, nan: Array<[row: number, voxel: number | 'all']>): SplitData {
  const data = Float32Array.from({ length: rows * voxels }, (_, k) => k * 0.37 + Math.sin(k));
  for (const [r, v] of nan) {
    for (let c = 0; c < voxels; c++) if (v === 'all' || v === c) data[r * voxels + c] = NaN;
  }
  return {
    fmri: { rows, cols: voxels, data },
    repeats: Int32Array.from({ length: rows }, (_, i) => i + 1),
    stimuli: {
      ids: Array.from({ length: rows }, (_, i) => `${prefix}${i}`),
      images: async () => ({ count: rows, height: 1, width: 1, channels: 1, data: Float32Array.from({ length: rows }, (_, i) => i) }),
      captions: async () => Array.from({ length: rows }, (_, i) => [`caption ${prefix}${i}`]),
    },
  };
}

function subject(train: SplitData, test: SplitData): SubjectData {
  return { subject: 's', train, test, atlas: { all: Int32Array.from({ length: train.fmri.cols }, (_, i) => i) } };
}

describe('preprocessing: non-finite rows, then voxels', () => {
  it('an all-NaN train row is dropped with its image, caption and repeats; no voxel is lost', async () => {
    const { data, dropped, droppedRows } = dropUnusableVoxels(subject(split(6, 4, 'tr', [[2, 'all']]), split(3, 4, 'te', [])));
    expect(droppedRows).toEqual({ train: ['tr2'], test: [] });
    expect(dropped).toEqual({ nonFinite: 0, constant: 0 });
    expect([data.train.fmri.rows, data.train.fmri.cols]).toEqual([5, 4]);
    expect(data.train.stimuli.ids).toEqual(['tr0', 'tr1', 'tr3', 'tr4', 'tr5']);
    expect(Array.from((await data.train.stimuli.images()).data)).toEqual([0, 1, 3, 4, 5]);
    expect((await data.train.stimuli.captions!()).map((c) => c[0])).toEqual(['caption tr0', 'caption tr1', 'caption tr3', 'caption tr4', 'caption tr5']);
    expect(Array.from(data.train.repeats)).toEqual([1, 2, 4, 5, 6]);
    expect(data.train.fmri.data.every(Number.isFinite)).toBe(true);
  });

  it('an all-NaN test row is reported as a missing item and the other test rows stay aligned', async () => {
    const { data, droppedRows } = dropUnusableVoxels(subject(split(6, 4, 'tr', []), split(3, 4, 'te', [[0, 'all']])));
    expect(droppedRows).toEqual({ train: [], test: ['te0'] });
    expect(data.test.stimuli.ids).toEqual(['te1', 'te2']);
    expect(Array.from((await data.test.stimuli.images()).data)).toEqual([1, 2]);
    expect(data.test.fmri.cols).toBe(4);
  });

  it('a row with a few NaNs is kept and those voxels are dropped (the atlas re-indexed)', () => {
    const { data, dropped, droppedRows } = dropUnusableVoxels(subject(split(6, 4, 'tr', [[1, 0]]), split(3, 4, 'te', [[2, 3]])));
    expect(droppedRows).toEqual({ train: [], test: [] });
    expect(dropped).toEqual({ nonFinite: 2, constant: 0 });
    expect([data.train.fmri.rows, data.train.fmri.cols, data.test.fmri.rows]).toEqual([6, 2, 3]);
    expect(Array.from(data.atlas.all!)).toEqual([0, 1]);
  });

  it('the threshold is more than half of the voxels: exactly half keeps the row', () => {
    const m = { rows: 2, cols: 4, data: Float32Array.from([NaN, NaN, 1, 2, NaN, NaN, NaN, 3]) };
    expect(missingRows(m)).toEqual([1]);
  });

  it('names the row rule in the preprocessing id (part of every cache key)', () => {
    expect(PREPROCESSING_ID).toMatch(/rows/);
  });
});
