/** Options of the `stable-diffusion` generator: every setting of Takagi & Nishimoto's decoding, their values as defaults. */
import type { Img2ImgStart } from '../../core/diffusion/ddim.js';
import type { ResizeKernel } from '../../core/io/image.js';

export type SdPreset = 'takagi' | 'hou-khoshnoo';

export interface SdOptions {
  /** Configured model name or folder of a diffusers/optimum ONNX export. */
  model: string;
  /** What the differing options default to: Takagi & Nishimoto (CVPR 2023), or Hou & Khoshnoo (seed 001). */
  preset: SdPreset;
  /** `predicted-z`: the init image is the decoded predicted latent (Takagi's "cvpr"); `given`: a first stage gives it (two-stage). */
  init: 'predicted-z' | 'given';
  /** Side of the images whose latents are the `z` target (320 → 4×40×40 = 6,400). */
  resolution: number;
  /** Filter resizing stimuli to `resolution` (Takagi: Lanczos). */
  encodeResize: ResizeKernel;
  /** `sample`: z = 0.18215·(mean + σ·ε), as Takagi's posterior.sample(); `mean`: the posterior mean. */
  latent: 'sample' | 'mean';
  /** Side of the init image that is re-encoded for img2img (Takagi: 512). */
  initSize: number;
  /** Filter resizing the decoded z to `initSize` (Takagi: PIL's default, bicubic). */
  initResize: ResizeKernel;
  steps: number;
  strength: number;
  guidance: number;
  eta: number;
  /** Which reference's img2img start (noise at ᾱ of the step before the loop, or of the loop's first step). */
  start: Img2ImgStart;
  samples: number;
  /** Undefined: from the preset (takagi: `first`; hou-khoshnoo: `mean`). */
  scoring?: 'first' | 'mean';
  /**
   * Tokens of c predicted (the first k of 77; the rest are the training items' mean). Undefined: from the preset
   * (takagi: 77; hou-khoshnoo: 15, "enough to cover the typical lengths of COCO captions", after MindDiffuser).
   */
  textTokens?: number;
  /** A dataset without captions: refuse (`error`), or condition `c` on the empty prompt for every image. */
  missingCaptions: 'error' | 'empty-prompt';
}

export const PRESETS: Record<SdPreset, { scoring: 'first' | 'mean'; textTokens: number; summary: string }> = {
  takagi: { scoring: 'first', textTokens: 77, summary: "Takagi & Nishimoto (CVPR 2023), codes/diffusion_sd1/diffusion_decoding.py, method 'cvpr'" },
  'hou-khoshnoo': {
    scoring: 'mean',
    textTokens: 15,
    summary: "Hou & Khoshnoo (seed 001 §2.3, §3): Takagi's decoding; c cut to its first 15 tokens (15 × 768); each image's scores averaged over its 5 samples",
  },
};

const kernel = (description: string, fallback: ResizeKernel) => ({ enum: ['nearest', 'bilinear', 'bicubic', 'lanczos3', 'pillow-default'], default: fallback, description });

export const sdOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    model: { type: 'string', minLength: 1, default: 'stable-diffusion', description: 'model name (neurodecode.config.json "models") or folder: a diffusers/optimum ONNX export of SD v1.4' },
    preset: { enum: ['takagi', 'hou-khoshnoo'], default: 'takagi', description: 'the paper whose settings fill what is not given (see the README)' },
    init: { enum: ['predicted-z', 'given'], default: 'predicted-z', description: "'predicted-z': decode the predicted z as init image (Takagi 'cvpr'); 'given': the first stage of two-stage gives it" },
    resolution: { type: 'integer', minimum: 8, multipleOf: 8, default: 320, description: 'side of the images encoded as the z target (320 → 4×40×40)' },
    encodeResize: kernel('filter resizing stimuli to resolution (Takagi: PIL LANCZOS)', 'lanczos3'),
    latent: { enum: ['sample', 'mean'], default: 'sample', description: "z target: a posterior sample (Takagi's posterior.sample()) or its mean" },
    initSize: { type: 'integer', minimum: 8, multipleOf: 8, default: 512, description: 'side of the init image re-encoded for img2img' },
    initResize: kernel('filter resizing the decoded z to initSize (Takagi: PIL default = bicubic)', 'pillow-default'),
    steps: { type: 'integer', minimum: 1, maximum: 1000, default: 50, description: 'DDIM steps of the full schedule' },
    strength: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.8, description: 'img2img strength: int(strength·steps) denoising steps' },
    guidance: { type: 'number', minimum: 0, default: 5, description: 'classifier-free guidance scale (uncond = CLIP of "")' },
    eta: { type: 'number', minimum: 0, default: 0, description: 'DDIM η (0: deterministic steps)' },
    start: { enum: ['compvis', 'diffusers'], default: 'compvis', description: "img2img start: 'compvis' (Takagi's DDIMSampler, = diffusers' ONNX pipeline) or 'diffusers' (PyTorch img2img pipeline, one step later)" },
    samples: { type: 'integer', minimum: 1, default: 5, description: 'images generated per test item (Takagi: 5)' },
    scoring: { enum: ['first', 'mean'], description: "image metrics on the first sample, or each item's scores averaged over its samples (default: from the preset)" },
    textTokens: { type: 'integer', minimum: 1, maximum: 77, description: "tokens of c predicted (the rest: the training items' mean); default from the preset (takagi 77, hou-khoshnoo 15)" },
    missingCaptions: { enum: ['error', 'empty-prompt'], default: 'error', description: "a dataset without captions: refuse, or encode c as the empty prompt's" },
  },
} as const;

/** SD v1's VAE latent scale (CompVis' scale_factor, diffusers' vae.config.scaling_factor). */
export const LATENT_SCALE = 0.18215;
