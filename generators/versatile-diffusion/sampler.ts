/**
 * Brain-Diffuser's image-to-image pass (scripts/versatilediffusion_reconstruct_images.py with VD's DDIMSampler_VD
 * decode_dc), as three steps, each a method so that tests can feed the reference's noise between them:
 *   A. initLatent: the init image (at initSize) → to_tensor → 2x − 1 → VAE encode → 0.18215 · posterior sample
 *   B. denoise: stochastic_encode at ᾱ of the plan's start (t_enc 37 of 50: t = 741), then the DDIM steps, each one
 *      UNet call on [uncond; cond] with both contexts and the mix, classifier-free guidance on its two halves
 *   C. image: autokl_decode (÷ 0.18215) → clamp((x + 1)/2) → ToPILImage (255·x truncated to uint8)
 */
import type { DdimPlan } from '../../core/diffusion/ddim.js';
import { classifierFreeGuidance, guidanceBatch } from '../../core/diffusion/guidance.js';
import { runDdim } from '../../core/diffusion/sampler.js';
import { UserError } from '../../core/errors.js';
import type { RasterImage } from '../../core/io/image.js';
import { LATENT_SCALE } from './schema.js';
import type { VdGraphs } from './vd-graphs.js';

const f = Math.fround;

export interface SamplerSettings {
  plan: DdimPlan;
  guidance: number;
  /** Vision's share at every cross-attention block. */
  mix: number;
}

/** The unconditional pair of every guided step: CLIP vision of the grey image, CLIP text of "" (normalised). */
export interface Unconditional {
  vision: Float32Array;
  text: Float32Array;
}

/** An RGB raster → [3, H, W] as torchvision's to_tensor (float32 k/255) then 2x − 1 in float32. */
export function initTensor(raster: RasterImage): Float32Array {
  const { width, height, data } = raster;
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[c * plane + p] = f(2 * f(data[3 * p + c]! / 255) - 1);
  return out;
}

/** A decoded image [3, H, W] → 8-bit RGB: clamp((x + 1)/2, 0, 1), then ToPILImage's mul(255).byte() (truncation), float32. */
export function quantise(decoded: Float32Array, height: number, width: number): RasterImage {
  const plane = height * width;
  const data = new Uint8Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) data[3 * p + c] = Math.trunc(f(255 * Math.min(1, Math.max(0, f(f(decoded[c * plane + p]! + 1) / 2)))));
  }
  return { width, height, channels: 3, data };
}

/** 0.18215 · (mean + exp(0.5 · clamp(logvar, −30, 20)) · ε): DiagonalGaussianDistribution.sample() scaled; the mean when `noise` is null. */
export function scaledLatent(mean: Float32Array, logvar: Float32Array, noise: Float32Array | null): Float32Array {
  if (noise && noise.length !== mean.length) throw new RangeError(`posterior noise has ${noise.length} values for ${mean.length} latents`);
  const out = new Float32Array(mean.length);
  for (let i = 0; i < mean.length; i++) {
    const z = noise ? f(mean[i]! + f(f(Math.exp(0.5 * Math.min(20, Math.max(-30, logvar[i]!)))) * noise[i]!)) : mean[i]!;
    out[i] = LATENT_SCALE * z;
  }
  return out;
}

function side(values: number): number {
  const s = Math.round(Math.sqrt(values / 4));
  if (4 * s * s !== values) throw new RangeError(`a latent of ${values} values is not 4 × s × s`);
  return s;
}

export class DualGuidedSampler {
  constructor(
    private readonly graphs: VdGraphs,
    private readonly settings: SamplerSettings,
    private readonly uncond: Unconditional,
  ) {}

  /** A: the scaled latent of an init image already at initSize; `noise` draws the posterior sample (null: the mean). */
  async initLatent(raster: RasterImage, noise: Float32Array | null): Promise<Float32Array> {
    const { mean, logvar } = await this.graphs.encodeImage(initTensor(raster), [1, 3, raster.height, raster.width]);
    return scaledLatent(mean, logvar, noise);
  }

  /** B: img2img from z0 with the vision context cv and the text context ct (one item, normalised embeddings). */
  async denoise(z0: Float32Array, cv: Float32Array, ct: Float32Array, encodeNoise: Float32Array, stepNoise?: (k: number) => Float32Array, onStep?: (k: number) => void): Promise<Float32Array> {
    const s = side(z0.length);
    const vision = guidanceBatch(this.uncond.vision, cv);
    const text = guidanceBatch(this.uncond.text, ct);
    const { plan, guidance, mix } = this.settings;
    return runDdim({
      plan,
      start: z0,
      startNoise: encodeNoise,
      // [uncond; cond] in one UNet call, both halves with the same mix (DDIMSampler_VD.p_sample_ddim_dc).
      epsilon: async (x, t) => classifierFreeGuidance(await this.graphs.unet(guidanceBatch(x, x), [2, 4, s, s], t, vision, text, mix), x.length, guidance),
      ...(stepNoise ? { stepNoise } : {}),
      ...(onStep ? { onStep } : {}),
    });
  }

  /** C: decode a scaled latent (4 × s × s) to an 8-bit RGB image. */
  async image(latent: Float32Array): Promise<RasterImage> {
    const s = side(latent.length);
    // autokl_decode: z · (1 / scale_factor), the reciprocal taken in double as Python does.
    const { data, shape } = await this.graphs.decode(latent.map((v) => v * (1 / LATENT_SCALE)), [1, 4, s, s]);
    if (shape.length !== 4 || shape[1] !== 3) throw new UserError(`vae_decoder returned [${shape.join(', ')}], expected [1, 3, H, W]`, "generator 'versatile-diffusion'");
    return quantise(data, shape[2]!, shape[3]!);
  }
}
