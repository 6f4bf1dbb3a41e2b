/**
 * Truncated SVD by randomized range finding (Halko, Martinsson & Tropp 2011, algorithms 4.4 and 5.1).
 *
 * Every large product goes through `linalg.matmul`, always in the A·Bᵀ form (both operands contiguous along the
 * summed axis): fastest for the plain JS engine and free for a BLAS-like one. The caller passes A and Aᵀ so that
 * no product has to transpose the big matrix. Orthonormalisation and the small eigenproblem run in float64 JS
 * on the short side only (m × l and l × l).
 */
import { symmetricEigen, thinQr } from '../../core/compute/eigen.js';
import type { Linalg } from '../../core/compute/linalg.js';
import { Rng } from '../../core/rng.js';
import type { Matrix } from '../../core/tensor.js';

export interface RandomizedSvdOptions {
  rank: number;
  oversamples: number;
  powerIterations: number;
  seed: number;
  /** Called after each large product (for progress and cancellation). */
  onProduct?: () => void;
}

export interface TruncatedSvd {
  /** Singular values, largest first (`rank` of them). */
  values: Float64Array;
  /** m × rank row-major: left singular vectors (columns). */
  left: Float64Array;
  /** rank × p row-major: right singular vectors (rows); a row is zero when its singular value is exactly 0. */
  rightRows: Float32Array;
}

/** How many large products `randomizedSvd` runs (for a progress bar). */
export function randomizedSvdProducts(m: number, options: RandomizedSvdOptions): number {
  const sketch = Math.min(options.rank + options.oversamples, m);
  return 2 + 2 * powerIterationsNeeded(sketch, m, options.powerIterations) + 2;
}

/** When the sketch spans the whole short side, power iterations cannot improve it. */
function powerIterationsNeeded(sketch: number, m: number, requested: number): number {
  return sketch >= m ? 0 : requested;
}

/**
 * Top `rank` singular triplets of A (m × p, m ≤ p preferred: orthonormalisation happens on the m side).
 * `transposed` must be Aᵀ (p × m).
 */
export async function randomizedSvd(
  a: Matrix,
  transposed: Matrix,
  linalg: Linalg,
  options: RandomizedSvdOptions,
): Promise<TruncatedSvd> {
  const m = a.rows;
  const p = a.cols;
  const rank = options.rank;
  if (rank < 1 || rank > Math.min(m, p)) throw new RangeError(`randomizedSvd: rank ${rank} outside 1..${Math.min(m, p)}`);
  const sketch = Math.min(rank + options.oversamples, m);
  const product = async (x: Matrix, yRows: Matrix) => {
    const result = await linalg.matmul(x, yRows, { transB: true });
    options.onProduct?.();
    return result;
  };

  // Range finder: Q spans A·Ω, sharpened by power iterations Q ← orth(A·Aᵀ·Q), re-orthonormalised after each.
  const omegaRows = gaussianRows(sketch, p, options.seed);
  let qt = orthonormalRowsOf(await product(a, omegaRows)); // sketch × m
  for (let i = 0; i < powerIterationsNeeded(sketch, m, options.powerIterations); i++) {
    const atq = await product(qt, transposed); // (Qᵀ·A) = (Aᵀ·Q)ᵀ: sketch × p
    qt = orthonormalRowsOf(await product(a, atq)); // A·Aᵀ·Q: m × sketch
  }

  // Rayleigh–Ritz: B = Qᵀ·A (sketch × p), B·Bᵀ = Ũ Σ² Ũᵀ, then C = Ũᵀ·B has rows σ_j v_jᵀ.
  const b = await product(qt, transposed);
  const bbt = await product(b, b);
  const eigen = symmetricEigen(bbt.data, sketch);
  const utRows = new Float32Array(rank * sketch);
  for (let j = 0; j < rank; j++) {
    for (let k = 0; k < sketch; k++) utRows[j * sketch + k] = eigen.vectors[k * sketch + j]!;
  }
  const c = await product({ rows: rank, cols: sketch, data: utRows }, transposeMatrix(b));

  // Singular values from the row norms of C rather than from the eigenvalues of the float32 B·Bᵀ: the norms are
  // accurate relative to each σ_j, the eigenvalues only relative to σ_1.
  const values = new Float64Array(rank);
  const rightRows = c.data;
  for (let j = 0; j < rank; j++) {
    const rowView = rightRows.subarray(j * p, (j + 1) * p);
    let s = 0;
    for (let t = 0; t < p; t++) s += rowView[t]! * rowView[t]!;
    const norm = Math.sqrt(s);
    values[j] = norm;
    if (norm > 0) for (let t = 0; t < p; t++) rowView[t]! /= norm;
  }
  // U = Q·Ũ (m × rank), in float64.
  const left = new Float64Array(m * rank);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < rank; j++) {
      let s = 0;
      for (let k = 0; k < sketch; k++) s += qt.data[k * m + i]! * eigen.vectors[k * sketch + j]!;
      left[i * rank + j] = s;
    }
  }
  return sortByValue({ values, left, rightRows }, m, p);
}

/** rows × cols standard normal, as float32. */
function gaussianRows(rows: number, cols: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return { rows, cols, data };
}

/** Qᵀ (as float32 rows) for the thin QR of an m × l matrix Y. */
function orthonormalRowsOf(y: Matrix): Matrix {
  const { q } = thinQr(y.data, y.rows, y.cols);
  const out = new Float32Array(y.cols * y.rows);
  for (let i = 0; i < y.rows; i++) {
    for (let j = 0; j < y.cols; j++) out[j * y.rows + i] = q[i * y.cols + j]!;
  }
  return { rows: y.cols, cols: y.rows, data: out };
}

export function transposeMatrix(x: Matrix): Matrix {
  const out = new Float32Array(x.rows * x.cols);
  const tile = 64;
  for (let i0 = 0; i0 < x.rows; i0 += tile) {
    const i1 = Math.min(x.rows, i0 + tile);
    for (let j0 = 0; j0 < x.cols; j0 += tile) {
      const j1 = Math.min(x.cols, j0 + tile);
      for (let i = i0; i < i1; i++) {
        for (let j = j0; j < j1; j++) out[j * x.rows + i] = x.data[i * x.cols + j]!;
      }
    }
  }
  return { rows: x.cols, cols: x.rows, data: out };
}

/**
 * The Ritz values come out in the order of B·Bᵀ's eigenvalues; the refined norms can swap near-ties, so the
 * triplets are re-sorted (stable) to keep singular values non-increasing.
 */
function sortByValue(svd: TruncatedSvd, m: number, p: number): TruncatedSvd {
  const rank = svd.values.length;
  const order = Array.from({ length: rank }, (_, i) => i).sort((x, y) => svd.values[y]! - svd.values[x]! || x - y);
  if (order.every((source, target) => source === target)) return svd;
  const values = new Float64Array(rank);
  const left = new Float64Array(m * rank);
  const rightRows = new Float32Array(rank * p);
  order.forEach((source, target) => {
    values[target] = svd.values[source]!;
    for (let i = 0; i < m; i++) left[i * rank + target] = svd.left[i * rank + source]!;
    rightRows.set(svd.rightRows.subarray(source * p, (source + 1) * p), target * p);
  });
  return { values, left, rightRows };
}
