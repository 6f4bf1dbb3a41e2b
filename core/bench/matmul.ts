/**
 * Throughput of the dense linear algebra service (core/compute/linalg.ts) — the engine ridge, PCA and kernels run
 * on: ONNX Runtime MatMul/Gemm on a square product, on the tall-skinny shapes of a training step (128 NSD voxel
 * rows · 15,724 voxels · 600 units) with and without transposed operands, on the symmetric A·Aᵀ it uses for
 * kernels, in float64, and the plain JS engine on a small size. Returns numbers; printing is the CLI's job.
 */
import { createJsLinalg, createLinalg, type Dense, type Linalg } from '../compute/linalg.js';
import { Rng } from '../rng.js';
import { sampledProductError } from './product-check.js';

export interface LinalgCase {
  name: string;
  /** op(A) is m×k, op(B) k×n; a transposed operand is stored transposed. `gram` multiplies A (m×k) by Aᵀ. */
  m: number;
  k: number;
  n: number;
  transA?: boolean;
  transB?: boolean;
  gram?: boolean;
  type?: 'float32' | 'float64';
  engine?: 'onnx' | 'js';
}

export const LINALG_CASES: LinalgCase[] = [
  { name: 'square 2048', m: 2048, k: 2048, n: 2048 },
  { name: '128×15724 · 15724×600', m: 128, k: 15724, n: 600 },
  { name: '128×15724 · (600×15724)ᵀ', m: 128, k: 15724, n: 600, transB: true },
  { name: '(15724×128)ᵀ · 15724×600', m: 128, k: 15724, n: 600, transA: true },
  { name: '(15724×600)ᵀ · 15724×128', m: 600, k: 15724, n: 128, transA: true },
  { name: 'gram 2048×15724 (A·Aᵀ, flops counted as a full product)', m: 2048, k: 15724, n: 2048, gram: true },
  { name: 'square 1024 float64', m: 1024, k: 1024, n: 1024, type: 'float64' },
  { name: 'square 256, plain JS', m: 256, k: 256, n: 256, engine: 'js' },
];

export interface LinalgMeasurement {
  case: string;
  engine: string;
  m: number;
  k: number;
  n: number;
  /** 2·m·k·n / median seconds. */
  gflops: number;
  bestGflops: number;
  medianSeconds: number;
  runs: number;
  /** Largest |error| / (‖row of A‖·‖column of B‖) over sampled entries, against a float64 dot product. */
  maxRelativeError: number;
}

export interface LinalgBenchOptions {
  cases?: LinalgCase[];
  /** Timed runs per case after one warm-up (default 3). */
  runs?: number;
  seed?: number;
  /** Engine for the non-JS cases (default: a fresh ONNX Runtime engine). */
  linalg?: Linalg;
}

export async function benchLinalg(options: LinalgBenchOptions = {}): Promise<LinalgMeasurement[]> {
  const cases = options.cases ?? LINALG_CASES;
  const runs = options.runs ?? 3;
  const rng = new Rng(options.seed ?? 1);
  const fast = options.linalg ?? createLinalg();
  const js = createJsLinalg();
  const out: LinalgMeasurement[] = [];
  for (const c of cases) {
    const linalg = c.engine === 'js' ? js : fast;
    const float64 = c.type === 'float64';
    const random = (rows: number, cols: number): Dense => {
      const data = float64 ? new Float64Array(rows * cols) : new Float32Array(rows * cols);
      for (let i = 0; i < data.length; i++) data[i] = rng.uniform() - 0.5;
      return { rows, cols, data };
    };
    const a = c.gram ? random(c.m, c.k) : c.transA ? random(c.k, c.m) : random(c.m, c.k);
    const b = c.gram ? a : c.transB ? random(c.n, c.k) : random(c.k, c.n);
    const run = (): Promise<Dense> => (c.gram ? linalg.gram(a) : linalg.gemm(a, b, { transA: c.transA, transB: c.transB }));
    const result = await run();
    const seconds: number[] = [];
    for (let r = 0; r < runs; r++) {
      const start = performance.now();
      await run();
      seconds.push((performance.now() - start) / 1000);
    }
    seconds.sort((x, y) => x - y);
    const median = seconds[Math.floor(seconds.length / 2)]!;
    const flops = 2 * c.m * c.k * c.n;
    out.push({
      case: c.name,
      engine: linalg.engine + (float64 ? ' float64' : ' float32'),
      m: c.m,
      k: c.k,
      n: c.n,
      gflops: flops / median / 1e9,
      bestGflops: flops / seconds[0]! / 1e9,
      medianSeconds: median,
      runs,
      maxRelativeError: sampledProductError(
        { a: a.data, b: b.data, m: c.m, k: c.k, n: c.n, transA: c.transA, transB: c.gram || c.transB },
        result.data,
        rng,
        64,
      ),
    });
  }
  return out;
}
