/**
 * The numerical core of the ridge mapper, in dual (kernel) form: with centred inputs, ridge with intercept
 * predicts Ŷ = ȳ + K*·(K + αI)⁻¹·(Y − ȳ), K = X·Xᵀ (n × n), K* = X_test·Xᵀ. For n < p this never builds the
 * p × t primal weights (what scikit-learn spends most of its time on) and one K serves every alpha and target.
 */
import { UserError } from '../../core/errors.js';
import { cholesky, choleskySolve, NotPositiveDefiniteError, type CholeskyNode } from '../../core/compute/cholesky.js';
import type { Dense, Linalg } from '../../core/compute/linalg.js';
import { rowBlock } from '../../core/compute/linalg.js';
import type { Matrix } from '../../core/tensor.js';

export type Precision = 'float32' | 'float64';

/**
 * A factor of K + (α + shift)·I in the precision that could factor it; `shift` is 0 unless α was below K's round-off
 * (`roundOffFloor`).
 */
export type Factor = ({ precision: 'float32'; node: CholeskyNode<Float32Array> } | { precision: 'float64'; node: CholeskyNode<Float64Array> }) & {
  shift: number;
};

/**
 * Above this bound on cond(K + αI) — (largest Gershgorin row sum + α) / α — the factorisation runs in float64:
 * float32 loses about cond·6e-8 of relative accuracy in the solve.
 */
export const FLOAT32_CONDITION_LIMIT = 1e4;

export interface ColumnStats {
  mean: Float64Array;
  /** Divisor: the std (ddof as asked), 1 where a column is constant (as scikit-learn's StandardScaler). */
  scale: Float64Array;
}

/**
 * Column means and standard deviations in one pass (float64 sums of values shifted by the first row, which keeps
 * the sum-of-squares formula accurate when the mean is large against the spread).
 */
export function columnStats(m: Matrix, ddof: number, withScale: boolean): ColumnStats {
  const { rows, cols, data } = m;
  const shift = Float64Array.from(data.subarray(0, cols));
  const sum = new Float64Array(cols);
  const squares = new Float64Array(cols);
  // Four rows per sweep: the float64 accumulators are loaded and stored a quarter as often (≈2× faster).
  let i = 1;
  for (; i + 3 < rows; i += 4) {
    const o0 = i * cols;
    const o1 = o0 + cols;
    const o2 = o1 + cols;
    const o3 = o2 + cols;
    for (let j = 0; j < cols; j++) {
      const c = shift[j]!;
      const d0 = data[o0 + j]! - c;
      const d1 = data[o1 + j]! - c;
      const d2 = data[o2 + j]! - c;
      const d3 = data[o3 + j]! - c;
      sum[j]! += d0 + d1 + d2 + d3;
      if (withScale) squares[j]! += d0 * d0 + d1 * d1 + d2 * d2 + d3 * d3;
    }
  }
  for (; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) {
      const d = data[o + j]! - shift[j]!;
      sum[j]! += d;
      squares[j]! += d * d;
    }
  }
  const mean = new Float64Array(cols);
  const scale = new Float64Array(cols).fill(1);
  for (let j = 0; j < cols; j++) {
    const offset = sum[j]! / rows;
    mean[j] = shift[j]! + offset;
    if (withScale) {
      const sd = Math.sqrt(Math.max(0, squares[j]! - rows * offset * offset) / (rows - ddof));
      // A constant column (up to float64 rounding of the shifted sums) gets scale 1, as StandardScaler.
      scale[j] = sd > 1e-12 * Math.max(1, Math.abs(mean[j]!)) && Number.isFinite(sd) ? sd : 1;
    }
  }
  return { mean, scale };
}

/**
 * K + αI (upper triangle read), factored in float32 when that is accurate enough, else in float64. K is positive
 * semi-definite, but its float32 entries carry rounding errors whose eigenvalues reach about `roundOffFloor(K)`: an
 * α below that can leave K + αI indefinite as computed (a centred kernel with n ≤ p is exactly singular, so tiny
 * alphas such as Takagi's 1e-6 meet it). Then the factor is of K + (α + floor)·I, with the shift recorded: below the
 * floor, K itself does not say more.
 */
