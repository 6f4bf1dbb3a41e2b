/** Options of the `vdvae` generator (Brain-Diffuser's values as defaults) and the model it reproduces. */
import type { ResizeKernel } from '../../core/io/image.js';

export interface VdvaeOptions {
  /** Configured model name or folder written by generators/vdvae/export.py. */
  model: string;
  /** Decoder blocks whose latents are the target (Brain-Diffuser: 31 → 91,168 values; seed 000 also 15 → 13,344). */
  layers: number;
  /** Prior temperature of the blocks not given (σ · t; Brain-Diffuser: t = None, i.e. 1). */
  temperature: number;
  /** Images per test item, each with its own prior and pixel noise. */
  samples: number;
  scoring: 'first' | 'mean';
  /** Side of the images handed on (Brain-Diffuser upsamples VDVAE's 64² to 512² for Versatile Diffusion). */
  outputSize: number;
  /** Filter of that upsampling (Brain-Diffuser: PIL BICUBIC). */
  outputResize: ResizeKernel;
}

/** openai/vdvae's ImageNet-64 model (hps.py `imagenet64`), as Brain-Diffuser loads it. */
export const IMAGENET64 = {
  imageSize: 64,
  zdim: 16,
  width: 512,
  numMixtures: 10,
  encBlocks: '64x11,64d2,32x20,32d2,16x9,16d2,8x8,8d2,4x7,4d4,1x5',
  decBlocks: '1x2,4m1,4x3,8m4,8x7,16m8,16x15,32m16,32x31,64m32,64x12',
} as const;

/** Brain-Diffuser's input normalisation (vdvae/model_utils.py set_up_data): (x + shift) · scale on 0..255 pixels. */
export const SHIFT = -115.92961967;
export const SCALE = 1 / 69.37404;

export const vdvaeOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    model: { type: 'string', minLength: 1, default: 'vdvae', description: 'model name (neurodecode.config.json "models") or folder written by generators/vdvae/export.py' },
    layers: {
      type: 'integer',
      minimum: 1,
      maximum: 75,
      default: 31,
      description: "decoder blocks whose latents are predicted (Brain-Diffuser 31 = 91,168 values; seed 000's 15 = 13,344); the others are sampled from the prior",
    },
    temperature: { type: 'number', minimum: 0, default: 1, description: 'prior temperature of the blocks not predicted (Brain-Diffuser: 1)' },
    samples: { type: 'integer', minimum: 1, default: 1, description: 'images per test item (each its own prior and pixel noise)' },
    scoring: { enum: ['first', 'mean'], default: 'first', description: "image metrics on the first sample, or each item's scores averaged over its samples" },
    outputSize: { type: 'integer', minimum: 8, maximum: 4096, default: 512, description: 'side of the upsampled images handed to a second stage (Brain-Diffuser: 512)' },
    outputResize: {
      enum: ['nearest', 'bilinear', 'bicubic', 'lanczos3', 'pillow-default'],
      default: 'bicubic',
      description: 'filter of the upsampling from 64² (Brain-Diffuser: PIL BICUBIC)',
    },
  },
} as const;
