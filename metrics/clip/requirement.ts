/** The model the `clip` metric needs: a transformers.js CLIP folder whose vision graph is the projected export. */
import type { ModelRequirement } from '../../core/contracts.js';

export const CLIP_INPUT = 'pixel_values';
/** CLIPVisionModelWithProjection's output: the 768-d projected embedding (OpenAI CLIP's `encode_image`). */
export const CLIP_OUTPUT = 'image_embeds';

export const clipRequirement = (model: string): ModelRequirement => ({
  role: 'CLIP image encoder',
  model,
  layout: 'transformers-js',
  graphs: {
    // A CLIPVisionModel export (no projection) has no image_embeds: the signature check refuses it, listing its outputs.
    vision: {
      inputs: [{ name: CLIP_INPUT, type: 'float32', dims: [null, 3, 224, 224] }],
      outputs: [{ name: CLIP_OUTPUT, type: 'float32', dims: [null, null] }],
    },
  },
  produce: 'python3 metrics/clip/export.py --out <folder> (or a transformers.js folder such as Xenova/clip-vit-large-patch14; see metrics/clip/README.md)',
});
