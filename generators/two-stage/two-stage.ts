/**
 * Two generators in sequence: the first stage's images are the init images of the second (an image-to-image
 * generator), as Brain-Diffuser's VDVAE → Versatile Diffusion. The first stage's images are returned as a scored
 * stage (rows `stage 1`), so that what the second stage adds is measured.
 */
import {
  asGeneration,
  type FitContext,
  type FittedGenerator,
  type GenerateContext,
  type Generation,
  type Generator,
  type StimulusBatch,
  type TargetSpace,
} from '../../core/contracts.js';
import { seededNoise } from '../../core/diffusion/noise.js';
import { UserError } from '../../core/errors.js';
import type { ImageBatch, Matrix } from '../../core/tensor.js';
import { mergeSpaces, STAGE_ONE, type TwoStageOptions } from './schema.js';

const WHERE = "generator 'two-stage'";

function pick(predicted: Record<string, Matrix>, spaces: TargetSpace[]): Record<string, Matrix> {
  return Object.fromEntries(spaces.map((s) => [s.name, predicted[s.name]!]));
}

class FittedTwoStage implements FittedGenerator {
  constructor(
    private readonly first: FittedGenerator,
    private readonly second: FittedGenerator,
    private readonly options: TwoStageOptions,
  ) {}

  targets(): TargetSpace[] {
    const first = this.first.targets();
    const second = this.second.targets();
    mergeSpaces(first.map((s) => s.name), second.map((s) => s.name), this.options);
    return [...first, ...second];
  }

  async encode(stimuli: StimulusBatch): Promise<Record<string, Matrix>> {
    return { ...(await this.first.encode(stimuli)), ...(await this.second.encode(stimuli)) };
  }

  async generate(predicted: Record<string, Matrix>, context: GenerateContext): Promise<Generation> {
    const stage1 = asGeneration(await this.first.generate(pick(predicted, this.first.targets()), context));
    const handed = stage1.next ?? stage1.samples[0]!;
    const init = this.options.stage1Noise ? withNoise(handed, this.options.stage1Noise.amplitude, context) : handed;
    const refined = asGeneration(await this.second.generateFrom!(init, pick(predicted, this.second.targets()), context));
    // Stage 1 is scored as the first stage made it (before any noise of the analysis).
    const stages: Record<string, ImageBatch> = { [STAGE_ONE]: stage1.samples[0]! };
    for (const [label, images] of Object.entries(refined.stages ?? {})) stages[`stage 2 ${label}`] = images;
    return { samples: refined.samples, ...(refined.scoring ? { scoring: refined.scoring } : {}), stages };
  }
}

/**
 * The noise-sensitivity analysis of seed 000 §3.4: clip(255·x + amplitude·ε, 0, 255) / 255 per value, ε ~ N(0, 1)
 * keyed on (seed, item id): deterministic per seed, the same for an item whatever else is generated.
 */
export function withNoise(images: ImageBatch, amplitude: number, context: Pick<GenerateContext, 'ids' | 'seed'>): ImageBatch {
  const size = images.height * images.width * images.channels;
  const data = new Float32Array(images.data.length);
  for (const [i, id] of context.ids.entries()) {
    const noise = seededNoise({ seed: context.seed, item: id, sample: 0, stream: 'stage1-noise' }, size);
    for (let k = 0; k < size; k++) data[i * size + k] = Math.min(255, Math.max(0, 255 * images.data[i * size + k]! + amplitude * noise[k]!)) / 255;
  }
  return { ...images, data };
}

export class TwoStageGenerator implements Generator {
  constructor(
    private readonly first: Generator,
    private readonly second: Generator,
    private readonly options: TwoStageOptions,
  ) {}

  async fit(train: StimulusBatch, context: FitContext): Promise<FittedGenerator> {
    const first = await this.first.fit(train, context);
    const second = await this.second.fit(train, context);
    if (typeof second.generateFrom !== 'function') {
      throw new UserError(`the second stage '${this.options.second.id}' cannot start from given images (it has no generateFrom): use an image-to-image generator`, WHERE);
    }
    return new FittedTwoStage(first, second, this.options);
  }
}
