/**
 * The ridge mapper at NSD scale (subj01: 8,859 train rows × 15,724 voxels, 982 test rows; 4,096 targets as a
 * mid-size latent and 59,136 = 77×768 CLIP-text), timed fit + predict against scikit-learn's Ridge fit + predict
 * on data of the same shapes — run in the same bench when Python with scikit-learn is present
 * (core/bench/reference/ridge_sklearn.py), else a recorded time, labelled with its date and machine — and checked
 * against a float64 solve on a sample of targets. Returns numbers; printing is the CLI's job. (Imports the
 * built-in ridge plugin: this bench measures it.)
 */
import { availableParallelism } from 'node:os';
import {
  findReferencePython,
  pythonCandidates,
  recordedFigure,
  runReferenceScript,
  sameRunFigure,
  type RecordedTiming,
  type ReferenceFigure,
} from '../../core/bench/reference.js';
import type { PluginServices } from '../../core/services.js';
import { cholesky, choleskySolve } from '../../core/compute/cholesky.js';
import { benchLinalg } from '../../core/bench/matmul.js';
import { createLinalg, type Dense, type Linalg } from '../../core/compute/linalg.js';
import { Rng } from '../../core/rng.js';
import type { Matrix } from '../../core/tensor.js';

/**
 * scikit-learn 1.2.1 `Ridge(alpha=50000)` fit + predict on float32 data of NSD subj01's shapes, timed side by side
 * with this bench on an idle machine: the fallback when no Python with scikit-learn is present.
 */
export const SKLEARN_RIDGE_RECORDED: Readonly<Record<number, RecordedTiming>> = {
  4096: { tool: 'scikit-learn 1.2.1', seconds: 16.6, parts: { fit: 16.1, predict: 0.5 }, date: '2026-12-02', machine: '2 cores, Intel AVX-512, OpenBLAS' },
  59136: { tool: 'scikit-learn 1.2.1', seconds: 97.4, parts: { fit: 91.8, predict: 5.6 }, date: '2026-12-02', machine: '2 cores, Intel AVX-512, OpenBLAS' },
};

/** Generous: scikit-learn takes ~100 s at 59,136 targets on 2 cores. */
const REFERENCE_TIMEOUT_MS = 30 * 60_000;

export interface RidgeBenchOptions {
  trainRows?: number;
  voxels?: number;
  testRows?: number;
  /** One fit + predict per entry (default [4096, 59136]). */
  targets?: number[];
  alpha?: number;
  seed?: number;
  /** Targets compared against the float64 solve (evenly spaced; default 32). */
  checkTargets?: number;
  linalg?: Linalg;
  /** The reference Python (`none` skips it); default: NEURODECODE_PYTHON, else python3, python, /usr/bin/python3. */
  python?: string;
}

export interface RidgeBenchResult {
  targets: number;
  trainRows: number;
  voxels: number;
  testRows: number;
  fitSeconds: number;
  predictSeconds: number;
  totalSeconds: number;
  /** Floating-point operations done by the matrix engine during fit + predict. */
  gflop: number;
  /** gflop / totalSeconds. */
  gflops: number;
  /** scikit-learn's fit + predict: measured in this run, or recorded (at NSD sizes only); absent otherwise. */
  sklearn?: ReferenceFigure;
  /** sklearn.seconds / totalSeconds (fit + predict on both sides); its kind is sklearn.kind. */
  speedupVsSklearn?: number;
  /** max over checked targets of max|ŷ − ŷ₆₄| / max|ŷ₆₄ − ȳ| (relative to the spread of the predictions). */
  maxRelativeDifference: number;
  /** The kernel solution's operation count (`operationCount`), GFLOP. */
  operationGflop: number;
  /** operationGflop at each measured matrix-multiply peak, and totalSeconds ÷ that: how near the hardware the fit runs. */
  limits: OperationLimit[];
  checkedTargets: number;
  summary: Record<string, unknown>;
}

export interface OperationLimit {
  /** Whose peak: this engine's, or the reference BLAS's (numpy's float32 matmul in the scikit-learn process). */
  engine: string;
  peakGflops: number;
  seconds: number;
  /** totalSeconds / seconds. */
  ratio: number;
}

