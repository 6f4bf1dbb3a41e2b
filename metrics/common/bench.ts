/**
 * `bench --only metrics`: Brain-Diffuser's eight metrics on N image pairs, ours (ONNX Runtime on the networks each
 * plugin's export.py writes with random weights, full size) against the same evaluation in PyTorch on the same
 * images in the same run (core/bench/reference/metrics_pytorch.py). Python with torch, torchvision and onnx is
 * needed: it builds the networks (nothing is downloaded, nothing committed).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { findReferencePython, pythonCandidates, runReferenceScript, sameRunFigure, type ReferenceFigure, type ReferencePython } from '../../core/bench/reference.js';
import { createCore } from '../../core/core.js';
import { encodeNpy } from '../../core/io/npy.js';
import { silentLogger } from '../../core/logging.js';
import { packageFile } from '../../core/plugin-loader.js';
import type { ImageBatch } from '../../core/tensor.js';

/** Each network the eight metrics use: the export recipe that builds it and the metrics it serves. */
const NETWORKS = [
  { model: 'alexnet', recipe: 'metrics/alexnet/export.py', metrics: ['alexnet-2', 'alexnet-5'] },
  { model: 'inception-v3', recipe: 'metrics/inception/export.py', metrics: ['inception'] },
  { model: 'effnet-b1', recipe: 'metrics/effnet-b/export.py', metrics: ['effnet-b'] },
  { model: 'swav-resnet50', recipe: 'metrics/swav/export.py', metrics: ['swav'] },
] as const;
/** Brain-Diffuser's table in its order (CLIP is left out: ViT-L/14 has no torchvision builder to export at random). */
export const BENCH_METRICS = ['pixcorr', 'ssim-columns', 'alexnet-2', 'alexnet-5', 'inception', 'effnet-b', 'swav'];

const EXPORT_TIMEOUT_MS = 10 * 60_000;
const REFERENCE_TIMEOUT_MS = 60 * 60_000;

export interface MetricBenchOptions {
  /** Image pairs (default 982, NSD's shared test set). */
  images?: number;
  /** Side of the square test images (default 425, NSD's stimuli as Brain-Diffuser scores them). */
  size?: number;
  python?: string;
}

export interface MetricBenchRow {
  metric: string;
  seconds: number;
  /** Images through the network per second (reconstructions and ground truths: 2N). */
  imagesPerSecond: number;
  value: number;
  pytorch?: ReferenceFigure;
  pytorchValue?: number;
  /** PyTorch seconds ÷ ours (above 1: we are faster). */
  speedup?: number;
  skipped?: string;
}

export interface MetricBenchResult {
  images: number;
  size: number;
  threads: number;
  rows: MetricBenchRow[];
  /** Why nothing ran (no Python with torch, torchvision and onnx). */
  skipped?: string;
}

/** Smooth random scenes (truth) and noisy copies (reconstructions), 8-bit, N × size × size × 3. */
function syntheticPairs(count: number, size: number): { truth: Uint8Array; pred: Uint8Array } {
  let state = 0x2545f491;
  const uniform = () => ((state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
  const truth = new Uint8Array(count * size * size * 3);
  const pred = new Uint8Array(truth.length);
  for (let n = 0; n < count; n++) {
    const f = Array.from({ length: 9 }, uniform);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        for (let c = 0; c < 3; c++) {
          const v = 0.5 + 0.4 * Math.sin(2 * Math.PI * ((0.5 + 2.5 * f[c]!) * (x / size) + (0.5 + 2.5 * f[c + 3]!) * (y / size)) + 6 * f[c + 6]!);
          const at = ((n * size + y) * size + x) * 3 + c;
          truth[at] = Math.round(255 * v);
          pred[at] = Math.round(255 * Math.min(1, Math.max(0, v + 0.6 * (uniform() - 0.5))));
        }
      }
    }
  }
  return { truth, pred };
}

const asBatch = (bytes: Uint8Array, count: number, size: number): ImageBatch => ({
  count,
  height: size,
  width: size,
  channels: 3,
  data: Float32Array.from(bytes, (v) => v / 255),
});

