import { describe, expect, it } from 'vitest';
import { benchRidge, operationCount, recordedSklearn } from '../../plugins/ridge/bench.js';
import { fakePython } from '../helpers/fake-python.js';

const tiny = { trainRows: 120, voxels: 300, testRows: 15, targets: [5, 40], checkTargets: 4 };

describe('ridge bench (tiny size: runs and reports consistent numbers; speed is not asserted)', () => {
  it('times fit + predict and agrees with the float64 check', async () => {
    const { rows, referenceNote } = await benchRidge({ ...tiny, python: 'none' });
    expect(rows.map((r) => r.targets)).toEqual([5, 40]);
    for (const r of rows) {
      expect(r.totalSeconds).toBeCloseTo(r.fitSeconds + r.predictSeconds, 12);
      expect(r.gflops).toBeCloseTo(r.gflop / r.totalSeconds, 6);
      // At least K* = X_test·Xᵀ and half of K = X·Xᵀ went through the engine.
      expect(r.gflop * 1e9).toBeGreaterThan(2 * 15 * 300 * 120 + 120 * 120 * 300);
      expect(r.checkedTargets).toBe(4);
      expect(r.maxRelativeDifference).toBeLessThan(1e-4);
      expect(r.summary.alpha).toBe(5e4);
      // No reference ran, and no recorded figure exists at this size: no ratio at all.
      expect(r.sklearn).toBeUndefined();
      expect(r.speedupVsSklearn).toBeUndefined();
      // Only the engine's own peak when no reference ran.
      expect(r.operationGflop).toBeCloseTo(operationCount(120, 300, 15, r.targets) / 1e9, 12);
      expect(r.limits).toHaveLength(1);
      expect(r.limits[0]!.peakGflops).toBeGreaterThan(0);
      expect(r.limits[0]!.seconds).toBeCloseTo(r.operationGflop / r.limits[0]!.peakGflops, 12);
      expect(r.limits[0]!.ratio).toBeCloseTo(r.totalSeconds / r.limits[0]!.seconds, 12);
    }
    expect(referenceNote).toMatch(/turned off/);
  });

  it("divides by scikit-learn's fit + predict measured in the same run when Python has it", async () => {
    const output = {
      tool: 'scikit-learn 1.2.1',
      blas: ['openblas 0.3.21 (2 threads)'],
      peakGflops: 100,
      results: [
        { targets: 5, fitSeconds: 2, predictSeconds: 0.5 },
        { targets: 40, fitSeconds: 3, predictSeconds: 1 },
      ],
    };
    const python = await fakePython({ versions: { sklearn: '1.2.1', numpy: '1.24.2' }, output });
    const { rows, referenceNote } = await benchRidge({ ...tiny, python });
    expect(referenceNote).toBeUndefined();
    expect(rows.map((r) => [r.sklearn?.kind, r.sklearn?.label, r.sklearn?.seconds])).toEqual([
      ['same-run', 'measured in this run', 2.5],
      ['same-run', 'measured in this run', 4],
    ]);
    for (const r of rows) {
      expect(r.speedupVsSklearn).toBeCloseTo(r.sklearn!.seconds / r.totalSeconds, 12);
      // The reference BLAS's peak, reported by the same process, is the second limit.
      expect(r.limits[1]).toMatchObject({ engine: 'numpy openblas 0.3.21 (2 threads) float32', peakGflops: 100 });
      expect(r.limits[1]!.seconds).toBeCloseTo(r.operationGflop / 100, 12);
    }
  });

  it("counts the kernel solution's operations as the issue does (hand case; ≈ 1.97 TFLOP at NSD subj01 with 4,096 targets)", () => {
    // n=2, p=3, m=1, t=1: 4·3 + 8/3 + 2·1·2·3 + 2·4·1 + 2·1·2·1.
    expect(operationCount(2, 3, 1, 1)).toBeCloseTo(12 + 8 / 3 + 12 + 8 + 4, 12);
    expect(8859 * 8859 * 15724).toBeCloseTo(1.234e12, -9);
    expect(operationCount(8859, 15724, 982, 4096) / 1e12).toBeCloseTo(1.965, 2);
  });

  it('says why scikit-learn did not run when Python lacks it', async () => {
    const python = await fakePython({ missingModule: 'sklearn' });
    const { rows, referenceNote } = await benchRidge({ ...tiny, targets: [5], python });
    expect(rows[0]!.sklearn).toBeUndefined();
    expect(referenceNote).toContain("No module named 'sklearn'");
  });

  it('falls back to the recorded figure, labelled with its date and machine, only at the NSD shapes it was recorded at', () => {
    const figure = recordedSklearn(8859, 15724, 982, 5e4, 59136);
    expect(figure).toMatchObject({ kind: 'recorded', seconds: 97.4, parts: { fit: 91.8, predict: 5.6 } });
    expect(figure!.label).toBe('recorded 2026-12-02 on 2 cores, Intel AVX-512, OpenBLAS');
    expect(recordedSklearn(8859, 15724, 982, 5e4, 4096)?.seconds).toBe(16.6);
    expect(recordedSklearn(600, 1200, 100, 5e4, 4096)).toBeUndefined();
    expect(recordedSklearn(8859, 15724, 982, 1e3, 4096)).toBeUndefined();
  });
});

describe("Brain-Diffuser's regression stage bench (tiny size; speed is not asserted)", () => {
  it('fits every space in column blocks sharing one kernel, and agrees with the float64 solve', async () => {
    const { benchBrainDiffuserRidge } = await import('../../plugins/ridge/brain-diffuser-bench.js');
    const spaces = [{ name: 'a', targets: 70, alpha: 50 }, { name: 'b', targets: 30, alpha: 500 }];
    const r = await benchBrainDiffuserRidge({ trainRows: 60, voxels: 90, testRows: 10, blockColumns: 32, spaces });
    expect(r.spaces.map((s) => s.blocks)).toEqual([3, 1]);
    for (const s of r.spaces) expect(s.maxRelativeDifference).toBeLessThan(1e-5);
    // One kernel for the four blocks: the Gram (≈ n²·p) is counted once, then each block's products.
    expect(r.gflop * 1e9).toBeLessThan(2 * 60 * 60 * 90 + 4 * 2 * (60 * 60 * 10 + 10 * 60 * 100) + 2 * 60 ** 3);
    expect(r.peakRssBytes).toBeGreaterThan(0);
    expect(r.references.asBrainDiffuserRuns.kind).toBe('recorded');
  });
});