/**
 * Floating-point operations a kernel ridge fit + predict cannot avoid, in the accounting: the symmetric Gram
 * n²·p, the Cholesky factor n³/3, the test kernel 2·m·n·p, its two triangular solves 2·n²·m and the product with the
 * targets 2·m·n·t. Z-scoring, centring and copies are not counted (memory-bound).
 */
export function operationCount(n: number, p: number, m: number, t: number): number {
  return n * n * p + (n * n * n) / 3 + 2 * m * n * p + 2 * n * n * m + 2 * m * n * t;
}

export interface RidgeBench {
  rows: RidgeBenchResult[];
  /** Matrix-multiply peaks measured in this run (float32 4096² square, best of 3): the engine's, and the reference BLAS's when Python ran. */
  peaks: Array<{ engine: string; gflops: number }>;
  /** Why scikit-learn did not run in this bench, when it did not. */
  referenceNote?: string;
}

export async function benchRidge(options: RidgeBenchOptions = {}): Promise<RidgeBench> {
  const n = options.trainRows ?? 8859;
  const p = options.voxels ?? 15724;
  const m = options.testRows ?? 982;
  const targetCounts = options.targets ?? [4096, 59136];
  const alpha = options.alpha ?? 5e4;
  const { rng, counting, services, Xtrain, Xtest, trainFactors, rank } = await syntheticRidgeData(n, p, m, options.seed ?? 0, options.linalg);

  const { RidgeMapper } = await import('./ridge.js');
  const check = await float64Check(counting.linalg, Xtrain, Xtest, alpha);
  const enginePeak = await squarePeak(counting.linalg, n >= 4096 ? 4096 : 1024);
  const results: RidgeBenchResult[] = [];
  for (const t of targetCounts) {
    const Y = await mix(counting.linalg, trainFactors, gaussian(rng, rank, t), 2, rng.nextUint32());
    const mapper = new RidgeMapper(
      { alpha, alphas: [alpha], folds: 5, alphaPer: 'shared', fitIntercept: true, standardize: true, restandardizePredictions: false },
      services,
    );
    counting.reset();
    // Fresh matrix objects (same values): each row times a whole fit, not one sharing the last row's kernel.
    const [trainX, testX] = [{ ...Xtrain }, { ...Xtest }];
    let start = performance.now();
    const fitted = await mapper.fit(trainX, Y, { seed: 0 });
    const fitSeconds = (performance.now() - start) / 1000;
    start = performance.now();
    const predicted = await fitted.predict(testX);
    const predictSeconds = (performance.now() - start) / 1000;
    const gflop = counting.flops() / 1e9;
    const totalSeconds = fitSeconds + predictSeconds;
    const columns = Array.from({ length: Math.min(t, options.checkTargets ?? 32) }, (_, k) => Math.floor((k * t) / Math.min(t, options.checkTargets ?? 32)));
    results.push({
      targets: t,
      trainRows: n,
      voxels: p,
      testRows: m,
      fitSeconds,
      predictSeconds,
      totalSeconds,
      gflop,
      gflops: gflop / totalSeconds,
      maxRelativeDifference: check(Y, predicted, columns),
      checkedTargets: columns.length,
      operationGflop: operationCount(n, p, m, t) / 1e9,
      limits: [],
      summary: fitted.summary,
    });
  }
  // After ours, so that both sides start from a machine without the other's arrays in memory.
  const reference = await sklearnFigures({ n, p, m, alpha, targets: targetCounts, seed: options.seed ?? 0, python: options.python });
  const peaks = [{ engine: counting.linalg.engine, gflops: enginePeak }, ...(reference.blasPeak ? [reference.blasPeak] : [])];
  for (const r of results) {
    const figure = reference.figures.get(r.targets) ?? recordedSklearn(n, p, m, alpha, r.targets);
    if (figure) Object.assign(r, { sklearn: figure, speedupVsSklearn: figure.seconds / r.totalSeconds });
    r.limits = peaks.map(({ engine, gflops }) => {
      const seconds = r.operationGflop / gflops;
      return { engine, peakGflops: gflops, seconds, ratio: r.totalSeconds / seconds };
    });
  }
  return { rows: results, peaks, ...(reference.note ? { referenceNote: reference.note } : {}) };
}

