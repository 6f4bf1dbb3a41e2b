/**
 * Ridge in primal form, in float64 throughout, for more training rows than voxels (n > p): β = (ZᵀZ + αI)⁻¹·Zᵀ(Y − ȳ)
 * with Z the standardised inputs. There the kernel K = Z·Zᵀ (n × n) has rank p < n: its n − p null directions
 * are left to α alone, so a small α turns the float32 rounding of K into errors of order ‖Z‖²·ε/α in the dual
 * predictions (1.2e-3 at α = 0.01). The p × p system is smaller (p³ instead of n³), and its conditioning is
 * that of the data, not 1/α. Everything here is float64: the predictions equal a float64 solve (scikit-learn) to
 * rounding, and are rounded to float32 only when returned.
 */
import { join } from 'node:path';
import { cholesky, choleskySolve, NotPositiveDefiniteError } from '../../core/compute/cholesky.js';
import type { Dense, Linalg } from '../../core/compute/linalg.js';
import { rowBlock } from '../../core/compute/linalg.js';
import type { FittedMapper } from '../../core/contracts.js';
import { UserError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/io/atomic.js';
import { writeNpy } from '../../core/io/npy.js';
import type { Matrix } from '../../core/tensor.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION } from './format.js';
import { foldBounds, r2Score, restandardize, type ColumnStats } from './kernel.js';
import type { RidgeOptions } from './schema.js';

const WHERE = 'mapper ridge';
type F64 = Dense<Float64Array>;

/** Everything the primal fit and CV need, formed once. */
export interface PrimalSystem {
  /** Standardised training inputs, n × p. */
  Z: F64;
  /** ZᵀZ, p × p. */
  G: F64;
  /** Zᵀ·(Y − ȳ), p × t. */
  C: F64;
  /** The training targets as given (never shifted in float32: ȳ is subtracted in float64). */
  Y: Matrix;
}

/**
 * The primal system for inputs X (standardised with `xStats`) and targets Y minus `yMean` (their float64 mean
 * with an intercept, zeros without): Zᵀ(Y − ȳ) = ZᵀY − (Zᵀ1)·ȳᵀ.
 */
export async function primalSystem(linalg: Linalg, X: Matrix, Y: Matrix, xStats: ColumnStats, yMean: Float64Array): Promise<PrimalSystem> {
  const Z = standardize64(X, xStats);
  const G = await linalg.gemm(Z, Z, { transA: true });
  const C = await crossProduct(linalg, Z, Y);
  const zSums = columnSums64(Z, 0, Z.rows);
  const t = Y.cols;
  for (let a = 0; a < Z.cols; a++) for (let j = 0; j < t; j++) C.data[a * t + j]! -= zSums[a]! * yMean[j]!;
  return { Z, G, C, Y };
}

/** Weights β (p × t) solving each target column with the alpha of its group. */
export async function primalWeights(linalg: Linalg, system: PrimalSystem, alphas: number[], perTarget: Int32Array | undefined): Promise<F64> {
  const { G, C } = system;
  const p = G.rows;
  const t = C.cols;
  if (!perTarget) return solveShifted(linalg, G, alphas[0]!, C);
  const beta = new Float64Array(p * t);
  for (let a = 0; a < alphas.length; a++) {
    const cols: number[] = [];
    for (let j = 0; j < t; j++) if (perTarget[j] === a) cols.push(j);
    if (cols.length === 0) continue;
    const part = await solveShifted(linalg, G, alphas[a]!, takeCols64(C, cols));
    for (let r = 0; r < p; r++) for (let k = 0; k < cols.length; k++) beta[r * t + cols[k]!] = part.data[r * cols.length + k]!;
  }
  return { rows: p, cols: t, data: beta };
}

/**
 * k-fold CV in the primal: R² per target on each held-out fold, averaged over folds, as alphas × targets. Each
 * fold's system is the whole one minus the fold's rows, centred on the fold's training rows when fitting an
 * intercept (Σ(z − μ)(z − μ)ᵀ = Σzzᵀ − n·μμᵀ), as Ridge(fit_intercept=True) does inside each fold.
 */
export async function crossValidatePrimal(input: {
  linalg: Linalg;
  system: PrimalSystem;
  alphas: number[];
  folds: number;
  fitIntercept: boolean;
  signal?: AbortSignal;
  onStep?: () => void;
}): Promise<Float64Array[]> {
  const { linalg, system, alphas, folds, fitIntercept } = input;
  const { Z, G, Y } = system;
  const n = Z.rows;
  const p = Z.cols;
  const t = Y.cols;
  const scores = alphas.map(() => new Float64Array(t));
  // Folds work from ZᵀY of the raw targets (each fold centres on its own training rows).
  const C = await crossProduct(linalg, Z, Y);
  const zSums = columnSums64(Z, 0, n);
  const ySums = columnSums64(Y, 0, n);
  for (const [v0, v1] of foldBounds(n, folds)) {
    const nTr = n - (v1 - v0);
    const Zval = rowBlock(Z, v0, v1);
    const Yval = rows64(Y, v0, v1);
    const Gval = await linalg.gemm(Zval, Zval, { transA: true });
    const Cval = await linalg.gemm(Zval, Yval, { transA: true });
    const zMean = columnSums64(Zval, 0, Zval.rows).map((s, j) => (zSums[j]! - s) / nTr);
    const yMean = columnSums64(Yval, 0, Yval.rows).map((s, j) => (ySums[j]! - s) / nTr);
    if (!fitIntercept) {
      zMean.fill(0);
      yMean.fill(0);
    }
    const Gtr = new Float64Array(p * p);
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) Gtr[a * p + b] = G.data[a * p + b]! - Gval.data[a * p + b]! - nTr * zMean[a]! * zMean[b]!;
    const Ctr = new Float64Array(p * t);
    for (let a = 0; a < p; a++) for (let j = 0; j < t; j++) Ctr[a * t + j] = C.data[a * t + j]! - Cval.data[a * t + j]! - nTr * zMean[a]! * yMean[j]!;
    const truthMean = columnSums64(Yval, 0, Yval.rows).map((s) => s / Yval.rows);
    for (let a = 0; a < alphas.length; a++) {
      input.signal?.throwIfAborted();
      const beta = await solveShifted(linalg, { rows: p, cols: p, data: Gtr }, alphas[a]!, { rows: p, cols: t, data: Ctr });
      // ŷ = ȳ_tr + (z − μ_tr)·β = z·β + (ȳ_tr − μ_trᵀβ)
      const pred = await linalg.gemm(Zval, beta);
      const shift = Float64Array.from(yMean);
      for (let r = 0; r < p; r++) for (let j = 0; j < t; j++) shift[j]! -= zMean[r]! * beta.data[r * t + j]!;
      const ssRes = new Float64Array(t);
      const ssTot = new Float64Array(t);
      for (let v = 0; v < Yval.rows; v++) {
        for (let j = 0; j < t; j++) {
          const y = Yval.data[v * t + j]!;
          const r = y - pred.data[v * t + j]! - shift[j]!;
          const d = y - truthMean[j]!;
          ssRes[j]! += r * r;
          ssTot[j]! += d * d;
        }
      }
      for (let j = 0; j < t; j++) scores[a]![j]! += r2Score(ssRes[j]!, ssTot[j]!) / folds;
      input.onStep?.();
    }
  }
  return scores;
}

