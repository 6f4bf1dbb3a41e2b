import { describe, expect, it } from 'vitest';
import { pairedComparisons } from '../../core/comparisons.js';
import type { MetricRow, PipelineOutcome } from '../../core/runner.js';

function outcome(pipeline: string, perItem: number[], testIds = ['a', 'b', 'c', 'd', 'e', 'f']): PipelineOutcome {
  return { pipeline, subject: 's1', perItem: { 'image/pixcorr': perItem }, testIds } as unknown as PipelineOutcome;
}

function row(pipeline: string, value: number): MetricRow {
  return { pipeline, subject: 's1', target: 'image', metric: 'pixcorr', direction: 'higher', value, low: 0, high: 1, trivial: 0, items: 6 };
}

describe('pairedComparisons', () => {
  it('gives the mean per-item difference against the first pipeline, with an interval and p-value', () => {
    const base = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    const better = base.map((v) => v + 0.25);
    const [c] = pairedComparisons([row('base', 0.35), row('new', 0.6)], [outcome('base', base), outcome('new', better)], 0);
    expect(c).toMatchObject({ pipeline: 'new', baseline: 'base', metric: 'pixcorr', items: 6 });
    expect(c!.difference).toBeCloseTo(0.25, 12);
    // A constant shift: every bootstrap mean is 0.25, the interval has no width and the null is never reached.
    expect(c!.low).toBeCloseTo(0.25, 12);
    expect(c!.high).toBeCloseTo(0.25, 12);
    expect(c!.pValue).toBeLessThan(0.001);
  });

  it('pairs runs on one dataset only: the same item ids in another dataset are other images', () => {
    const on = (pipeline: string, perItem: number[], seed: number) =>
      ({ ...outcome(pipeline, perItem), provenance: [{ kind: 'dataset', id: 'synthetic', options: { seed } }] }) as unknown as PipelineOutcome;
    const rows = ['a', 'b', 'c', 'd'].map((p) => row(p, 0.3));
    const base = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    const result = pairedComparisons(rows, [on('a', base, 1), on('b', base, 1), on('c', base, 2), on('d', base, 2)], 0);
    expect(result.map((c) => [c.pipeline, c.baseline])).toEqual([
      ['b', 'a'],
      ['d', 'c'],
    ]);
  });

  it('does not pair runs whose test items differ', () => {
    const rows = [row('base', 0.3), row('other', 0.3)];
    const result = pairedComparisons(rows, [outcome('base', [1, 2, 3]), outcome('other', [1, 2, 3], ['x', 'y', 'z'])], 0);
    expect(result).toEqual([]);
  });
});
