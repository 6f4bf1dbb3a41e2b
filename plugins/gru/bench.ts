/**
 * One training epoch of the paper-size GRU mapper (seed 000: 8,859 train rows × 15,724 voxels → 13,344 targets,
 * batch 128, 12,400,344 parameters) on the TensorFlow.js backend in use, against PyTorch's 15 s per epoch measured
 * on this machine kind (reference/performance.md). Data are synthetic (a fast xorshift stream: the arrays hold a
 * quarter of a billion values); only the epoch is timed, not data generation or z-scoring.
 */
import { createLinalg } from '../../core/compute/linalg.js';
import { createTensorflowProvider } from '../../core/compute/tfjs.js';
import { silentProgress } from '../../core/progress.js';
import type { PluginServices } from '../../core/services.js';
import type { Matrix } from '../../core/tensor.js';

/** PyTorch 1.13 CPU, 2 threads, Adam, batch 128: seconds per epoch (reference/performance.md). */
export const PYTORCH_GRU_EPOCH_SECONDS = 15;

export interface GruBenchOptions {
  trainRows?: number;
  voxels?: number;
  targets?: number;
  batchSize?: number;
  /** `auto` (ONNX Runtime for the input products on wasm/cpu), or force one engine. */
  projectionEngine?: 'auto' | 'tensorflow' | 'onnxruntime';
  /** TensorFlow.js backend preference (default: the process's choice). */
  backend?: string;
  seed?: number;
}

export interface GruBenchResult {
  trainRows: number;
  voxels: number;
  targets: number;
  batchSize: number;
  parameters: number;
  backend: string;
  projectionEngine: string;
  epochSeconds: number;
  /** Present at the paper's size only. */
  pytorchEpochSeconds?: number;
  /** epochSeconds / PyTorch's (goal: ≤ 2). */
  ratioToPytorch?: number;
}

export async function benchGruEpoch(options: GruBenchOptions = {}, services?: PluginServices): Promise<GruBenchResult> {
  const n = options.trainRows ?? 8859;
  const p = options.voxels ?? 15724;
  const t = options.targets ?? 13344;
  const batchSize = options.batchSize ?? 128;
  const svc = services ?? ({
    log: { info() {}, warn() {}, debug() {} },
    progress: silentProgress,
    linalg: createLinalg(),
    tensorflow: createTensorflowProvider({ backend: options.backend }),
  } as unknown as PluginServices);
  const X = noise(n, p, (options.seed ?? 0) * 2 + 1);
  const Y = noise(n, t, (options.seed ?? 0) * 2 + 2);
  const { gruMapperFactory } = await import('./model.js');
  const mapper = await gruMapperFactory.create(
    { epochs: 1, batchSize, validationFraction: 0, projectionEngine: options.projectionEngine ?? 'auto' },
    svc,
  );
  const fitted = await mapper.fit(X, Y, { seed: options.seed ?? 0 });
  const s = fitted.summary as { seconds: number; parameters: number; backend: string; projectionEngine: string };
  const paperSize = n === 8859 && p === 15724 && t === 13344 && batchSize === 128;
  return {
    trainRows: n,
    voxels: p,
    targets: t,
    batchSize,
    parameters: s.parameters,
    backend: s.backend,
    projectionEngine: s.projectionEngine,
    epochSeconds: s.seconds,
    ...(paperSize ? { pytorchEpochSeconds: PYTORCH_GRU_EPOCH_SECONDS, ratioToPytorch: s.seconds / PYTORCH_GRU_EPOCH_SECONDS } : {}),
  };
}

/** Uniform(−√3, √3) values (unit variance) from xorshift32. */
function noise(rows: number, cols: number, seed: number): Matrix {
  const data = new Float32Array(rows * cols);
  let s = (seed * 0x9e3779b9) | 1;
  const scale = (2 * Math.sqrt(3)) / 4294967296;
  for (let i = 0; i < data.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    data[i] = (s >>> 0) * scale - Math.sqrt(3);
  }
  return { rows, cols, data };
}
