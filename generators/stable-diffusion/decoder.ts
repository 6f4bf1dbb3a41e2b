/**
 * Takagi & Nishimoto's decoding ("cvpr", codes/diffusion_sd1/diffusion_decoding.py) as four steps, each a method
 * so that tests can feed the reference's noise between them:
 *   A. initRaster: predicted z → decode (÷ 0.18215) → clamp((x+1)/2) → ·255 → uint8 (truncated)
 *   B. initLatent: that image resized to initSize → 2x − 1 → VAE encode → 0.18215 · posterior sample
 *   C. denoise: stochastic_encode at ᾱ of the plan's start, then the DDIM steps with guidance on [uncond; c]
 *   D. image: decode the final latent (÷ 0.18215) → uint8 as in A
 */
import { classifierFreeGuidance, guidanceBatch } from '../../core/diffusion/guidance.js';
import type { DdimPlan } from '../../core/diffusion/ddim.js';
import { runDdim } from '../../core/diffusion/sampler.js';
import { UserError } from '../../core/errors.js';
import { resizeImage, type RasterImage, type ResizeKernel } from '../../core/io/image.js';
import { quantise, tensorOf } from './images.js';
import { LATENT_SCALE } from './schema.js';
import type { Posterior, SdGraphs } from './sd-graphs.js';

export interface DecoderSettings {
  plan: DdimPlan;
  guidance: number;
  initSize: number;
  initResize: ResizeKernel;
}

/** 0.18215 · (mean + exp(0.5 · clamp(logvar, −30, 20)) · ε), diffusers' DiagonalGaussianDistribution.sample(); the mean when `noise` is null. */
export function scaledLatent(posterior: Posterior, noise: Float32Array | null): Float32Array {
  if (posterior.kind === 'sample') return posterior.sample.map((v) => Math.fround(LATENT_SCALE * v));
  const { mean, logvar } = posterior;
  if (noise && noise.length !== mean.length) throw new RangeError(`posterior noise has ${noise.length} values for ${mean.length} latents`);
  const out = new Float32Array(mean.length);
  for (let i = 0; i < mean.length; i++) {
    const std = Math.fround(Math.exp(0.5 * Math.min(20, Math.max(-30, logvar[i]!))));
    out[i] = LATENT_SCALE * (noise ? Math.fround(mean[i]! + Math.fround(std * noise[i]!)) : mean[i]!);
  }
  return out;
}

/** CompVis decode_first_stage: z · (1 / scale_factor), the reciprocal taken in double as Python does. */
const unscale = (latent: Float32Array) => latent.map((v) => v * (1 / LATENT_SCALE));

export class TakagiDecoder {
  constructor(
    private readonly graphs: SdGraphs,
    private readonly settings: DecoderSettings,
    /** CLIP text of "" (77 × width): the unconditional half of every guided step. */
    private readonly uncond: Float32Array,
  ) {}

  /** Latent side of an image of `size` pixels (the VAE downsamples by 8). */
  static side(values: number): number {
    const side = Math.round(Math.sqrt(values / 4));
    if (4 * side * side !== values) throw new RangeError(`a latent of ${values} values is not 4 × s × s`);
    return side;
  }

  /** Decodes a scaled latent (4 × s × s) to an 8-bit RGB image (D, and A for the predicted z). */
  async image(latent: Float32Array): Promise<RasterImage> {
    const side = TakagiDecoder.side(latent.length);
    const { data, shape } = await this.graphs.decode(unscale(latent), [1, 4, side, side]);
    if (shape.length !== 4 || shape[1] !== 3) throw new UserError(`vae_decoder returned [${shape.join(', ')}], expected [1, 3, H, W]`, "generator 'stable-diffusion'");
    return quantise(data, shape[2]!, shape[3]!);
  }

  /** A: the init image of the "cvpr" method. */
  initRaster(z: Float32Array): Promise<RasterImage> {
    return this.image(z);
  }

  /** B: the scaled latent of the init image after resizing it to initSize; `noise` draws the posterior sample. */
  async initLatent(raster: RasterImage, noise: Float32Array | null): Promise<Float32Array> {
    const { initSize, initResize } = this.settings;
    const resized = await resizeImage(raster, initSize, initSize, initResize);
    return scaledLatent(await this.graphs.encodeImage(tensorOf(resized), [1, 3, initSize, initSize]), noise);
  }

  /** C: img2img from z0 conditioned on c (77 × width); `encodeNoise` noises z0, `stepNoise` is needed when η > 0. */
  async denoise(z0: Float32Array, c: Float32Array, encodeNoise: Float32Array, stepNoise?: (k: number) => Float32Array, onStep?: (k: number) => void): Promise<Float32Array> {
    const side = TakagiDecoder.side(z0.length);
    const context = guidanceBatch(this.uncond, c);
    const { plan, guidance } = this.settings;
    return runDdim({
      plan,
      start: z0,
      startNoise: encodeNoise,
      // [uncond; cond] in one UNet call, as CompVis' p_sample_ddim and diffusers batch them.
      epsilon: async (x, t) => classifierFreeGuidance(await this.graphs.unet(guidanceBatch(x, x), [2, 4, side, side], t, context), x.length, guidance),
      ...(stepNoise ? { stepNoise } : {}),
      ...(onStep ? { onStep } : {}),
    });
  }
}
