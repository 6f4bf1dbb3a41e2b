import { describe, expect, it } from 'vitest';
import { Rng } from '../../core/rng.js';
import { bootstrapMeanInterval, pairedBootstrap, permutationTest, quantileSorted } from '../../core/stats.js';

function normalSample(n: number, mean: number, sd: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, () => mean + sd * rng.normal());
}

function sampleSd(values: Float64Array): number {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1));
}

describe('quantileSorted', () => {
  it("interpolates linearly like numpy's default", () => {
    // np.quantile([1, 2, 3, 4], [0.25, 0.5, 0.975]) = [1.75, 2.5, 3.925]
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 12);
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBeCloseTo(2.5, 12);
    expect(quantileSorted([1, 2, 3, 4], 0.975)).toBeCloseTo(3.925, 12);
    expect(quantileSorted([1, 2, 3, 4], 1)).toBe(4);
  });
});

describe('bootstrapMeanInterval', () => {
  it('has zero width on a constant vector', () => {
    const { mean, low, high } = bootstrapMeanInterval(new Float64Array(50).fill(0.7), { seed: 1 });
    expect(mean).toBeCloseTo(0.7, 14);
    expect(low).toBe(mean);
    expect(high).toBe(mean);
  });

  it('approaches mean ± 1.96·sd/√n on a large normal sample', () => {
    const n = 2000;
    const sample = normalSample(n, 0.4, 1.5, 3);
    const { mean, low, high } = bootstrapMeanInterval(sample, { seed: 5 });
    const halfWidth = (1.96 * sampleSd(sample)) / Math.sqrt(n);
    expect(mean).toBeCloseTo(sample.reduce((s, v) => s + v, 0) / n, 12);
    expect(Math.abs(mean - halfWidth - low)).toBeLessThan(0.1 * halfWidth);
    expect(Math.abs(mean + halfWidth - high)).toBeLessThan(0.1 * halfWidth);
  });

  it('narrows with a lower level, and is reproducible from its seed', () => {
    const sample = normalSample(200, 0, 1, 9);
    const wide = bootstrapMeanInterval(sample, { seed: 2, level: 0.99 });
    const narrow = bootstrapMeanInterval(sample, { seed: 2, level: 0.5 });
    expect(wide.high - wide.low).toBeGreaterThan(2 * (narrow.high - narrow.low));
    expect(bootstrapMeanInterval(sample, { seed: 2, level: 0.99 })).toEqual(wide);
  });

  it('refuses NaN values and empty input instead of returning NaN', () => {
    expect(() => bootstrapMeanInterval([1, Number.NaN, 2], { seed: 0 })).toThrow(/1 of 3 values are NaN/);
    expect(() => bootstrapMeanInterval([], { seed: 0 })).toThrow(/no values/);
  });
});

describe('pairedBootstrap', () => {
  it('detects a known shift between paired values, with an interval around it', () => {
    const a = normalSample(300, 0.5, 1, 21);
    const noise = normalSample(300, 0, 0.5, 22);
    const b = a.map((v, i) => v - 0.3 + noise[i]!);
    const result = pairedBootstrap(a, b, { seed: 4 });
    expect(result.meanDifference).toBeCloseTo(0.3 - noise.reduce((s, v) => s + v, 0) / 300, 12);
    expect(result.low).toBeLessThan(0.3);
    expect(result.high).toBeGreaterThan(0.3);
    expect(result.low).toBeGreaterThan(0.2);
    expect(result.pValue).toBeLessThan(0.001);
  });

  it('finds nothing when the two methods differ only by symmetric noise', () => {
    const a = normalSample(300, 0.5, 1, 31);
    const noise = normalSample(300, 0, 0.5, 32);
    const result = pairedBootstrap(a, a.map((v, i) => v + noise[i]!), { seed: 4 });
    expect(result.low).toBeLessThan(0);
    expect(result.high).toBeGreaterThan(0);
    expect(result.pValue).toBeGreaterThan(0.05);
  });

  it('gives p = 1 for identical methods and the smallest p for a constant non-zero difference', () => {
    const a = normalSample(40, 0, 1, 41);
    expect(pairedBootstrap(a, a, { seed: 1 }).pValue).toBe(1);
    const shifted = pairedBootstrap(a, a.map((v) => v - 0.01), { seed: 1, resamples: 999 });
    expect(shifted.pValue).toBeCloseTo(1 / 1000, 12);
    expect(shifted.low).toBeCloseTo(0.01, 12);
    expect(shifted.high).toBeCloseTo(0.01, 12);
  });

  it('refuses unpaired inputs', () => {
    expect(() => pairedBootstrap([1, 2], [1, 2, 3], { seed: 0 })).toThrow(/2 values against 3/);
  });
});

describe('permutationTest (paired sign flip)', () => {
  it('is exact on a small case', () => {
    // Differences (1, 2, 3): of the 8 sign patterns only (+,+,+) and (−,−,−) reach |mean| ≥ 2 → p = 2/8.
    expect(permutationTest([1, 2, 3], [0, 0, 0], { seed: 0 })).toEqual({ meanDifference: 2, pValue: 0.25 });
    // Differences (1, 2, 3, −1), sum 5: flipping a subset of total T gives sum 5 − 2T; |5 − 2T| ≥ 5 when T ≤ 0
    // or T ≥ 5. T ≤ 0: {}, {−1}, {1, −1}; T ≥ 5: {2, 3}, {1, 2, 3}, {1, 2, 3, −1}: 6 of 16 patterns.
    expect(permutationTest([1, 2, 3, -1], [0, 0, 0, 0], { seed: 0 }).pValue).toBe(6 / 16);
  });

  it('agrees with the normal approximation on a large sample, and finds no effect under the null', () => {
    // Differences with mean 0.15 and sd 1 on n = 400: z ≈ 3, two-sided p ≈ 0.003 — within Monte Carlo error.
    const differences = normalSample(400, 0, 1, 51);
    const mean = differences.reduce((s, v) => s + v, 0) / 400;
    const sd = sampleSd(differences);
    const shifted = differences.map((v) => v - mean + 0.15);
    const z = 0.15 / (sd / Math.sqrt(400));
    const result = permutationTest(shifted, new Float64Array(400), { seed: 3, permutations: 20000 });
    const normalP = 2 * (1 - normalCdf(z));
    expect(Math.abs(result.pValue - normalP)).toBeLessThan(0.003);
    const centred = differences.map((v) => v - mean + 0.01);
    expect(permutationTest(centred, new Float64Array(400), { seed: 3 }).pValue).toBeGreaterThan(0.5);
  });
});

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 erf, error < 1.5e-7). */
function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
