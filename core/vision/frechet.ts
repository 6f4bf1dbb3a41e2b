/**
 * Fréchet distance between two sets of features (FID when they are Inception pool3 features), with pytorch-fid's
 * formula (mseitzer/pytorch-fid `src/pytorch_fid/fid_score.py`, `calculate_frechet_distance`):
 * μ = np.mean(axis=0), Σ = np.cov(rowvar=False) (ddof 1), d² = ‖μ1 − μ2‖² + Tr Σ1 + Tr Σ2 − 2·Tr sqrtm(Σ1Σ2).
 *
 * pytorch-fid takes scipy's `sqrtm` of the product and the trace of its real part. We compute that trace without
 * a matrix square root, in float64: Σ1Σ2 has real non-negative eigenvalues λᵢ and Tr sqrtm(Σ1Σ2) = Σ √λᵢ; they
 * are found as the eigenvalues of a symmetric positive semi-definite matrix with the same non-zero spectrum:
 *
 * - with the features at hand and fewer images than dimensions (982 NSD test images vs 2048): Σ1 = AᵀA,
 *   Σ2 = BᵀB with A, B the centred features ÷ √(n − 1), and the non-zero λᵢ are those of (ABᵀ)(ABᵀ)ᵀ — an n × n
 *   matrix; the products run on the Linalg engine (ONNX Runtime);
 * - otherwise, from the statistics: Σ1 = LLᵀ (Cholesky) and the λᵢ are those of Lᵀ Σ2 L (d × d).
 *
 * Eigenvalues below zero are rounding (the exact ones are ≥ 0) and count as 0, as the real part of scipy's
 * principal root does. Singular covariances: the features route has no singular case (exact for any rank); the
 * statistics route leaves out units of zero variance (dead units) and factors Σ2 instead when Σ1 is still not
 * positive definite. scipy's sqrtm (1.10) returns a finite root for all of these (fewer images than dimensions, a
 * dead unit, collinear units: test/fixtures/vision/frechet.json), so pytorch-fid does not take its fallback and
 * we match its value. Only when both covariances are singular beyond dead units do we apply pytorch-fid's
 * fallback — Tr sqrtm((Σ1 + eps·I)(Σ2 + eps·I)), eps = 1e-6, with the traces of the unshifted matrices.
 * pytorch-fid's other outcome, an error when the root's diagonal has an imaginary part above 1e-3, cannot occur.
 */
import { UserError } from '../errors.js';
import { cholesky, assembleFactor, NotPositiveDefiniteError } from '../compute/cholesky.js';
import { symmetricEigenvalues } from '../compute/eigen.js';
import type { Dense, Linalg } from '../compute/linalg.js';
import type { Matrix } from '../tensor.js';

/** pytorch-fid's default offset for a singular product. */
export const FRECHET_EPS = 1e-6;

export interface FeatureStatistics {
  readonly count: number;
  readonly dims: number;
  /** np.mean(features, axis=0). */
  readonly mean: Float64Array;
  /** np.cov(features, rowvar=False): d × d, divided by count − 1. */
  readonly covariance: Float64Array;
}

/** Options of the Fréchet distance: pytorch-fid's eps, and np.cov's ddof (1; 0 is StyleGAN2-ADA's estimator). */
export interface FrechetOptions {
  eps?: number;
  ddof?: 0 | 1;
}

/** Centred features ÷ √(n − ddof), float64 (so that AᵀA is np.cov with that ddof), and their column means. */
function centred(features: Matrix, what: string, ddof: 0 | 1 = 1): { a: Dense<Float64Array>; mean: Float64Array } {
  const { rows: n, cols: d, data } = features;
  if (n < 2) throw new UserError(`${n} feature rows; a covariance needs at least 2 images`, what);
  const mean = new Float64Array(d);
  for (let i = 0; i < n * d; i++) {
    const value = data[i]!;
    if (!Number.isFinite(value)) throw new UserError(`feature ${i % d} of image ${Math.floor(i / d)} is ${value}; expected finite features`, what);
    mean[i % d]! += value;
  }
  for (let k = 0; k < d; k++) mean[k]! /= n;
  const scale = 1 / Math.sqrt(n - ddof);
  const a = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) a[i * d + k] = (data[i * d + k]! - mean[k]!) * scale;
  return { a: { rows: n, cols: d, data: a }, mean };
}

/** Mean and np.cov (rowvar=False) of n × d features. */
export async function featureStatistics(linalg: Linalg, features: Matrix, what = 'features', ddof: 0 | 1 = 1): Promise<FeatureStatistics> {
  const { a, mean } = centred(features, what, ddof);
  const covariance = await linalg.gemm(a, a, { transA: true });
  return { count: features.rows, dims: features.cols, mean, covariance: covariance.data };
}

