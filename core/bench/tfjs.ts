/**
 * Matrix-multiply throughput of the compute engines (for `neurodecode bench`): TensorFlow.js on every installed
 * backend (ONNX Runtime, the dense linear algebra engine, is measured by ./matmul.ts), on a square product and on the shapes of a training step of a neural
 * mapper (a batch of 128 NSD subj01 voxel rows, 15,724 voxels, 600 hidden units), with and without a transposed
 * operand (the transposes are what backpropagation multiplies by). Returns numbers; printing is the CLI's job.
 */
import { createTensorflowProvider, tensorflowAvailability, type TfBackendName } from '../compute/tfjs.js';
import { Rng } from '../rng.js';
import { sampledProductError } from './product-check.js';

/** op(A)·op(B) with op(A) m×k and op(B) k×n; a transposed operand is stored transposed. */
export interface MatmulCase {
  name: string;
  m: number;
  k: number;
  n: number;
  transA?: boolean;
  transB?: boolean;
}

export const SQUARE_1024: MatmulCase = { name: 'square 1024', m: 1024, k: 1024, n: 1024 };
export const SQUARE_256: MatmulCase = { name: 'square 256', m: 256, k: 256, n: 256 };
/** 128×15724 · 15724×600, as stored (forward), with B stored transposed, with A stored transposed. */
export const TRAINING_CASES: MatmulCase[] = [
  { name: 'training 128×15724·15724×600', m: 128, k: 15724, n: 600 },
  { name: 'training 128×15724·(600×15724)ᵀ', m: 128, k: 15724, n: 600, transB: true },
  { name: 'training (15724×128)ᵀ·15724×600', m: 128, k: 15724, n: 600, transA: true },
];

export interface EngineMeasurement {
  /** e.g. `tfjs-wasm`, `tfjs-cpu`, `onnxruntime-cpu`. */
  engine: string;
  case: string;
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
  /** From the median timed run. */
  gflops: number;
  /** From the fastest timed run. */
  bestGflops: number;
  medianSeconds: number;
  runs: number;
  /** Largest |error| / (|a|·|b| row-column norm product) over sampled entries, against a float64 dot product. */
  maxRelativeError: number;
}

export interface EngineBenchResult {
  measurements: EngineMeasurement[];
  /** Engines that are installed but could not run, with why. */
  skipped: Array<{ engine: string; reason: string }>;
}

export interface EngineBenchOptions {
  /** TensorFlow.js backends to measure; default every installed one. */
  backends?: TfBackendName[];
  /**
   * Timed runs stop once this many seconds were spent on a case, after one untimed warm-up run (which counts as
   * the timed run when it alone took half the budget); default 2.
   */
  budgetSeconds?: number;
  /** At most this many timed runs per case; default 10. */
  maxRuns?: number;
  /** Override the cases (for fast checks); default square 1024 + training shapes, cpu square 256 only. */
  cases?: (engine: string) => MatmulCase[];
}

function defaultCases(engine: string): MatmulCase[] {
  // The JS cpu backend runs near 1 GFLOP/s: one small case is enough to show where it stands.
  return engine === 'tfjs-cpu' ? [SQUARE_256] : [SQUARE_1024, ...TRAINING_CASES];
}

interface Operands {
  /** Stored A (k×m when transposed) and B (n×k when transposed), row-major. */
  a: Float32Array;
  b: Float32Array;
  aShape: [number, number];
  bShape: [number, number];
}

function operands(c: MatmulCase, seed: number): Operands {
  const rng = new Rng(seed);
  const fill = (length: number) => {
    const out = new Float32Array(length);
    for (let i = 0; i < length; i++) out[i] = rng.uniform() - 0.5;
    return out;
  };
  return {
    a: fill(c.m * c.k),
    b: fill(c.k * c.n),
    aShape: c.transA ? [c.k, c.m] : [c.m, c.k],
    bShape: c.transB ? [c.n, c.k] : [c.k, c.n],
  };
}

/** Runs `once` (untimed warm-up, then timed until the budget is spent) and summarises. */
async function measure(
  engine: string,
  c: MatmulCase,
  x: Operands,
  once: () => Promise<ArrayLike<number>>,
  options: EngineBenchOptions,
): Promise<EngineMeasurement> {
  const budget = (options.budgetSeconds ?? 2) * 1000;
  const maxRuns = options.maxRuns ?? 10;
  const warmUpStart = performance.now();
  const maxRelativeError = sampledProductError({ ...c, a: x.a, b: x.b }, await once(), new Rng(99), 16);
  const warmUp = (performance.now() - warmUpStart) / 1000;
  // A slow case (seconds per run) gains nothing from a separate warm-up: its first run counts.
  const times: number[] = warmUp * 1000 >= budget / 2 ? [warmUp] : [];
  const start = times.length > 0 ? warmUpStart : performance.now();
  while (times.length === 0 || (times.length < maxRuns && performance.now() - start < budget)) {
    const t0 = performance.now();
    await once();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((p, q) => p - q);
  const median = times[Math.floor((times.length - 1) / 2)]!;
  const flops = 2 * c.m * c.k * c.n;
  return {
    engine,
    case: c.name,
    m: c.m,
    k: c.k,
    n: c.n,
    transA: c.transA ?? false,
    transB: c.transB ?? false,
    gflops: flops / median / 1e9,
    bestGflops: flops / times[0]! / 1e9,
    medianSeconds: median,
    runs: times.length,
    maxRelativeError,
  };
}

function reasonOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}

export async function benchTfjsMatmul(options: EngineBenchOptions = {}): Promise<EngineBenchResult> {
  const result: EngineBenchResult = { measurements: [], skipped: [] };
  const backends = options.backends ?? tensorflowAvailability().filter((a) => a.installed).map((a) => a.backend);
  for (const backend of backends) {
    const engine = `tfjs-${backend}`;
    let tf;
    try {
      ({ tf } = await createTensorflowProvider({ backend, env: {} }).load());
    } catch (error) {
      result.skipped.push({ engine, reason: reasonOf(error) });
      continue;
    }
    for (const c of (options.cases ?? defaultCases)(engine)) {
      const x = operands(c, 1);
      const a = tf.tensor2d(x.a, x.aShape);
      const b = tf.tensor2d(x.b, x.bShape);
      try {
        const once = async () => {
          const product = tf.matMul(a, b, c.transA ?? false, c.transB ?? false);
          try {
            return await product.data();
          } finally {
            product.dispose();
          }
        };
        result.measurements.push(await measure(engine, c, x, once, options));
      } finally {
        tf.dispose([a, b]);
      }
    }
  }
  return result;
}
