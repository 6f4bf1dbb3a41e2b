/** Options of the `versatile-diffusion` generator: Brain-Diffuser's second stage, their values as defaults. */
import type { ResizeKernel } from '../../core/io/image.js';

/**
 * How a stimulus becomes CLIP's pixel_values. `brain-diffuser`: as scripts/clipvision_extract_features.py does —
 * resize to 512² (bilinear), to_tensor, 2x − 1, then VD's (x + 1)/2 and CLIPProcessor (which casts 255·x to uint8,
 * resizes the shortest side to 224 bicubic, centre-crops 224, normalises). `clip-processor`: CLIPProcessor on the
 * stimulus itself.
 */
export type VisionInput = 'brain-diffuser' | 'clip-processor';

export interface VdOptions {
  /** Configured model name or folder of the export (neurodecode layout, generators/versatile-diffusion/export.py). */
  model: string;
  /** Vision's share r at every cross-attention block: h = r·h_vision + (1 − r)·h_text + h (Brain-Diffuser: 1 − mix_str 0.4 = 0.6). */
  mix: number;
  steps: number;
  strength: number;
  guidance: number;
  eta: number;
  /** Side the init image is resized to before it is encoded (Brain-Diffuser's regularize_image: 512). */
  initSize: number;
  initResize: ResizeKernel;
  /** `sample`: z = 0.18215·(mean + σ·ε), as VD's autokl_encode (posterior.sample()); `mean`: the posterior mean. */
  latent: 'sample' | 'mean';
  samples: number;
  visionInput: VisionInput;
  /** A dataset without captions: refuse (`error`), or take the text context of every image to be CLIP text of "". */
  missingCaptions: 'error' | 'empty-prompt';
}

const kernel = (description: string, fallback: ResizeKernel) => ({ enum: ['nearest', 'bilinear', 'bicubic', 'lanczos3', 'pillow-default'], default: fallback, description });

export const vdOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    model: { type: 'string', minLength: 1, default: 'versatile-diffusion', description: 'model name (neurodecode.config.json "models") or folder: generators/versatile-diffusion/export.py writes it' },
    mix: { type: 'number', minimum: 0, maximum: 1, default: 0.6, description: "vision's share at every cross-attention block (text: 1 − mix); Brain-Diffuser: 0.6 (mix_str 0.4 is the text share)" },
    steps: { type: 'integer', minimum: 2, maximum: 1000, default: 50, description: 'DDIM steps of the full schedule' },
    strength: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.75, description: 'img2img strength: t_enc = int(strength·steps) denoising steps (0.75 · 50 → 37)' },
    guidance: { type: 'number', minimum: 0, default: 7.5, description: 'classifier-free guidance scale (uncond: CLIP vision of a grey image, CLIP text of "")' },
    eta: { type: 'number', minimum: 0, default: 0, description: 'DDIM η (0: deterministic steps)' },
    initSize: { type: 'integer', minimum: 8, multipleOf: 8, default: 512, description: 'side the init image is resized to and encoded at (Brain-Diffuser: 512)' },
    initResize: kernel('filter resizing init images of another size to initSize (Brain-Diffuser: PIL BICUBIC)', 'bicubic'),
    latent: { enum: ['sample', 'mean'], default: 'sample', description: "init latent: a posterior sample (VD's autokl_encode) or its mean" },
    samples: { type: 'integer', minimum: 1, default: 1, description: 'images generated per test item (Brain-Diffuser: 1)' },
    visionInput: { enum: ['brain-diffuser', 'clip-processor'], default: 'brain-diffuser', description: "CLIP pixels of a stimulus: as Brain-Diffuser's feature script (512² bilinear first), or CLIPProcessor on the stimulus itself" },
    missingCaptions: { enum: ['error', 'empty-prompt'], default: 'error', description: "a dataset without captions: refuse, or encode clip-text as the empty prompt's" },
  },
} as const;

/** The autoencoder's latent scale (VD's vd_noema scale_factor, as SD v1's). */
export const LATENT_SCALE = 0.18215;

/** The target spaces, in the order of the predictions Brain-Diffuser regresses. */
export const VD_SPACES = ['clip-vision', 'clip-text'] as const;
export type VdSpace = (typeof VD_SPACES)[number];
