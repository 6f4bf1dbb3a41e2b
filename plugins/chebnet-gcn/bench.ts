/**
 * `chebnet-epoch`: one training epoch of the chebnet-gcn mapper at the size of the paper's NSD subj01 run —
 * 8,859 training rows, nodes V1 (4,308 voxels), V2 (2,916) and V3+hV4 (2,096 + 1,311), 6,400 targets (SD's 4×40×40
 * image latent), batch 64, ChebConv 512 — on the TensorFlow.js backend in use. Data are synthetic (one shared
 * per-trial signal plus noise, so the graph has edges); the time does not depend on the values.
 * Returns numbers; printing is the CLI's job.
 */
import { createLinalg } from '../../core/compute/linalg.js';
import { createTensorflowProvider } from '../../core/compute/tfjs.js';
import { silentProgress } from '../../core/progress.js';
import type { PluginServices } from '../../core/services.js';
import { Rng } from '../../core/rng.js';
import type { Matrix } from '../../core/tensor.js';
import { chebnetFactory } from './mapper.js';
import { chebnetOptionsSchema, type ChebnetOptions } from './schema.js';

export interface ChebnetEpochBenchOptions {
  trainRows?: number;
  /** Voxels per ROI; nodes are V1, V2 and V3+hV4. */
  roiVoxels?: { V1: number; V2: number; V3: number; hV4: number };
  targets?: number;
  batchSize?: number;
  hidden?: number;
  dense?: number;
  seed?: number;
  /** TensorFlow.js backend to force (default: the auto choice). */
  backend?: string;
  /** Where the first ChebConv and the last Linear run (default auto: ONNX Runtime on wasm/cpu). */
  projectionEngine?: 'auto' | 'tensorflow' | 'onnxruntime';
}

export interface ChebnetEpochBenchResult {
  trainRows: number;
  voxels: number;
  nodeWidth: number;
  targets: number;
  batchSize: number;
  parameters: number;
  backend: string;
  /** Where the first ChebConv's and the last Linear's products ran ('onnxruntime' on wasm/cpu). */
  projectionEngine: string;
  /** Graph construction, z-scoring and one epoch (what `fit` with epochs = 1 costs). */
  fitSeconds: number;
  /** The epoch alone (the training loop's own timer). */
  epochSeconds: number;
  /** Estimated floating-point operations of the epoch's products (forward + backward). */
  gflop: number;
  gflops: number;
  edges: string[];
}

function defaults(): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(chebnetOptionsSchema.properties)
      .filter(([, s]) => 'default' in s)
      .map(([k, s]) => [k, (s as { default: unknown }).default]),
  );
}

/** Products per row: ChebConv 1 forward + weight gradient (its input is data), everything else ×3. */
export function chebnetEpochFlops(rows: number, nodes: number, width: number, o: Pick<ChebnetOptions, 'chebK' | 'hidden' | 'dense'>, targets: number): number {
  const conv1 = 2 * nodes * o.chebK[0] * width * o.hidden;
  const conv2 = 2 * nodes * o.chebK[1] * o.hidden * o.hidden;
  const dense = 2 * (o.hidden * o.dense + o.dense * targets);
  return rows * (2 * conv1 + 3 * (conv2 + dense));
}

export async function benchChebnetEpoch(options: ChebnetEpochBenchOptions = {}, services?: PluginServices): Promise<ChebnetEpochBenchResult> {
  const svc: PluginServices = services ?? {
    log: { info: () => {}, warn: () => {}, debug: () => {} },
    progress: silentProgress,
    linalg: createLinalg(),
    onnx: undefined as never,
    models: undefined as never,
    tensorflow: createTensorflowProvider({ backend: options.backend }),
    cache: undefined as never,
  };
  const rows = options.trainRows ?? 8859;
  const roi = options.roiVoxels ?? { V1: 4308, V2: 2916, V3: 2096, hV4: 1311 };
  const targets = options.targets ?? 6400;
  const rng = new Rng(options.seed ?? 0);
  const names = ['V1', 'V2', 'V3', 'hV4'] as const;
  const voxels = names.reduce((s, n) => s + roi[n], 0);
  const atlas: Record<string, Int32Array> = {};
  let offset = 0;
  for (const n of names) {
    atlas[n] = Int32Array.from({ length: roi[n] }, (_, i) => offset + i);
    offset += roi[n];
  }
  const X: Matrix = { rows, cols: voxels, data: new Float32Array(rows * voxels) };
  for (let t = 0; t < rows; t++) {
    const shared = rng.normal();
    for (let v = 0; v < voxels; v++) X.data[t * voxels + v] = shared + rng.normal();
  }
  const Y: Matrix = { rows, cols: targets, data: Float32Array.from({ length: rows * targets }, () => rng.normal()) };
  const o = {
    ...defaults(),
    epochs: 1,
    validationFraction: 0,
    patience: 0,
    ...(options.projectionEngine ? { projectionEngine: options.projectionEngine } : {}),
    ...(options.batchSize ? { batchSize: options.batchSize } : {}),
    ...(options.hidden ? { hidden: options.hidden } : {}),
    ...(options.dense ? { dense: options.dense } : {}),
  } as unknown as ChebnetOptions;
  const started = performance.now();
  const fitted = await (await chebnetFactory.create(o as unknown as Record<string, unknown>, svc)).fit(X, Y, { seed: options.seed ?? 0, atlas });
  const fitSeconds = (performance.now() - started) / 1000;
  const summary = fitted.summary as { seconds: number; parameters: number; backend: string; projectionEngine: string; graph: { edges: string[] } };
  const width = Math.max(roi.V1, roi.V2, roi.V3 + roi.hV4);
  const gflop = chebnetEpochFlops(rows, 3, width, o, targets) / 1e9;
  return {
    trainRows: rows,
    voxels,
    nodeWidth: width,
    targets,
    batchSize: o.batchSize,
    parameters: summary.parameters,
    backend: summary.backend,
    projectionEngine: summary.projectionEngine,
    fitSeconds,
    epochSeconds: summary.seconds,
    gflop,
    gflops: gflop / (summary.seconds > 0 ? summary.seconds : fitSeconds),
    edges: summary.graph.edges,
  };
}
