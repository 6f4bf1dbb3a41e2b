/**
 * One training epoch of the paper-size GRU mapper (seed 000: 8,859 train rows × 15,724 voxels → 13,344 targets,
 * batch 128, 12,400,344 parameters) on the TensorFlow.js backend in use, against one epoch of the same network in
 * PyTorch — run in the same bench when Python with PyTorch is present (core/bench/reference/gru_pytorch.py), else
 * a recorded time, labelled with its date and machine. Data are synthetic (a fast xorshift stream: the arrays hold
 * a quarter of a billion values); only the epoch is timed, not data generation or z-scoring.
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
import { createLinalg } from '../../core/compute/linalg.js';
import { createTensorflowProvider } from '../../core/compute/tfjs.js';
import { silentProgress } from '../../core/progress.js';
import type { PluginServices } from '../../core/services.js';
import type { Matrix } from '../../core/tensor.js';

/** PyTorch 1.13 CPU, 2 threads, Adam, batch 128, at the paper's size, side by side with this bench: the fallback. */
export const PYTORCH_GRU_EPOCH_RECORDED: RecordedTiming = {
  tool: 'PyTorch 1.13',
  seconds: 14.3,
  date: '2026-12-02',
  machine: '2 cores, Intel AVX-512, OpenBLAS',
};

const REFERENCE_TIMEOUT_MS = 20 * 60_000;

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
  /** The reference Python (`none` skips it); default: NEURODECODE_PYTHON, else python3, python, /usr/bin/python3. */
  python?: string;
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
  /** PyTorch's epoch: measured in this run, or recorded (at the paper's size only); absent otherwise. */
  pytorch?: ReferenceFigure;
  /** epochSeconds / pytorch.seconds (goal: ≤ 2); its kind is pytorch.kind. */
  ratioToPytorch?: number;
  /** Why PyTorch did not run in this bench, when it did not. */
  referenceNote?: string;
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
  const reference = await pytorchEpoch({ n, p, t, batchSize, seed: options.seed ?? 0, python: options.python });
  const pytorch = reference.figure ?? (paperSize ? recordedFigure(PYTORCH_GRU_EPOCH_RECORDED) : undefined);
  return {
    trainRows: n,
    voxels: p,
    targets: t,
    batchSize,
    parameters: s.parameters,
    backend: s.backend,
    projectionEngine: s.projectionEngine,
    epochSeconds: s.seconds,
    ...(pytorch ? { pytorch, ratioToPytorch: s.seconds / pytorch.seconds } : {}),
    ...(reference.note ? { referenceNote: reference.note } : {}),
  };
}

/** One epoch of the same network in PyTorch, measured now, or the reason it could not be. */
async function pytorchEpoch(shape: {
  n: number;
  p: number;
  t: number;
  batchSize: number;
  seed: number;
  python?: string;
}): Promise<{ figure?: ReferenceFigure; note?: string }> {
  const probe = await findReferencePython(['torch'], pythonCandidates(shape.python));
  if (!probe.found) return { note: probe.reason };
  const args = [
    '--train-rows', String(shape.n), '--voxels', String(shape.p), '--targets', String(shape.t),
    '--batch-size', String(shape.batchSize), '--seed', String(shape.seed), '--threads', String(availableParallelism()),
  ];
  try {
    const out = (await runReferenceScript(probe.found, 'gru_pytorch.py', args, REFERENCE_TIMEOUT_MS)) as { tool: string; epochSeconds: number };
    return { figure: sameRunFigure(out.tool, out.epochSeconds) };
  } catch (error) {
    return { note: `PyTorch (${probe.found.python}) failed: ${(error as Error).message}` };
  }
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