/** Best of three float32 size² square products on the engine, GFLOP/s (after one warm-up). */
async function squarePeak(linalg: Linalg, size: number): Promise<number> {
  const [measured] = await benchLinalg({ linalg, runs: 3, cases: [{ name: `square ${size}`, m: size, k: size, n: size }] });
  if (!measured) throw new Error('internal: no peak measurement');
  return measured.bestGflops;
}

/** The recorded figure, at exactly the shapes and alpha it was recorded at; else none. */
export function recordedSklearn(n: number, p: number, m: number, alpha: number, targets: number): ReferenceFigure | undefined {
  const recorded = SKLEARN_RIDGE_RECORDED[targets];
  return recorded && n === 8859 && p === 15724 && m === 982 && alpha === 5e4 ? recordedFigure(recorded) : undefined;
}

interface SklearnOutput {
  tool: string;
  blas?: string[];
  /** numpy's float32 4096² matmul, best of 3, GFLOP/s. */
  peakGflops: number;
  results: Array<{ targets: number; fitSeconds: number; predictSeconds: number }>;
}

/** scikit-learn's fit + predict at each target count, measured now, or the reason it could not be. */
async function sklearnFigures(shape: {
  n: number;
  p: number;
  m: number;
  alpha: number;
  targets: number[];
  seed: number;
  python?: string;
}): Promise<{ figures: Map<number, ReferenceFigure>; blasPeak?: { engine: string; gflops: number }; note?: string }> {
  const figures = new Map<number, ReferenceFigure>();
  const probe = await findReferencePython(['sklearn', 'numpy'], pythonCandidates(shape.python));
  if (!probe.found) return { figures, note: probe.reason };
  const args = [
    '--train-rows', String(shape.n), '--voxels', String(shape.p), '--test-rows', String(shape.m),
    '--targets', shape.targets.join(','), '--alpha', String(shape.alpha), '--seed', String(shape.seed),
    '--threads', String(availableParallelism()),
  ];
  try {
    const out = (await runReferenceScript(probe.found, 'ridge_sklearn.py', args, REFERENCE_TIMEOUT_MS)) as SklearnOutput;
    for (const r of out.results) {
      figures.set(r.targets, sameRunFigure(out.tool, r.fitSeconds + r.predictSeconds, { fit: r.fitSeconds, predict: r.predictSeconds }));
    }
    if (!(out.peakGflops > 0)) return { figures, note: `the reference script gave no BLAS peak (peakGflops ${String(out.peakGflops)})` };
    const blas = out.blas?.length ? out.blas.join(', ') : 'BLAS';
    return { figures, blasPeak: { engine: `numpy ${blas} float32`, gflops: out.peakGflops } };
  } catch (error) {
    return { figures, note: `scikit-learn (${probe.found.python}) failed: ${(error as Error).message}` };
  }
}

/**
 * What both ridge benches run on: voxels driven by a few shared factors plus independent noise, like fMRI's
 * correlated responses (targets are made from the same training factors with `mix`), an engine that counts its
 * flops, and silent services.
 */
export async function syntheticRidgeData(n: number, p: number, m: number, seed: number, engine?: Linalg) {
  const rng = new Rng(seed);
  const counting = countingLinalg(engine ?? createLinalg());
  const services = {
    linalg: counting.linalg,
    log: { info() {}, warn() {}, debug() {} },
    progress: { task: () => ({ tick() {}, done() {} }) },
  } as unknown as PluginServices;
  const rank = 64;
  const factors = gaussian(rng, n + m, rank);
  const X = await mix(counting.linalg, factors, gaussian(rng, rank, p), 1, rng.nextUint32());
  const Xtrain: Matrix = { rows: n, cols: p, data: X.data.subarray(0, n * p) };
  const Xtest: Matrix = { rows: m, cols: p, data: X.data.subarray(n * p) };
  const trainFactors: Matrix = { rows: n, cols: rank, data: factors.data.subarray(0, n * rank) };
  return { rng, counting, services, Xtrain, Xtest, trainFactors, rank };
}

export function gaussian(rng: Rng, rows: number, cols: number): Matrix {
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return { rows, cols, data };
}

