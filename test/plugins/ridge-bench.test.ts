import { describe, expect, it } from 'vitest';
import { benchRidge, SKLEARN_RIDGE_FIT_SECONDS } from '../../plugins/ridge/bench.js';

describe('ridge bench (tiny size: runs and reports consistent numbers; speed is not asserted)', () => {
  it('times fit + predict and agrees with the float64 check', async () => {
    const results = await benchRidge({ trainRows: 120, voxels: 300, testRows: 15, targets: [5, 40], checkTargets: 4 });
    expect(results.map((r) => r.targets)).toEqual([5, 40]);
    for (const r of results) {
      expect(r.totalSeconds).toBeCloseTo(r.fitSeconds + r.predictSeconds, 12);
      expect(r.gflops).toBeCloseTo(r.gflop / r.totalSeconds, 6);
      // At least K* = X_test·Xᵀ and half of K = X·Xᵀ went through the engine.
      expect(r.gflop * 1e9).toBeGreaterThan(2 * 15 * 300 * 120 + 120 * 120 * 300);
      expect(r.checkedTargets).toBe(4);
      expect(r.maxRelativeDifference).toBeLessThan(1e-4);
      expect(r.sklearnFitSeconds).toBeUndefined();
      expect(r.summary.alpha).toBe(5e4);
    }
  });

  it('names the scikit-learn reference times of reference/performance.md', () => {
    expect(SKLEARN_RIDGE_FIT_SECONDS).toEqual({ 4096: 17, 59136: 134 });
  });
});
