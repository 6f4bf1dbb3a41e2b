/** Brain-Diffuser's pixels around VDVAE: the encoder's input from a stimulus, and the decoder's float image to bytes. */
import { convertChannels, resizeImage, type RasterImage } from '../../core/io/image.js';
import { imageToRaster } from '../../core/io/png.js';
import type { ImageBatch } from '../../core/tensor.js';
import { SCALE, SHIFT } from './schema.js';

/** Item i of a batch as an 8-bit RGB raster (the batch's values were 8-bit: rounding restores them). */
export function rgbRaster(images: ImageBatch, i: number): RasterImage {
  const raster = imageToRaster(images, i);
  return raster.channels === 3 ? raster : convertChannels(raster, 3);
}

const SHIFT32 = Math.fround(SHIFT);
const SCALE32 = Math.fround(SCALE);

/**
 * The encoder's input: PIL bilinear to size×size (torchvision's resize of a PIL image, as vdvae_extract_features.py
 * does), the bytes as float, then (x + shift) · scale in float32 (torch's inp.add_(shift).mul_(scale) with float32
 * shift and scale tensors). NHWC, as the encoder permutes it itself.
 */
export async function encoderInput(raster: RasterImage, size: number): Promise<Float32Array> {
  const resized = await resizeImage(raster, size, size, 'bilinear');
  const out = new Float32Array(resized.data.length);
  for (let k = 0; k < out.length; k++) out[k] = Math.fround(Math.fround(resized.data[k]! + SHIFT32) * SCALE32);
  return out;
}

/**
 * The decoder's (x + 1) · 127.5 → uint8 as DmolNet.sample does: np.minimum(np.maximum(0, x), 255).astype(uint8),
 * which truncates. A non-finite value means the graph failed: refused, not written as black.
 */
export function quantise(image: Float32Array, size: number, offset = 0): RasterImage {
  const n = size * size * 3;
  const data = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const v = image[offset + k]!;
    if (!Number.isFinite(v)) throw new RangeError(`the VDVAE decoder gave a non-finite pixel value (${v}) at ${k}`);
    data[k] = Math.trunc(Math.min(255, Math.max(0, v)));
  }
  return { width: size, height: size, channels: 3, data };
}

/** u ~ U(1e-5, 1 − 1e-5), VDVAE's range, as E = −log u ∈ [E_MIN, E_MAX]. */
const E_MIN = -Math.log1p(-1e-5);
const E_MAX = -Math.log(1e-5);

/**
 * The decoder's two pixel noises from 2·count keyed N(0, 1) values. VDVAE draws u ~ U(1e-5, 1 − 1e-5) and uses only
 * −log(−log u) (Gumbel: which mixture component) and log u − log(1 − u) (logistic: the sample). Each pair (a, b) of
 * normals gives E = (a² + b²)/2 ~ Exp(1), so u = e^−E is uniform; then the Gumbel value is −log E and the logistic one
 * −E − log(−expm1(−E)), computed in double (in float32 both lose digits next to u = 0 or 1) and stored as float32.
 */
export function pixelNoise(normals: Float32Array, kind: 'gumbel' | 'logistic'): Float32Array {
  const out = new Float32Array(normals.length >> 1);
  for (let k = 0; k < out.length; k++) {
    const a = normals[2 * k]!;
    const b = normals[2 * k + 1]!;
    const e = Math.min(E_MAX, Math.max(E_MIN, (a * a + b * b) / 2));
    out[k] = kind === 'gumbel' ? -Math.log(e) : -e - Math.log(-Math.expm1(-e));
  }
  return out;
}
