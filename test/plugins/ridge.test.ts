import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLinalg } from '../../core/compute/linalg.js';
import { UserError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import type { PluginServices } from '../../core/services.js';
import { matrix, type Matrix } from '../../core/tensor.js';
import { foldBounds } from '../../plugins/ridge/kernel.js';
import { loadFittedRidge, RidgeMapper } from '../../plugins/ridge/ridge.js';
import type { RidgeOptions } from '../../plugins/ridge/schema.js';

const services = {
  linalg: createLinalg(),
  log: { info() {}, warn() {}, debug() {} },
  progress: { task: () => ({ tick() {}, done() {} }) },
} as unknown as PluginServices;

const defaults: RidgeOptions = {
  alphas: [1, 10, 100, 1e3, 1e4, 1e5, 1e6],
  folds: 5,
  alphaPer: 'shared',
  fitIntercept: true,
  standardize: true,
  restandardizePredictions: false,
};

interface SklearnCase {
  name: string;
  trainRows: number;
  voxels: number;
  targets: number;
  testRows: number;
  alpha: number;
  xTrain: number[];
  yTrain: number[];
  xTest: number[];
  predictions: number[];
  restandardized: number[];
  grid: number[];
  folds: number;
  sharedAlpha: number;
  sharedPredictions: number[];
  perTargetAlphas: number[];
  perTargetPredictions: number[];
  defaultGrid: number[];
  defaultGridPredictions: number[][];
}

const fixture = JSON.parse(
  await readFile(new URL('../fixtures/ridge/sklearn-reference.json', import.meta.url), 'utf8'),
) as { cases: SklearnCase[] };

/** max |a − b| / max |b| */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return d / s;
}

async function fitPredict(options: Partial<RidgeOptions>, X: Matrix, Y: Matrix, Xtest: Matrix) {
  const fitted = await new RidgeMapper({ ...defaults, ...options }, services).fit(X, Y, { seed: 0 });
  return { fitted, predicted: await fitted.predict(Xtest) };
}

describe.each(fixture.cases)('equals scikit-learn Ridge on z-scored X (fixture $name)', (c) => {
  const X = matrix(c.trainRows, c.voxels, c.xTrain);
  const Y = matrix(c.trainRows, c.targets, c.yTrain);
  const Xtest = matrix(c.testRows, c.voxels, c.xTest);
  // More rows than voxels: solved in the primal in float64, so equal to float64 scikit-learn to rounding.
  // Otherwise the dual form's float32 kernel bounds the agreement.
  const primal = c.trainRows > c.voxels;
  const tolerance = primal ? 1e-6 : 1e-4;

  it('fixed alpha', async () => {
    const { fitted, predicted } = await fitPredict({ alpha: c.alpha }, X, Y, Xtest);
    expect(relativeError(predicted.data, c.predictions)).toBeLessThan(tolerance);
    expect(fitted.summary.form).toBe(primal ? 'primal' : 'dual');
    expect(fitted.summary.precision).toMatch(primal ? /^float64 throughout/ : /^inputs and K = X·Xᵀ float32, /);
  });

  it('fixed alpha, at every alpha of the default CV grid', async () => {
    expect(c.defaultGrid).toEqual(defaults.alphas);
    for (const [a, alpha] of c.defaultGrid.entries()) {
      const { predicted } = await fitPredict({ alpha }, X, Y, Xtest);
      expect(relativeError(predicted.data, c.defaultGridPredictions[a]!), `alpha ${alpha}`).toBeLessThan(tolerance);
    }
  });

  it('alpha shared across targets by 5-fold CV (GridSearchCV over Ridge, KFold without shuffling)', async () => {
    const { fitted, predicted } = await fitPredict({ alphas: c.grid, folds: c.folds, alphaPer: 'shared' }, X, Y, Xtest);
    expect(fitted.summary.alpha).toBe(c.sharedAlpha);
    expect(relativeError(predicted.data, c.sharedPredictions)).toBeLessThan(tolerance);
  });

  it('alpha per target by 5-fold CV', async () => {
    const { fitted, predicted } = await fitPredict({ alphas: c.grid, folds: c.folds, alphaPer: 'per-target' }, X, Y, Xtest);
    const counts: Record<string, number> = {};
    for (const a of c.grid) counts[String(a)] = c.perTargetAlphas.filter((v) => v === a).length;
    expect(fitted.summary.alphaPerTarget).toEqual(counts);
    expect(relativeError(predicted.data, c.perTargetPredictions)).toBeLessThan(tolerance);
  });

  it("Brain-Diffuser's re-standardisation of predictions (test-batch z-score, ddof=0) when asked", async () => {
    const { predicted } = await fitPredict({ alpha: c.alpha, restandardizePredictions: true }, X, Y, Xtest);
    expect(relativeError(predicted.data, c.restandardized)).toBeLessThan(tolerance);
  });
});

