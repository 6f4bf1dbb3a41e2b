/**
 * Classifier-free guidance (Ho & Salimans 2022) on the UNet batch in the references' order: diffusers' pipelines
 * and CompVis' DDIMSampler both concatenate the unconditional inputs first, [uncond; cond].
 */

/** ε = ε_u + s·(ε_c − ε_u) on `output` = [uncond (n latents); cond (n latents)], `size` values per latent; returns n latents. */
export function classifierFreeGuidance(output: Float32Array, size: number, scale: number): Float32Array {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`latent size must be a positive integer; got ${size}`);
  if (output.length === 0 || output.length % (2 * size) !== 0) {
    throw new RangeError(`the UNet output has ${output.length} values: not 2·n latents of ${size} values ([uncond; cond])`);
  }
  if (!Number.isFinite(scale)) throw new RangeError(`guidance scale must be finite; got ${scale}`);
  const half = output.length / 2;
  const guided = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const uncond = output[i]!;
    guided[i] = uncond + scale * (output[half + i]! - uncond);
  }
  return guided;
}

/** The UNet batch [uncond…; cond…] of a conditioning pair (equal sizes). */
export function guidanceBatch(uncond: Float32Array, cond: Float32Array): Float32Array {
  if (uncond.length !== cond.length) {
    throw new RangeError(`unconditional (${uncond.length} values) and conditional (${cond.length} values) inputs differ in size`);
  }
  const batch = new Float32Array(uncond.length * 2);
  batch.set(uncond, 0);
  batch.set(cond, uncond.length);
  return batch;
}