export async function factorRidge(linalg: Linalg, K: Dense<Float32Array>, alpha: number): Promise<Factor> {
  const n = K.rows;
  if (conditionBound(K, alpha) <= FLOAT32_CONDITION_LIMIT) {
    try {
      return { precision: 'float32', node: await cholesky(linalg, K, alpha), shift: 0 };
    } catch (error) {
      if (!(error instanceof NotPositiveDefiniteError)) throw error;
    }
  }
  const M = Float64Array.from(K.data);
  const float64 = { rows: n, cols: n, data: M };
  try {
    return { precision: 'float64', node: await cholesky(linalg, float64, alpha), shift: 0 };
  } catch (error) {
    if (!(error instanceof NotPositiveDefiniteError)) throw error;
  }
  const shift = roundOffFloor(K);
  try {
    return { precision: 'float64', node: await cholesky(linalg, float64, alpha + shift), shift };
  } catch (error) {
    if (error instanceof NotPositiveDefiniteError) {
      throw new UserError(
        `K + alpha·I is not positive definite even in float64 at alpha=${alpha} + the kernel's round-off ${shift.toPrecision(3)}; use a larger alpha`,
        'mapper ridge',
      );
    }
    throw error;
  }
}

/** float32's unit round-off, 2⁻²⁴. */
const FLOAT32_ROUND_OFF = 2 ** -24;

/**
 * n·u·max Kᵢᵢ: the scale of the rounding error of K's float32 entries as an operator (each entry errs by about
 * u·Kᵢᵢ-sized amounts, an n × n matrix of them has a spectral norm up to n times that).
 */
export function roundOffFloor(K: Dense<Float32Array>): number {
  let diagonal = 0;
  for (let i = 0; i < K.rows; i++) diagonal = Math.max(diagonal, Math.abs(K.data[i * K.cols + i]!));
  return K.rows * FLOAT32_ROUND_OFF * diagonal;
}

/** (max_i Σ_j |K_ij| + α) / α ≥ cond(K + αI) for a positive semi-definite K (upper triangle read). */
function conditionBound(K: Dense<Float32Array>, alpha: number): number {
  const n = K.rows;
  const sums = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = i + 1; j < n; j++) {
      const v = Math.abs(K.data[i * n + j]!);
      s += v;
      sums[j]! += v;
    }
    sums[i]! += s + Math.abs(K.data[i * n + i]!);
  }
  return (sums.reduce((a, b) => Math.max(a, b), 0) + alpha) / alpha;
}

/** (K + αI)⁻¹·R in the factor's precision, returned as float32. */
export async function solveRidge(linalg: Linalg, factor: Factor, R: Dense<Float32Array>): Promise<Dense<Float32Array>> {
  if (factor.precision === 'float32') return choleskySolve(linalg, factor.node, R);
  const W = await choleskySolve(linalg, factor.node, { rows: R.rows, cols: R.cols, data: Float64Array.from(R.data) });
  return { rows: W.rows, cols: W.cols, data: Float32Array.from(W.data) };
}

/** Contiguous folds of sizes as scikit-learn's KFold without shuffling: the first n % k folds get one more row. */
export function foldBounds(n: number, folds: number): Array<[start: number, end: number]> {
  const bounds: Array<[number, number]> = [];
  let start = 0;
  for (let f = 0; f < folds; f++) {
    const size = Math.floor(n / folds) + (f < n % folds ? 1 : 0);
    bounds.push([start, start + size]);
    start += size;
  }
  return bounds;
}

export interface CvInput {
  linalg: Linalg;
  /** Gram matrix of the (standardised) training inputs. */
  K: Dense<Float32Array>;
  /** Training targets, centred on their mean over all training rows when fitting an intercept. */
  Yc: Matrix;
  alphas: number[];
  folds: number;
  fitIntercept: boolean;
  signal?: AbortSignal;
  onStep?: () => void;
}