/** Fréchet distance between the feature sets `a` and `b` (rows are images, same width). */
export async function frechetDistance(linalg: Linalg, a: Matrix, b: Matrix, options: FrechetOptions = {}): Promise<number> {
  if (a.cols !== b.cols) throw new UserError(`feature widths differ: ${a.cols} and ${b.cols}`, 'frechet distance');
  if (Math.min(a.rows, b.rows) > a.cols) {
    return frechetFromStatistics(linalg, await featureStatistics(linalg, a, 'first feature set', options.ddof), await featureStatistics(linalg, b, 'second feature set', options.ddof), options);
  }
  const first = centred(a, 'first feature set', options.ddof);
  const second = centred(b, 'second feature set', options.ddof);
  const cross = await linalg.gemm(first.a, second.a, { transB: true });
  // (ABᵀ)(ABᵀ)ᵀ or (ABᵀ)ᵀ(ABᵀ), whichever is smaller: same non-zero eigenvalues.
  const small = cross.rows <= cross.cols ? await linalg.gram(cross) : await linalg.gemm(cross, cross, { transA: true });
  return meanTerm(first.mean, second.mean) + frobenius2(first.a.data) + frobenius2(second.a.data) - 2 * sumOfRoots(small);
}

/** Fréchet distance from the statistics of two feature sets (see the module note for singular covariances). */
export async function frechetFromStatistics(linalg: Linalg, s1: FeatureStatistics, s2: FeatureStatistics, options: { eps?: number } = {}): Promise<number> {
  if (s1.dims !== s2.dims) throw new UserError(`feature widths differ: ${s1.dims} and ${s2.dims}`, 'frechet distance');
  const d = s1.dims;
  const rootTrace =
    (await rootTraceByCholesky(linalg, s1.covariance, s2.covariance, d)) ??
    (await rootTraceByCholesky(linalg, s2.covariance, s1.covariance, d)) ??
    (await rootTraceByCholesky(linalg, s1.covariance, s2.covariance, d, options.eps ?? FRECHET_EPS))!;
  return meanTerm(s1.mean, s2.mean) + trace(s1.covariance, d) + trace(s2.covariance, d) - 2 * rootTrace;
}

/**
 * Tr sqrtm(P·Q) as Σ √λ(Lᵀ Q L) with P = LLᵀ; null when P is not positive definite. Units with zero variance in P
 * (dead units: their row and column of P are exactly zero) are left out first — they add no eigenvalue. With
 * `shift`, pytorch-fid's fallback: P + shift·I and Q + shift·I.
 */
async function rootTraceByCholesky(linalg: Linalg, p: Float64Array, q: Float64Array, d: number, shift = 0): Promise<number | null> {
  const kept: number[] = [];
  for (let i = 0; i < d; i++) if (shift > 0 || p[i * d + i]! > 0) kept.push(i);
  const k = kept.length;
  if (k === 0) return 0;
  const pk = new Float64Array(k * k);
  const qk = new Float64Array(k * k);
  kept.forEach((i, a) => {
    kept.forEach((j, b) => {
      pk[a * k + b] = p[i * d + j]!;
      qk[a * k + b] = q[i * d + j]! + (a === b ? shift : 0);
    });
  });
  let factor: Dense<Float64Array>;
  try {
    factor = assembleFactor(await cholesky(linalg, { rows: k, cols: k, data: pk }, shift), pk);
  } catch (error) {
    if (error instanceof NotPositiveDefiniteError) return null;
    throw error;
  }
  const product = await linalg.gemm(factor, await linalg.gemm({ rows: k, cols: k, data: qk }, factor), { transA: true });
  return sumOfRoots(product);
}

/** Σ √max(λ, 0) over the eigenvalues of a symmetric PSD matrix. */
function sumOfRoots(m: Dense<Float64Array>): number {
  let sum = 0;
  for (const lambda of symmetricEigenvalues(m.data, m.rows)) if (lambda > 0) sum += Math.sqrt(lambda);
  return sum;
}

function meanTerm(m1: Float64Array, m2: Float64Array): number {
  let sum = 0;
  for (let k = 0; k < m1.length; k++) sum += (m1[k]! - m2[k]!) ** 2;
  return sum;
}

function frobenius2(a: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * a[i]!;
  return sum;
}

function trace(a: Float64Array, d: number): number {
  let sum = 0;
  for (let i = 0; i < d; i++) sum += a[i * d + i]!;
  return sum;
}