async function exportRandom(python: ReferencePython, recipe: string, out: string): Promise<string | undefined> {
  const script = packageFile(recipe);
  if (!existsSync(script)) return `${recipe} is missing`;
  try {
    await new Promise<void>((resolve, reject) =>
      execFile(python.python, [script, '--random', '--out', out], { timeout: EXPORT_TIMEOUT_MS, maxBuffer: 16 << 20 }, (error, _o, stderr) =>
        error ? reject(new Error(String(stderr).trim().split('\n').pop() || error.message)) : resolve(),
      ),
    );
    return undefined;
  } catch (error) {
    return `${recipe} --random failed: ${(error as Error).message}`;
  }
}

export async function benchMetrics(options: MetricBenchOptions = {}): Promise<MetricBenchResult> {
  const images = options.images ?? 982;
  const size = options.size ?? 425;
  const threads = availableParallelism();
  const probe = await findReferencePython(['torch', 'torchvision', 'onnx', 'PIL'], pythonCandidates(options.python));
  if (!probe.found) return { images, size, threads, rows: [], skipped: `the networks are built with Python: ${probe.reason}` };
  const python = probe.found;
  const dir = await mkdtemp(join(tmpdir(), 'nd-bench-metrics-'));
  try {
    const models: Record<string, string> = {};
    const unavailable: Record<string, string> = {};
    for (const network of NETWORKS) {
      const out = join(dir, network.model);
      const problem = await exportRandom(python, network.recipe, out);
      for (const metric of network.metrics) {
        if (problem) unavailable[metric] = problem;
        else models[metric] = out;
      }
    }
    const pairs = syntheticPairs(images, size);
    await writeFile(join(dir, 'truth.npy'), encodeNpy({ shape: [images, size, size, 3], data: pairs.truth }));
    await writeFile(join(dir, 'pred.npy'), encodeNpy({ shape: [images, size, size, 3], data: pairs.pred }));
    const input = { kind: 'image' as const, pred: asBatch(pairs.pred, images, size), truth: asBatch(pairs.truth, images, size) };

    // No cache: the ground-truth features are computed as the reconstructions' are, as PyTorch's side does.
    const core = await createCore({ cwd: dir, cacheDir: null, plugins: [], verbose: false }, { logger: silentLogger });
    const rows: MetricBenchRow[] = [];
    for (const metric of BENCH_METRICS) {
      if (unavailable[metric]) {
        rows.push({ metric, seconds: NaN, imagesPerSecond: NaN, value: NaN, skipped: unavailable[metric] });
        continue;
      }
      const pluginOptions = { ...(models[metric] ? { model: models[metric] } : {}), convention: 'brain-diffuser' };
      const { instance } = await core.registry.create('metric', metric, pluginOptions);
      const t0 = performance.now();
      const result = await instance.compute(input, { seed: 0 });
      const seconds = (performance.now() - t0) / 1000;
      rows.push({ metric, seconds, imagesPerSecond: (2 * images) / seconds, value: result.value });
    }

    const measured = rows.filter((r) => !r.skipped).map((r) => r.metric);
    const reference = (await runReferenceScript(
      python,
      'metrics_pytorch.py',
      ['--dir', dir, '--metrics', measured.join(','), '--threads', String(threads)],
      REFERENCE_TIMEOUT_MS,
    )) as Record<string, { seconds?: number; value?: number; skipped?: string }> & { versions: Record<string, string> };
    const tool = `PyTorch ${reference.versions.torch}`;
    for (const row of rows) {
      const theirs = reference[row.metric];
      if (!theirs || theirs.seconds === undefined) continue;
      row.pytorch = sameRunFigure(row.metric.startsWith('pixcorr') || row.metric.startsWith('ssim') ? 'NumPy / scikit-image' : tool, theirs.seconds);
      row.pytorchValue = theirs.value;
      row.speedup = theirs.seconds / row.seconds;
    }
    return { images, size, threads, rows };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