/**
 * k-fold cross-validation of every alpha: returns R² (per target, on the held-out fold) averaged over folds,
 * as alphas × targets. With an intercept, each fold centres inputs and targets on its own training rows —
 * exactly, by centring the kernel — as ridge with fit_intercept does inside each fold.
 */
export async function crossValidate(input: CvInput): Promise<Float64Array[]> {
  const { linalg, K, Yc, alphas, folds, fitIntercept } = input;
  const n = K.rows;
  const t = Yc.cols;
  const scores = alphas.map(() => new Float64Array(t));
  const totalSums = columnSums(Yc, 0, n);
  for (const [v0, v1] of foldBounds(n, folds)) {
    const nVal = v1 - v0;
    const nTr = n - nVal;
    const { Ktr, R } = foldKernels(K, v0, v1);
    if (fitIntercept) centerFoldKernels(Ktr, R);
    // Mean of the fold's training targets (an offset from the all-rows mean Yc is centred on).
    const offset = new Float64Array(t);
    if (fitIntercept) {
      const valSums = columnSums(Yc, v0, v1);
      for (let j = 0; j < t; j++) offset[j] = (totalSums[j]! - valSums[j]!) / nTr;
    }
    const truth = rowBlock(Yc, v0, v1);
    const truthMean = columnSums(Yc, v0, v1).map((s) => s / nVal);
    for (let a = 0; a < alphas.length; a++) {
      input.signal?.throwIfAborted();
      const factor = await factorRidge(linalg, Ktr, alphas[a]!);
      const W = await solveRidge(linalg, factor, R); // nTr × nVal
      const pred = await foldPredictions(linalg, W, Yc, v0, v1);
      // pred = offset + Wᵀ(Yc_tr − 1·offsetᵀ)
      const weightSums = new Float64Array(nVal);
      for (let i = 0; i < nTr; i++) for (let v = 0; v < nVal; v++) weightSums[v]! += W.data[i * nVal + v]!;
      addR2(scores[a]!, pred, truth, truthMean, offset, weightSums, folds);
      input.onStep?.();
    }
  }
  return scores;
}

/** K[tr, tr] and K[tr, val] for the fold holding out rows [v0, v1). */
function foldKernels(K: Dense<Float32Array>, v0: number, v1: number): { Ktr: Dense<Float32Array>; R: Dense<Float32Array> } {
  const n = K.rows;
  const nVal = v1 - v0;
  const nTr = n - nVal;
  const Ktr = new Float32Array(nTr * nTr);
  const R = new Float32Array(nTr * nVal);
  let i = 0;
  for (let r = 0; r < n; r++) {
    if (r >= v0 && r < v1) continue;
    const src = K.data.subarray(r * n, (r + 1) * n);
    Ktr.set(src.subarray(0, v0), i * nTr);
    Ktr.set(src.subarray(v1, n), i * nTr + v0);
    R.set(src.subarray(v0, v1), i * nVal);
    i++;
  }
  return { Ktr: { rows: nTr, cols: nTr, data: Ktr }, R: { rows: nTr, cols: nVal, data: R } };
}

/** Centres both kernels on the fold's training rows: the kernels of X − mean(X_tr). */
function centerFoldKernels(Ktr: Dense<Float32Array>, R: Dense<Float32Array>): void {
  const nTr = Ktr.rows;
  const nVal = R.cols;
  const rowMean = new Float64Array(nTr);
  for (let i = 0; i < nTr; i++) {
    let s = 0;
    for (let j = 0; j < nTr; j++) s += Ktr.data[i * nTr + j]!;
    rowMean[i] = s / nTr;
  }
  const grand = rowMean.reduce((a, b) => a + b, 0) / nTr;
  const valMean = new Float64Array(nVal);
  for (let i = 0; i < nTr; i++) for (let v = 0; v < nVal; v++) valMean[v]! += R.data[i * nVal + v]!;
  for (let v = 0; v < nVal; v++) valMean[v]! /= nTr;
  for (let i = 0; i < nTr; i++) {
    for (let j = 0; j < nTr; j++) Ktr.data[i * nTr + j]! -= rowMean[i]! + rowMean[j]! - grand;
    for (let v = 0; v < nVal; v++) R.data[i * nVal + v]! -= rowMean[i]! + valMean[v]! - grand;
  }
}