/** Primal ridge in float64 by Gaussian elimination: β = (ZᵀZ + αI)⁻¹ Zᵀ(Y − ȳ). */
function primalRidge(X: Matrix, Y: Matrix, Xtest: Matrix, alpha: number, standardize: boolean, intercept: boolean): Float64Array {
  const [n, p, t] = [X.rows, X.cols, Y.cols];
  const mean = new Float64Array(p);
  const sd = new Float64Array(p).fill(1);
  if (intercept || standardize) for (let j = 0; j < p; j++) for (let i = 0; i < n; i++) mean[j]! += X.data[i * p + j]! / n;
  if (standardize) {
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += (X.data[i * p + j]! - mean[j]!) ** 2;
      sd[j] = Math.sqrt(s / (n - 1));
    }
  }
  const z = (x: Matrix, i: number, j: number) => (x.data[i * p + j]! - mean[j]!) / sd[j]!;
  const yMean = new Float64Array(t);
  if (intercept) for (let j = 0; j < t; j++) for (let i = 0; i < n; i++) yMean[j]! += Y.data[i * t + j]! / n;
  // Augmented system [ZᵀZ + αI | Zᵀ(Y − ȳ)].
  const w = p + t;
  const A = new Float64Array(p * w);
  for (let a = 0; a < p; a++) {
    for (let b = 0; b < p; b++) {
      let s = a === b ? alpha : 0;
      for (let i = 0; i < n; i++) s += z(X, i, a) * z(X, i, b);
      A[a * w + b] = s;
    }
    for (let j = 0; j < t; j++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += z(X, i, a) * (Y.data[i * t + j]! - yMean[j]!);
      A[a * w + p + j] = s;
    }
  }
  for (let c = 0; c < p; c++) {
    for (let r = c + 1; r < p; r++) {
      const f = A[r * w + c]! / A[c * w + c]!;
      for (let k = c; k < w; k++) A[r * w + k]! -= f * A[c * w + k]!;
    }
  }
  const beta = new Float64Array(p * t);
  for (let j = 0; j < t; j++) {
    for (let r = p - 1; r >= 0; r--) {
      let s = A[r * w + p + j]!;
      for (let k = r + 1; k < p; k++) s -= A[r * w + k]! * beta[k * t + j]!;
      beta[r * t + j] = s / A[r * w + r]!;
    }
  }
  const out = new Float64Array(Xtest.rows * t);
  for (let i = 0; i < Xtest.rows; i++) {
    for (let j = 0; j < t; j++) {
      let s = yMean[j]!;
      for (let k = 0; k < p; k++) s += z(Xtest, i, k) * beta[k * t + j]!;
      out[i * t + j] = s;
    }
  }
  return out;
}

function randomProblem(n: number, p: number, t: number, m: number, seed: number) {
  const rng = new Rng(seed);
  const X = matrix(n, p, Array.from({ length: n * p }, () => 2 + 3 * rng.normal()));
  const Y = matrix(n, t, Array.from({ length: n * t }, (_, k) => 5 + X.data[Math.floor(k / t) * p + (k % p)]! + rng.normal()));
  const Xtest = matrix(m, p, Array.from({ length: m * p }, () => 2 + 3 * rng.normal()));
  return { X, Y, Xtest };
}

describe('equals a direct float64 solve of the primal normal equations', () => {
  it.each([
    ['n < p', 30, 55, 1, true, true],
    ['n > p', 60, 12, 1, true, true],
    ['n < p, large alpha', 30, 55, 1e4, true, true],
    ['n > p, no standardisation', 60, 12, 3, false, true],
    ['n < p, no intercept, no standardisation', 30, 55, 2, false, false],
    ['n > p, no intercept, no standardisation', 60, 12, 2, false, false],
  ] as const)('%s', async (_name, n, p, alpha, standardize, fitIntercept) => {
    const { X, Y, Xtest } = randomProblem(n, p, 4, 9, n + p);
    const { predicted } = await fitPredict({ alpha, standardize, fitIntercept }, X, Y, Xtest);
    const ref = primalRidge(X, Y, Xtest, alpha, standardize, fitIntercept);
    expect(relativeError(predicted.data, ref)).toBeLessThan(2e-5);
  });
});

