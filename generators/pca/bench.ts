/**
 * Fit time of the `pca` generator on synthetic images (speed is measured here, never asserted in tests).
 * Run by `neurodecode bench --only pca`.
 */
import type { Linalg } from '../../core/compute/linalg.js';
import { silentLogger } from '../../core/logging.js';
import { silentProgress } from '../../core/progress.js';
import { Rng } from '../../core/rng.js';
import type { ImageBatch } from '../../core/tensor.js';
import { PcaGenerator } from './pca.js';
import { pcaOptionsSchema, type PcaOptions } from './schema.js';

export interface PcaBenchResult {
  engine: string;
  images: number;
  values: number;
  components: number;
  fitSeconds: number;
  explainedVarianceRatio: number;
}

export async function benchmarkPcaFit(
  linalg: Linalg,
  { count = 1000, size = 64, components = 256, seed = 0 } = {},
): Promise<PcaBenchResult> {
  const images = gratingImages(count, size, seed);
  const options: PcaOptions = {
    ...defaultsOf(pcaOptionsSchema.properties),
    components,
  } as PcaOptions;
  const services = { log: silentLogger, progress: silentProgress, linalg, onnx: undefined as never, models: undefined as never, tensorflow: undefined as never, cache: undefined as never };
  const start = performance.now();
  const fitted = await new PcaGenerator(options, services).fit({ ids: [], images }, { seed });
  const fitSeconds = (performance.now() - start) / 1000;
  return {
    engine: linalg.engine,
    images: count,
    values: size * size * 3,
    components: fitted.state.components.rows,
    fitSeconds,
    explainedVarianceRatio: fitted.summary.explainedVarianceRatio as number,
  };
}

function defaultsOf(properties: Record<string, { default?: unknown }>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(properties).map(([key, schema]) => [key, schema.default]));
}

/** Images of a few random coloured gratings and blobs plus pixel noise: a decaying, image-like spectrum. */
export function gratingImages(count: number, size: number, seed: number): ImageBatch {
  const rng = new Rng(seed);
  const data = new Float32Array(count * size * size * 3);
  for (let i = 0; i < count; i++) {
    const waves = Array.from({ length: 4 }, () => ({
      fx: rng.normal() * 0.15,
      fy: rng.normal() * 0.15,
      phase: rng.uniform() * 2 * Math.PI,
      colour: [rng.uniform(), rng.uniform(), rng.uniform()],
    }));
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        for (let c = 0; c < 3; c++) {
          let value = 0.5 + 0.02 * rng.normal();
          for (const w of waves) value += 0.1 * w.colour[c]! * Math.sin(w.fx * x + w.fy * y + w.phase);
          data[((i * size + y) * size + x) * 3 + c] = Math.min(1, Math.max(0, value));
        }
      }
    }
  }
  return { count, height: size, width: size, channels: 3, data };
}
