import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createJsLinalg, createLinalg } from '../../../core/compute/linalg.js';
import { UserError } from '../../../core/errors.js';
import { bootstrapSetInterval } from '../../../core/stats.js';
import { takeRows, type Matrix } from '../../../core/tensor.js';
import { featureStatistics, frechetDistance, frechetFromStatistics } from '../../../core/vision/frechet.js';
import { hashFeatures } from '../../helpers/vision.js';

interface FrechetCase {
  name: string;
  rows1: number;
  seed1: number;
  rows2: number;
  seed2: number;
  dims: number;
  modified: 'constant' | 'duplicate' | null;
  scale2: number;
  pytorchFid: number;
  fallback: boolean;
  fallbackValue: number;
  traceSigma1: number;
  mean1: number[];
  cov1: number[][];
}
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/vision/frechet.json', import.meta.url), 'utf8')) as { cases: FrechetCase[] };

/** The two feature sets of a fixture case, modified as make_frechet.py modifies them. */
function caseFeatures(c: FrechetCase): { a: Matrix; b: Matrix } {
  const a = hashFeatures(c.rows1, c.dims, c.seed1);
  const b = hashFeatures(c.rows2, c.dims, c.seed2);
  const scale = Math.fround(c.scale2);
  for (let i = 0; i < b.data.length; i++) b.data[i] = Math.fround(b.data[i]! * scale);
  for (let i = 0; i < c.rows1; i++) {
    if (c.modified === 'constant') a.data[i * c.dims + 3] = 2;
    if (c.modified === 'duplicate') a.data[i * c.dims + 5] = a.data[i * c.dims + 4]!;
  }
  if (c.modified === 'constant') for (let i = 0; i < c.rows2; i++) b.data[i * c.dims + 3] = 2;
  return { a, b };
}

const relative = (got: number, want: number) => Math.abs(got - want) / Math.abs(want);

describe('Fréchet distance against pytorch-fid with scipy sqrtm (test/fixtures/vision/make_frechet.py)', () => {
  const linalg = createLinalg();

  it('has the four cases, none of which made pytorch-fid take its eps fallback', () => {
    expect(fixture.cases.map((c) => c.name)).toEqual(['full-rank', 'rank-deficient', 'constant-feature', 'duplicate-feature']);
    expect(fixture.cases.every((c) => !c.fallback)).toBe(true);
  });

  for (const c of fixture.cases) {
    it(`${c.name} (${c.rows1} and ${c.rows2} images, ${c.dims} dims) within 1e-6 relative, on ORT and plain JS`, async () => {
      const { a, b } = caseFeatures(c);
      expect(relative(await frechetDistance(linalg, a, b), c.pytorchFid)).toBeLessThanOrEqual(1e-6);
      expect(relative(await frechetDistance(createJsLinalg(), a, b), c.pytorchFid)).toBeLessThanOrEqual(1e-6);
      // The statistics route on the same data: exact too, except with fewer images than dimensions (both
      // covariances singular beyond dead units), where it is pytorch-fid's eps fallback branch.
      const s1 = await featureStatistics(linalg, a);
      const s2 = await featureStatistics(linalg, b);
      const want = c.rows1 < c.dims ? c.fallbackValue : c.pytorchFid;
      expect(relative(await frechetFromStatistics(linalg, s1, s2), want)).toBeLessThanOrEqual(1e-6);
    });
  }

  it('statistics are np.mean and np.cov(rowvar=False)', async () => {
    const c = fixture.cases[0]!;
    const s = await featureStatistics(linalg, caseFeatures(c).a);
    for (let k = 0; k < 4; k++) expect(s.mean[k]).toBeCloseTo(c.mean1[k]!, 12);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(s.covariance[i * c.dims + j]).toBeCloseTo(c.cov1[i]![j]!, 12);
    let trace = 0;
    for (let i = 0; i < c.dims; i++) trace += s.covariance[i * c.dims + i]!;
    expect(relative(trace, c.traceSigma1)).toBeLessThan(1e-12);
  });

  it('is 0 between a set and itself, and the mean shift alone when one set is the other moved', async () => {
    const a = hashFeatures(30, 8, 9);
    expect(Math.abs(await frechetDistance(linalg, a, a))).toBeLessThan(1e-9);
    const moved = { ...a, data: a.data.map((v, i) => v + (i % 8 === 2 ? 3 : 0)) };
    expect(await frechetDistance(linalg, a, moved)).toBeCloseTo(9, 5);
  });

  it('refuses non-finite features, too few images and different widths, naming the set', async () => {
    const a = hashFeatures(4, 3, 1);
    const bad = { ...a, data: Float32Array.from(a.data) };
    bad.data[7] = Number.POSITIVE_INFINITY;
    await expect(frechetDistance(linalg, bad, a)).rejects.toThrow(UserError);
    await expect(frechetDistance(linalg, bad, a)).rejects.toThrow(/first feature set: feature 1 of image 2 is Infinity; expected finite/);
    await expect(frechetDistance(linalg, a, takeRows(a, [0]))).rejects.toThrow(/second feature set: 1 feature rows; a covariance needs at least 2/);
    await expect(frechetDistance(linalg, a, hashFeatures(4, 5, 1))).rejects.toThrow(/feature widths differ: 3 and 5/);
  });
});

describe('bootstrap interval of a set-level metric', () => {
  it('resamples items with replacement, recomputes, and takes percentiles; value is on all items', async () => {
    const values = Float64Array.from({ length: 50 }, (_, i) => i);
    const seen: Int32Array[] = [];
    const result = await bootstrapSetInterval(
      50,
      (indices) => {
        seen.push(indices);
        let sum = 0;
        for (const i of indices) sum += values[i]!;
        return sum / indices.length;
      },
      { seed: 3, resamples: 400 },
    );
    expect(seen.length).toBe(401);
    expect(Array.from(seen[0]!)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(seen.slice(1).some((s) => new Set(s).size < 50)).toBe(true); // with replacement
    expect(result.mean).toBe(24.5);
    // Mean of 50 uniform-ish values: standard error ≈ 14.4/√50 ≈ 2.04 → 95 % interval ≈ 24.5 ± 4.
    expect(result.low).toBeGreaterThan(19.5);
    expect(result.low).toBeLessThan(22.5);
    expect(result.high).toBeGreaterThan(26.5);
    expect(result.high).toBeLessThan(29.5);
    const again = await bootstrapSetInterval(50, (ix) => ix.reduce((s, i) => s + values[i]!, 0) / ix.length, { seed: 3, resamples: 400 });
    expect(again).toEqual(result);
  });
});

describe('frechetDistance ddof', () => {
  it('1-D closed form (μ1 − μ2)² + (σ1 − σ2)²: sample (ddof 1) and population (ddof 0) variances', async () => {
    const a: Matrix = { rows: 2, cols: 1, data: Float32Array.from([0, 2]) }; // mean 1, variance 2 (ddof 1) / 1 (ddof 0)
    const b: Matrix = { rows: 2, cols: 1, data: Float32Array.from([1, 5]) }; // mean 3, variance 8 / 4
    expect(await frechetDistance(createJsLinalg(), a, b)).toBeCloseTo(4 + 2 + 8 - 2 * 4, 12);
    expect(await frechetDistance(createJsLinalg(), a, b, { ddof: 0 })).toBeCloseTo(4 + 1 + 4 - 2 * 2, 12);
  });
});