export interface PrimalState {
  options: RidgeOptions;
  xStats: ColumnStats;
  /** p × t. */
  beta: F64;
  yMean: Float64Array;
  yStd: Float64Array;
  summary: Record<string, unknown>;
}

export class FittedPrimalRidge implements FittedMapper {
  constructor(
    private readonly state: PrimalState,
    private readonly linalg: Linalg,
  ) {}

  get summary(): Record<string, unknown> {
    return this.state.summary;
  }

  async predict(X: Matrix): Promise<Matrix> {
    const { xStats, beta, yMean, yStd, options } = this.state;
    if (X.cols !== beta.rows) {
      throw new UserError(`the model was fitted on ${beta.rows} voxels, but X has ${X.cols} columns`, WHERE);
    }
    const t = beta.cols;
    const product = await this.linalg.gemm(standardize64(X, xStats), beta);
    const out = new Float32Array(X.rows * t);
    for (let i = 0; i < X.rows; i++) for (let j = 0; j < t; j++) out[i * t + j] = product.data[i * t + j]! + yMean[j]!;
    const predicted = { rows: X.rows, cols: t, data: out };
    if (options.restandardizePredictions) restandardize(predicted, yMean, yStd);
    return predicted;
  }

  async save(dir: string): Promise<void> {
    const { options, xStats, beta, yMean, yStd, summary } = this.state;
    await writeNpy(join(dir, 'x-mean.npy'), { shape: [xStats.mean.length], data: xStats.mean });
    await writeNpy(join(dir, 'x-scale.npy'), { shape: [xStats.scale.length], data: xStats.scale });
    await writeNpy(join(dir, 'y-mean.npy'), { shape: [yMean.length], data: yMean });
    await writeNpy(join(dir, 'y-std.npy'), { shape: [yStd.length], data: yStd });
    await writeNpy(join(dir, 'weights.npy'), { shape: [beta.rows, beta.cols], data: beta.data });
    const content = { format: MODEL_FORMAT, version: MODEL_FORMAT_VERSION, form: 'primal', options, voxels: beta.rows, targets: beta.cols, summary };
    await writeFileAtomic(join(dir, 'ridge.json'), `${JSON.stringify(content, null, 2)}\n`);
  }
}

