/** What the generator needs before a run (its model folder), read at start without loading the implementation. */
import type { ModelRequirement } from '../../core/contracts.js';
import type { OnnxValueSpec } from '../../core/compute/onnx.js';
import type { VdvaeOptions } from './schema.js';

export const VDVAE_PRODUCE =
  'python3 generators/vdvae/export.py --checkpoint imagenet64-iter-1600000-model-ema.th --out <folder> (openai/vdvae ImageNet-64 EMA weights; see generators/vdvae/README.md)';

const value = (name: string, dims: OnnxValueSpec['dims']): OnnxValueSpec => ({ name, type: 'float32', dims });

/** Names, types and ranks; the sizes follow from model.json's architecture and are checked when the graphs open (vdvae-graphs.ts). */
export function vdvaeRequirement(options: VdvaeOptions): ModelRequirement {
  return {
    role: 'VDVAE ImageNet-64 (encoder and decoder)',
    model: options.model,
    graphs: {
      encoder: {
        inputs: [value('image', ['batch', null, null, 3]), value('posterior_noise', ['batch', null])],
        outputs: [value('latents', ['batch', null])],
      },
      decoder: {
        inputs: [
          value('latents', ['batch', null]),
          value('given_mask', [null]),
          value('prior_noise', ['batch', null]),
          value('temperature', [1]),
          value('gumbel_noise', ['batch', null, null, null]),
          value('logistic_noise', ['batch', null, null, 3]),
        ],
        outputs: [value('image', ['batch', null, null, 3])],
      },
    },
    produce: VDVAE_PRODUCE,
  };
}

export const VDVAE_SPACE = 'vdvae';
