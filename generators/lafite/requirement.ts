/** The models the `lafite` generator needs (checked before a run starts) and its target spaces: light, read at start. */
import type { ModelRequirement } from '../../core/contracts.js';
import type { LafiteOptions } from './schema.js';

export const LAFITE_PRODUCE =
  'python3 generators/lafite/export.py --checkpoint <Mind Reader snapshot .pkl or G_ema state dict> --code <mind-reader>/StyleGAN2 --out <folder> (see generators/lafite/README.md)';
export const CLIP_B32_PRODUCE =
  'a transformers.js export of openai/clip-vit-base-patch32 (e.g. Xenova/clip-vit-base-patch32: onnx/vision_model.onnx, onnx/text_model.onnx, tokenizer.json); see generators/lafite/README.md';

export const TARGET_SPACES = ['clip-image', 'clip-text'] as const;
export type LafiteSpace = (typeof TARGET_SPACES)[number];

export const generatorRequirement = (options: LafiteOptions): ModelRequirement => ({
  role: "Lafite conditional StyleGAN2 generator (Mind Reader's)",
  model: options.model,
  // model.json declares the signature; lafite-graph.ts reads names, widths and ψ's form from the session.
  graphs: { generator: null },
  produce: LAFITE_PRODUCE,
});

export const clipRequirement = (options: LafiteOptions): ModelRequirement => ({
  role: 'CLIP ViT-B/32 image and text encoders',
  model: options.clipModel,
  layout: 'transformers-js',
  graphs: {
    vision: {
      inputs: [{ name: 'pixel_values', type: 'float32', dims: [null, 3, 224, 224] }],
      outputs: [{ name: 'image_embeds', type: 'float32', dims: [null, null] }],
    },
    // input_ids, and attention_mask in some exports: clip-encoders.ts checks them.
    text: null,
  },
  produce: CLIP_B32_PRODUCE,
});

export const lafiteRequirements = (options: LafiteOptions): ModelRequirement[] => [generatorRequirement(options), clipRequirement(options)];