/** Wᵀ·Yc[tr] without copying Yc: the training rows are the two contiguous runs around the fold. */
async function foldPredictions(linalg: Linalg, W: Dense<Float32Array>, Yc: Matrix, v0: number, v1: number): Promise<Matrix> {
  const n = Yc.rows;
  const parts: Matrix[] = [];
  if (v0 > 0) parts.push(await linalg.gemm(rowBlock(W, 0, v0), rowBlock(Yc, 0, v0), { transA: true }));
  if (v1 < n) parts.push(await linalg.gemm(rowBlock(W, v0, W.rows), rowBlock(Yc, v1, n), { transA: true }));
  const [first, second] = parts as [Matrix, Matrix | undefined];
  if (second) for (let i = 0; i < first.data.length; i++) first.data[i]! += second.data[i]!;
  return first;
}

function addR2(
  into: Float64Array,
  pred: Matrix,
  truth: Matrix,
  truthMean: Float64Array,
  offset: Float64Array,
  weightSums: Float64Array,
  folds: number,
): void {
  const t = truth.cols;
  const ssRes = new Float64Array(t);
  const ssTot = new Float64Array(t);
  for (let v = 0; v < truth.rows; v++) {
    const shrink = 1 - weightSums[v]!;
    const o = v * t;
    for (let j = 0; j < t; j++) {
      const y = truth.data[o + j]!;
      const r = y - (pred.data[o + j]! + shrink * offset[j]!);
      const d = y - truthMean[j]!;
      ssRes[j]! += r * r;
      ssTot[j]! += d * d;
    }
  }
  for (let j = 0; j < t; j++) into[j]! += r2Score(ssRes[j]!, ssTot[j]!) / folds;
}

/** R² from its sums; scikit-learn's r2_score convention for a constant held-out target: 1 if predicted exactly, else 0. */
export function r2Score(ssRes: number, ssTot: number): number {
  return ssTot > 0 ? 1 - ssRes / ssTot : ssRes === 0 ? 1 : 0;
}

/**
 * Brain-Diffuser's step: z-score each predicted column over the test batch (numpy std, ddof=0), then map it to
 * the training targets' mean and std. A column predicted constant maps to the training mean.
 */
export function restandardize(predicted: Matrix, yMean: Float64Array, yStd: Float64Array): void {
  const { rows, cols, data } = predicted;
  if (rows < 2) throw new UserError(`restandardizePredictions needs at least 2 test rows, got ${rows}`, 'mapper ridge');
  const stats = columnStats(predicted, 0, true);
  for (let j = 0; j < cols; j++) {
    const constant = stats.scale[j] === 1 && isConstantColumn(predicted, j);
    const factor = constant ? 0 : yStd[j]! / stats.scale[j]!;
    for (let i = 0; i < rows; i++) data[i * cols + j] = (data[i * cols + j]! - stats.mean[j]!) * factor + yMean[j]!;
  }
}

function isConstantColumn(m: Matrix, j: number): boolean {
  for (let i = 1; i < m.rows; i++) if (m.data[i * m.cols + j] !== m.data[j]) return false;
  return true;
}

function columnSums(m: Matrix, r0: number, r1: number): Float64Array {
  const sums = new Float64Array(m.cols);
  for (let i = r0; i < r1; i++) {
    const o = i * m.cols;
    for (let j = 0; j < m.cols; j++) sums[j]! += m.data[o + j]!;
  }
  return sums;
}
