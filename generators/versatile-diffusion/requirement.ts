/** What the generator needs before a run (its model folder): light, read at start. */
import type { ModelRequirement } from '../../core/contracts.js';
import type { VdOptions } from './schema.js';

export const VD_PRODUCE =
  'python3 generators/versatile-diffusion/export.py --vd vd-four-flow-v1-0-fp16-deprecated.pth --clip <openai/clip-vit-large-patch14 folder> --out <folder> (see generators/versatile-diffusion/README.md)';

/** The graphs of the folder's model.json. Their signatures are read from the sessions (vd-graphs.ts); here each must be there and open. */
export const VD_GRAPHS = ['unet', 'vae_encoder', 'vae_decoder', 'clip_vision', 'clip_text'] as const;

export function vdRequirement(options: Pick<VdOptions, 'model'>): ModelRequirement {
  return {
    role: 'Versatile Diffusion (dual-context UNet, VAE encoder and decoder, CLIP ViT-L/14 image and text encoders)',
    model: options.model,
    layout: 'neurodecode',
    graphs: Object.fromEntries(VD_GRAPHS.map((g) => [g, null])),
    produce: VD_PRODUCE,
  };
}