/** (G + αI)⁻¹·R in float64 (G's upper triangle read). */
async function solveShifted(linalg: Linalg, G: F64, alpha: number, R: F64): Promise<F64> {
  try {
    return await choleskySolve(linalg, await cholesky(linalg, G, alpha), R);
  } catch (error) {
    if (error instanceof NotPositiveDefiniteError) {
      throw new UserError(`XᵀX + alpha·I is not positive definite in float64 at alpha=${alpha}; use a larger alpha`, WHERE);
    }
    throw error;
  }
}

/** (X − mean) / scale in float64. */
export function standardize64(X: Matrix, stats: ColumnStats): F64 {
  const { rows, cols, data } = X;
  const out = new Float64Array(rows * cols);
  const inverse = Float64Array.from(stats.scale, (s) => 1 / s);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) out[o + j] = (data[o + j]! - stats.mean[j]!) * inverse[j]!;
  }
  return { rows, cols, data: out };
}

/** ZᵀY in float64, converting Y a block of rows at a time (Y can be gigabytes; Z has few columns). */
async function crossProduct(linalg: Linalg, Z: F64, Y: Matrix): Promise<F64> {
  const step = Math.max(1, Math.floor(2 ** 24 / Math.max(1, Y.cols)));
  let sum: F64 | undefined;
  for (let i = 0; i < Z.rows; i += step) {
    const end = Math.min(Z.rows, i + step);
    const part = await linalg.gemm(rowBlock(Z, i, end), rows64(Y, i, end), { transA: true });
    if (!sum) sum = part;
    else for (let k = 0; k < part.data.length; k++) sum.data[k]! += part.data[k]!;
  }
  return sum ?? { rows: Z.cols, cols: Y.cols, data: new Float64Array(Z.cols * Y.cols) };
}

function rows64(m: Matrix, r0: number, r1: number): F64 {
  return { rows: r1 - r0, cols: m.cols, data: Float64Array.from(m.data.subarray(r0 * m.cols, r1 * m.cols)) };
}

function takeCols64(m: F64, cols: number[]): F64 {
  const out = new Float64Array(m.rows * cols.length);
  for (let i = 0; i < m.rows; i++) for (let k = 0; k < cols.length; k++) out[i * cols.length + k] = m.data[i * m.cols + cols[k]!]!;
  return { rows: m.rows, cols: cols.length, data: out };
}

function columnSums64(m: Dense, r0: number, r1: number): Float64Array {
  const sums = new Float64Array(m.cols);
  for (let i = r0; i < r1; i++) for (let j = 0; j < m.cols; j++) sums[j]! += m.data[i * m.cols + j]!;
  return sums;
}
