/** Options of the `lafite` generator: Mind Reader's settings as defaults (sklin93/mind-reader, seed 003). */

export type ImageInput = 'mind-reader' | 'clip';
export type Quantisation = 'lafite' | 'stylegan';

export interface LafiteOptions {
  /** Configured model name or neurodecode folder holding the exported generator (graph `generator`). */
  model: string;
  /** Configured model name or transformers.js folder of CLIP ViT-B/32 (the target encoders). */
  clipModel: string;
  /** How a stimulus becomes CLIP's 224² input: Mind Reader's dataset path (256² tensor resize first) or CLIP's own. */
  imageInput: ImageInput;
  /** Mind Reader's clamp of the ground-truth embeddings to ±bound before normalising (threshold=1.5); 0 turns it off. */
  outlierClamp: number;
  /** Keep only captions whose CLIP image–caption probability exceeds half the best one (seed 003 §2.1). */
  captionScreening: boolean;
  /** Truncation ψ: w = w_avg + ψ·(w − w_avg). Mind Reader's evaluation and Lafite's generation script leave it at 1. */
  truncation: number;
  /** How the [-1, 1] image becomes 8 bits: Lafite's generate_for_soa.py or StyleGAN2's (Mind Reader's metric_utils.py). */
  quantisation: Quantisation;
  samples: number;
  scoring: 'first' | 'mean';
}

export const lafiteOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    model: { type: 'string', minLength: 1, default: 'lafite-mind-reader', description: 'model name (neurodecode.config.json "models") or folder written by generators/lafite/export.py' },
    clipModel: {
      type: 'string',
      minLength: 1,
      default: 'clip-vit-base-patch32',
      description: 'model name or transformers.js folder of CLIP ViT-B/32 (onnx/vision_model.onnx → image_embeds, onnx/text_model.onnx → text_embeds, tokenizer.json)',
    },
    imageInput: {
      enum: ['mind-reader', 'clip'],
      default: 'mind-reader',
      description: "'mind-reader': tensor bilinear resize to 256² and 8-bit truncation (nsd_utils get_img_trans), then CLIP's preprocess; 'clip': CLIP's preprocess alone (bicubic 224, centre crop)",
    },
    outlierClamp: { type: 'number', minimum: 0, default: 1.5, description: 'clamp the raw CLIP embeddings to ±this before L2-normalising them (Mind Reader §2.2); 0: no clamp' },
    captionScreening: { type: 'boolean', default: true, description: "keep captions whose CLIP probability (softmax of 100·cosine over the image's captions) exceeds half the best" },
    truncation: { type: 'number', minimum: 0, default: 1, description: 'truncation ψ (1: none, as Mind Reader evaluated)' },
    quantisation: {
      enum: ['lafite', 'stylegan'],
      default: 'lafite',
      description: "'lafite': clamp((x+1)·127.5, 0, 255) truncated (generate_for_soa.py); 'stylegan': clamp(x·127.5 + 128, 0, 255) truncated (metric_utils.py)",
    },
    samples: { type: 'integer', minimum: 1, default: 1, description: 'images generated per test item (each with its own z)' },
    scoring: { enum: ['first', 'mean'], default: 'first', description: "image metrics on the first sample, or each item's scores averaged over its samples" },
  },
} as const;

/** CLIP ViT-B/32's embedding width: both conditioning inputs of Mind Reader's generator and both targets. */
export const CLIP_WIDTH = 512;
/** CLIP's trained logit scale (exp of its learnt temperature, clamped at 100): the caption screening's softmax. */
export const CLIP_LOGIT_SCALE = 100;