/** A·B / √(inner) + noise·U(−½, ½)·√12 (a fast xorshift stream: the big arrays are hundreds of millions long). */
export async function mix(linalg: Linalg, a: Matrix, b: Matrix, noise: number, seed: number): Promise<Matrix> {
  const out = await linalg.gemm(a, b);
  const scale = 1 / Math.sqrt(a.cols);
  const amplitude = noise * Math.sqrt(12);
  let s = seed | 1;
  for (let i = 0; i < out.data.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out.data[i] = out.data[i]! * scale + amplitude * ((s >>> 0) / 4294967296 - 0.5);
  }
  return out;
}

/**
 * The same dual solve in float64 throughout (statistics, kernel, factor, solve), done once for the inputs; returns
 * a function comparing predictions on chosen target columns.
 */
export async function float64Check(
  linalg: Linalg,
  Xtrain: Matrix,
  Xtest: Matrix,
  alpha: number,
): Promise<(Y: Matrix, predicted: Matrix, columns: number[]) => number> {
  const n = Xtrain.rows;
  const p = Xtrain.cols;
  const m = Xtest.rows;
  const mean = new Float64Array(p);
  const sd = new Float64Array(p);
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) mean[j]! += Xtrain.data[i * p + j]! / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) sd[j]! += (Xtrain.data[i * p + j]! - mean[j]!) ** 2 / (n - 1);
  const z = (x: Matrix): Dense<Float64Array> => {
    const out = new Float64Array(x.rows * p);
    for (let i = 0; i < x.rows; i++) for (let j = 0; j < p; j++) out[i * p + j] = (x.data[i * p + j]! - mean[j]!) / Math.sqrt(sd[j]!);
    return { rows: x.rows, cols: p, data: out };
  };
  const Z = z(Xtrain);
  const K = await linalg.gram(Z);
  for (let i = 0; i < n; i++) K.data[i * n + i]! += alpha;
  const Kt = await linalg.gemm(Z, z(Xtest), { transB: true });
  const W = await choleskySolve(linalg, await cholesky(linalg, K), Kt); // n × m
  return (Y, predicted, columns) => {
    const t = Y.cols;
    let worst = 0;
    for (const j of columns) {
      let yMean = 0;
      for (let i = 0; i < n; i++) yMean += Y.data[i * t + j]! / n;
      let spread = 0;
      let diff = 0;
      for (let r = 0; r < m; r++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += W.data[i * m + r]! * (Y.data[i * t + j]! - yMean);
        spread = Math.max(spread, Math.abs(s));
        diff = Math.max(diff, Math.abs(predicted.data[r * t + j]! - (s + yMean)));
      }
      worst = Math.max(worst, diff / spread);
    }
    return worst;
  };
}

/** Wraps an engine to count the flops it does. */
export function countingLinalg(inner: Linalg): { linalg: Linalg; flops(): number; reset(): void } {
  let flops = 0;
  const linalg: Linalg = {
    engine: inner.engine,
    matmul: (a, b, o) => linalg.gemm(a, b, o),
    async gemm(a, b, o) {
      const out = await inner.gemm(a, b, o);
      flops += 2 * out.rows * out.cols * (o?.transA ? a.rows : a.cols);
      return out;
    },
    async gram(a, o) {
      const out = await inner.gram(a, o);
      // Row blocks of ~600 multiply only the upper part: count what blockedGram does (≈ n(n + block)/2 · 2p).
      const blocks = Math.max(1, Math.round(a.rows / 600));
      const size = Math.ceil(a.rows / blocks);
      for (let i0 = 0; i0 < a.rows; i0 += size) flops += 2 * Math.min(size, a.rows - i0) * (blocks === 1 ? a.rows : a.rows - i0) * a.cols;
      return out;
    },
    async subtractProduct(c, a, b, o) {
      const out = inner.subtractProduct ? await inner.subtractProduct(c, a, b, o) : undefined;
      if (!out) throw new Error(`engine ${inner.engine} has no subtractProduct`);
      flops += 2 * out.rows * out.cols * (o?.transA ? a.rows : a.cols);
      return out;
    },
    transpose: (a) => (inner.transpose ? inner.transpose(a) : Promise.reject(new Error(`engine ${inner.engine} has no transpose`))),
    subtractRow: (a, row, multiplier) => inner.subtractRow(a, row, multiplier),
  };
  if (!inner.subtractProduct) delete linalg.subtractProduct;
  if (!inner.transpose) delete linalg.transpose;
  return { linalg, flops: () => flops, reset: () => (flops = 0) };
}
