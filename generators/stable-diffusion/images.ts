/** Conversions between the images of the pipeline (HWC in [0, 1]), 8-bit rasters, and SD's NCHW tensors in [−1, 1]. */
import { convertChannels, type RasterImage } from '../../core/io/image.js';
import type { ImageBatch } from '../../core/tensor.js';

/** Item i of a batch as an 8-bit RGB raster (values were 8-bit to begin with: rounding restores them). */
export function rasterOf(images: ImageBatch, i: number): RasterImage {
  const size = images.height * images.width * images.channels;
  const data = new Uint8Array(size);
  const offset = i * size;
  for (let k = 0; k < size; k++) data[k] = Math.round(Math.min(1, Math.max(0, images.data[offset + k]!)) * 255);
  const raster = { width: images.width, height: images.height, channels: images.channels, data };
  return images.channels === 3 ? raster : convertChannels(raster, 3);
}

/** An RGB raster → [3, H, W] float32 in [−1, 1] (2·x/255 − 1, as Takagi's load_img). */
export function tensorOf(raster: RasterImage): Float32Array {
  const { width, height, data } = raster;
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[c * plane + p] = (2 * data[3 * p + c]!) / 255 - 1;
  return out;
}

/**
 * A decoded image [3, H, W] ≈ [−1, 1] → 8-bit RGB: clamp((x + 1)/2, 0, 1)·255 cast to uint8 by truncation, as
 * Takagi's script does (`255. * x` then `astype(np.uint8)`), not rounding.
 */
export function quantise(decoded: Float32Array, height: number, width: number, offset = 0): RasterImage {
  const plane = height * width;
  const data = new Uint8Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      // float32 arithmetic, as torch and NumPy run it on float32 arrays.
      const v = Math.min(1, Math.max(0, Math.fround(Math.fround(decoded[offset + c * plane + p]! + 1) / 2)));
      data[3 * p + c] = Math.trunc(Math.fround(255 * v));
    }
  }
  return { width, height, channels: 3, data };
}
