/**
 * Seconds per denoising step of Takagi's img2img loop on a given SD folder, and the share of that time spent
 * outside ONNX Runtime (guidance, the DDIM update, tensor conversions): `neurodecode bench --only sd-step`.
 * Speed is measured here, never asserted in tests.
 */
import { resolve } from 'node:path';
import { img2imgPlan } from '../../core/diffusion/ddim.js';
import { seededNoise } from '../../core/diffusion/noise.js';
import { readSchedulerConfig } from '../../core/diffusion/schedule.js';
import { createOnnxSessions } from '../../core/compute/onnx.js';
import { ModelStore } from '../../core/models/store.js';
import { TakagiDecoder } from './decoder.js';
import { openSdGraphs } from './sd-graphs.js';

export interface SdStepBench {
  folder: string;
  providers: string[];
  graphs: string;
  /** Side of the init image (the latent is 4 × size/8 × size/8). */
  size: number;
  steps: number;
  secondsPerStep: number;
  /** Of the loop's wall time, the fraction not inside ONNX Runtime's run(). */
  outsideOrtShare: number;
}

export async function benchSdSteps(options: { model: string; size: number; repeats?: number }): Promise<SdStepBench> {
  const onnx = createOnnxSessions();
  const models = new ModelStore({ cwd: process.cwd(), configured: {} }, onnx);
  const folder = await models.folder(resolve(options.model), 'bench sd-step');
  const graphs = await openSdGraphs(models, folder);
  const plan = img2imgPlan(await readSchedulerConfig(folder.files.scheduler!), { steps: 50, strength: 0.8, eta: 0, start: 'compvis' });
  const context = new Float32Array(77 * graphs.textWidth);
  const decoder = new TakagiDecoder(graphs, { plan, guidance: 5, initSize: options.size, initResize: 'pillow-default' }, context);
  const latent = (options.size / 8) ** 2 * 4;
  const z0 = seededNoise({ seed: 0, item: 'bench', sample: 0, stream: 'z0' }, latent);
  const noise = seededNoise({ seed: 0, item: 'bench', sample: 0, stream: 'encode' }, latent);
  await decoder.denoise(z0, context, noise); // warm-up: sessions' first runs allocate
  const repeats = options.repeats ?? 3;
  const ortBefore = graphs.runtime.seconds;
  const started = performance.now();
  for (let r = 0; r < repeats; r++) await decoder.denoise(z0, context, noise);
  const wall = (performance.now() - started) / 1000;
  const ort = graphs.runtime.seconds - ortBefore;
  const steps = repeats * plan.steps.length;
  return { folder: folder.dir, providers: onnx.providers, graphs: graphs.description, size: options.size, steps, secondsPerStep: wall / steps, outsideOrtShare: (wall - ort) / wall };
}
