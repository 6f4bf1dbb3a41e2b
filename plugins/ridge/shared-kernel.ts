/**
 * What a dual ridge fit computes from X alone — the standardising statistics, the standardised X, the Gram matrix
 * K = Xs·Xsᵀ (n²·p: the fit's largest cost) and one Cholesky factor of K + αI per alpha — and what a prediction
 * computes from the test rows alone — K*ᵀ and (K + αI)⁻¹·K*ᵀ — kept for the life of the X objects. Every target
 * space a run fits from the same fMRI matrix (Brain-Diffuser: VDVAE, CLIP-text and CLIP-vision from one X), and every
 * column block of one large space, then shares one kernel and one factorisation per alpha: the work left per
 * space is the m × n × t product with its targets.
 *
 * Keyed on the matrices' identity (core hands the same train and test matrices to every mapper of a subject; they
 * are never modified), the preprocessing and the engine. Entries go with their X (WeakMap).
 */
import { transpose, type Dense, type Linalg } from '../../core/compute/linalg.js';
import type { Matrix } from '../../core/tensor.js';
import { columnStats, factorRidge, solveRidge, type ColumnStats, type Factor } from './kernel.js';

export interface Preprocessing {
  standardize: boolean;
  fitIntercept: boolean;
}

export interface KernelParts {
  xStats: ColumnStats;
  Xs: Matrix;
  /** Upper triangle of Xs·Xsᵀ (n × n). */
  K: Matrix;
}

interface Entry {
  parts: Promise<KernelParts>;
  factors: Map<number, Promise<Factor>>;
}

const kernels = new WeakMap<Matrix, Map<string, Entry>>();

/** (X − mean) / scale in float32, on the matrix engine. */
export function standardize(linalg: Linalg, X: Matrix, stats: ColumnStats): Promise<Matrix> {
  return linalg.subtractRow(X, Float32Array.from(stats.mean), Float32Array.from(stats.scale, (s) => 1 / s));
}

function entryFor(linalg: Linalg, X: Matrix, pre: Preprocessing): Entry {
  let byKey = kernels.get(X);
  if (!byKey) kernels.set(X, (byKey = new Map()));
  const key = `${linalg.engine}|${pre.standardize}|${pre.fitIntercept}`;
  let entry = byKey.get(key);
  if (!entry) {
    const parts = (async () => {
      const xStats = pre.standardize || pre.fitIntercept
        ? columnStats(X, 1, pre.standardize)
        : { mean: new Float64Array(X.cols), scale: new Float64Array(X.cols).fill(1) };
      const Xs = await standardize(linalg, X, xStats);
      return { xStats, Xs, K: await linalg.gram(Xs, { upperOnly: true }) };
    })();
    entry = { parts, factors: new Map() };
    byKey.set(key, entry);
    // A failed computation (an abort, a full disk) is not remembered.
    parts.catch(() => byKey.delete(key));
  }
  return entry;
}

/** The statistics, standardised X and Gram matrix of X under this preprocessing (computed once). */
export function kernelOf(linalg: Linalg, X: Matrix, pre: Preprocessing): Promise<KernelParts> {
  return entryFor(linalg, X, pre).parts;
}

/** The factor of K + αI for X's kernel (computed once per alpha). */
export function factorOf(linalg: Linalg, X: Matrix, pre: Preprocessing, alpha: number): Promise<Factor> {
  const entry = entryFor(linalg, X, pre);
  let factor = entry.factors.get(alpha);
  if (!factor) {
    factor = entry.parts.then(({ K }) => factorRidge(linalg, K, alpha));
    entry.factors.set(alpha, factor);
    factor.catch(() => entry.factors.delete(alpha));
  }
  return factor;
}

/** Test side: K*ᵀ = Xs·X*sᵀ (n × m) per (test rows, training inputs), and (K + αI)⁻¹·K*ᵀ per factor. */
const crossKernels = new WeakMap<Matrix, WeakMap<Matrix, Promise<Dense<Float32Array>>>>();
const testSolves = new WeakMap<Matrix, WeakMap<Factor, Promise<Dense<Float32Array>>>>();

function crossKernel(linalg: Linalg, Xtest: Matrix, Xs: Matrix, xStats: ColumnStats): Promise<Dense<Float32Array>> {
  let byTrain = crossKernels.get(Xtest);
  if (!byTrain) crossKernels.set(Xtest, (byTrain = new WeakMap()));
  let Kt = byTrain.get(Xs);
  if (!Kt) {
    Kt = (async () => {
      // K* (m × n) then transposed: Gemm runs fastest with the long operand on the left.
      const Kstar = await linalg.gemm(await standardize(linalg, Xtest, xStats), Xs, { transB: true });
      return linalg.transpose ? linalg.transpose(Kstar) : transpose(Kstar);
    })();
    byTrain.set(Xs, Kt);
    Kt.catch(() => byTrain.delete(Xs));
  }
  return Kt;
}

/** (K + αI)⁻¹·K*ᵀ (n × m): what multiplies the centred training targets to predict the test rows. */
export function testSolve(linalg: Linalg, Xtest: Matrix, Xs: Matrix, xStats: ColumnStats, factor: Factor): Promise<Dense<Float32Array>> {
  let byFactor = testSolves.get(Xtest);
  if (!byFactor) testSolves.set(Xtest, (byFactor = new WeakMap()));
  let W = byFactor.get(factor);
  if (!W) {
    W = crossKernel(linalg, Xtest, Xs, xStats).then((Kt) => solveRidge(linalg, factor, Kt));
    byFactor.set(factor, W);
    W.catch(() => byFactor.delete(factor));
  }
  return W;
}