describe('fitted model', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it.each([
    ['primal (n > p)', 200, 150, 'primal'],
    ['dual (n < p)', 120, 150, 'dual'],
  ] as const)('predicts identically after save → load, with one alpha per target: %s', async (_name, n, p, form) => {
    const { X, Y, Xtest } = randomProblem(n, p, 6, 20, 11);
    const fitted = await new RidgeMapper({ ...defaults, alphas: [0.1, 10, 1000], alphaPer: 'per-target' }, services).fit(X, Y, { seed: 0 });
    const dir = await mkdtemp(join(tmpdir(), 'ridge-'));
    dirs.push(dir);
    await fitted.save(dir);
    expect(JSON.parse(await readFile(join(dir, 'ridge.json'), 'utf8'))).toMatchObject({ format: 'neurodecode-ridge', version: 3, form });
    const loaded = await loadFittedRidge(dir, services);
    expect(Array.from((await loaded.predict(Xtest)).data)).toEqual(Array.from((await fitted.predict(Xtest)).data));
    expect(loaded.summary).toEqual(fitted.summary);
  });

  it('throws a UserError naming the voxel counts when X has the wrong width', async () => {
    const { X, Y } = randomProblem(20, 15, 2, 2, 12);
    const fitted = await new RidgeMapper({ ...defaults, alpha: 1 }, services).fit(X, Y, { seed: 0 });
    const wrong = matrix(3, 16);
    await expect(fitted.predict(wrong)).rejects.toThrow(UserError);
    await expect(fitted.predict(wrong)).rejects.toThrow(/fitted on 15 voxels, but X has 16 columns/);
  });

  it('throws a UserError when cross-validation has fewer training rows than folds', async () => {
    const { X, Y } = randomProblem(4, 3, 1, 1, 14);
    await expect(new RidgeMapper(defaults, services).fit(X, Y, { seed: 0 })).rejects.toThrow(/folds=5 needs at least 5 training rows, got 4/);
  });

  it('treats a constant voxel as scikit-learn does (scale 1, column ignored) and never emits NaN', async () => {
    const { X, Y, Xtest } = randomProblem(30, 10, 2, 5, 13);
    for (let i = 0; i < X.rows; i++) X.data[i * 10 + 3] = 7;
    const { predicted } = await fitPredict({ alpha: 1 }, X, Y, Xtest);
    expect(predicted.data.every(Number.isFinite)).toBe(true);
  });
});

describe('alphas below the float32 kernel round-off (Takagi: 1e-6, no intercept, z-scored, p > n)', () => {
  // A centred kernel with n ≤ p is exactly singular (1 is in its null space): as computed in float32, K + 1e-6·I
  // was indefinite even when factored in float64, and the fit failed. It is now factored at alpha + the floor.
  it('fits at a fixed alpha 1e-6 and by CV over a grid from 1e-6, saying which alpha was raised to what', async () => {
    const { X, Y, Xtest } = randomProblem(40, 60, 3, 5, 21);
    const fixed = await new RidgeMapper({ ...defaults, alpha: 1e-6, fitIntercept: false }, services).fit(X, Y, { seed: 0 });
    expect((await fixed.predict(Xtest)).data.every(Number.isFinite)).toBe(true);
    const raised = fixed.summary.alphaRaisedToRoundOff as Record<string, number>;
    expect(Object.keys(raised)).toEqual(['0.000001']);
    // n·2⁻²⁴·max Kᵢᵢ with Kᵢᵢ a sum of 60 z-scored squares: of the order of 40 · 6e-8 · 60 ≈ 1.4e-4.
    expect(raised['0.000001']! - 1e-6).toBeGreaterThan(5e-5);
    expect(raised['0.000001']! - 1e-6).toBeLessThan(5e-4);
    const cv = await new RidgeMapper({ ...defaults, alphas: [1e-6, 1e-5, 1], alphaPer: 'per-target', fitIntercept: false }, services).fit(X, Y, { seed: 0 });
    expect((await cv.predict(Xtest)).data.every(Number.isFinite)).toBe(true);
  });

  it('factorRidge: L·Lᵀ equals K + (α + floor)·I in float64, the shift is the floor, and a usual alpha is not shifted', async () => {
    const { X } = randomProblem(40, 60, 1, 1, 22);
    const { columnStats, factorRidge, roundOffFloor } = await import('../../plugins/ridge/kernel.js');
    const { assembleFactor } = await import('../../core/compute/cholesky.js');
    const stats = columnStats(X, 1, true);
    const Xs = Float32Array.from(X.data, (v, k) => (v - stats.mean[k % 60]!) / stats.scale[k % 60]!);
    const K = await services.linalg.gram({ rows: 40, cols: 60, data: Xs });
    // Singular in exact arithmetic; lowered by 1e-5 (under the floor, ≈ 1.4e-4) so that K + 1e-6·I is surely indefinite.
    for (let i = 0; i < 40; i++) K.data[i * 41]! -= 1e-5;
    const factor = await factorRidge(services.linalg, K, 1e-6);
    const floor = roundOffFloor(K);
    expect(factor.shift).toBe(floor);
    expect(factor.precision).toBe('float64');
    const L = factor.precision === 'float64' ? assembleFactor(factor.node, new Float64Array(0)) : undefined;
    let worst = 0;
    for (let i = 0; i < 40; i++) {
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let k = 0; k < 40; k++) s += L!.data[i * 40 + k]! * L!.data[j * 40 + k]!;
        const target = K.data[j * 40 + i]! + (i === j ? 1e-6 + floor : 0); // upper triangle: what factorRidge reads
        worst = Math.max(worst, Math.abs(s - target) / K.data[0]!);
      }
    }
    expect(worst).toBeLessThan(1e-12);
    expect((await factorRidge(services.linalg, K, 1)).shift).toBe(0);
  });
});

describe('folds', () => {
  it('are contiguous with the sizes of scikit-learn KFold (first n % k folds one larger)', () => {
    expect(foldBounds(10, 3)).toEqual([[0, 4], [4, 7], [7, 10]]);
    expect(foldBounds(40, 5)).toEqual([[0, 8], [8, 16], [16, 24], [24, 32], [32, 40]]);
  });
});
