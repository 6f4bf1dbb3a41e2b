/** What the generator needs before a run (its model folder) and which spaces it has: light, read at start. */
import type { ModelRequirement } from '../../core/contracts.js';
import type { SdOptions } from './schema.js';

export const SD_PRODUCE =
  'optimum-cli export onnx --model CompVis/stable-diffusion-v1-4 --task text-to-image <folder> (see generators/stable-diffusion/README.md)';

export function sdRequirement(options: SdOptions): ModelRequirement {
  return {
    role: 'Stable Diffusion (text encoder, UNet, VAE encoder and decoder)',
    model: options.model,
    layout: 'diffusers-onnx',
    // Signatures differ between exporters (dtypes, timestep forms): sd-graphs.ts reads them; here each must open.
    graphs: { text_encoder: null, unet: null, vae_encoder: null, vae_decoder: null },
    produce: SD_PRODUCE,
  };
}

export const targetSpaceNames = (options: SdOptions): string[] => (options.init === 'given' ? ['c'] : ['z', 'c']);
